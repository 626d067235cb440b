"""Transcript exports (txt, srt, vtt): their form, and the leak check before writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.anonymise.apply import apply_anonymisation
from analysis.exports.transcript import (
    clock,
    export_transcript,
    transcript_srt,
    transcript_txt,
    transcript_vtt,
)
from analysis.leak_check import MASK, LeakError
from study.errors import NotFoundError, ValidationError
from study.folder import Study
from study.model import (
    AnonymisationDecision,
    Candidate,
    Decision,
    IdentifierRule,
    Interview,
    Segment,
    Speaker,
    SpeakerRole,
)
from study.store import Store


def interview(store: Store, *turns: tuple[str | None, int, int, str]) -> int:
    iid = store.add_interview(Interview("Interview")).new_id("interview")
    ids: dict[str, int] = {}
    for label in dict.fromkeys(t[0] for t in turns if t[0]):
        role = SpeakerRole.INTERVIEWER if label == "Interviewer" else SpeakerRole.PARTICIPANT
        ids[label] = store.add_speaker(Speaker(iid, label, role)).new_id("speaker")
    store.add_segments(Segment(iid, n, start, end, text, ids.get(who or ""))
                       for n, (who, start, end, text) in enumerate(turns))
    return iid


@pytest.fixture
def store(study: Study) -> Store:
    return study.store


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder to export to (tmp_path holds the study)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


@pytest.fixture
def iid(store: Store) -> int:
    return interview(
        store,
        ("Interviewer", 0, 2_500, "How did it go?"),
        ("MHCC-1", 3_000, 751_250, "It went well,\nI rang Sarah Jones the next day."),
        (None, 752_000, 3_723_004, "Note: <inaudible> & more --> later"),
        ("MHCC-1", 3_800_000, 3_800_500, "   "),  # no text: left out
    )


def test_clock() -> None:
    assert clock(0) == "00:00:00"
    assert clock(3_723_004) == "01:02:03"
    assert clock(3_723_004, ",") == "01:02:03,004"
    assert clock(-5, ".") == "00:00:00.000"


def test_txt_has_timestamped_speaker_lines(store: Store, iid: int) -> None:
    assert transcript_txt(store, iid) == (
        "[00:00:00] Interviewer: How did it go?\n\n"
        "[00:00:03] MHCC-1: It went well, I rang Sarah Jones the next day.\n\n"
        "[00:12:32] Note: <inaudible> & more --> later\n")


def test_srt_cues(store: Store, iid: int) -> None:
    assert transcript_srt(store, iid) == (
        "1\n00:00:00,000 --> 00:00:02,500\nInterviewer: How did it go?\n\n"
        "2\n00:00:03,000 --> 00:12:31,250\nMHCC-1: It went well, I rang Sarah Jones the next "
        "day.\n\n"
        "3\n00:12:32,000 --> 01:02:03,004\nNote&#58; &lt;inaudible&gt; &amp; more --&gt; "
        "later\n")


def test_vtt_cues_with_voice_tags(store: Store, iid: int) -> None:
    assert transcript_vtt(store, iid) == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:02.500\n<v Interviewer>How did it go?</v>\n\n"
        "2\n00:00:03.000 --> 00:12:31.250\n<v MHCC-1>It went well, I rang Sarah Jones the "
        "next day.</v>\n\n"
        "3\n00:12:32.000 --> 01:02:03.004\nNote&#58; &lt;inaudible&gt; &amp; more --&gt; "
        "later\n")


def test_empty_and_missing_interviews(store: Store) -> None:
    empty = interview(store)
    assert transcript_txt(store, empty) == ""
    assert transcript_srt(store, empty) == ""
    assert transcript_vtt(store, empty) == "WEBVTT\n"
    with pytest.raises(NotFoundError):
        transcript_txt(store, 404)


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt"])
def test_export_writes_the_file(store: Store, iid: int, out: Path, fmt: str) -> None:
    path = out / f"MHCC-1.{fmt}"
    assert export_transcript(store, iid, path, f".{fmt.upper()}") == path
    render = {"txt": transcript_txt, "srt": transcript_srt, "vtt": transcript_vtt}[fmt]
    assert path.read_text(encoding="utf-8") == render(store, iid)
    assert [p.name for p in out.iterdir()] == [path.name]


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt"])
def test_export_with_a_registered_name_is_refused_and_writes_nothing(
        store: Store, iid: int, out: Path, fmt: str) -> None:
    store.register_identifier("Sarah Jones", "person")
    path = out / f"MHCC-1.{fmt}"
    path.write_text("an earlier export")
    with pytest.raises(LeakError) as info:
        export_transcript(store, iid, path, fmt)
    (report,) = info.value.reports
    line = {"txt": 3, "srt": 7, "vtt": 9}[fmt]
    assert report.location == f"line {line}"
    assert report.leak.replacement == "[Name 1]"
    assert MASK in report.context
    assert f"line {line}: " in str(info.value) and "Sarah" not in str(info.value)
    assert path.read_text() == "an earlier export"  # never clobbered
    assert [p.name for p in out.iterdir()] == [path.name]  # no temporary left


def test_a_name_in_the_file_name_is_refused(store: Store, iid: int, out: Path) -> None:
    store.register_identifier("Sarah Jones", "person")
    store.register_identifier("Ann", "person")
    clean = interview(store, ("A", 0, 1000, "Nothing to see"))
    with pytest.raises(LeakError) as info:
        export_transcript(store, clean, out / "interview_with_ann.txt", "txt")
    assert [r.location for r in info.value.reports] == ["file name"]
    assert list(out.iterdir()) == []


def test_a_speaker_label_naming_someone_is_refused(store: Store, out: Path) -> None:
    store.register_identifier("Sarah", "person")
    named = interview(store, ("Sarah", 0, 1000, "Hello"))
    for fmt in ("txt", "srt", "vtt"):
        with pytest.raises(LeakError):
            export_transcript(store, named, out / f"t.{fmt}", fmt)


def test_export_after_anonymisation_is_written(study: Study, iid: int, out: Path) -> None:
    store = study.store
    sj = store.register_identifier("Sarah Jones", "person").new_id("identifier")
    store.register_identifier("Jordan", "place", rule=IdentifierRule.NEVER)
    seg = store.segments(iid)[1]
    assert seg.id is not None
    at = seg.text.index("Sarah Jones")
    store.replace_candidates([Candidate(seg.id, at, at + 11, "Sarah Jones", "person",
                                        "registered", sj)])
    store.decide(AnonymisationDecision(sj, seg.id, at, at + 11, Decision.ACCEPT))
    apply_anonymisation(store, study.folder)
    for fmt in ("txt", "srt", "vtt"):
        path = export_transcript(store, iid, out / f"MHCC-1.{fmt}", fmt)
        text = path.read_text(encoding="utf-8")
        assert "[Name 1]" in text and "Sarah" not in text


def test_unknown_format_is_refused(store: Store, iid: int, out: Path) -> None:
    with pytest.raises(ValidationError, match="txt, srt, vtt"):
        export_transcript(store, iid, out / "t.docx", "docx")
