"""Fuzzing every importer: each file either imports or is refused with the app's own error.

For every way a file comes into a study (audio, .txt, .docx, .srt, .vtt, .qdpx, .qdc) two
kinds of bad input are generated with Hypothesis:

  - a real file from ../shared/fixtures (or one Verbatim itself exported) with its bytes
    damaged: bits flipped, bytes inserted, deleted, overwritten, chunks spliced from
    elsewhere in the file, the file cut short; archives (.docx, .qdpx) are also damaged
    inside their members and zipped again;
  - files with the right outline and wrong details: subtitles with impossible times,
    overlapping cues, huge numbers, missing blank lines, BOMs, CR/CRLF, NUL bytes,
    invalid UTF-8, UTF-16; Word files that are zips of junk or hold broken XML; REFI-QDA
    XML with wrong namespaces, missing attributes, and selections past the text's end
    or before its start.

The property, for every input: the import succeeds and leaves a study that passes
study.consistency.check_study (no error) and SQLite's own checks, whose new transcripts
export again; or it raises a StudyError subclass (the plain message the app shows) and
the study is unchanged: every row of every table, and the files in the study folder and
its media folder. Any other exception is a bug. Each example gets its own copy of a
study that already holds work (a function-scoped fixture would be shared between
examples), so "unchanged" means something.

Bugs the fuzzers found are fixed, and pinned at the end of this file by tests with
their minimal reproduction.
"""

from __future__ import annotations

import codecs
import io
import os
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import av
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.exports.transcript import transcript_srt, transcript_txt, transcript_vtt
from analysis.refi import ExchangeError, export_qdc, export_qdpx, import_qdc, import_qdpx
from analysis.refi.qde_read import CODEBOOK_NS, PROJECT_NS
from study.consistency import check_study
from study.errors import StudyError
from study.folder import Study, create_study, open_study
from study.model import (
    AnalysisPhase,
    AttributeDef,
    AttributeType,
    Code,
    Coding,
    Interview,
    JournalEntry,
    Memo,
    MemoTarget,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Theme,
)
from tests.conftest import FIXTURES
from tests.fuzzing import fuzz
from transcription.audio import AudioError, import_audio
from transcription.transcript_import import import_transcript

RTL = "שלום, מה שלומך? مرحبا بالعالم"
EMOJI = "Great 👍🏽 — really 😊 👩‍⚕️ 👨‍👩‍👧"
ODD_TEXT = ["Zoë", "naïve café", "日本語のテキスト", "\u200fمرحبا\u200f", RTL, EMOJI, "e\u0301",
            "\u2028", "\u2029", "\ufeff", "\u200b", "\ufffd", "\U0010ffff", "ﷺ", "\u0000",
            "\x1b[31m", "\x85", "\x0c", "\x0b", "ß" * 50, "<i>", "</i>", "<b>x</b>",
            "{\\an8}", "&amp;", "&lt;", "&#0;", "&#xD800;", "&#x110000;", "&bogus;", "-->",
            "Interviewer:", "P1:", "[laughs]", "[00:01:02]", "#00:00:05-2#", "<v Zoë>",
            "</v>", "<c.yellow>", "<00:00:01.000>", "WEBVTT", "NOTE", "1", "0", "-1"]


# --- the study each example starts from ----------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A closed study holding some of everything, copied afresh for each example."""

    root: Path
    recorded: int  # an interview with audio and no transcript yet
    transcribed: int  # an interview with segments, codings and memos


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("template")
    study = create_study(folder / "Busy", name="Busy study")
    try:
        store = study.store
        store.add_attribute_def(AttributeDef("Role"))
        store.add_attribute_def(AttributeDef("Years", AttributeType.NUMBER))
        pid = store.add_participant(Participant(
            "P-1", "Nurses", (("Role", "Ward sister"), ("Years", 12)))).new_id("participant")
        recorded, _ = import_audio(study, FIXTURES / "audio" / "1089-134686-0001.flac",
                                   title="Recorded", participant_id=pid)
        iid = store.add_interview(Interview("Transcribed", pid)).new_id("interview")
        sp = store.add_speaker(Speaker(iid, "Interviewer", SpeakerRole.INTERVIEWER)
                               ).new_id("speaker")
        s1, s2 = store.add_segments([
            Segment(iid, 0, 0, 2000, "How long have you worked on the ward?", sp),
            Segment(iid, 1, 2000, 5000, "Twelve years, more or less."),
        ]).ids("segment")
        parent = store.add_code(Code("Career")).new_id("code")
        child = store.add_code(Code("Tenure", parent, "How long people stay")).new_id("code")
        cid = store.add_coding(Coding(child, iid, s2, 0, s2, 12)).new_id("coding")
        tid = store.add_theme(Theme("Staying on", code_ids=(parent, child))).new_id("theme")
        store.add_memo(Memo(MemoTarget.CODING, "Long service", cid))
        store.add_memo(Memo(MemoTarget.THEME, "Central?", tid))
        store.add_memo(Memo(MemoTarget.SEGMENT, "Part", s1, 0, 8))
        store.add_memo(Memo(MemoTarget.STUDY, "A memo on the study"))
        store.add_journal_entry(JournalEntry("Started coding", AnalysisPhase.GENERATING_CODES))
    finally:
        study.close()
    return Template(study.folder.root, recorded, iid)


@contextmanager
def fresh_study(template: Template) -> Iterator[tuple[Study, Path]]:
    """A copy of the template, open, and a scratch folder for the file to import."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        root = Path(tmp) / template.root.name
        shutil.copytree(template.root, root)
        scratch = Path(tmp) / "in"
        scratch.mkdir()
        study = open_study(root, backup=False, recover_jobs=False)
        try:
            yield study, scratch
        finally:
            study.close()


def contents(study: Study) -> dict[str, Any]:
    """Every row of every table (FTS shadow tables too), the schema version, and the
    files of the study folder and its media folder."""
    store = study.store
    tables = [r["name"] for r in store.rows(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    dump: dict[str, Any] = {
        t: sorted(repr(tuple(r.values())) for r in store.rows(f'SELECT * FROM "{t}"'))
        for t in tables}
    dump["user_version"] = store.scalar("PRAGMA user_version")
    dump["folder"] = sorted(os.listdir(study.folder.root))
    dump["media"] = sorted(
        (p.name, p.stat().st_size) for p in study.folder.media.iterdir())
    return dump


def imports_or_refuses(study: Study, run: Callable[[], object],
                       expected: type[StudyError] = StudyError) -> bool:
    """The property: run() either succeeds, leaving a sound study whose new transcripts
    export again, or raises a StudyError and leaves the study as it was. Any other
    exception propagates (a bug). Returns whether the import succeeded."""
    before = contents(study)
    interviews = {i.id for i in study.store.interviews()}
    try:
        run()
    except Exception as e:
        if not isinstance(e, StudyError):
            raise
        assert isinstance(e, expected), f"{type(e).__name__} is not a {expected.__name__}: {e}"
        assert str(e).strip(), "a refusal must say why"
        after = contents(study)
        changed = [k for k in before if before[k] != after.get(k)]
        assert not changed, f"refused ({e}) but changed {changed}"
        return False
    errors = [str(p) for p in check_study(study.store) if p.is_error]
    assert errors == []
    assert study.store.integrity_errors() == []
    assert not [n for n in os.listdir(study.folder.root) if n.startswith(".")], \
        "a staging folder was left behind"
    assert not [p for p in study.folder.media.iterdir() if p.name.endswith(".partial")]
    for interview in study.store.interviews():
        if interview.id not in interviews:
            for render in (transcript_txt, transcript_srt, transcript_vtt):
                render(study.store, interview.id)
    return True


# --- damaging bytes ------------------------------------------------------------------------------

MAGIC = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff",
         b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80"]


@st.composite
def damaged(draw: st.DrawFn, data: bytes, *, max_ops: int = 4, head: int = 512) -> bytes:
    """`data` with 1 to max_ops damages; positions lean towards the first `head` bytes,
    where formats keep their headers and sizes."""
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_ops))):
        n = len(buf)
        at = draw(st.one_of(st.integers(0, min(n, head)), st.integers(0, n)))
        op = draw(st.sampled_from(["flip", "byte", "magic", "insert", "delete", "truncate",
                                   "splice", "repeat"]))
        if op == "flip" and n:
            buf[min(at, n - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and n:
            buf[min(at, n - 1)] = draw(st.integers(0, 255))
        elif op == "magic":
            value = draw(st.sampled_from(MAGIC))
            buf[at:at + len(value)] = value
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del buf[at:at + draw(st.integers(1, 256))]
        elif op == "truncate":
            del buf[at:]
        elif op == "splice" and n:  # a chunk of the file copied over another place
            src = draw(st.integers(0, n - 1))
            chunk = bytes(buf[src:src + draw(st.integers(1, 512))])
            buf[at:at + len(chunk)] = chunk
        elif op == "repeat" and n:
            buf[at:at] = bytes(buf[at:at + draw(st.integers(1, 256))])
    return bytes(buf)


XML_JUNK = ["<", ">", "&", "</", "/>", '"', "'", "<!--", "-->", "<![CDATA[", "]]>", "&#0;",
            "&#xD800;", "&#1114112;", "&amp", "<?xml version='1.0'?>", "<x:y>", "</w:p>",
            "<w:p>", "<w:t>", "</w:t>", "<w:tbl>", "</w:tr>", "<w:tc/>", ' xmlns="urn:x"',
            ' xmlns:w="urn:x"', ' guid=""', ' startPosition="-5"', ' endPosition="999999"',
            ' name="\u202eevil"', "\x00", "\x01", "\ufeff", "\ud7ff", "💥", RTL]


@st.composite
def damaged_xml(draw: st.DrawFn, data: bytes) -> bytes:
    """XML damaged where it hurts: markup inserted, spans deleted or repeated, names,
    namespaces and attribute values changed; then re-encoded, maybe in another encoding."""
    text = data.decode("utf-8", errors="replace")
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        at = draw(st.integers(0, n))
        op = draw(st.sampled_from(["insert", "delete", "repeat", "rename", "namespace",
                                   "attribute", "text"]))
        if op == "insert":
            text = text[:at] + draw(st.sampled_from(XML_JUNK)) + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 200)):]
        elif op == "repeat":
            text = text[:at] + text[at:at + draw(st.integers(1, 400))] + text[at:]
        elif op == "rename":  # an element or attribute name changed
            old = draw(st.sampled_from(["Code", "TextSource", "PlainTextSelection", "Case",
                                        "Project", "CodeBook", "Codes", "Set", "Note",
                                        "w:p", "w:t", "w:tbl", "w:tr", "w:tc", "w:body",
                                        "guid", "name", "startPosition", "timeStamp"]))
            text = text.replace(old, draw(st.sampled_from(["X", old.lower(), old + "s", ""])),
                                draw(st.integers(1, 3)))
        elif op == "namespace":
            old = draw(st.sampled_from([PROJECT_NS, CODEBOOK_NS, "wordprocessingml",
                                        "http://schemas.openxmlformats.org"]))
            text = text.replace(old, draw(st.sampled_from(["urn:wrong", "", old.upper()])))
        elif op == "attribute":
            value = draw(st.sampled_from(number_texts()))
            quote = text.find('="', at)
            if quote != -1:
                end = text.find('"', quote + 2)
                if end != -1:
                    text = text[:quote + 2] + value + text[end:]
        else:
            text = text[:at] + draw(unicode_text(max_size=20)) + text[at:]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "utf-8-sig",
                                     "cp1252", "utf-32"]))
    return text.encode(encoding, errors="replace" if encoding == "cp1252" else "surrogatepass")


def unicode_text(*, min_size: int = 0, max_size: int = 40) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=min_size,
                max_size=max_size),
        st.sampled_from(ODD_TEXT),
    )


def number_texts() -> list[str]:
    """Numbers as another program (or an attacker) might write them in an attribute."""
    return ["0", "1", "5", "12", "-1", "-100", "3.7", "-0.5", "1e3", "", " ", "abc", " 7 ",
            "NaN", "nan", "+5", "0x10", "١٢", "٣", "1_000", "1,5", "2147483648",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "9" * 30,
            "inf", "-inf", "1e400", "1" * 5000]


@st.composite
def rezipped(draw: st.DrawFn, data: bytes, *, xml_suffixes: tuple[str, ...]) -> bytes:
    """A zip with its members damaged (XML members as XML), dropped, renamed or joined by
    junk, written again; sometimes the new archive's own bytes are damaged too."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["member", "member", "member", "drop", "rename", "add"]))
        if not members and op != "add":
            op = "add"
        if op == "add":
            name = draw(st.sampled_from(["junk.bin", "word/document.xml", "project.qde",
                                         "sources/x.txt", "a/b/c.qde", "[Content_Types].xml",
                                         "ünïcode/名前.txt", "sources/"]))
            members.append((name, draw(st.binary(max_size=200))))
            continue
        k = draw(st.integers(0, len(members) - 1))
        name, body = members[k]
        if op == "drop":
            del members[k]
        elif op == "rename":
            members[k] = (draw(st.sampled_from([name.upper(), name + ".bak", "x/" + name,
                                                members[0][0], name.replace("/", "\\")])),
                          body)
        elif name.lower().endswith(xml_suffixes) and draw(st.booleans()):
            members[k] = (name, draw(damaged_xml(body)))
        else:
            members[k] = (name, draw(damaged(body, max_ops=3)))
    method = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED, zipfile.ZIP_BZIP2,
                                   zipfile.ZIP_LZMA]))
    result = _zip_bytes(members, method)
    if draw(st.integers(0, 3)) == 0:
        result = draw(damaged(result, max_ops=2))
    return result


def _zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of the members with a fixed date, so the same draws give the same bytes."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of the game
        with zipfile.ZipFile(out, "w", method) as zf:
            for name, body in members:
                zf.writestr(zipfile.ZipInfo(name, (2024, 1, 15, 10, 0, 0)), body,
                            compress_type=method)
    return out.getvalue()


def seed(relative: str) -> bytes:
    path = FIXTURES / relative
    if not path.exists():
        pytest.fail(f"The shared fixtures are missing: expected {path}")
    return path.read_bytes()


# --- text encodings ------------------------------------------------------------------------------


@st.composite
def encoded(draw: st.DrawFn, text: str) -> bytes:
    """Text as files really arrive: any line ends, BOM or none, UTF-8/16/32 or a Windows
    code page, and sometimes bytes that are valid in none of them."""
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))
    if newline == "mixed":
        lines = text.split("\n")
        text = "".join(line + draw(st.sampled_from(["\n", "\r\n", "\r"])) for line in lines)
    else:
        text = text.replace("\n", newline)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16",
                                     "utf-16-le", "utf-16-be", "utf-32", "cp1252",
                                     "latin-1"]))
    data = text.encode(encoding, errors="replace")
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(data)))
        junk = draw(st.sampled_from([b"\xff", b"\xfe", b"\xc3", b"\xed\xa0\x80", b"\x00",
                                     b"\x00\x00", b"\x80\x81", codecs.BOM_UTF8,
                                     codecs.BOM_UTF16_LE, codecs.BOM_UTF32_BE, b"\x1a"]))
        data = data[:at] + junk + data[at:]
    if draw(st.integers(0, 5)) == 0:
        data = data[:draw(st.integers(0, len(data)))]  # cut, maybe inside a character
    return data


# --- subtitles -----------------------------------------------------------------------------------


def _hours() -> st.SearchStrategy[str]:
    return st.sampled_from(["00", "0", "1", "01", "10", "99", "100", "999", "", "-1", "٠٠",
                            "1a", "9" * 20, "9" * 5000])


@st.composite
def timestamp(draw: st.DrawFn, *, vtt: bool) -> str:
    if draw(st.integers(0, 3)):
        ms = draw(st.integers(0, 10**8))
        sec, milli = divmod(ms, 1000)
        minute, sec = divmod(sec, 60)
        hour, minute = divmod(minute, 60)
        sep = "." if vtt else ","
        if vtt and not hour and draw(st.booleans()):
            return f"{minute:02d}:{sec:02d}{sep}{milli:03d}"
        return f"{hour:02d}:{minute:02d}:{sec:02d}{sep}{milli:03d}"
    h = draw(_hours())
    m = draw(st.sampled_from(["00", "07", "59", "59", "60", "5", "99", "", "aa", "٥٩"]))
    s = draw(st.sampled_from(["00", "01", "59", "59", "60", "7", "", "٠١"]))
    frac = draw(st.sampled_from(["000", "500", "999", "5", "50", "1000", "", "0000", "1e3"]))
    sep = draw(st.sampled_from([",", ".", ",", ".", ":", ";", ""]))
    return f"{h}:{m}:{s}{sep}{frac}" if h or draw(st.booleans()) else f"{m}:{s}{sep}{frac}"


@st.composite
def timing_line(draw: st.DrawFn, *, vtt: bool) -> str:
    arrow = draw(st.sampled_from([" --> ", " --> ", "-->", " -> ", "\t-->\t", " —> ",
                                  " --> --> ", "  -->  "]))
    settings_ = draw(st.sampled_from(["", "", " X1:40 X2:600", " align:start position:10%",
                                      " line:-1", " junk"]))
    return f"{draw(timestamp(vtt=vtt))}{arrow}{draw(timestamp(vtt=vtt))}{settings_}"


def cue_text() -> st.SearchStrategy[str]:
    piece = st.one_of(unicode_text(max_size=30), st.sampled_from([
        "Interviewer: How long?", "P1: Twelve years.", "<v Zoë>Hello</v>",
        "<v.loud Ana María>¡Hola!", "<v>", "<v Speaker", "<i>italic</i>", "{\\an8}top",
        "&lt;tag&gt; &amp; more", "&#99999999;", "&#" + "9" * 5000 + ";", "- dash line",
        "Note: noisy room",
        "WEBVTT", "NOTE this", "-->", "00:00:01,000 --> 00:00:02,000"]))
    return st.lists(piece, min_size=0, max_size=4).map(" ".join)


@st.composite
def srt_file(draw: st.DrawFn) -> str:
    blocks = []
    for n in range(1, draw(st.integers(0, 8)) + 1):
        index = draw(st.sampled_from([str(n), str(n), str(n), "0", "-1", "", "1a", " 1 ",
                                      "١", "²", str(10**30), str(n + 1)]))
        lines = [index] if index or draw(st.booleans()) else []
        lines.append(draw(timing_line(vtt=False)))
        lines += draw(st.lists(cue_text(), max_size=3))
        blocks.append("\n".join(lines))
    separators = st.sampled_from(["\n\n", "\n\n", "\n\n", "\n", "\n \n", "\n\n\n", "\n\t\n"])
    text = "".join(block + draw(separators) for block in blocks)
    if draw(st.integers(0, 4)) == 0:
        text = draw(unicode_text(max_size=20)) + "\n" + text
    return text


@st.composite
def vtt_file(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from(["WEBVTT", "WEBVTT", "WEBVTT - Interview", "WEBVTT\tx",
                                   "WEBVTTX", "webvtt", "", "\ufeffWEBVTT", " WEBVTT",
                                   "WEBVTT\nKind: captions\nLanguage: fr"]))
    blocks = [header] if header else []
    for n in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["cue", "cue", "cue", "cue", "note", "style", "region",
                                     "junk"]))
        if kind == "cue":
            lines = []
            if draw(st.booleans()):
                lines.append(draw(st.sampled_from([str(n + 1), f"cue-{n}", "NOTE", "a-->b",
                                                   "REGION"])))
            lines.append(draw(timing_line(vtt=True)))
            lines += draw(st.lists(cue_text(), max_size=3))
        elif kind == "note":
            lines = ["NOTE", draw(unicode_text(max_size=20))]
        elif kind == "style":
            lines = ["STYLE", "::cue { color: red }"]
        elif kind == "region":
            lines = ["REGION", "id:fred width:40%"]
        else:
            lines = [draw(unicode_text(min_size=1, max_size=20))]
        blocks.append("\n".join(lines))
    separators = st.sampled_from(["\n\n", "\n\n", "\n", "\n \n", "\n\n\n"])
    return "".join(block + draw(separators) for block in blocks)


# --- plain text ------------------------------------------------------------------------------


@st.composite
def txt_file(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        stamp = draw(st.sampled_from(["", "", "[00:01:02] ", "[1:02:03.500] ", "(00:00:05) ",
                                      "{01:02} ", "00:00:07 ", "[99:99:99] ", "[0:60] ",
                                      "[999:59:59.999] "]))
        label = draw(st.sampled_from(["", "", "Interviewer: ", "P1: ", "Zoë: ", "[id1] ",
                                      "[Ana María]: ", "Note: ", "مريم: ", "I: ", "R: ",
                                      "Speaker 2 (00:01:02): ", "Dr. Ng  0:03", "[laughs] ",
                                      "👩‍⚕️: "]))
        tail = draw(st.sampled_from(["", "", " #00:01:02-5#", " #99:59:59#"]))
        lines.append(stamp + label + draw(unicode_text(max_size=40)) + tail)
        if draw(st.booleans()):
            lines.append("")
    return "\n".join(lines)


# --- the transcript importers ------------------------------------------------------------------


def _import_transcript(study: Study, path: Path, target: str, template: Template) -> None:
    if target == "new":
        import_transcript(study, path)
    elif target == "recorded":  # an interview with audio, no transcript yet
        import_transcript(study, path, interview_id=template.recorded)
    else:  # one that has a transcript: always refused
        import_transcript(study, path, interview_id=template.transcribed)


TARGETS = st.sampled_from(["new", "new", "recorded", "transcribed"])
NAMES = st.sampled_from(["interview", "Zoë — entretien", "مقابلة", "面接 🎙", "e\u0301t\u00e9",
                         "P1 (2nd)", " spaced "])


def check_transcript(template: Template, data: bytes, suffix: str, name: str,
                     target: str) -> None:
    with fresh_study(template) as (study, scratch):
        path = scratch / f"{name}{suffix}"
        path.write_bytes(data)
        imports_or_refuses(study, lambda: _import_transcript(study, path, target, template))


@fuzz(250, shrink=False)
@given(data=st.data(), suffix=st.sampled_from([".srt", ".vtt", ".txt"]), name=NAMES,
       target=TARGETS)
def test_damaged_subtitle_and_text_files(template: Template, data: st.DataObject, suffix: str,
                                         name: str, target: str) -> None:
    original = data.draw(st.sampled_from(["transcripts/sonnet001.srt",
                                          "transcripts/sonnet001.vtt",
                                          "transcripts/sonnet001.txt",
                                          "transcripts/qualcoder_transcript.txt",
                                          "audio/1089-134686.trans.txt"]))
    check_transcript(template, data.draw(damaged(seed(original))), suffix, name, target)


@fuzz(250)
@given(data=st.data(), fmt=st.sampled_from(["srt", "vtt"]),
       suffix=st.sampled_from([".srt", ".srt", ".vtt", ".txt"]), target=TARGETS)
def test_malformed_subtitles(template: Template, data: st.DataObject, fmt: str, suffix: str,
                             target: str) -> None:
    text = data.draw(srt_file() if fmt == "srt" else vtt_file())
    check_transcript(template, data.draw(encoded(text)), suffix, "subtitles", target)


@fuzz(150)
@given(data=st.data(), target=TARGETS)
def test_malformed_text_transcripts(template: Template, data: st.DataObject,
                                    target: str) -> None:
    kind = data.draw(st.sampled_from(["text", "text", "text", "binary", "controls"]))
    if kind == "text":
        raw = data.draw(encoded(data.draw(txt_file())))
    elif kind == "binary":  # a .txt that is really something else
        raw = data.draw(st.one_of(
            st.binary(min_size=1, max_size=300),
            st.sampled_from([seed("audio/1089-134686-0001.flac")[:4000],
                             seed("transcripts/qualcoder_ID1.docx")[:4000]])))
    else:  # text with control characters around the binary threshold
        body = data.draw(txt_file()) or "x"
        controls = data.draw(st.text(st.characters(min_codepoint=0, max_codepoint=0x1f),
                                     max_size=max(1, len(body) // 50)))
        raw = (body + controls).encode("utf-8")
    check_transcript(template, raw, ".txt", "transcript", target)


# --- Word ----------------------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _xml_safe(text: str) -> str:
    """Text as an XML writer would write it (characters XML cannot hold dropped)."""
    return escape("".join(ch for ch in text if ch in "\t\n\r" or (
        "\x20" <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ch >= "\U00010000")))


@st.composite
def w_paragraph(draw: st.DrawFn) -> str:
    runs = []
    for _ in range(draw(st.integers(0, 3))):
        text = draw(st.one_of(unicode_text(max_size=30), st.sampled_from([
            "Interviewer: How long?", "[00:00:05] P1: Twelve years.", "00:01:02",
            "Zoë  0:03", "[laughs]"])))
        body = _xml_safe(text) if draw(st.integers(0, 9)) else escape(text)  # raw: may break
        extra = draw(st.sampled_from(["", "", "<w:br/>", "<w:tab/>", "<w:cr/>",
                                      "<w:sym w:char='F04A'/>"]))
        runs.append(f'<w:r><w:t xml:space="preserve">{body}</w:t>{extra}</w:r>')
    return f"<w:p>{''.join(runs)}</w:p>"


@st.composite
def w_table(draw: st.DrawFn) -> str:
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        cells = []
        for _ in range(draw(st.integers(0, 4))):
            props = draw(st.sampled_from(["", "", "<w:tcPr><w:gridSpan w:val='2'/></w:tcPr>",
                                          "<w:tcPr><w:vMerge w:val='restart'/></w:tcPr>",
                                          "<w:tcPr><w:vMerge/></w:tcPr>",
                                          "<w:tcPr><w:gridSpan w:val='-3'/></w:tcPr>",
                                          "<w:tcPr><w:gridSpan w:val='99999'/></w:tcPr>"]))
            content = "".join(draw(st.lists(w_paragraph(), max_size=2)))
            cells.append(f"<w:tc>{props}{content}</w:tc>")
        rows.append(f"<w:tr>{''.join(cells)}</w:tr>")
    grid = draw(st.sampled_from(["", "<w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"]))
    return f"<w:tbl>{grid}{''.join(rows)}</w:tbl>"


@st.composite
def document_xml(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(st.one_of(w_paragraph(), w_paragraph(), w_table()), max_size=8))
    ns = draw(st.sampled_from([W_NS, W_NS, W_NS, "urn:wrong", ""]))
    root = draw(st.sampled_from(["document", "document", "document", "body", "x"]))
    body = draw(st.sampled_from(["body", "body", "body", "bod"]))
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           f'<w:{root} xmlns:w="{ns}"><w:{body}>{"".join(blocks)}'
           f'<w:sectPr/></w:{body}></w:{root}>')
    return xml.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16"])), "surrogatepass")


@st.composite
def malformed_docx(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["document", "document", "document", "junk zip",
                                 "no content types", "bad rels"]))
    with zipfile.ZipFile(FIXTURES / "transcripts" / "qualcoder_ID1.docx") as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    if kind == "junk zip":  # a zip of junk, one member perhaps named as Word's
        names = draw(st.lists(st.sampled_from(["word/document.xml", "[Content_Types].xml",
                                               "_rels/.rels", "junk", "word/"]),
                              max_size=4, unique=True))
        return _zip_bytes([(n, draw(st.binary(max_size=100))) for n in names])
    members["word/document.xml"] = draw(document_xml())
    if kind == "no content types":
        del members["[Content_Types].xml"]
    elif kind == "bad rels":
        members["word/_rels/document.xml.rels"] = draw(st.sampled_from([
            b"", b"<Relationships/>", b"not xml",
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/styles" Target="../../../etc/passwd"/>'
            b"</Relationships>",
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            b'officeDocument/2006/relationships/styles" Target="http://example.invalid/x" '
            b'TargetMode="External"/></Relationships>']))
    return _zip_bytes(list(members.items()))


@fuzz(150, shrink=False)
@given(data=st.data(), target=TARGETS)
def test_damaged_word_files(template: Template, data: st.DataObject, target: str) -> None:
    original = seed("transcripts/qualcoder_ID1.docx")
    raw = data.draw(st.one_of(damaged(original),
                              rezipped(original, xml_suffixes=(".xml", ".rels"))))
    check_transcript(template, raw, ".docx", "word", target)


@fuzz(120)
@given(data=st.data(), target=TARGETS)
def test_malformed_word_files(template: Template, data: st.DataObject, target: str) -> None:
    check_transcript(template, data.draw(malformed_docx()), ".docx", "word", target)


# --- audio ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audio_seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Small real recordings: the shared fixtures, and one of them in an MP4 container
    (made with PyAV), since M4A is what phones record."""
    seeds = {
        ".flac": seed("audio/1089-134686-0001.flac"),
        ".wav": seed("audio/stereo_diarization.wav"),
        ".mp3": seed("transcripts/sonnet001.mp3")[:120_000],  # cut: MP3 has no index
    }
    target = tmp_path_factory.mktemp("audio") / "short.m4a"
    with av.open(str(FIXTURES / "audio" / "1089-134686-0001.flac")) as src, \
            av.open(str(target), "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16_000)
        stream.layout = "mono"
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=16_000,
                                      frame_size=stream.codec_context.frame_size or 1024)
        for frame in src.decode(audio=0):
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    seeds[".m4a"] = target.read_bytes()
    return seeds


@fuzz(100, shrink=False)
@given(data=st.data(), suffix=st.sampled_from([".flac", ".wav", ".mp3", ".m4a"]),
       swap=st.booleans(), target=st.sampled_from(["new", "new", "recorded", "missing"]))
def test_damaged_audio(template: Template, audio_seeds: dict[str, bytes], data: st.DataObject,
                       suffix: str, swap: bool, target: str) -> None:
    raw = data.draw(damaged(audio_seeds[suffix], max_ops=3, head=256))
    name = "recording" + (data.draw(st.sampled_from(sorted(audio_seeds))) if swap else suffix)
    with fresh_study(template) as (study, scratch):
        path = scratch / name
        path.write_bytes(raw)
        interview = {"new": None, "recorded": template.recorded, "missing": 9999}[target]
        imports_or_refuses(study, lambda: import_audio(study, path, interview_id=interview),
                           StudyError)


@fuzz(40)
@given(data=st.data(), suffix=st.sampled_from([".wav", ".mp3", ".m4a", ".ogg", ".flac"]))
def test_files_that_are_not_audio(template: Template, data: st.DataObject, suffix: str) -> None:
    raw = data.draw(st.one_of(
        st.binary(max_size=400),
        st.sampled_from([seed("transcripts/qualcoder_ID1.docx"),
                         seed("transcripts/sonnet001.srt"), b"RIFF\x00\x00\x00\x00WAVE",
                         b"fLaC" + bytes(60), b"ID3\x04\x00\x00\x00\x00\x00\x00",
                         b"\x00\x00\x00\x18ftypM4A "])))
    with fresh_study(template) as (study, scratch):
        path = scratch / f"not audio{suffix}"
        path.write_bytes(raw)
        imports_or_refuses(study, lambda: import_audio(study, path), AudioError)


# --- REFI-QDA projects (.qdpx) -----------------------------------------------------------------

GUIDS = ["aaaaaaaa-0000-0000-0000-000000000001", "AAAAAAAA-0000-0000-0000-000000000001",
         "{aaaaaaaa-0000-0000-0000-000000000002}", "aaaaaaaa-0000-0000-0000-000000000003",
         "aaaaaaaa-0000-0000-0000-000000000004", "bbbbbbbb-0000-0000-0000-000000000001",
         "bbbbbbbb-0000-0000-0000-000000000002", "cccccccc-0000-0000-0000-000000000001",
         "", "not-a-guid", "  "]


def _attr(name: str, value: str | None) -> str:
    return "" if value is None else f" {name}={quoteattr(_xml_safe(value))}"


def maybe(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), strategy)


def guid() -> st.SearchStrategy[str | None]:
    return maybe(st.sampled_from(GUIDS))


def xml_number() -> st.SearchStrategy[str | None]:
    return maybe(st.one_of(st.integers(-50, 400).map(str), st.sampled_from(number_texts())))


def names() -> st.SearchStrategy[str | None]:
    return maybe(st.one_of(unicode_text(max_size=20), st.sampled_from(
        ["Career", "career", "CAREER", "Tenure", "P-1", "Group", "Journal: reviewing themes",
         "Transcribed", "Transcribed.txt", "  ", "Role", "Years"])))


def codes(depth: int = 2) -> st.SearchStrategy[str]:
    @st.composite
    def one(draw: st.DrawFn) -> str:
        attrs = (_attr("guid", draw(guid())) + _attr("name", draw(names()))
                 + _attr("color", draw(maybe(st.sampled_from(
                     ["#ff0000", "#F00", "red", "#12345", "", "#gggggg"]))))
                 + _attr("isCodable", draw(maybe(st.sampled_from(["true", "false", "0", "x"])))))
        inner = ""
        if draw(st.booleans()):
            inner += f"<Description>{_xml_safe(draw(unicode_text()))}</Description>"
        if draw(st.booleans()):
            inner += f'<NoteRef targetGUID="{draw(st.sampled_from(GUIDS))}"/>'
        if depth and draw(st.booleans()):
            inner += "".join(draw(st.lists(codes(depth - 1), max_size=2)))
        return f"<Code{attrs}>{inner}</Code>"
    return one()


@st.composite
def codings(draw: st.DrawFn) -> str:
    out = []
    for _ in range(draw(st.integers(0, 2))):
        ref = draw(st.sampled_from(["<CodeRef targetGUID='{}'/>", "<CodeRef/>", ""]))
        out.append(f"<Coding{_attr('guid', draw(guid()))}>"
                   f"{ref.format(draw(st.sampled_from(GUIDS)))}</Coding>")
    return "".join(out)


@st.composite
def text_ref(draw: st.DrawFn, texts: dict[str, bytes]) -> str:
    """Inline PlainTextContent, or a path to a member (added to `texts`), or both, or
    neither; paths may point outside the archive or to nothing."""
    kind = draw(st.sampled_from(["inline", "inline", "member", "member", "elsewhere", "none"]))
    content = draw(st.one_of(unicode_text(max_size=60), st.sampled_from([
        "Interviewer: How long?\nP1: Twelve years.\nInterviewer: And then?\nP1: I left.",
        "Line one\r\nLine two\u2028Line three", ""])))
    if kind == "inline":
        return f"><PlainTextContent>{_xml_safe(content)}</PlainTextContent>"
    if kind == "member":
        member = f"{len(texts)}.txt"
        encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "utf-8-sig", "cp1252"]))
        texts[f"sources/{member}"] = content.encode(encoding, errors="replace")
        if draw(st.integers(0, 4)) == 0:
            texts[f"sources/{member}"] += draw(st.binary(max_size=20))
        return f' plainTextPath="internal://{member}">'
    if kind == "elsewhere":
        where = draw(st.sampled_from(["relative://x.txt", "file:///etc/hostname",
                                      "internal://missing.txt", "internal://../x.txt",
                                      "absolute:///x"]))
        return f' plainTextPath="{where}">'
    return ">"


@st.composite
def text_source(draw: st.DrawFn, texts: dict[str, bytes]) -> str:
    head = f"<TextSource{_attr('guid', draw(guid()))}{_attr('name', draw(names()))}"
    body = draw(text_ref(texts))
    for _ in range(draw(st.integers(0, 4))):
        body += (f"<PlainTextSelection{_attr('guid', draw(guid()))}"
                 f"{_attr('startPosition', draw(xml_number()))}"
                 f"{_attr('endPosition', draw(xml_number()))}>{draw(codings())}"
                 f"</PlainTextSelection>")
    body += draw(codings())
    if draw(st.booleans()):
        body += f'<NoteRef targetGUID="{draw(st.sampled_from(GUIDS))}"/>'
    return head + body + "</TextSource>"


@st.composite
def audio_source(draw: st.DrawFn, texts: dict[str, bytes], audio: bytes) -> str:
    path = draw(st.sampled_from(["internal://rec.flac", "internal://junk.wav",
                                 "relative:///Audio/x.m4a", "internal://nothing.mp3", None]))
    if path == "internal://rec.flac":
        texts["sources/rec.flac"] = audio
    elif path == "internal://junk.wav":
        texts["sources/junk.wav"] = draw(st.binary(max_size=200))
    head = f"<AudioSource{_attr('guid', draw(guid()))}{_attr('name', draw(names()))}" \
           f"{_attr('path', path)}>"
    body = ""
    for _ in range(draw(st.integers(0, 2))):
        points = [(draw(guid()), draw(xml_number()), draw(xml_number()))
                  for _ in range(draw(st.integers(0, 4)))]
        body += f"<Transcript{_attr('guid', draw(guid()))}"
        body += draw(text_ref(texts))
        body += "".join(f"<SyncPoint{_attr('guid', g)}{_attr('position', p)}"
                        f"{_attr('timeStamp', t)}/>" for g, p, t in points)
        for _ in range(draw(st.integers(0, 2))):
            body += (f"<TranscriptSelection{_attr('guid', draw(guid()))}"
                     f"{_attr('fromSyncPoint', draw(guid()))}"
                     f"{_attr('toSyncPoint', draw(guid()))}>{draw(codings())}"
                     f"</TranscriptSelection>")
        body += "</Transcript>"
    if draw(st.booleans()):
        body += f"<AudioSelection begin='{draw(xml_number())}' end='5'>{draw(codings())}" \
                "</AudioSelection>"
    return head + body + "</AudioSource>"


@st.composite
def cases_xml(draw: st.DrawFn) -> str:
    variables = []
    for g in draw(st.lists(st.sampled_from(GUIDS[:6]), max_size=4)):
        kind = draw(st.sampled_from(["Text", "Integer", "Float", "Boolean", "Date", "DateTime",
                                     "", "Weird"]))
        desc = draw(st.sampled_from(["", "Choices: a | b", "Choices: ", "Choices: | |"]))
        variables.append(f"<Variable guid='{g}'{_attr('name', draw(names()))} "
                         f"typeOfVariable='{kind}'><Description>{desc}</Description></Variable>")
    cases = []
    for _ in range(draw(st.integers(0, 3))):
        values = ""
        for _ in range(draw(st.integers(0, 3))):
            typed = draw(st.sampled_from(["TextValue", "IntegerValue", "FloatValue",
                                          "BooleanValue", "DateValue", "DateTimeValue", "Value"]))
            value = draw(st.one_of(st.sampled_from(number_texts()), st.sampled_from(
                ["true", "no", "2024-02-30", "2024-01-15", "2024-01-15T10:00:00Z", "a", "b",
                 "0001-01-01", "9999-12-31"]), unicode_text(max_size=10)))
            values += (f"<VariableValue><VariableRef targetGUID='{draw(st.sampled_from(GUIDS))}'"
                       f"/><{typed}>{_xml_safe(value)}</{typed}></VariableValue>")
        refs = "".join(f"<SourceRef targetGUID='{g}'/>"
                       for g in draw(st.lists(st.sampled_from(GUIDS), max_size=2)))
        cases.append(f"<Case{_attr('guid', draw(guid()))}{_attr('name', draw(names()))}>"
                     f"{values}{refs}</Case>")
    return (f"<Variables>{''.join(variables)}</Variables>" if variables else "") + \
           (f"<Cases>{''.join(cases)}</Cases>" if cases else "")


@st.composite
def notes_links_sets(draw: st.DrawFn, texts: dict[str, bytes]) -> str:
    out = ""
    notes = []
    for _ in range(draw(st.integers(0, 3))):
        when = draw(st.sampled_from(["", "2024-01-15T10:00:00Z", "garbage", "0001-01-01T00:00:00",
                                     "9999-12-31T23:59:59+14:00", "2024-13-45"]))
        notes.append(f"<Note{_attr('guid', draw(guid()))}{_attr('name', draw(names()))}"
                     f"{_attr('creationDateTime', when or None)}{draw(text_ref(texts))}</Note>")
    if notes:
        out += f"<Notes>{''.join(notes)}</Notes>"
    links = [f"<Link{_attr('guid', draw(guid()))}{_attr('originGUID', draw(guid()))}"
             f"{_attr('targetGUID', draw(guid()))}/>" for _ in range(draw(st.integers(0, 2)))]
    if links:
        out += f"<Links>{''.join(links)}</Links>"
    sets = []
    for _ in range(draw(st.integers(0, 2))):
        members = "".join(
            f"<{kind}{_attr(attr, g)}/>" for kind, attr, g in draw(st.lists(st.tuples(
                st.sampled_from(["MemberCode", "MemberSource", "MemberNote"]),
                st.sampled_from(["targetGUID", "guid"]), st.sampled_from(GUIDS)), max_size=3)))
        sets.append(f"<Set{_attr('guid', draw(guid()))}{_attr('name', draw(names()))}>"
                    f"{members}</Set>")
    if sets:
        out += f"<Sets>{''.join(sets)}</Sets>"
    if draw(st.booleans()):
        out += f'<NoteRef targetGUID="{draw(st.sampled_from(GUIDS))}"/>'
    return out


@st.composite
def malformed_qdpx(draw: st.DrawFn, audio: bytes) -> bytes:
    members: dict[str, bytes] = {}
    parts = []
    if draw(st.booleans()):
        parts.append(f"<Users><User{_attr('guid', draw(guid()))}{_attr('name', draw(names()))}"
                     "/></Users>")
    if draw(st.booleans()):
        parts.append(f"<CodeBook><Codes>{''.join(draw(st.lists(codes(), max_size=3)))}"
                     "</Codes></CodeBook>")
    parts.append(draw(cases_xml()))
    sources = draw(st.lists(st.one_of(text_source(members), text_source(members),
                                      audio_source(members, audio),
                                      st.just("<PictureSource guid='x' name='p.jpg'/>")),
                            max_size=3))
    if sources:
        parts.append(f"<Sources>{''.join(sources)}</Sources>")
    parts.append(draw(notes_links_sets(members)))
    if draw(st.integers(0, 4)) == 0:
        parts.append("<Graphs><Graph name='g'/></Graphs><Unknown><Thing/></Unknown>")
    ns = draw(st.sampled_from([PROJECT_NS, PROJECT_NS, PROJECT_NS, "", CODEBOOK_NS, "urn:wrong",
                               "urn:QDA-XML:project:2.0"]))
    root = draw(st.sampled_from(["Project"] * 6 + ["project", "CodeBook", "Projekt"]))
    xmlns = f' xmlns="{ns}"' if ns else ""
    desc = draw(st.sampled_from(["", f"<Description>{_xml_safe(RTL)}</Description>"]))
    body = f"<{root}{xmlns}{_attr('name', draw(names()))}>{desc}{''.join(parts)}</{root}>"
    declaration = draw(st.sampled_from(["", '<?xml version="1.0" encoding="utf-8"?>',
                                        '<?xml version="1.0" encoding="utf-16"?>',
                                        '<?xml version="1.0" encoding="latin-1"?>',
                                        '<?xml version="1.0" encoding="bogus"?>']))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "utf-8-sig"]))
    qde = (declaration + body).encode(encoding, "surrogatepass")
    name = draw(st.sampled_from(["project.qde", "project.qde", "project.qde", "Project.QDE",
                                 "export/My project.qde", "a.qde"]))
    return _zip_bytes([(name, qde), *members.items()])


@pytest.fixture(scope="module")
def qdpx_seeds(template: Template, tmp_path_factory: pytest.TempPathFactory
               ) -> dict[str, bytes]:
    """Projects to damage: ATLAS.ti's sample, the hand-authored project with its text,
    and Verbatim's own export of the template study (with its recording)."""
    folder = tmp_path_factory.mktemp("qdpx")
    hand = _zip_bytes([
        ("project.qde", seed("refi/hand_authored_project.qde")),
        ("sources/11111111-1111-1111-1111-111111111111.txt",
         b"Diet and health are closely linked in daily life."),
    ])
    root = folder / template.root.name
    shutil.copytree(template.root, root)
    with open_study(root, backup=False, recover_jobs=False) as study:
        export_qdpx(study, folder / "own.qdpx", include_media=True)
        export_qdc(study.store, folder / "own.qdc")
    return {"atlas": seed("refi/atlasti23_sample.qdpx"), "hand": hand,
            "own": (folder / "own.qdpx").read_bytes(), "own.qdc": (folder / "own.qdc").read_bytes()}


def check_qdpx(template: Template, raw: bytes) -> None:
    with fresh_study(template) as (study, scratch):
        path = scratch / "project.qdpx"
        path.write_bytes(raw)
        imports_or_refuses(study, lambda: import_qdpx(study, path), ExchangeError)


@fuzz(200, shrink=False)
@given(data=st.data(), which=st.sampled_from(["atlas", "hand", "own"]))
def test_damaged_projects(template: Template, qdpx_seeds: dict[str, bytes], data: st.DataObject,
                          which: str) -> None:
    original = qdpx_seeds[which]
    raw = data.draw(st.one_of(rezipped(original, xml_suffixes=(".qde", ".txt")),
                              damaged(original)))
    check_qdpx(template, raw)


@fuzz(250)
@given(data=st.data())
def test_malformed_projects(template: Template, data: st.DataObject) -> None:
    check_qdpx(template, data.draw(malformed_qdpx(seed("audio/1089-134686-0001.flac"))))


# --- REFI-QDA codebooks (.qdc) -----------------------------------------------------------------


@st.composite
def malformed_qdc(draw: st.DrawFn) -> bytes:
    ns = draw(st.sampled_from([CODEBOOK_NS, CODEBOOK_NS, PROJECT_NS, "", "urn:wrong"]))
    root = draw(st.sampled_from(["CodeBook", "CodeBook", "CodeBook", "Project", "Codebook"]))
    holder = draw(st.sampled_from(["Codes", "Codes", "Codes", "codes", ""]))
    code_xml = "".join(draw(st.lists(codes(3), max_size=5)))
    inner = f"<{holder}>{code_xml}</{holder}>" if holder else code_xml
    if root == "Project":
        inner = f"<CodeBook>{inner}</CodeBook>"
    sets = ""
    for _ in range(draw(st.integers(0, 3))):
        members = "".join(f"<MemberCode {attr}='{g}'/>" for attr, g in draw(st.lists(
            st.tuples(st.sampled_from(["targetGUID", "guid"]), st.sampled_from(GUIDS)),
            max_size=3)))
        sets += (f"<Set{_attr('guid', draw(guid()))}{_attr('name', draw(names()))}>"
                 f"<Description>{_xml_safe(draw(unicode_text()))}</Description>{members}</Set>")
    xmlns = f' xmlns="{ns}"' if ns else ""
    text = f"<{root}{xmlns} origin='fuzz'>{inner}<Sets>{sets}</Sets></{root}>"
    if draw(st.integers(0, 5)) == 0:  # broken markup
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(XML_JUNK)) + text[at:]
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "utf-8-sig"])), "surrogatepass")


def check_qdc(template: Template, raw: bytes) -> None:
    with fresh_study(template) as (study, scratch):
        path = scratch / "codebook.qdc"
        path.write_bytes(raw)
        imports_or_refuses(study, lambda: import_qdc(study.store, path), ExchangeError)


@fuzz(150, shrink=False)
@given(data=st.data(), which=st.sampled_from(["own.qdc", "hand"]))
def test_damaged_codebooks(template: Template, qdpx_seeds: dict[str, bytes],
                           data: st.DataObject, which: str) -> None:
    original = qdpx_seeds["own.qdc"] if which == "own.qdc" else seed(
        "refi/hand_authored_project.qde")  # a project file offered as a codebook
    raw = data.draw(st.one_of(damaged_xml(original), damaged(original)))
    check_qdc(template, raw)


@fuzz(150)
@given(data=st.data())
def test_malformed_codebooks(template: Template, data: st.DataObject) -> None:
    check_qdc(template, data.draw(malformed_qdc()))


# --- bugs the fuzzers found ----------------------------------------------------------------------


def refused_and_unchanged(template: Template, filename: str, raw: bytes,
                          importer: Callable[[Study, Path], object]) -> None:
    """A StudyError, and the study as it was."""
    with fresh_study(template) as (study, scratch):
        path = scratch / filename
        path.write_bytes(raw)
        before = contents(study)
        with pytest.raises(StudyError):
            importer(study, path)
        assert contents(study) == before


def project(body: str) -> bytes:
    return f'<Project xmlns="{PROJECT_NS}" name="P">{body}</Project>'.encode()


def _member_data_start(archive: bytes, name: str) -> int:
    """Where a member's compressed bytes start: after its local header, name and extra."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        offset = zf.getinfo(name).header_offset
    name_length = int.from_bytes(archive[offset + 26:offset + 28], "little")
    extra_length = int.from_bytes(archive[offset + 28:offset + 30], "little")
    return offset + 30 + name_length + extra_length


def damaged_member(members: list[tuple[str, bytes]], name: str, method: int) -> bytes:
    """A zip whose `name` member is compressed with `method`, with 32 bytes of its
    compressed data zeroed."""
    archive = _zip_bytes(members, method)
    at = _member_data_start(archive, name) + 16
    return archive[:at] + bytes(32) + archive[at + 32:]


def local_name_damaged(archive: bytes, name: str) -> bytes:
    """The first byte of `name` in its local header (not in the central directory) made
    0xff, which is never UTF-8; a non-ASCII name has zipfile's UTF-8 flag set."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        at = zf.getinfo(name).header_offset + 30
    return archive[:at] + b"\xff" + archive[at + 1:]


def cd_offset_too_large(archive: bytes) -> bytes:
    """The end-of-central-directory record claims the directory starts 1000 bytes later
    than it does, so zipfile computes a negative offset for the first member."""
    end = archive.rindex(b"PK\x05\x06")
    offset = int.from_bytes(archive[end + 16:end + 20], "little")
    return archive[:end + 16] + (offset + 1000).to_bytes(4, "little") + archive[end + 20:]


A_PROJECT = project("<CodeBook><Codes><Code guid='aaaaaaaa-0000-0000-0000-000000000001' "
                    "name='Harmless'/></Codes></CodeBook><Notes><Note guid='n' name='N'>"
                    f"<PlainTextContent>{'A longer note, so the member compresses. ' * 20}"
                    "</PlainTextContent></Note></Notes>")


@pytest.mark.parametrize("make", [
    lambda: cd_offset_too_large(_zip_bytes([("project.qde", A_PROJECT)])),
    lambda: damaged_member([("project.qde", A_PROJECT)], "project.qde", zipfile.ZIP_LZMA),
    lambda: damaged_member([("project.qde", A_PROJECT)], "project.qde", zipfile.ZIP_BZIP2),
    lambda: local_name_damaged(_zip_bytes([("projet é.qde", A_PROJECT)]), "projet é.qde"),
], ids=["central directory offset", "lzma member", "bzip2 member", "local header name"])
def test_damaged_zip_structure_is_refused(
        template: Template, make: Callable[[], bytes]) -> None:
    refused_and_unchanged(template, "damaged.qdpx", make(),
                          lambda study, path: import_qdpx(study, path))


def test_a_damaged_lzma_member_in_a_word_file_is_refused(template: Template) -> None:
    with zipfile.ZipFile(FIXTURES / "transcripts" / "qualcoder_ID1.docx") as zf:
        members = [(i.filename, zf.read(i)) for i in zf.infolist()]
    raw = damaged_member(members, "word/document.xml", zipfile.ZIP_LZMA)
    refused_and_unchanged(template, "damaged.docx", raw, import_transcript)


def test_audio_sources_sharing_a_guid_import_each_recording(template: Template) -> None:
    """Found by test_malformed_projects: staging names counted the GUIDs, so a shared GUID
    made two recordings collide (FileExistsError)."""
    sources = "".join(f'<AudioSource guid="{g}" name="rec{n}.flac" path="internal://rec.flac"/>'
                      for n, g in enumerate(["g1", "g1", "g2"]))
    raw = _zip_bytes([("project.qde", project(f"<Sources>{sources}</Sources>")),
                      ("sources/rec.flac", seed("audio/1089-134686-0001.flac"))])
    with fresh_study(template) as (study, scratch):
        path = scratch / "shared guids.qdpx"
        path.write_bytes(raw)
        old = {i.id for i in study.store.interviews()}
        report = import_qdpx(study, path)
        assert report.imported["interviews"] == 3
        assert all(i.media_id is not None for i in study.store.interviews() if i.id not in old)
        assert not [p for p in check_study(study.store) if p.is_error]


TEXT_SOURCE = ("<CodeBook><Codes><Code guid='c1' name='A'/></Codes></CodeBook><Sources>"
               "<TextSource guid='t1' name='T'><PlainTextContent>Hello world</PlainTextContent>"
               "<PlainTextSelection guid='s1' startPosition='0' endPosition='{}'>"
               "<Coding guid='x'><CodeRef targetGUID='c1'/></Coding></PlainTextSelection>"
               "</TextSource></Sources>")
SYNCED = ("<Sources><AudioSource guid='a1' name='A'><Transcript guid='t'>"
          "<PlainTextContent>Hello world\nSecond line</PlainTextContent>"
          "<SyncPoint guid='p1' position='0' timeStamp='0'/>"
          "<SyncPoint guid='p2' position='5' timeStamp='{}'/></Transcript></AudioSource>"
          "</Sources>")


@pytest.mark.parametrize("body", [TEXT_SOURCE.format("inf"), TEXT_SOURCE.format("1e400"),
                                  SYNCED.format("9223372036854775808"),
                                  SYNCED.format("9" * 30)],
                         ids=["inf", "1e400", "2**63 ms", "30 digits ms"])
def test_huge_numbers_in_a_project_are_read_as_missing(template: Template, body: str) -> None:
    """Found by test_malformed_projects: 'inf', '1e400' and times past SQLite's integers
    overflowed. They are damage: the position or time is taken as missing."""
    raw = _zip_bytes([("project.qde", project(body))])
    with fresh_study(template) as (study, scratch):
        path = scratch / "numbers.qdpx"
        path.write_bytes(raw)
        old = {i.id for i in study.store.interviews()}
        before = len(study.store.codings())
        report = import_qdpx(study, path)
        segments = [seg for i in study.store.interviews() if i.id not in old and i.id is not None
                    for seg in study.store.segments(i.id)]
        assert [seg.text for seg in segments][:1] == ["Hello world"]
        assert all((seg.start_ms or 0) < 2**53 and (seg.end_ms or 0) < 2**53
                   for seg in segments)
        if body.startswith("<CodeBook>"):  # the coding's selection has no readable end
            assert len(study.store.codings()) == before
            assert any("no readable start or end" in line for line in report.skipped)
        assert not [p for p in check_study(study.store) if p.is_error]


@pytest.mark.parametrize(("name", "text"), [
    ("huge.srt", "1\n9999999999999999:00:00,000 --> 9999999999999999:00:01,000\nHello\n"),
    ("huge.vtt", "WEBVTT\n\n9999999999999999:00:00.000 --> 9999999999999999:00:01.000\nHi\n"),
    ("digits.srt", f"1\n{'9' * 5000}:00:00,000 --> {'9' * 5000}:00:01,000\nHello\n"),
], ids=["srt hours", "vtt hours", "5000-digit hours"])
def test_huge_subtitle_times_are_refused(template: Template, name: str,
                                                    text: str) -> None:
    refused_and_unchanged(template, name, text.encode(), import_transcript)


@pytest.mark.parametrize(("name", "text"), [
    ("reference.srt", f"1\n00:00:01,000 --> 00:00:02,000\n&#{'9' * 5000};\n"),
    ("reference.vtt", f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n&#{'9' * 5000};\n"),
], ids=["srt", "vtt"])
def test_a_reference_to_no_character_imports_as_a_replacement_character(
        template: Template, name: str, text: str) -> None:
    """Found by test_malformed_subtitles: html.unescape handed 5,000 digits to int()."""
    with fresh_study(template) as (study, scratch):
        path = scratch / name
        path.write_text(text)
        old = {i.id for i in study.store.interviews()}
        import_transcript(study, path)
        texts = [seg.text for i in study.store.interviews() if i.id not in old and i.id is not None
                 for seg in study.store.segments(i.id)]
        assert texts == ["\ufffd"]
