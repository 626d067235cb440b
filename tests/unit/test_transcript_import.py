"""Transcript files (txt, docx, srt, vtt): reading, writing and importing into a study.

The shared fixtures are read in place; every other case is a small file written into
tmp_path, so each rule of the readers is pinned by a real file on disk. Hostile and
malformed files must raise TranscriptError and leave the study untouched.
"""

from __future__ import annotations

import codecs
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from study.errors import StudyError
from study.folder import Study
from study.model import Changes, Interview, InterviewStatus, Participant, SpeakerRole
from transcription.transcript_formats import (
    ParsedTranscript,
    TranscriptError,
    Turn,
    fill_times,
    format_srt,
    format_txt,
    format_vtt,
    is_label,
    parse_docx,
    parse_srt,
    parse_txt,
    parse_vtt,
    read_transcript,
)
from transcription.transcript_import import import_transcript, speaker_role

SONNET = [
    (0, 2680, "1"),
    (2680, 5880, "From fairest creatures we desire increase,"),
    (5880, 9240, "That thereby beauty's rose might never die,"),
    (9240, 11920, "But as the riper should by time decease,"),
    (11920, 15280, "His tender heir might bear his memory:"),
]
RTL = "שלום, מה שלומך? مرحبا بالعالم"
EMOJI = "Great 👍🏽 — really 😊 👩‍⚕️"


@pytest.fixture
def transcripts(fixtures_dir: Path) -> Path:
    return fixtures_dir / "transcripts"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def speakers_and_texts(parsed: ParsedTranscript) -> list[tuple[str, str]]:
    return [(t.speaker, t.text) for t in parsed.turns]


def make_docx(path: Path, build: Callable[[docx.document.Document], None]) -> Path:
    document = docx.Document()
    build(document)
    document.save(str(path))
    return path


# --- the shared fixtures ---------------------------------------------------------------------


def test_sonnet_srt(transcripts: Path) -> None:
    parsed = read_transcript(transcripts / "sonnet001.srt")
    assert parsed.format == "srt"
    assert parsed.warnings == ()
    assert len(parsed.turns) == 15
    # The first cue's text is "1" (the sonnet's number), which looks like a cue number.
    assert [(t.start_ms, t.end_ms, t.text) for t in parsed.turns[:5]] == SONNET
    last = "To eat the world's due, by the grave and thee."
    assert parsed.turns[-1] == Turn(48080, 53240, "", last)
    assert all(t.speaker == "" for t in parsed.turns)


def test_sonnet_vtt_matches_srt(transcripts: Path) -> None:
    vtt = read_transcript(transcripts / "sonnet001.vtt")
    assert vtt.format == "vtt"
    assert vtt.warnings == ()
    assert vtt.turns == read_transcript(transcripts / "sonnet001.srt").turns
    assert vtt.turns[8] == Turn(25680, 31240, "", "Thy self thy foe, to thy sweet self too cruel:")


def test_sonnet_txt_has_one_turn_per_line(transcripts: Path) -> None:
    """No speakers, times or blank lines: each line is a turn, like the subtitles' cues."""
    parsed = read_transcript(transcripts / "sonnet001.txt")
    srt = read_transcript(transcripts / "sonnet001.srt")
    assert parsed.format == "txt"
    assert [t.text for t in parsed.turns] == [t.text for t in srt.turns]
    assert all(t.start_ms is None and t.end_ms is None and t.speaker == "" for t in parsed.turns)


def test_qualcoder_txt_bracket_tags_are_speakers(transcripts: Path) -> None:
    parsed = read_transcript(transcripts / "qualcoder_transcript.txt")
    assert [t.speaker for t in parsed.turns] == ["id1", "id2", "id3", "id1", "id3", "id1", "id2"]
    assert parsed.turns[0].text.startswith("hello, I like the course. It really helped")
    assert parsed.turns[4].text == "yes, I am learning a lot as well. It's a good course overall"
    # The file has no newline at its end; the last turn is whole.
    assert parsed.turns[-1].text == (
        "Hmm, I will ask the tutor for more help as I am really struggling.")


def test_qualcoder_docx_paragraphs(transcripts: Path) -> None:
    parsed = read_transcript(transcripts / "qualcoder_ID1.docx")
    assert parsed.format == "docx"
    assert len(parsed.turns) == 3  # the trailing empty paragraph is not a turn
    assert all(t.speaker == "" and t.start_ms is None for t in parsed.turns)
    # Runs split by proofing marks and a bookmark join up seamlessly.
    assert parsed.turns[0].text.endswith("web links have been really good.")
    assert "like a duck to water for me - no problem at all." in parsed.turns[1].text
    assert parsed.turns[2].text.endswith("I'm happy to pay €200.")


# --- plain text: speakers ----------------------------------------------------------------------


@pytest.mark.parametrize("line, speaker, text", [
    ("Interviewer: How did you start?", "Interviewer", "How did you start?"),
    ("Interviewer 2: And then?", "Interviewer 2", "And then?"),
    ("P3: I was a nurse.", "P3", "I was a nurse."),
    ("MHCC-1: Twelve years.", "MHCC-1", "Twelve years."),
    ("I: Go on.", "I", "Go on."),
    ("R: Well.", "R", "Well."),
    ("Speaker A: yes", "Speaker A", "yes"),
    ("[Interviewer]: Hello", "Interviewer", "Hello"),
    ("[id7] hello", "id7", "hello"),
    ("Respondent : spaced colon", "Respondent", "spaced colon"),
])
def test_known_labels_are_speakers_even_once(line: str, speaker: str, text: str) -> None:
    assert speakers_and_texts(parse_txt(line)) == [(speaker, text)]


@pytest.mark.parametrize("text", [
    "Note: the room was noisy.",
    "Then: nothing happened at all.",
    "The thing that really worried me most: money.",  # more than four words
    "Well, you know: it was hard.",  # a comma is not in a label
    "http://example.org is where: we met",
    "10:30 was when we met.",
    "[laughs] yes.",
])
def test_one_off_colon_phrases_stay_text(text: str) -> None:
    assert speakers_and_texts(parse_txt(text)) == [("", text)]


def test_recurring_label_is_a_speaker_but_not_note_or_annotations() -> None:
    parsed = parse_txt(
        "Zoë: first answer\n\nNote: tape changed\n\n[laughs] right\n\n"
        "Zoë: second answer\n\nNote: tape changed again\n\n[laughs] ok\n"
    )
    assert speakers_and_texts(parsed) == [
        ("Zoë", "first answer"), ("", "Note: tape changed"), ("", "[laughs] right"),
        ("Zoë", "second answer"), ("", "Note: tape changed again"), ("", "[laughs] ok"),
    ]


def test_label_after_a_time_is_always_a_speaker() -> None:
    assert speakers_and_texts(parse_txt("[00:00:05] Dr. Okafor: Come in.")) == [
        ("Dr. Okafor", "Come in.")]
    # A bracketed tag without a colon could be a note, time or not.
    assert parse_txt("[00:00:05] [inaudible] then yes").turns == (
        Turn(5000, None, "", "[inaudible] then yes"),)


def test_is_label_shape() -> None:
    assert is_label("MHCC-1") and is_label("Zoë") and is_label("Dr. Okafor")
    assert is_label("Mary O'Neil") and is_label("Speaker (P3)")
    assert not is_label("") and not is_label("3P") and not is_label("Yes, then")
    assert not is_label("one two three four five") and not is_label("a" * 41)
    assert not is_label("Why?") and not is_label("etc.")


def test_continuation_lines_join_and_paragraphs_split() -> None:
    parsed = parse_txt(
        "Interviewer: So tell me\nabout your job.\n"
        "P3: Well, I started\n   in 2010.\n\n"
        "And that was that.\n\n"
        "Interviewer:\nShall we\ncontinue?\n"
    )
    assert speakers_and_texts(parsed) == [
        ("Interviewer", "So tell me about your job."),
        ("P3", "Well, I started in 2010."),
        ("", "And that was that."),  # a new paragraph without a label has no speaker
        ("Interviewer", "Shall we continue?"),  # a label alone heads the lines below
    ]


def test_label_without_text_is_left_out_with_a_warning() -> None:
    parsed = parse_txt("P3: Yes.\n\nInterviewer:\n")
    assert speakers_and_texts(parsed) == [("P3", "Yes.")]
    assert len(parsed.warnings) == 1 and "line 3" in parsed.warnings[0]


# --- plain text: times -----------------------------------------------------------------------


@pytest.mark.parametrize("line, start_ms", [
    ("[00:01:02] Interviewer: text", 62_000),
    ("[00:01:02.500] Interviewer: text", 62_500),
    ("[00:01:02,25] Interviewer: text", 62_250),
    ("(00:01:02) Interviewer: text", 62_000),
    ("{00:01:02} Interviewer: text", 62_000),
    ("00:01:02 Interviewer: text", 62_000),
    ("[01:02] Interviewer: text", 62_000),
    ("[1:00:00] Interviewer: text", 3_600_000),
    ("Interviewer (00:01:02): text", 62_000),
    ("Interviewer [00:01:02] text", 62_000),
    ("[00:01:02]\nInterviewer: text", 62_000),
    ("[00:01:02]\n\nInterviewer: text", 62_000),
])
def test_timestamp_forms(line: str, start_ms: int) -> None:
    (turn,) = parse_txt(line).turns
    assert turn == Turn(start_ms, None, "Interviewer", "text")


def test_time_alone_on_a_line_starts_an_unlabelled_paragraph() -> None:
    parsed = parse_txt("[00:00:10]\nWe began late.\n[00:00:20]\nThen it rained.\n")
    assert parsed.turns == (Turn(10_000, None, "", "We began late."),
                            Turn(20_000, None, "", "Then it rained."))


def test_invalid_clock_is_text() -> None:
    (turn,) = parse_txt("[00:75:00] Interviewer: text").turns
    assert turn.start_ms is None and turn.text == "[00:75:00] Interviewer: text"


def test_otter_headings() -> None:
    parsed = parse_txt("Zoë Adams  0:03\nHello there.\n\nSam  1:02:10\nHi.\nStill me.\n")
    assert parsed.turns == (Turn(3_000, None, "Zoë Adams", "Hello there."),
                            Turn(3_730_000, None, "Sam", "Hi. Still me."))


def test_f4_end_times() -> None:
    parsed = parse_txt("I: How was it? #00:00:04-2#\n\nB: Fine. #00:00:09-0#\n\nI: Good.\n")
    assert parsed.turns == (Turn(None, 4_200, "I", "How was it?"),
                            Turn(None, 9_000, "B", "Fine."), Turn(None, None, "I", "Good."))


def test_blank_text_is_an_error() -> None:
    with pytest.raises(TranscriptError, match="no transcript text"):
        parse_txt(" \n\t\n\n")


# --- plain text: encodings and hostile bytes -------------------------------------------------

ZOE = "Zoë: Él está aquí, naïve café.\n\nInterviewer: Merci.\n"


@pytest.mark.parametrize("encoding, prefix", [
    ("utf-8", b""),
    ("utf-8", codecs.BOM_UTF8),
    ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE),
    ("utf-16-le", b""),  # Notepad-style UTF-16 without a BOM
])
def test_unicode_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = ZOE + f"Zoë: {RTL}\n\nZoë: {EMOJI}\r\n"
    path = tmp_path / "t.txt"
    path.write_bytes(prefix + text.encode(encoding))
    parsed = read_transcript(path)
    assert parsed.warnings == ()
    assert speakers_and_texts(parsed) == [
        ("Zoë", "Él está aquí, naïve café."), ("Interviewer", "Merci."),
        ("Zoë", RTL), ("Zoë", EMOJI),
    ]


def test_cp1252_falls_back_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", ZOE + "Zoë: “quoted” – 5 €\n", "cp1252")
    parsed = read_transcript(path)
    assert speakers_and_texts(parsed)[0] == ("Zoë", "Él está aquí, naïve café.")
    assert parsed.turns[-1].text == "“quoted” – 5 €"
    assert any("Windows-1252" in w for w in parsed.warnings)


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8"
       b"N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("name, data", [
    ("picture.txt", PNG),
    ("zip.txt", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4),
    ("noise.srt", bytes((i * 37 + 11) % 256 for i in range(4096))),
    ("controls.vtt", b"WEBVTT\n\n" + bytes(range(1, 32)) * 20),
])
def test_binary_files_are_not_text(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(TranscriptError, match="is not a text file") as e:
        read_transcript(path)
    assert name in str(e.value)


@pytest.mark.parametrize("name", ["empty.txt", "empty.srt", "empty.vtt", "empty.docx"])
def test_empty_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(TranscriptError, match="is empty"):
        read_transcript(path)


@pytest.mark.parametrize("name, data", [
    ("spaces.txt", b"  \r\n\t\n  \n"),
    ("spaces.srt", b"\n\n   \n"),
    ("bom.vtt", codecs.BOM_UTF8 + b"\n \n"),
])
def test_whitespace_only_files(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(TranscriptError, match="blank space"):
        read_transcript(path)


@pytest.mark.parametrize("name", ["notes.pdf", "old.doc", "transcript.rtf", "noext"])
def test_other_suffixes_are_refused(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, "Interviewer: hello\n")
    with pytest.raises(TranscriptError, match=r"\.txt, \.docx, \.srt or \.vtt"):
        read_transcript(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match="cannot be found"):
        read_transcript(tmp_path / "gone.txt")
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(TranscriptError, match="is a folder"):
        read_transcript(tmp_path / "dir.txt")


def test_subtitles_saved_as_txt_are_read_as_subtitles(tmp_path: Path) -> None:
    path = write(tmp_path / "whisper.txt", "1\n00:00:01,000 --> 00:00:02,000\nP3: Hello.\n")
    parsed = read_transcript(path)
    assert parsed.format == "srt"
    assert parsed.turns == (Turn(1000, 2000, "P3", "Hello."),)
    assert parsed.warnings and "SubRip" in parsed.warnings[0]


# --- Word --------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path) -> None:
    def build(d: docx.document.Document) -> None:
        d.add_heading("Interview 3", level=1)
        d.add_paragraph("[00:00:01] Interviewer: Welcome.")
        p = d.add_paragraph("P3: Thanks, I")
        p.add_run().add_break()
        p.add_run("was nervous.")
        d.add_paragraph("Note: the heating was loud.")
        table = d.add_table(rows=3, cols=3)
        for row, cells in zip(table.rows, [("Time", "Speaker", "Text"),
                                           ("00:00:10", "Interviewer", "Tell me more."),
                                           ("[00:00:12.5]", "Zoë", "Well…  okay.")],
                              strict=True):
            for cell, value in zip(row.cells, cells, strict=True):
                cell.text = value
        d.add_paragraph("")
        pairs = d.add_table(rows=2, cols=2)
        for row, cells in zip(pairs.rows, [("Interviewer:", "Last one."), ("P3", "Bye.")],
                              strict=True):
            for cell, value in zip(row.cells, cells, strict=True):
                cell.text = value
        details = d.add_table(rows=2, cols=2)
        for row, cells in zip(details.rows, [("Date", "3 May"), ("Place", "Leeds")],
                              strict=True):
            for cell, value in zip(row.cells, cells, strict=True):
                cell.text = value
        d.add_paragraph(f"(00:05:00) P3: {RTL} {EMOJI}")

    parsed = read_transcript(make_docx(tmp_path / "t.docx", build))
    assert parsed.turns == (
        Turn(None, None, "", "Interview 3"),
        Turn(1000, None, "Interviewer", "Welcome."),
        Turn(None, None, "P3", "Thanks, I was nervous."),
        Turn(None, None, "", "Note: the heating was loud."),
        Turn(10_000, None, "Interviewer", "Tell me more."),
        Turn(12_500, None, "Zoë", "Well… okay."),
        Turn(None, None, "Interviewer", "Last one."),
        Turn(None, None, "P3", "Bye."),
        Turn(300_000, None, "P3", f"{RTL} {EMOJI}"),
    )
    assert len(parsed.warnings) == 1 and "Table 3" in parsed.warnings[0]


def test_docx_label_without_text_warns_by_paragraph(tmp_path: Path) -> None:
    def build(d: docx.document.Document) -> None:
        d.add_paragraph("Interviewer: Hello.")
        d.add_paragraph("P3:")

    parsed = read_transcript(make_docx(tmp_path / "t.docx", build))
    assert speakers_and_texts(parsed) == [("Interviewer", "Hello.")]
    assert parsed.warnings == ("paragraph 2: \u201cP3\u201d has no text after it, so it was "
                               "left out.",)


def test_docx_without_text(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "blank.docx", lambda d: d.add_paragraph("   "))
    with pytest.raises(TranscriptError, match="no transcript text"):
        parse_docx(path)


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _broken_document_xml(tmp_path: Path) -> Path:
    good = make_docx(tmp_path / "good.docx", lambda d: d.add_paragraph("P3: hi"))
    with zipfile.ZipFile(good) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["word/document.xml"] = b"<w:document xmlns:w='x'><w:body><w:p>"
    return _zip(tmp_path / "broken.docx", members)


def _truncated(tmp_path: Path) -> Path:
    good = make_docx(tmp_path / "good.docx", lambda d: d.add_paragraph("P3: hi"))
    path = tmp_path / "truncated.docx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return path


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "png.docx", "is not a Word"),
    (lambda tmp: _zip(tmp / "nodoc.docx", {"hello.txt": b"hi"}), "no word/document.xml"),
    (_truncated, "is not a Word"),
    (_broken_document_xml, "damaged Word document"),
    (lambda tmp: tmp / "old.docx", r"old-style Word \(\.doc\)"),
])
def test_corrupt_docx(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    (tmp_path / "png.docx").write_bytes(PNG)
    (tmp_path / "old.docx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    path = make(tmp_path)
    with pytest.raises(TranscriptError, match=message) as e:
        read_transcript(path)
    assert path.name in str(e.value)


def test_docx_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    good = make_docx(tmp_path / "good.docx", lambda d: d.add_paragraph("P3: hi"))
    with zipfile.ZipFile(good) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["word/document.xml"] = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>P3: said &x; here</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    path = _zip(tmp_path / "xxe.docx", members)
    try:
        parsed = read_transcript(path)
    except TranscriptError:
        return  # refusing the file is as good as ignoring the entity
    assert all("SECRET" not in t.text for t in parsed.turns)


def test_docx_zip_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<a/>")
        with z.open("padding.bin", "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(300):
                f.write(chunk)
    with pytest.raises(TranscriptError, match="too large"):
        read_transcript(path)


# --- SubRip ------------------------------------------------------------------------------------


def test_srt_details() -> None:
    text = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n"
        "Interviewer: How are\r\n<i>you</i> today?\r\n\r\n"
        "2\n00:00:03.000 --> 00:00:04,000 X1:10 X2:20 Y1:5 Y2:9\n"
        "{\\an8}<font color=\"red\">Zoë</font>: Fine &amp; well.\n\n"
        "00:00:05,000 --> 00:00:06,000\nNo number &lt;b&gt; here\n"
        "4\n00:00:07,000 --> 00:00:08,000\nNo blank line before me\n\n"
        "5\n00:00:09,000 --> 00:00:09,000\n\n"
        "6\n100:00:00,5 --> 100:00:01,000\nThe thing that worried me most: money\n"
    )
    parsed = parse_srt(text)
    assert parsed.turns == (
        Turn(1000, 2500, "Interviewer", "How are you today?"),
        Turn(3000, 4000, "Zoë", "Fine & well."),
        Turn(5000, 6000, "", "No number <b> here"),
        Turn(7000, 8000, "", "No blank line before me"),
        Turn(360_000_500, 360_001_000, "", "The thing that worried me most: money"),
    )
    assert parsed.warnings == ("1 cue(s) without text were left out.",)


@pytest.mark.parametrize("text, line, fragment", [
    ("1\n00:00:00,000 --> 00:00:01,000\nok\n\n2\n00:00:02,680 -> 00:00:05,880\nbad\n", 6, "->"),
    ("1\n00:00:00,000 --> 00:00:01,000\nok\n\n2\n00:00:02,68O --> 00:00:05,880\nbad\n", 6, ""),
    ("1\n00:61:00,000 --> 00:62:00,000\nminutes past 59\n", 2, ""),
    ("1\n00:00:05,000 --> 00:00:01,000\nbackwards\n", 2, "ends before it starts"),
    ("Dear diary,\ntoday I wrote no subtitles.\n", 1, "subtitle number"),
    ("1\n\n00:00:00,000 --> 00:00:01,000\nx\n", 1, "not followed by a timing line"),
    ("1\n00:00:00,000 --> 00:00:01,000\nx --> y\n", 3, "looks like a timing line"),
])
def test_srt_malformed_names_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(TranscriptError) as e:
        parse_srt(text)
    assert e.value.line == line
    assert str(e.value).startswith(f"line {line}:")
    assert fragment in str(e.value)


def test_srt_file_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.srt",
                 "1\n00:00:00,000 --> 00:00:01,000\nok\n\n2\n00:00:02,680 -> 00:00:05,880\nx\n")
    with pytest.raises(TranscriptError, match=r"“broken\.srt” could not be imported: line 6"):
        read_transcript(path)


# --- WebVTT ------------------------------------------------------------------------------------


def test_vtt_details() -> None:
    text = (
        "WEBVTT - interview 3\nKind: captions\nLanguage: en\n\n"
        "STYLE\n::cue { color: yellow }\n\n"
        "REGION\nid:left width:40%\n\n"
        "NOTE a comment\nspanning lines\n\n"
        "intro\n00:01.000 --> 00:02.500 align:start position:10%\n"
        "<v.loud Interviewer>How are</v>\n<c.yellow>you</c> <00:00:02.000>today?\n\n"
        "NOTE\nanother\n\n"
        "00:00:03.000 --> 00:00:04.000\nZoë: Fine &amp; well&nbsp;&lrm;&#x263A;\n\n"
        "00:00:05.000 --> 00:00:06.000\n<v Sam>Hi</v>\n<v Ana Ruiz>Hello &lt;3</v>\n\n"
        "00:00:07.000 --> 00:00:08.000\n<i>Plain text, not a label: here</i>\n"
    )
    parsed = parse_vtt(text)
    assert parsed.warnings == ()
    assert parsed.turns == (
        Turn(1000, 2500, "Interviewer", "How are you today?"),
        Turn(3000, 4000, "Zoë", "Fine & well\u00a0\u200e☺"),
        Turn(5000, 6000, "Sam", "Hi"),
        Turn(5000, 6000, "Ana Ruiz", "Hello <3"),
        Turn(7000, 8000, "", "Plain text, not a label: here"),
    )


def test_vtt_without_header_is_read_with_a_warning() -> None:
    """Decision: many tools write .vtt without the header; the cues are still strict."""
    parsed = parse_vtt("00:00:01.000 --> 00:00:02.000\n<v P3>Hello\n")
    assert parsed.turns == (Turn(1000, 2000, "P3", "Hello"),)
    assert "WEBVTT" in parsed.warnings[0]


def test_vtt_without_header_that_is_not_subtitles_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "letter.vtt", "Dear Sam,\nthanks for the interview.\n\nBest\n")
    with pytest.raises(TranscriptError, match="line 2") as e:
        read_transcript(path)
    assert e.value.line == 2


@pytest.mark.parametrize("text, line", [
    ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:03.000 --> 00:00:0x.000\nbad\n", 6),
    ("WEBVTT\n\ncue-id\nnot a timing\n", 4),
    ("WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nbackwards\n", 3),
])
def test_vtt_malformed_names_the_line(text: str, line: int) -> None:
    with pytest.raises(TranscriptError) as e:
        parse_vtt(text)
    assert e.value.line == line


def test_webvtt_saved_as_srt_is_read_as_vtt(tmp_path: Path) -> None:
    path = write(tmp_path / "mislabelled.srt", "WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n")
    parsed = read_transcript(path)
    assert parsed.format == "vtt"
    assert parsed.turns == (Turn(1000, 2000, "", "hi"),)
    assert any("WebVTT" in w for w in parsed.warnings)


# --- writers -----------------------------------------------------------------------------------

TURNS = (
    Turn(0, 2500, "Interviewer", "How did you start?"),
    Turn(62_000, 65_500, "", "Note: tape changed"),
    Turn(3_725_250, 3_730_000, "Zoë", "I <b>was</b> a nurse & --> more"),
)


def test_format_srt() -> None:
    assert format_srt(TURNS) == (
        "1\n00:00:00,000 --> 00:00:02,500\nInterviewer: How did you start?\n\n"
        "2\n00:01:02,000 --> 00:01:05,500\nNote&#58; tape changed\n\n"
        "3\n01:02:05,250 --> 01:02:10,000\n"
        "Zoë: I &lt;b&gt;was&lt;/b&gt; a nurse &amp; --&gt; more\n"
    )
    assert parse_srt(format_srt(TURNS)).turns == TURNS


def test_format_srt_writes_plain_text_plainly() -> None:
    """Escapes only when needed, so other tools show "Q&A", not "Q&amp;A"."""
    turns = [Turn(0, 1000, "", "Q&A: a <3 b")]
    assert format_srt(turns) == "1\n00:00:00,000 --> 00:00:01,000\nQ&A: a <3 b\n"
    assert parse_srt(format_srt(turns)).turns == tuple(turns)


def test_format_vtt() -> None:
    assert format_vtt(TURNS) == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:02.500\n<v Interviewer>How did you start?</v>\n\n"
        "2\n00:01:02.000 --> 00:01:05.500\nNote&#58; tape changed\n\n"
        "3\n01:02:05.250 --> 01:02:10.000\n"
        "<v Zoë>I &lt;b&gt;was&lt;/b&gt; a nurse &amp; --&gt; more</v>\n"
    )
    assert parse_vtt(format_vtt(TURNS)).turns == TURNS


def test_format_txt() -> None:
    turns = [
        Turn(0, 2500, "Interviewer", "How did you\nstart?"),
        Turn(62_900, None, "", "untitled"),
        Turn(None, None, "P3", "no time"),
        Turn(None, None, "", "neither"),
        Turn(5, 6, "P3", "   "),
    ]
    assert format_txt(turns) == (
        "[00:00:00] Interviewer: How did you start?\n\n[00:01:02] untitled\n\n"
        "P3: no time\n\nneither\n"
    )
    assert format_txt([]) == ""


def test_writers_fill_missing_times() -> None:
    turns = [Turn(None, None, "A1", "one"), Turn(5000, None, "A1", "two"),
             Turn(None, None, "A1", "three")]
    assert parse_srt(format_srt(turns)).turns == (
        Turn(0, 5000, "A1", "one"), Turn(5000, 5000, "A1", "two"),
        Turn(5000, 5000, "A1", "three"))


def test_fill_times() -> None:
    assert fill_times([Turn(None, None, "", "a"), Turn(None, None, "", "b")]) == (
        Turn(0, 0, "", "a"), Turn(0, 0, "", "b"))
    turns = [Turn(None, None, "", "a"), Turn(10, None, "", "b"), Turn(None, 40, "", "c"),
             Turn(None, None, "", "d"), Turn(30, 20, "", "e")]
    assert fill_times(turns, duration_ms=100) == (
        Turn(0, 10, "", "a"), Turn(10, 10, "", "b"), Turn(10, 40, "", "c"),
        Turn(40, 40, "", "d"),
        Turn(30, 30, "", "e"),
    )
    assert fill_times([Turn(5, None, "", "a")], duration_ms=100) == (Turn(5, 100, "", "a"),)
    assert fill_times([Turn(5, None, "", "a")]) == (Turn(5, 5, "", "a"),)


# --- round trips (hypothesis) ------------------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéèëçñøüßÉÖØŁłĞğ"
SAMPLES = [RTL, EMOJI, "Zoë", "naïve café", "日本語のテキスト", "\u200fمرحبا\u200f", "🙂"]

words = st.builds(lambda first, rest: first + rest, st.sampled_from(LETTERS),
                  st.text(alphabet=LETTERS + "0123456789-'", max_size=7))
speakers = st.one_of(st.just(""), st.lists(words, min_size=1, max_size=3).map(" ".join))


def texts(exclude: str = "") -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=exclude),
                min_size=1, max_size=30),
        st.sampled_from(SAMPLES),
    )
    return (st.lists(piece, min_size=1, max_size=4).map(" ".join).map(str.strip)
            .filter(lambda t: bool(t) and "-->" not in t))


@st.composite
def timed_turns(draw: st.DrawFn, *, text: st.SearchStrategy[str], whole_seconds: bool = False,
                with_end: bool = True) -> list[Turn]:
    n = draw(st.integers(1, 8))
    unit = 1000 if whole_seconds else 1
    turns, start = [], 0
    for _ in range(n):
        start += draw(st.integers(0, 600_000 // unit)) * unit
        end = start + draw(st.integers(0, 60_000)) if with_end else None
        turns.append(Turn(start, end, draw(speakers), draw(text)))
    return turns


@settings(deadline=None)
@given(timed_turns(text=texts()))
def test_srt_round_trip(turns: list[Turn]) -> None:
    assert parse_srt(format_srt(turns)).turns == tuple(turns)


@settings(deadline=None)
@given(timed_turns(text=texts()))
def test_vtt_round_trip(turns: list[Turn]) -> None:
    assert parse_vtt(format_vtt(turns)).turns == tuple(turns)


@settings(deadline=None)
@given(timed_turns(text=texts(exclude=":[](){}#"), whole_seconds=True, with_end=False))
def test_txt_round_trip(turns: list[Turn]) -> None:
    assert parse_txt(format_txt(turns)).turns == tuple(turns)


@settings(deadline=None, max_examples=30)
@given(timed_turns(text=texts()))
def test_files_round_trip_through_disk(tmp_path_factory: pytest.TempPathFactory,
                                       turns: list[Turn]) -> None:
    folder = tmp_path_factory.mktemp("round")
    for suffix, fmt in ((".srt", format_srt), (".vtt", format_vtt)):
        path = folder / f"t{suffix}"
        path.write_text(fmt(turns), encoding="utf-8", newline="\r\n")
        assert read_transcript(path).turns == tuple(turns)


# --- import into a study -----------------------------------------------------------------------


def snapshot(study: Study) -> tuple[object, ...]:
    store = study.store
    interviews = store.interviews()
    return (
        interviews,
        [store.speakers(i.id) for i in interviews if i.id is not None],
        [store.segments(i.id) for i in interviews if i.id is not None],
        len(store.audit_log()),
    )


INTERVIEW_TXT = (
    "Interview with MHCC-1\n\n"
    "[00:00:05] Interviewer: How long have you worked here?\n"
    "MHCC-1: Twelve years,\nmore or less.\n"
    "Interviewer 2: And before that?\n"
    "[00:01:00] Zoë: I was in the room too.\n"
    "MHCC-1: I was a nurse.\n"
)


def test_import_txt_end_to_end(study: Study, tmp_path: Path) -> None:
    store = study.store
    pid = store.add_participant(Participant("MHCC-1", group="MHCC")).new_id("participant")
    heard: list[Changes] = []
    store.subscribe(heard.append)
    path = write(tmp_path / "MHCC-1 interview.txt", INTERVIEW_TXT)
    interview_id, count = import_transcript(study, path, participant_id=pid)
    assert count == 6
    assert len(heard) == 1  # one transaction, one notification
    interview = store.interview(interview_id)
    assert (interview.title, interview.participant_id, interview.status) == (
        "MHCC-1 interview", pid, InterviewStatus.TRANSCRIBED)
    speakers = {s.label: s for s in store.speakers(interview_id)}
    assert list(speakers) == ["Interviewer", "MHCC-1", "Interviewer 2", "Zoë"]
    assert [(s.role, s.participant_id) for s in speakers.values()] == [
        (SpeakerRole.INTERVIEWER, None), (SpeakerRole.PARTICIPANT, pid),
        (SpeakerRole.INTERVIEWER, None), (SpeakerRole.OTHER, None),
    ]
    segments = store.segments(interview_id)
    assert [s.position for s in segments] == list(range(6))
    by_id = {s.id: s.label for s in speakers.values()}
    assert [(s.start_ms, s.end_ms, by_id.get(s.speaker_id), s.text) for s in segments] == [
        (0, 5000, None, "Interview with MHCC-1"),
        (5000, 5000, "Interviewer", "How long have you worked here?"),
        (5000, 5000, "MHCC-1", "Twelve years, more or less."),
        (5000, 60_000, "Interviewer 2", "And before that?"),
        (60_000, 60_000, "Zoë", "I was in the room too."),
        (60_000, 60_000, "MHCC-1", "I was a nurse."),
    ]
    assert store.audit_log()[0].action == "transcript imported"


def test_import_srt_keeps_cue_times(study: Study, transcripts: Path) -> None:
    interview_id, count = import_transcript(study, transcripts / "sonnet001.srt",
                                            title="Sonnet 1")
    assert count == 15
    assert study.store.interview(interview_id).title == "Sonnet 1"
    segments = study.store.segments(interview_id)
    assert [(s.start_ms, s.end_ms, s.text) for s in segments[:5]] == SONNET
    assert segments[-1].end_ms == 53_240
    assert study.store.speakers(interview_id) == []


def test_import_without_times_uses_zero(study: Study, transcripts: Path) -> None:
    pid = study.store.add_participant(Participant("ID1")).new_id("participant")
    interview_id, count = import_transcript(study, transcripts / "qualcoder_transcript.txt",
                                            participant_id=pid)
    assert count == 7
    segments = study.store.segments(interview_id)
    assert {(s.start_ms, s.end_ms) for s in segments} == {(0, 0)}
    roles = {s.label: s.role for s in study.store.speakers(interview_id)}
    assert roles == {"id1": SpeakerRole.PARTICIPANT, "id2": SpeakerRole.OTHER,
                     "id3": SpeakerRole.OTHER}


def test_import_docx_fixture(study: Study, transcripts: Path) -> None:
    interview_id, count = import_transcript(study, transcripts / "qualcoder_ID1.docx")
    assert count == 3
    assert study.store.interview(interview_id).title == "qualcoder_ID1"


def test_import_into_existing_interview(study: Study, tmp_path: Path) -> None:
    store = study.store
    pid = store.add_participant(Participant("P3")).new_id("participant")
    interview_id = store.add_interview(Interview(
        "Recorded", participant_id=pid, duration_ms=90_000)).new_id("interview")
    path = write(tmp_path / "t.vtt",
                 "WEBVTT\n\n00:10.000 --> 00:20.000\n<v Participant>Hi\n\n"
                 "00:30.000 --> 00:40.000\nP3: more\n")
    assert import_transcript(study, path, interview_id=interview_id) == (interview_id, 2)
    interview = store.interview(interview_id)
    assert (interview.title, interview.status) == ("Recorded", InterviewStatus.TRANSCRIBED)
    assert [(s.label, s.role, s.participant_id) for s in store.speakers(interview_id)] == [
        ("Participant", SpeakerRole.PARTICIPANT, pid), ("P3", SpeakerRole.PARTICIPANT, pid)]
    assert [(s.start_ms, s.end_ms) for s in store.segments(interview_id)] == [
        (10_000, 20_000), (30_000, 40_000)]


def test_last_turn_ends_at_the_interview_duration(study: Study, tmp_path: Path) -> None:
    interview_id = study.store.add_interview(
        Interview("Recorded", duration_ms=90_000)).new_id("interview")
    path = write(tmp_path / "t.txt", "[00:00:10] I: Hello\n\n[00:00:30] R: Hi\n")
    import_transcript(study, path, interview_id=interview_id)
    assert [(s.start_ms, s.end_ms) for s in study.store.segments(interview_id)] == [
        (10_000, 30_000), (30_000, 90_000)]


def test_import_refuses_an_interview_with_segments(study: Study, tmp_path: Path) -> None:
    path = write(tmp_path / "t.txt", "I: Hello\n")
    interview_id, _ = import_transcript(study, path)
    before = snapshot(study)
    with pytest.raises(StudyError, match="already has a transcript"):
        import_transcript(study, path, interview_id=interview_id)
    assert snapshot(study) == before


def _hostile_files(tmp_path: Path) -> Iterable[Path]:
    for name in ("binary.txt", "png.docx"):
        (tmp_path / name).write_bytes(PNG)
    yield tmp_path / "binary.txt"
    yield tmp_path / "png.docx"
    yield _zip(tmp_path / "nodoc.docx", {"word/other.xml": b"<a/>"})
    yield write(tmp_path / "broken.srt",
                "1\n00:00:00,000 --> 00:00:01,000\nok\n\n2\n00:00:02 --> 00:00:03,000\nx\n")
    yield write(tmp_path / "prose.vtt", "Just some words\nin a file.\n")
    (tmp_path / "empty.txt").write_bytes(b"")
    yield tmp_path / "empty.txt"
    yield write(tmp_path / "blank.srt", "\n\n  \n")
    yield write(tmp_path / "notes.pdf", "%PDF-1.4")


def test_import_vtt_without_header(study: Study, tmp_path: Path) -> None:
    """Accepted with a warning by the reader, so the import goes ahead."""
    path = write(tmp_path / "zoom.vtt", "1\n00:00:01.000 --> 00:00:02.000\nP3: Hello\n")
    interview_id, count = import_transcript(study, path)
    assert count == 1
    assert [s.label for s in study.store.speakers(interview_id)] == ["P3"]


def test_bad_files_change_nothing(study: Study, tmp_path: Path) -> None:
    study.store.add_interview(Interview("Existing"))
    before = snapshot(study)
    paths = list(_hostile_files(tmp_path))
    assert len(paths) == 8
    for path in paths:
        with pytest.raises(TranscriptError, match=path.name.replace(".", r"\.")):
            import_transcript(study, path)
        assert snapshot(study) == before


def test_failure_half_way_writes_nothing(study: Study, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = study.store
    cls = type(store)
    original = cls.add_segments

    def broken(self: object, segments: Iterable[object]) -> Changes:
        rows = list(segments)
        original(self, rows[:2])  # type: ignore[arg-type]
        raise OSError("disk full")

    monkeypatch.setattr(cls, "add_segments", broken)
    before = snapshot(study)
    heard: list[Changes] = []
    store.subscribe(heard.append)
    path = write(tmp_path / "t.txt", INTERVIEW_TXT)
    with pytest.raises(OSError, match="disk full"):
        import_transcript(study, path)
    assert snapshot(study) == before
    assert heard == []
    monkeypatch.undo()
    assert import_transcript(study, path)[1] == 6  # and the study still works


@pytest.mark.parametrize("label, code, role", [
    ("Interviewer", None, SpeakerRole.INTERVIEWER),
    ("interviewer 3", None, SpeakerRole.INTERVIEWER),
    ("I", "P3", SpeakerRole.INTERVIEWER),
    ("Moderator", None, SpeakerRole.INTERVIEWER),
    ("P3", "P3", SpeakerRole.PARTICIPANT),
    ("mhcc-1", "MHCC-1", SpeakerRole.PARTICIPANT),
    ("Respondent", "P3", SpeakerRole.PARTICIPANT),
    ("Respondent", None, SpeakerRole.OTHER),
    ("P4", "P3", SpeakerRole.OTHER),
    ("Zoë", "P3", SpeakerRole.OTHER),
])
def test_speaker_roles(label: str, code: str | None, role: SpeakerRole) -> None:
    assert speaker_role(label, code) is role


def test_layer_rules() -> None:
    """transcription/ never imports Qt or faster-whisper, and these modules touch no SQL."""
    import transcription.transcript_formats as formats
    import transcription.transcript_import as importer

    for module in (formats, importer):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        for forbidden in ("PySide6", "faster_whisper", "sqlite3", "sqlite_utils", "SELECT "):
            assert forbidden not in source
