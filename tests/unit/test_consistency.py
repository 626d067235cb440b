"""The consistency check: silent on healthy studies (including every stage of
anonymisation, and after transcript edits), and each kind of damage, made with plain SQL
from outside the store, reported with the ids involved."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from analysis.anonymise.apply import apply_anonymisation, reverse_anonymisation
from study.consistency import Problem, Severity, check_study, error_count
from study.demo import build_demo_study
from study.folder import Study
from study.model import (
    AnalysisPhase,
    AnonymisationDecision,
    Candidate,
    Code,
    Coding,
    Decision,
    Interview,
    Job,
    JobState,
    JournalEntry,
    Memo,
    MemoTarget,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Theme,
    Word,
)
from study.store.key_file import KeyFile


@dataclass
class Healthy:
    study: Study
    interview_id: int
    other_interview_id: int
    segments: list[int]
    speakers: dict[str, int]
    codes: list[int]
    codings: list[int]
    theme_id: int


def words(text: str, start: int) -> tuple[Word, ...]:
    return tuple(Word(f" {w}", start + n * 300, start + n * 300 + 280, 0.9)
                 for n, w in enumerate(text.split()))


TEXTS = ("Tell me about the support you had.",
         "Sarah Jones rang me from Lambeth about it.",
         "And what happened then?",
         "Sarah helped, and so did the team.")


def build(study: Study) -> Healthy:
    store = study.store
    pid = store.add_participant(Participant("P1", "Nurses")).new_id("participant")
    iid = store.add_interview(Interview("First", pid)).new_id("interview")
    other = store.add_interview(Interview("Second", pid)).new_id("interview")
    speakers = {label: store.add_speaker(Speaker(iid, label, role)).new_id("speaker")
                for label, role in (("I", SpeakerRole.INTERVIEWER),
                                    ("P", SpeakerRole.PARTICIPANT))}
    other_speaker = store.add_speaker(Speaker(other, "I")).new_id("speaker")
    segs = list(store.add_segments(
        Segment(iid, n, n * 10_000, n * 10_000 + 9000, text, speakers["IP"[n % 2]],
                words(text, n * 10_000)) for n, text in enumerate(TEXTS)).ids("segment"))
    store.add_segments([Segment(other, 0, 0, 1000, "Hello there.", other_speaker)])
    support = store.add_code(Code("Support")).new_id("code")
    team = store.add_code(Code("Team", parent_id=support)).new_id("code")
    codings = [
        store.add_coding(Coding(support, iid, segs[1], 0, segs[1], 11)).new_id("coding"),
        store.add_coding(Coding(team, iid, segs[1], 12, segs[3], 5)).new_id("coding"),
    ]
    theme = store.add_theme(Theme("Being helped", code_ids=(support, team))).new_id("theme")
    store.add_memo(Memo(MemoTarget.STUDY, "Research question"))
    for target, target_id in ((MemoTarget.INTERVIEW, iid), (MemoTarget.SEGMENT, segs[0]),
                              (MemoTarget.CODING, codings[0]), (MemoTarget.CODE, support),
                              (MemoTarget.THEME, theme)):
        store.add_memo(Memo(target, f"On {target.value}", target_id))
    store.add_journal_entry(JournalEntry("First thoughts", AnalysisPhase.FAMILIARISATION))
    store.add_job(Job("transcribe", iid, JobState.DONE))
    return Healthy(study, iid, other, segs, speakers, [support, team], codings, theme)


@pytest.fixture
def healthy(study: Study) -> Healthy:
    return build(study)


@pytest.fixture
def sql(study: Study) -> Iterator[sqlite3.Connection]:
    """A plain connection, foreign keys off, for damaging the study from outside."""
    with closing(sqlite3.connect(study.folder.database, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        yield conn


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def only(problems: list[Problem], kind: str) -> Problem:
    found = [p for p in problems if p.kind == kind]
    assert len(found) == 1, problems
    return found[0]


# --- healthy studies ---------------------------------------------------------------------------


def test_an_empty_study_is_healthy(study: Study) -> None:
    assert check_study(study.store) == []


def test_a_study_with_everything_is_healthy(healthy: Healthy) -> None:
    assert check_study(healthy.study.store) == []


def test_the_demo_study_is_healthy(tmp_path: Path) -> None:
    with build_demo_study(tmp_path / "Demo.verbatim") as demo:
        assert check_study(demo.store) == []


def test_edits_splits_and_merges_keep_the_study_healthy(healthy: Healthy) -> None:
    store, segs = healthy.study.store, healthy.segments
    store.edit_segment_text(segs[1], "Sarah Jones phoned me from Lambeth about it.")
    store.split_segment(segs[3], len("Sarah helped,"))
    store.merge_segments(segs[1], segs[2])
    store.delete_coding(healthy.codings[0])
    store.delete_code(healthy.codes[1])
    assert check_study(store) == []


def test_every_stage_of_two_anonymisations_is_healthy(healthy: Healthy) -> None:
    """Originals, candidates and decisions added after an apply are the next apply's
    work, not leftovers of the first."""
    store, folder, segs = healthy.study.store, healthy.study.folder, healthy.segments
    sarah = store.register_identifier("Sarah Jones", "person").new_id("identifier")
    text = store.segment(segs[1]).text
    store.replace_candidates([Candidate(segs[1], 0, 11, "Sarah Jones", "person", "registered",
                                        sarah)])
    store.decide(AnonymisationDecision(sarah, segs[1], 0, 11, Decision.ACCEPT))
    assert check_study(store) == []
    apply_anonymisation(store, folder)
    assert store.segment(segs[1]).text != text
    assert check_study(store) == []
    lambeth = store.register_identifier("Lambeth", "place").new_id("identifier")
    at = store.segment(segs[1]).text.index("Lambeth")
    store.replace_candidates([Candidate(segs[1], at, at + 7, "Lambeth", "place", "registered",
                                        lambeth)])
    store.decide(AnonymisationDecision(lambeth, segs[1], at, at + 7, Decision.ACCEPT))
    assert check_study(store) == []
    apply_anonymisation(store, folder)
    assert check_study(store) == []
    reverse_anonymisation(store, folder)
    assert store.segment(segs[1]).text == text
    assert check_study(store) == []


# --- codings ------------------------------------------------------------------------------------


def test_a_coding_pointing_past_its_text(healthy: Healthy, sql: sqlite3.Connection) -> None:
    coding = healthy.codings[0]
    sql.execute("UPDATE codings SET end_offset = 999 WHERE id = ?", (coding,))
    (problem,) = check_study(healthy.study.store)
    assert problem.kind == "coding" and problem.ids == (coding,)
    assert problem.severity is Severity.ERROR
    assert "character 999" in problem.message and str(len(TEXTS[1])) in problem.message


def test_a_coding_whose_segment_is_in_another_interview(healthy: Healthy,
                                                        sql: sqlite3.Connection) -> None:
    coding = healthy.codings[1]
    sql.execute("UPDATE codings SET interview_id = ? WHERE id = ?",
                (healthy.other_interview_id, coding))
    problem = only(check_study(healthy.study.store), "coding")
    assert problem.ids == (coding,) and "is in interview" in problem.message


def test_a_coding_that_ends_before_it_starts(healthy: Healthy, sql: sqlite3.Connection) -> None:
    coding = healthy.codings[1]
    sql.execute("UPDATE codings SET start_segment_id = ?, end_segment_id = ? WHERE id = ?",
                (healthy.segments[3], healthy.segments[1], coding))
    problem = only(check_study(healthy.study.store), "coding")
    assert "ends before it starts" in problem.message


def test_a_coding_that_covers_no_text_is_a_warning(healthy: Healthy,
                                                   sql: sqlite3.Connection) -> None:
    sql.execute("UPDATE codings SET end_offset = start_offset WHERE id = ?",
                (healthy.codings[0],))
    (problem,) = check_study(healthy.study.store)
    assert problem.severity is Severity.WARNING and "covers no text" in problem.message


def test_a_coding_on_a_missing_segment(healthy: Healthy, sql: sqlite3.Connection) -> None:
    coding = healthy.codings[0]
    sql.execute("UPDATE codings SET start_segment_id = 404 WHERE id = ?", (coding,))
    problems = check_study(healthy.study.store)
    assert "segment 404" in only(problems, "coding").message
    assert "codings row" in only(problems, "foreign key").message


# --- segments -----------------------------------------------------------------------------------


def test_a_gap_in_segment_positions(healthy: Healthy, sql: sqlite3.Connection) -> None:
    sql.execute("UPDATE segments SET position = 7 WHERE id = ?", (healthy.segments[3],))
    (problem,) = check_study(healthy.study.store)
    assert problem.kind == "segment order" and problem.ids[0] == healthy.interview_id
    assert "position 3 missing" in problem.message


def test_a_duplicate_segment_position(healthy: Healthy, sql: sqlite3.Connection) -> None:
    sql.execute("UPDATE segments SET position = 1 WHERE id = ?", (healthy.segments[2],))
    (problem,) = check_study(healthy.study.store)
    assert "position 1 used twice" in problem.message and "position 2 missing" in problem.message
    assert set(problem.ids[1:]) == {healthy.segments[1], healthy.segments[2]}


def test_a_speaker_of_another_interview(healthy: Healthy, sql: sqlite3.Connection) -> None:
    (other_speaker,) = sql.execute("SELECT id FROM speakers WHERE interview_id = ?",
                                   (healthy.other_interview_id,)).fetchone()
    sql.execute("UPDATE segments SET speaker_id = ? WHERE id = ?",
                (other_speaker, healthy.segments[0]))
    (problem,) = check_study(healthy.study.store)
    assert problem.kind == "speaker" and problem.ids == (healthy.segments[0], other_speaker)


def test_unreadable_words_and_flags(healthy: Healthy, sql: sqlite3.Connection) -> None:
    sql.execute("UPDATE segments SET words = '[[\" a\", 0' WHERE id = ?", (healthy.segments[0],))
    sql.execute("UPDATE segments SET flags = '[{\"kind\": 1}]' WHERE id = ?",
                (healthy.segments[1],))
    problems = check_study(healthy.study.store)
    assert only(problems, "words").ids == (healthy.segments[0],)
    assert only(problems, "flags").ids == (healthy.segments[1],)


def test_word_timings_outside_the_segment_are_a_warning(healthy: Healthy,
                                                        sql: sqlite3.Connection) -> None:
    seg = healthy.segments[1]
    sql.execute("UPDATE segments SET words = ? WHERE id = ?",
                (json.dumps([[" Sarah", 5, 200, 0.9]]), seg))
    (problem,) = check_study(healthy.study.store)
    assert problem.kind == "words" and problem.severity is Severity.WARNING
    assert "Sarah" not in problem.message  # a word may be a name: never printed


def test_the_search_index_out_of_step(healthy: Healthy, sql: sqlite3.Connection) -> None:
    seg = healthy.segments[0]
    sql.execute("INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', ?, ?)",
                (seg, TEXTS[0]))
    (problem,) = check_study(healthy.study.store)
    assert problem.kind == "search index"
    assert not healthy.study.store.db.conn.in_transaction  # the check left nothing open


# --- memos, themes, jobs ------------------------------------------------------------------------


def test_a_memo_on_a_missing_code(healthy: Healthy, sql: sqlite3.Connection) -> None:
    sql.execute("INSERT INTO memos (target, target_id, text, created_at, updated_at) "
                "VALUES ('code', 404, 'lost', '2024-01-01', '2024-01-01')")
    (problem,) = check_study(healthy.study.store)
    assert problem.kind == "memo" and "code 404" in problem.message


def test_a_theme_listing_a_missing_code(healthy: Healthy, sql: sqlite3.Connection) -> None:
    sql.execute("INSERT INTO theme_codes (theme_id, code_id) VALUES (?, 404)",
                (healthy.theme_id,))
    problems = check_study(healthy.study.store)
    assert only(problems, "theme").ids == (healthy.theme_id, 404)
    assert only(problems, "foreign key")


def test_a_job_left_running_is_a_warning(healthy: Healthy) -> None:
    store = healthy.study.store
    job = store.add_job(Job("transcribe", healthy.interview_id, JobState.RUNNING)).new_id("job")
    (problem,) = check_study(store)
    assert problem.kind == "job" and problem.ids == (job,)
    assert problem.severity is Severity.WARNING and error_count([problem]) == 0


# --- anonymisation ------------------------------------------------------------------------------


def anonymised(healthy: Healthy) -> int:
    store = healthy.study.store
    sarah = store.register_identifier("Sarah", "person").new_id("identifier")
    seg = healthy.segments[1]
    store.replace_candidates([Candidate(seg, 0, 5, "Sarah", "person", "registered", sarah)])
    store.decide(AnonymisationDecision(sarah, seg, 0, 5, Decision.ACCEPT))
    apply_anonymisation(store, healthy.study.folder)
    return sarah


def test_a_half_applied_anonymisation(healthy: Healthy, sql: sqlite3.Connection) -> None:
    """As if the apply had written the text but not cleared what it moves to the key."""
    sarah = anonymised(healthy)
    sql.execute("INSERT INTO identifier_originals VALUES (?, 'Sarah')", (sarah,))
    sql.execute("INSERT INTO anonymisation_candidates (segment_id, start_offset, end_offset, "
                "text, category, source, identifier_id) VALUES (?, 0, 5, 'Sarah', 'person', "
                "'registered', ?)", (healthy.segments[3], sarah))
    sql.execute("INSERT INTO anonymisation_decisions (identifier_id, segment_id, start_offset, "
                "end_offset, decision, decided_at) VALUES (?, ?, 0, 5, 'accept', '2024')",
                (sarah, healthy.segments[3]))
    problems = check_study(healthy.study.store)
    assert error_count(problems) == 3
    assert {p.kind for p in problems} == {"anonymisation"}
    assert all("half-applied" in p.message for p in problems)
    assert "Sarah" not in " ".join(p.message for p in problems)
    assert problems[0].ids == (sarah,)


def test_a_missing_key_file_is_a_warning(healthy: Healthy) -> None:
    anonymised(healthy)
    folder = healthy.study.folder
    assert check_study(healthy.study.store) == []
    moved = folder.root.parent / "elsewhere.key"
    folder.key_file.rename(moved)
    (problem,) = check_study(healthy.study.store)
    assert problem.kind == "key file" and problem.severity is Severity.WARNING
    assert str(folder.key_file) in problem.message
    assert check_study(healthy.study.store, key_file=moved) == []


def test_a_key_file_without_the_run_is_a_warning(healthy: Healthy, tmp_path: Path) -> None:
    anonymised(healthy)
    store = healthy.study.store
    empty = tmp_path / "empty.key"
    with KeyFile.create(empty, study_name="x", salt=store.salt()) as key:
        key.save()
    (problem,) = check_study(store, key_file=empty)
    assert problem.kind == "key file" and "does not hold" in problem.message
    other = tmp_path / "other.key"
    with KeyFile.create(other, study_name="x", salt="another salt") as key:
        key.save()
    assert "another study" in check_study(store, key_file=other)[0].message


def test_errors_come_before_warnings(healthy: Healthy, sql: sqlite3.Connection) -> None:
    healthy.study.store.add_job(Job("transcribe", healthy.interview_id, JobState.RUNNING))
    sql.execute("UPDATE codings SET end_offset = 999 WHERE id = ?", (healthy.codings[0],))
    problems = check_study(healthy.study.store)
    assert [p.severity for p in problems] == [Severity.ERROR, Severity.WARNING]
    assert str(problems[0]).startswith("error: coding: Coding")


def test_missing_audio_is_reported(study: Study, fixtures_dir: Path) -> None:
    from transcription.audio import import_audio

    interview_id, media = import_audio(study, fixtures_dir / "audio" / "jfk.flac")
    assert [p for p in check_study(study.store) if p.kind == "media"] == []
    (study.folder.media / media.filename).unlink()
    (problem,) = [p for p in check_study(study.store) if p.kind == "media"]
    assert problem.ids == (interview_id,) and "missing" in problem.message
