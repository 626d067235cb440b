"""Hostile .qdpx files are refused with a clear message, and the study is left exactly as
it was: its data, its audit log, its media folder and its folder (no staging left)."""

from __future__ import annotations

import io
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any

import pytest

from analysis.refi import ExchangeError, Limits, import_qdpx
from study.demo import DEMO_SOURCES
from study.errors import StudyError
from study.folder import Study
from study.model import Code, Coding, Interview, Media, Memo, MemoTarget, Participant, Segment

SECRET = "TOP-SECRET-LOCAL-FILE-CONTENT"
CODEBOOK = ('<CodeBook><Codes><Code guid="aaaaaaaa-0000-0000-0000-000000000001" name="Harmless" '
            'isCodable="true"/></Codes></CodeBook>')


def project(body: str = CODEBOOK) -> str:
    return f'<Project xmlns="urn:QDA-XML:project:1.0" name="P">{body}</Project>'


def pack(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def busy(study: Study, tmp_path: Path) -> Study:
    """A study with some of everything, so 'unchanged' means something."""
    store = study.store
    pid = store.add_participant(Participant("P-1", "Group A")).new_id("participant")
    recording = tmp_path / "recording.wav"
    recording.write_bytes(b"RIFF fake audio")
    sha, filename = study.import_media_file(recording)
    mid = store.add_media(Media(sha, filename, recording.name, 1000)).new_id("media")
    iid = store.add_interview(Interview("First", pid, media_id=mid)).new_id("interview")
    (sid,) = store.add_segments([Segment(iid, 0, 0, 1000, "Some words here")]).ids("segment")
    code = store.add_code(Code("Existing")).new_id("code")
    store.add_coding(Coding(code, iid, sid, 0, sid, 4))
    store.add_memo(Memo(MemoTarget.STUDY, "A memo"))
    return study


def state(study: Study) -> tuple[Any, ...]:
    store = study.store
    interviews = store.interviews()
    return (
        store.study_info(), store.participants(), store.attribute_defs(), store.codes(),
        store.codings(), store.themes(), store.memos(), store.journal(), interviews,
        [store.segments(i.id) for i in interviews], [store.speakers(i.id) for i in interviews],
        len(store.audit_log()),
        sorted(p.name for p in study.folder.media.iterdir()),
        sorted(p.name for p in study.folder.root.iterdir()),
    )


def refused(study: Study, path: Path, match: str, **kw: Any) -> ExchangeError:
    before = state(study)
    with pytest.raises(ExchangeError, match=match) as caught:
        import_qdpx(study, path, **kw)
    assert state(study) == before
    assert "Nothing was imported" in str(caught.value)
    return caught.value


# --- member names -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "why"), [
    ("../x", "leads out of the archive"),
    ("sources/../../x", "leads out of the archive"),
    ("..\\..\\x", "leads out of the archive"),
    ("/etc/x", "absolute path"),
    ("C:/Windows/x", "absolute path"),
    ("C:\\Windows\\x", "absolute path"),
    ("\\\\server\\share\\x", "absolute path"),
])
def test_member_names_that_escape_the_archive_are_refused(busy: Study, tmp_path: Path,
                                                          name: str, why: str) -> None:
    archive = pack(tmp_path / "evil.qdpx", {"project.qde": project(), name: "payload"})
    error = refused(busy, archive, why)
    assert "evil.qdpx was refused" in str(error)
    assert not (tmp_path / "x").exists()


def test_a_symlink_member_is_refused(busy: Study, tmp_path: Path) -> None:
    path = tmp_path / "link.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", project())
        link = zipfile.ZipInfo("sources/link.txt")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    refused(busy, path, "is a link")


def test_two_members_with_the_same_name_are_refused(busy: Study, tmp_path: Path) -> None:
    path = tmp_path / "twins.qdpx"
    with zipfile.ZipFile(path, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("project.qde", project())
        zf.writestr("project.qde", project(""))
    refused(busy, path, "two members are both named")


# --- XML --------------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE Project [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol9;"/>
"""


def test_billion_laughs_is_refused(busy: Study, tmp_path: Path) -> None:
    archive = pack(tmp_path / "laughs.qdpx", {"project.qde": BILLION_LAUGHS})
    refused(busy, archive, "declares a DOCTYPE or entities")


def test_billion_laughs_in_utf16_is_refused(busy: Study, tmp_path: Path) -> None:
    xml = BILLION_LAUGHS.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>')
    archive = pack(tmp_path / "laughs16.qdpx", {"project.qde": xml.encode("utf-16")})
    refused(busy, archive, "declares a DOCTYPE or entities")


def test_an_external_entity_never_reads_the_local_file(busy: Study, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    xml = (f'<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
           '<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>'
           '<Code guid="aaaaaaaa-0000-0000-0000-000000000001" name="&xxe;" isCodable="true"/>'
           '</Codes></CodeBook><Description>&xxe;</Description></Project>')
    archive = pack(tmp_path / "xxe.qdpx", {"project.qde": xml})
    error = refused(busy, archive, "declares a DOCTYPE or entities")
    assert SECRET not in str(error)
    assert SECRET not in repr(state(busy))


def test_any_doctype_is_refused(busy: Study, tmp_path: Path) -> None:
    archive = pack(tmp_path / "dtd.qdpx", {
        "project.qde": '<!DOCTYPE Project SYSTEM "http://example.com/p.dtd">' + project()})
    refused(busy, archive, "declares a DOCTYPE")


# --- sizes and counts -------------------------------------------------------------------------


def zeros_member(path: Path, name: str, size: int, extra: dict[str, str] | None = None) -> Path:
    """A zip with `size` bytes of zeros (highly compressible) streamed into one member."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("project.qde", project())
        for key, value in (extra or {}).items():
            zf.writestr(key, value)
        block = bytes(1 << 20)
        with zf.open(name, "w", force_zip64=True) as f:
            for _ in range(size // len(block)):
                f.write(block)
    return path


def test_a_zip_bomb_is_refused(busy: Study, tmp_path: Path) -> None:
    bomb = zeros_member(tmp_path / "bomb.qdpx", "sources/zeros.txt", 64 << 20)
    assert bomb.stat().st_size < 1 << 20
    refused(busy, bomb, "compressed more than 200 to 1")


def test_an_archive_expanding_beyond_the_cap_is_refused(busy: Study, tmp_path: Path) -> None:
    big = zeros_member(tmp_path / "big.qdpx", "sources/zeros.txt", 6 << 20)
    refused(busy, big, "expand to more than 4 MB", limits=Limits(max_total_bytes=4 << 20))


def test_sizes_are_counted_while_reading(busy: Study, tmp_path: Path) -> None:
    padding = "<!-- " + "x" * (2 << 20) + " -->"
    archive = pack(tmp_path / "large.qdpx", {"project.qde": project() + padding})
    refused(busy, archive, "'project.qde' is larger than 1 MB",
            limits=Limits(max_text_bytes=1 << 20))


def test_a_transcript_too_large_is_refused_before_anything_is_written(
        busy: Study, tmp_path: Path) -> None:
    audio = DEMO_SOURCES / "audio" / "MHCC-1.ogg"
    # The first recording is staged before the second one's transcript is refused: the
    # staging folder must go too.
    body = CODEBOOK + """<Sources>
      <AudioSource guid="aaaaaaaa-0000-0000-0000-000000000002" name="a" path="internal://a.ogg"/>
      <AudioSource guid="aaaaaaaa-0000-0000-0000-000000000003" name="b" path="internal://a.ogg">
        <Transcript guid="aaaaaaaa-0000-0000-0000-000000000004" plainTextPath="internal://t.txt"/>
      </AudioSource></Sources>"""
    archive = pack(tmp_path / "t.qdpx", {"project.qde": project(body),
                                         "sources/a.ogg": audio.read_bytes(),
                                         "sources/t.txt": "many words " * 200_000})
    refused(busy, archive, "'sources/t.txt' is larger than 1 MB",
            limits=Limits(max_text_bytes=1 << 20))


def test_a_header_that_lies_about_the_size_is_refused(busy: Study, tmp_path: Path) -> None:
    payload = project("<Description>" + "words " * 50_000 + "</Description>")
    data = bytearray(pack(tmp_path / "honest.qdpx", {"project.qde": payload}).read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24:central + 28] = struct.pack("<I", 100)  # claims 100 bytes
    lying = tmp_path / "lying.qdpx"
    lying.write_bytes(bytes(data))
    refused(busy, lying, "is damaged")


def test_too_many_members_are_refused(busy: Study, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("project.qde", project())
        for n in range(10_000):
            zf.writestr(f"sources/{n}.txt", "")
    (tmp_path / "many.qdpx").write_bytes(buffer.getvalue())
    refused(busy, tmp_path / "many.qdpx", "holds 10,001 files")


def test_an_archive_without_a_project_file_is_refused(busy: Study, tmp_path: Path) -> None:
    archive = pack(tmp_path / "none.qdpx", {"sources/a.txt": "text", "readme.md": "hi"})
    refused(busy, archive, "holds no project file")


def test_a_file_that_is_not_a_zip_is_refused(busy: Study, tmp_path: Path) -> None:
    (tmp_path / "fake.qdpx").write_bytes(b"<Project/>")
    refused(busy, tmp_path / "fake.qdpx", "not a REFI-QDA project")


# --- paths in the XML never reach outside the archive -----------------------------------------


def test_paths_in_the_project_never_read_local_files(busy: Study, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    audio = DEMO_SOURCES / "audio" / "MHCC-1.ogg"
    sources = "".join(
        f'<TextSource guid="bbbbbbbb-0000-0000-0000-00000000000{n}" name="S{n}" '
        f'plainTextPath="{path}"/>'
        for n, path in enumerate([secret.as_uri(), f"absolute://{secret}",
                                  f"relative://{secret.name}",
                                  f"internal://../../../..{secret}", f"internal://{secret}"]))
    sources += (f'<AudioSource guid="cccccccc-0000-0000-0000-000000000001" name="A" '
                f'path="absolute://{audio}"/>')
    archive = pack(tmp_path / "paths.qdpx", {"project.qde": project(f"<Sources>{sources}"
                                                                    "</Sources>")})
    before = state(busy)
    report = import_qdpx(busy, archive)
    assert report.imported["interviews"] == report.imported["media"] == 0
    assert len([line for line in report.skipped if "is not in the archive" in line]) == 5
    assert any("is not inside the archive" in line for line in report.skipped)
    assert state(busy)[1:11] == before[1:11]  # nothing but the audit entry
    assert state(busy)[12:] == before[12:]
    assert SECRET not in repr(state(busy))


# --- a failure half-way through writing -------------------------------------------------------


@pytest.mark.parametrize("error", [StudyError("the disk said no."), RuntimeError("a bug")])
def test_a_failure_while_writing_leaves_the_study_and_media_untouched(
        busy: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        error: Exception) -> None:
    audio = DEMO_SOURCES / "audio" / "MHCC-1.ogg"
    body = CODEBOOK + """
      <Sources><AudioSource guid="aaaaaaaa-0000-0000-0000-000000000002" name="rec.ogg"
                            path="internal://rec.ogg">
        <Transcript guid="aaaaaaaa-0000-0000-0000-000000000003">
          <PlainTextContent>Hello there, nice to meet you.</PlainTextContent>
          <SyncPoint guid="aaaaaaaa-0000-0000-0000-000000000004" position="0" timeStamp="0"/>
          <SyncPoint guid="aaaaaaaa-0000-0000-0000-000000000005" position="5" timeStamp="900"/>
          <TranscriptSelection guid="aaaaaaaa-0000-0000-0000-000000000006"
              fromSyncPoint="aaaaaaaa-0000-0000-0000-000000000004"
              toSyncPoint="aaaaaaaa-0000-0000-0000-000000000005">
            <Coding guid="aaaaaaaa-0000-0000-0000-000000000007">
              <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000001"/></Coding>
          </TranscriptSelection>
        </Transcript></AudioSource></Sources>"""
    archive = pack(tmp_path / "ok.qdpx", {"project.qde": project(body),
                                          "sources/rec.ogg": audio.read_bytes()})

    def fail(*args: object, **kw: object) -> None:
        raise error

    monkeypatch.setattr(type(busy.store), "add_coding", fail)
    before = state(busy)
    with pytest.raises(type(error) if not isinstance(error, StudyError) else ExchangeError):
        import_qdpx(busy, archive)
    assert state(busy) == before
    monkeypatch.undo()
    report = import_qdpx(busy, archive)  # and the same file imports once the fault is gone
    assert report.imported["media"] == report.imported["codings"] == 1
    assert len(list(busy.folder.media.iterdir())) == 2
