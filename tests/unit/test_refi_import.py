"""REFI-QDA import: the shared fixtures (a hand-authored project and an ATLAS.ti 23
export), files other programs write with their known deviations, and codebooks."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from analysis.refi import ExchangeError, export_qdc, import_qdc, import_qdpx
from analysis.refi.import_ import anchor_span, colour, split_lines, time_at, unique
from study.demo import DEMO_SOURCES
from study.folder import Study, create_study, file_sha256
from study.model import AttributeType, Code, MemoTarget, SpeakerRole, Theme

HAND_TEXT_NAME = "sources/11111111-1111-1111-1111-111111111111.txt"
HAND_TEXT = "Diet and health are closely linked in my view."


def pack(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def hand_authored(fixtures_dir: Path) -> bytes:
    return (fixtures_dir / "refi" / "hand_authored_project.qde").read_bytes()


def project(body: str, **attrs: str) -> str:
    """A minimal project.qde around `body`."""
    extra = " ".join(f'{k}="{v}"' for k, v in attrs.items())
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" '
            f'name="Small" {extra}>{body}</Project>')


def coded(study: Study) -> dict[str, list[str]]:
    """Code name -> the texts coded with it, sorted."""
    store = study.store
    found: dict[str, list[str]] = {}
    for c in store.codings():
        found.setdefault(store.code(c.code_id).name, []).append(store.coded_text(c))
    return {k: sorted(v) for k, v in found.items()}


# --- the shared fixtures ----------------------------------------------------------------------


def test_hand_authored_project_imports_with_a_report(study: Study, tmp_path: Path,
                                                     fixtures_dir: Path) -> None:
    archive = pack(tmp_path / "hand.qdpx", {"project.qde": hand_authored(fixtures_dir),
                                            HAND_TEXT_NAME: HAND_TEXT})
    report = import_qdpx(study, archive)
    assert report.imported == {
        "codes": 4, "themes": 1, "participants": 1, "attributes": 2, "interviews": 1,
        "segments": 1, "codings": 3, "memos": 1, "journal entries": 0, "media": 0}
    store = study.store
    codes = {c.name: c for c in store.codes()}
    assert set(codes) == {"Topics", "Health", "Diet", "Wellbeing"}
    assert codes["Health"].parent_id == codes["Topics"].id
    assert codes["Diet"].parent_id == codes["Health"].id
    assert codes["Wellbeing"].parent_id == codes["Topics"].id
    assert codes["Diet"].colour == "#dc0000"
    assert codes["Topics"].colour == "#4e79a7"  # it has none: the default
    assert codes["Health"].definition == "Anything about physical or mental health"
    (participant,) = store.participants()
    assert participant.code == "Participant 1"
    assert participant.notes == "A pseudonymised interview participant."
    assert dict(participant.attributes) == {"Age": 34, "Consented": True}
    assert {a.name: a.type for a in store.attribute_defs()} == {
        "Age": AttributeType.NUMBER, "Consented": AttributeType.BOOLEAN}
    (interview,) = store.interviews()
    assert interview.title == "Interview 1"
    assert interview.participant_id == participant.id
    (segment,) = store.segments(interview.id)
    assert segment.text == HAND_TEXT
    assert (segment.start_ms, segment.end_ms) == (0, 5000)  # from the transcript's sync points
    assert coded(study) == {"Health": [HAND_TEXT[0:15]],
                            "Diet": sorted([HAND_TEXT[9:23], HAND_TEXT[0:20]])}
    (theme,) = store.themes()
    assert (theme.name, theme.code_ids) == ("Diet-related", (codes["Diet"].id,))
    (memo,) = store.memos()
    assert memo.text == "Remember to follow up on diet-related comments."
    # Linked to the first selection: a memo on those words.
    assert (memo.target, memo.target_id, memo.start_offset, memo.end_offset) == (
        MemoTarget.SEGMENT, segment.id, 0, 15)
    skipped = "\n".join(report.skipped)
    for expected in ("1 picture source (“photo.jpg”)", "1 PDF source (“doc.pdf”)",
                     "1 video source (“clip.mp4”)", "1 graph (“Model”)",
                     "(relative:///Audio/interview.m4a) is not inside the archive",
                     "1 coding of a stretch of audio", "1 code applied to a whole case",
                     "1 user", "1 document or note in a set"):
        assert expected in skipped, expected


def test_a_missing_text_file_skips_that_source_only(study: Study, tmp_path: Path,
                                                    fixtures_dir: Path) -> None:
    archive = pack(tmp_path / "hand.qdpx", {"project.qde": hand_authored(fixtures_dir)})
    report = import_qdpx(study, archive)
    assert report.imported["codes"] == 4
    assert report.imported["participants"] == 1
    assert report.imported["interviews"] == 0
    assert any("“Interview 1.txt” (internal://11111111-1111-1111-1111-111111111111.txt) is "
               "not in the archive" in line for line in report.skipped)
    # The memo's selection was not imported, so the memo falls back to the study.
    assert [m.target for m in study.store.memos()] == [MemoTarget.STUDY]


def test_atlasti_23_sample_imports(study: Study, fixtures_dir: Path) -> None:
    report = import_qdpx(study, fixtures_dir / "refi" / "atlasti23_sample.qdpx")
    assert report.imported["codes"] == 3
    assert sum(report.imported.values()) == 3
    codes = {c.name: c for c in study.store.codes()}
    assert set(codes) == {"Commits", "2022-05-10T02:05:59Z 19e4dce",
                          "2022-02-11T10:39:25Z cdbfd92"}
    assert codes["2022-05-10T02:05:59Z 19e4dce"].parent_id == codes["Commits"].id
    assert {c.colour for c in codes.values()} == {"#4e79a7"}
    assert report.skipped == [
        "2 users: Verbatim does not record who coded what (“Enric Llagostera”, “ATLAS.ti”)."]


def test_importing_twice_adds_new_objects_with_imported_names(study: Study,
                                                              fixtures_dir: Path) -> None:
    sample = fixtures_dir / "refi" / "atlasti23_sample.qdpx"
    import_qdpx(study, sample)
    import_qdpx(study, sample)
    import_qdpx(study, sample)
    top = sorted(c.name for c in study.store.codes() if c.parent_id is None)
    assert top == ["Commits", "Commits (imported 2)", "Commits (imported)"]
    assert len(study.store.codes()) == 9


# --- vendor deviations ------------------------------------------------------------------------


def test_a_qde_not_named_project_qde_inside_a_folder(study: Study, tmp_path: Path,
                                                     fixtures_dir: Path) -> None:
    archive = pack(tmp_path / "odd.qdpx", {
        "Sample Study/Sample Study.qde": hand_authored(fixtures_dir),
        "Sample Study/Sources/11111111-1111-1111-1111-111111111111.TXT": HAND_TEXT})
    report = import_qdpx(study, archive)
    assert report.imported["interviews"] == 1
    assert report.imported["codings"] == 3
    assert any("named 'Sample Study/Sample Study.qde' rather than project.qde" in line
               for line in report.skipped)


def test_lenient_about_guids_colours_names_and_encodings(study: Study, tmp_path: Path) -> None:
    text = "Caf\xe9 talk: line one\nSecond line here"
    body = """
      <CodeBook><Codes>
        <Code guid="{AAAAAAAA-0000-0000-0000-000000000001}" name="Short colour" isCodable="true"
              color="#0f0"/>
        <Code guid="AAAAAAAA-0000-0000-0000-000000000002" name="" isCodable="true" color="red"/>
        <Code name="No guid" isCodable="true"/>
        <Code guid="aaaaaaaa-0000-0000-0000-000000000001" name="Short colour" isCodable="true"/>
      </Codes></CodeBook>
      <Sources>
        <TextSource guid="bbbbbbbb-0000-0000-0000-000000000001" name="Doc.docx"
                    plainTextPath="internal://doc.txt">
          <PlainTextSelection guid="cccccccc-0000-0000-0000-000000000001"
                              startPosition="0" endPosition="4">
            <Coding guid="dddddddd-0000-0000-0000-000000000001">
              <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000001"/>
            </Coding>
          </PlainTextSelection>
          <PlainTextSelection guid="cccccccc-0000-0000-0000-000000000002"
                              startPosition="0" endPosition="x"/>
          <PlainTextSelection guid="cccccccc-0000-0000-0000-000000000003"
                              startPosition="5" endPosition="40">
            <Coding guid="dddddddd-0000-0000-0000-000000000002">
              <CodeRef targetGUID="{AAAAAAAA-0000-0000-0000-000000000002}"/>
            </Coding>
            <Coding guid="dddddddd-0000-0000-0000-000000000003">
              <CodeRef targetGUID="eeeeeeee-0000-0000-0000-000000000009"/>
            </Coding>
          </PlainTextSelection>
        </TextSource>
      </Sources>"""
    archive = pack(tmp_path / "lenient.qdpx", {"project.qde": project(body),
                                               "sources/doc.txt": text.encode("cp1252")})
    report = import_qdpx(study, archive)
    codes = {c.name: c for c in study.store.codes()}
    assert set(codes) == {"Short colour", "Unnamed code", "No guid", "Short colour (imported)"}
    assert codes["Short colour"].colour == "#00ff00"
    assert codes["Unnamed code"].colour == "#4e79a7"
    (interview,) = study.store.interviews()
    assert interview.title == "Doc"
    segments = study.store.segments(interview.id)
    # "Café talk:" occurs once in a two-line text without labels: it stays text.
    assert [s.text for s in segments] == ["Caf\xe9 talk: line one", "Second line here"]
    assert coded(study) == {"Short colour": ["Caf\xe9"],
                            "Unnamed code": ["talk: line one Second line here"]}
    skipped = "\n".join(report.skipped)
    assert "not UTF-8" in skipped
    assert "no readable start or end" in skipped
    assert "name a code not in the codebook" in skipped
    assert "1 code shares its GUID" in skipped
    assert "had no GUID" in skipped


def test_speaker_labels_become_speakers_with_roles(study: Study, tmp_path: Path) -> None:
    text = ("Interviewer: How long have you been in post?\r\n\r\n"
            "P-7: About six years.\r\nInterviewer: And before that?\r\n"
            "Nurse: I was on the ward.\r\nP-7: Yes, on the ward.")
    body = """
      <Cases><Case guid="aaaaaaaa-0000-0000-0000-000000000001" name="P-7">
        <SourceRef targetGUID="bbbbbbbb-0000-0000-0000-000000000001"/></Case></Cases>
      <Sources><TextSource guid="bbbbbbbb-0000-0000-0000-000000000001" name="Talk">
        <PlainTextContent>{text}</PlainTextContent></TextSource></Sources>"""
    archive = pack(tmp_path / "talk.qdpx", {
        "project.qde": project(body.replace("{text}", text.replace("\r", "&#13;")))})
    import_qdpx(study, archive)
    store = study.store
    (interview,) = store.interviews()
    speakers = {s.id: s for s in store.speakers(interview.id)}
    rows = [(speakers[s.speaker_id].label, s.text) for s in store.segments(interview.id)]
    assert rows == [("Interviewer", "How long have you been in post?"),
                    ("P-7", "About six years."), ("Interviewer", "And before that?"),
                    ("Nurse", "I was on the ward."), ("P-7", "Yes, on the ward.")]
    roles = {s.label: (s.role, s.participant_id) for s in speakers.values()}
    pid = store.participants()[0].id
    assert roles == {"Interviewer": (SpeakerRole.INTERVIEWER, None),
                     "P-7": (SpeakerRole.PARTICIPANT, pid), "Nurse": (SpeakerRole.OTHER, None)}


def test_audio_in_the_archive_is_imported_with_sync_point_times(study: Study,
                                                                tmp_path: Path) -> None:
    audio = DEMO_SOURCES / "audio" / "MHCC-1.ogg"
    text = "Interviewer: Hello there.\nP1: Hi, nice to meet you."
    body = f"""
      <Sources><AudioSource guid="aaaaaaaa-0000-0000-0000-000000000001" name="Recording.ogg"
                            path="internal://rec.ogg">
        <Transcript guid="aaaaaaaa-0000-0000-0000-000000000002">
          <PlainTextContent>{text}</PlainTextContent>
          <SyncPoint guid="aaaaaaaa-0000-0000-0000-000000000003" position="0" timeStamp="1000"/>
          <SyncPoint guid="aaaaaaaa-0000-0000-0000-000000000004" position="26" timeStamp="4000"/>
          <SyncPoint guid="aaaaaaaa-0000-0000-0000-000000000005" position="{len(text)}"
                     timeStamp="9000"/>
          <TranscriptSelection guid="aaaaaaaa-0000-0000-0000-000000000006"
              fromSyncPoint="aaaaaaaa-0000-0000-0000-000000000004"
              toSyncPoint="aaaaaaaa-0000-0000-0000-000000000005">
            <Coding guid="aaaaaaaa-0000-0000-0000-000000000007">
              <CodeRef targetGUID="aaaaaaaa-0000-0000-0000-000000000008"/></Coding>
          </TranscriptSelection>
        </Transcript>
      </AudioSource></Sources>"""
    codes = """<CodeBook><Codes><Code guid="aaaaaaaa-0000-0000-0000-000000000008" name="Greeting"
               isCodable="true"/></Codes></CodeBook>"""
    archive = pack(tmp_path / "audio.qdpx", {"project.qde": project(codes + body),
                                             "sources/rec.ogg": audio.read_bytes()})
    report = import_qdpx(study, archive)
    assert report.imported["media"] == 1
    store = study.store
    (interview,) = store.interviews()
    media = store.media(interview.media_id)
    assert media.sha256 == file_sha256(audio)
    assert media.original_name == "Recording.ogg"
    assert (study.folder.media / media.filename).read_bytes() == audio.read_bytes()
    assert interview.duration_ms == media.duration_ms > 100_000
    segments = store.segments(interview.id)
    assert [(s.start_ms, s.end_ms) for s in segments] == [(1000, 3885), (4000, 9000)]
    assert coded(study) == {"Greeting": ["Hi, nice to meet you."]}
    assert [p.name for p in study.folder.root.iterdir() if p.name.startswith(".")] == []


def test_a_file_that_is_not_audio_is_left_out(study: Study, tmp_path: Path) -> None:
    body = """<Sources><AudioSource guid="aaaaaaaa-0000-0000-0000-000000000001" name="a.mp3"
                                   path="internal://a.mp3"/></Sources>"""
    archive = pack(tmp_path / "x.qdpx", {"project.qde": project(body),
                                         "sources/a.mp3": b"not audio at all" * 100})
    report = import_qdpx(study, archive)
    assert report.imported["media"] == 0
    assert any("could not be read as audio" in line for line in report.skipped)
    assert list(study.folder.media.iterdir()) == []


def test_not_a_project(study: Study, tmp_path: Path) -> None:
    (tmp_path / "plain.qdpx").write_text("hello")
    with pytest.raises(ExchangeError, match="not a REFI-QDA project"):
        import_qdpx(study, tmp_path / "plain.qdpx")
    archive = pack(tmp_path / "codebook.qdpx", {"project.qde": "<CodeBook/>"})
    with pytest.raises(ExchangeError, match="root element is CodeBook, not Project"):
        import_qdpx(study, archive)
    archive = pack(tmp_path / "broken.qdpx", {"project.qde": "<Project name='x'>"})
    with pytest.raises(ExchangeError, match="not readable XML"):
        import_qdpx(study, archive)
    with pytest.raises(ExchangeError, match="There is no file"):
        import_qdpx(study, tmp_path / "missing.qdpx")


# --- codebooks --------------------------------------------------------------------------------


def test_codebook_round_trip(study: Study, tmp_path: Path) -> None:
    store = study.store
    parent = store.add_code(Code("Parent", definition="Top", colour="#112233")).new_id("code")
    child = store.add_code(Code("Child", parent, "Below", "#445566")).new_id("code")
    store.add_theme(Theme("A theme", "Defined", code_ids=(child,)))
    export_qdc(store, tmp_path / "book.qdc")
    with create_study(tmp_path / "Other") as other:
        report = import_qdc(other.store, tmp_path / "book.qdc")
        assert report.imported == {"codes": 2, "themes": 1}
        assert report.skipped == []
        codes = {c.name: c for c in other.store.codes()}
        assert (codes["Parent"].definition, codes["Parent"].colour) == ("Top", "#112233")
        assert codes["Child"].parent_id == codes["Parent"].id
        assert (codes["Child"].definition, codes["Child"].colour) == ("Below", "#445566")
        (theme,) = other.store.themes()
        assert (theme.name, theme.definition, theme.code_ids) == (
            "A theme", "Defined", (codes["Child"].id,))
    # Into the same study: new codes beside the old, nothing merged.
    report = import_qdc(store, tmp_path / "book.qdc")
    assert sorted(c.name for c in store.codes()) == [
        "Child", "Child", "Parent", "Parent (imported)"]
    assert parent in {c.id for c in store.codes()}


def test_codebook_import_is_lenient_about_namespaces(study: Study, tmp_path: Path) -> None:
    (tmp_path / "nons.qdc").write_text(
        '<CodeBook><Codes><Code guid="a" name="One" isCodable="true" color="#abc">'
        '<Code name="Two" isCodable="false"/></Code></Codes>'
        '<Sets><Set guid="s" name="Set"><MemberCode targetGUID="a"/></Set></Sets></CodeBook>')
    report = import_qdc(study.store, tmp_path / "nons.qdc")
    assert report.imported == {"codes": 2, "themes": 1}
    (theme,) = study.store.themes()
    assert [study.store.code(c).name for c in theme.code_ids] == ["One"]


def test_codebook_refusals(study: Study, tmp_path: Path) -> None:
    (tmp_path / "empty.qdc").write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>')
    with pytest.raises(ExchangeError, match="holds no codes"):
        import_qdc(study.store, tmp_path / "empty.qdc")
    (tmp_path / "other.qdc").write_text("<Something/>")
    with pytest.raises(ExchangeError, match="not a REFI-QDA codebook"):
        import_qdc(study.store, tmp_path / "other.qdc")
    (tmp_path / "xxe.qdc").write_text(
        '<!DOCTYPE CodeBook [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<CodeBook><Codes><Code guid="a" name="&x;" isCodable="true"/></Codes></CodeBook>')
    with pytest.raises(ExchangeError, match="DOCTYPE"):
        import_qdc(study.store, tmp_path / "xxe.qdc")
    assert study.store.codes() == []


# --- the pieces -------------------------------------------------------------------------------


def test_split_lines_and_anchor_span() -> None:
    text = "A: one\n\nB: two three\nA: four"
    lines = split_lines(text)
    assert [(ln.label, ln.text) for ln in lines] == [("A", "one"), ("B", "two three"),
                                                     ("A", "four")]
    assert [text[ln.text_start:ln.text_end] for ln in lines] == ["one", "two three", "four"]
    assert anchor_span(lines, 0, 3) is None  # only the label
    assert anchor_span(lines, 3, 6) == (0, 0, 0, 3)
    assert anchor_span(lines, 4, 17) == (0, 1, 1, 6)
    assert anchor_span(lines, 6, 11) is None  # the line break and a label
    assert split_lines("Note: a once-only label\nplain text\nmore text")[0].label is None
    assert split_lines("10:30 we met\n10:45 we left")[0].label is None


def test_time_at_interpolates() -> None:
    at = time_at([(0, 1000), (10, 2000)])
    assert [at(-1), at(0), at(5), at(10), at(50)] == [1000, 1000, 1500, 2000, 2000]
    assert time_at([])(5) == 0


def test_colour_and_unique() -> None:
    assert colour("#ABC") == "#aabbcc"
    assert colour("12ab34") == "#12ab34"
    assert colour(None) == colour("blue") == "#4e79a7"
    taken = {"a"}
    assert [unique("A", taken), unique("A", taken), unique("b", taken)] == [
        "A (imported)", "A (imported 2)", "b"]
