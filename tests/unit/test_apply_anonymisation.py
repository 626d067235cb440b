"""Applying and reversing anonymisation on a real study: every original gone from the
study (down to the file's bytes), codings and word timings kept right, the key file
written first, a failed apply leaving nothing behind, and reversal putting it all back."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from analysis.anonymise.apply import (
    ApplyResult,
    apply_anonymisation,
    backups_holding_originals,
    plan_apply,
    purge_backups_before,
    rebuild_words,
    reverse_anonymisation,
    rewrite_text,
)
from analysis.leak_check import LeakChecker
from study.errors import InUseError, StudyError, ValidationError
from study.folder import Study, StudyFolder, create_study, rolling_backup
from study.model import (
    AnalysisPhase,
    AnonymisationDecision,
    Candidate,
    Code,
    Coding,
    Decision,
    Flag,
    FlagKind,
    IdentifierRule,
    Interview,
    InterviewStatus,
    Job,
    JobState,
    JournalEntry,
    Media,
    Memo,
    MemoTarget,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Word,
)
from study.store import Store
from study.store.anonymity import SpanSwap
from study.store.key_file import (
    MAGIC,
    KeyFile,
    PassphraseRequiredError,
    WrongPassphraseError,
)

ORIGINALS = ("Sarah", "Jones", "Tobias", "Lambeth")
TURNS = (
    ("Interviewer", "Tell me about the support you had."),
    ("Sarah", "Well, Sarah Jones's son Tobias rang me from Lambeth."),
    ("Sarah", "SARAH is what they called me; sarah jones, the social worker, helped."),
    ("Interviewer", "And Tobias?"),
)


@dataclass
class Scenario:
    study: Study
    interview_id: int
    segment_ids: list[int]
    codings: dict[str, int]
    identifiers: dict[str, int]

    @property
    def store(self) -> Store:
        return self.study.store

    @property
    def folder(self) -> StudyFolder:
        return self.study.folder


def timed_words(text: str, start_ms: int) -> tuple[Word, ...]:
    """Words as faster-whisper gives them: a leading space, 300 ms each."""
    return tuple(Word(f" {w}", start_ms + n * 300, start_ms + n * 300 + 280, 0.875)
                 for n, w in enumerate(text.split()))


def spans(text: str, term: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(rf"(?<!\w){re.escape(term)}(?!\w)", text, re.I)]


def build(study: Study) -> Scenario:
    """An interview about Sarah Jones: speakers, word timings, codings across segments,
    memos, journal, title, notes, glossary, media name and a job all naming her."""
    store = study.store
    pid = store.add_participant(Participant("MHCC-1", "MHCC", notes="Sarah works in Lambeth")
                                ).new_id("participant")
    media = store.add_media(Media("ab" * 32, "ab.m4a", "sarah_jones_interview.m4a", 60_000)
                            ).new_id("media")
    iid = store.add_interview(Interview("Sarah Jones, Lambeth", pid, media_id=media,
                                        status=InterviewStatus.TRANSCRIBED)).new_id("interview")
    speakers = {}
    for label, role in (("Interviewer", SpeakerRole.INTERVIEWER),
                        ("Sarah", SpeakerRole.PARTICIPANT)):
        speakers[label] = store.add_speaker(Speaker(iid, label, role)).new_id("speaker")
    segments = []
    for n, (who, text) in enumerate(TURNS):
        start = n * 10_000
        words = timed_words(text, start) if n != 3 else ()  # one segment without timings
        flags = (Flag(FlagKind.NOTE, start, start + 500, "Is this Tobias?"),) if n == 1 else ()
        segments.append(Segment(iid, n, start, start + 9000, text, speakers[who], words, flags))
    seg = list(store.add_segments(segments).ids("segment"))
    support = store.add_code(Code("Support from Lambeth", definition="Help Sarah got")
                             ).new_id("code")
    family = store.add_code(Code("Family")).new_id("code")
    t1, t2 = TURNS[1][1], TURNS[2][1]
    codings = {
        "name": (support, seg[1], 6, seg[1], 17),  # exactly "Sarah Jones"
        "across": (family, seg[1], t1.index("Tobias"), seg[2], t2.index(";")),
        "inside": (family, seg[1], t1.index("Jones"), seg[1], t1.index(" rang")),
        "whole": (support, seg[3], 0, seg[3], len(TURNS[3][1])),
        "plain": (support, seg[0], 0, seg[0], 4),
    }
    coding_ids = {k: store.add_coding(Coding(code, iid, a, b, c, d)).new_id("coding")
                  for k, (code, a, b, c, d) in codings.items()}
    store.add_memo(Memo(MemoTarget.STUDY, "Remember Sarah's son Tobias"))
    store.add_memo(Memo(MemoTarget.SEGMENT, "SARAH JONES again", seg[2]))
    store.add_memo(Memo(MemoTarget.CODING, "About sarah jones's family",
                        coding_ids["across"]))
    store.add_journal_entry(JournalEntry("Thinking about sarah jones's story",
                                         AnalysisPhase.GENERATING_CODES))
    store.add_glossary_term("Tobias")
    store.add_glossary_term("safeguarding", "Lambeth uses this word")
    store.add_job(Job("transcribe", iid, JobState.DONE,
                      json.dumps({"options": {"hotwords": ["Tobias", "Lambeth"]}})))
    store.set_replacement_template("place", "[{description}]")
    ids = {
        "Sarah Jones": store.register_identifier("Sarah Jones", "person").new_id("identifier"),
        "Sarah": store.register_identifier("Sarah", "person", rule=IdentifierRule.ALWAYS
                                           ).new_id("identifier"),
        "Tobias": store.register_identifier("Tobias", "family", attributes={"relation": "son"}
                                            ).new_id("identifier"),
        "Lambeth": store.register_identifier(
            "Lambeth", "place", attributes={"description": "London borough"},
            rule=IdentifierRule.ALWAYS).new_id("identifier"),
    }
    detect(store, seg, ids)
    for c in store.candidates():
        if store.identifier(c.identifier_id).rule is IdentifierRule.ASK:  # type: ignore[arg-type]
            store.decide(AnonymisationDecision(c.identifier_id, c.segment_id, c.start, c.end,
                                               Decision.ACCEPT))  # type: ignore[arg-type]
    return Scenario(study, iid, seg, coding_ids, ids)


def detect(store: Store, segment_ids: list[int], ids: dict[str, int]) -> None:
    """What detection would propose: every registered term, longest first."""
    found: list[Candidate] = []
    for seg_id in segment_ids:
        text = store.segment(seg_id).text
        taken: list[tuple[int, int]] = []
        for term in sorted(ids, key=len, reverse=True):
            for a, b in spans(text, term):
                if any(a < y and x < b for x, y in taken):
                    continue
                taken.append((a, b))
                ident = store.identifier(ids[term])
                found.append(Candidate(seg_id, a, b, text[a:b], ident.category, "registered",
                                       ids[term]))
    store.replace_candidates(found)


def state(store: Store) -> dict[str, Any]:
    """Everything apply touches, to compare before and after a round trip."""
    return {
        "segments": [s for i in store.interviews() for s in store.segments(i.id)],  # type: ignore[arg-type]
        "codings": store.codings(),
        "memos": store.memos(),
        "journal": store.journal(),
        "interviews": store.interviews(),
        "speakers": [s for i in store.interviews() for s in store.speakers(i.id)],  # type: ignore[arg-type]
        "participants": store.participants(),
        "codes": store.codes(),
        "glossary": store.glossary_entries(),
        "fields": [f for f in store.text_fields() if f.table != "audit_log"],  # grows
        "jobs": store.jobs(),
        "identifiers": store.identifiers(),
        "originals": store.originals(),
        "candidates": store.candidates(),
        "decisions": store.decisions(),
        "runs": store.anonymisation_runs(),
    }


def contains_original(text: str) -> bool:
    return any(name.casefold() in text.casefold() for name in ORIGINALS)


def database_bytes(folder: StudyFolder) -> bytes:
    wal = folder.database.with_name(folder.database.name + "-wal")
    return folder.database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
def scenario(study: Study) -> Scenario:
    return build(study)


# --- the plan --------------------------------------------------------------------------------


def test_plan_counts_what_will_be_replaced(scenario: Scenario) -> None:
    plan = plan_apply(scenario.store)
    summary = plan.summary
    assert summary.replacements == 6
    assert summary.segments == 3 and summary.interviews == 1
    assert dict(summary.by_category) == {"person": 3, "family": 2, "place": 1}
    assert (summary.undecided, summary.unregistered, summary.stale, summary.overlapping) == (
        0, 0, 0, 0)
    assert plan.segment_ids == tuple(scenario.segment_ids[1:])
    assert [p.text for p in plan.for_segment(scenario.segment_ids[1])] == [
        "Sarah Jones", "Tobias", "Lambeth"]  # the possessive stays outside the span
    assert set(plan.identifier_ids) == set(scenario.identifiers.values())


def test_plan_follows_decisions_and_rules(study: Study) -> None:
    store = study.store
    iid = store.add_interview(Interview("One")).new_id("interview")
    text = "Ann met Bob and Cy near Dee at Eve's with Fay"
    (seg,) = store.add_segments([Segment(iid, 0, 0, 1000, text)]).ids("segment")
    ann, bob, cy, dee, eve = (store.register_identifier(n, "person").new_id("identifier")
                              for n in ("Ann", "Bob", "Cy", "Dee", "Eve"))
    store.set_identifier_rule(bob, IdentifierRule.ALWAYS)
    store.set_identifier_rule(cy, IdentifierRule.ALWAYS)
    store.set_identifier_rule(dee, IdentifierRule.NEVER)

    def cand(term: str, ident: int | None) -> Candidate:
        a = text.index(term)
        return Candidate(seg, a, a + len(term), term, "person", "ner", ident)

    store.replace_candidates([cand("Ann", ann), cand("Bob", bob), cand("Cy", cy),
                              cand("Dee", dee), cand("Eve's", eve), cand("near", None)])
    store.decide(AnonymisationDecision(ann, seg, 0, 3, Decision.ACCEPT))
    store.decide(AnonymisationDecision(cy, seg, 16, 18, Decision.REJECT))  # always, but not here
    store.decide(AnonymisationDecision(dee, seg, 24, 27, Decision.ACCEPT))  # never wins
    store.decide(AnonymisationDecision(eve, seg, 31, 36, Decision.ACCEPT))
    store.decide(AnonymisationDecision(ann, seg, 42, 45, Decision.ACCEPT))  # own selection
    plan = plan_apply(store)
    assert [(p.text, p.replacement) for p in plan.replacements()] == [
        ("Ann", "[Name 1]"), ("Bob", "[Name 2]"), ("Eve", "[Name 5]"), ("Fay", "[Name 1]")]
    assert (plan.summary.undecided, plan.summary.unregistered) == (1, 1)  # "near" (no identifier)


def test_plan_reports_stale_and_overlapping_spans(study: Study) -> None:
    store = study.store
    iid = store.add_interview(Interview("One")).new_id("interview")
    (seg,) = store.add_segments([Segment(iid, 0, 0, 1000, "Sarah Jones rang")]).ids("segment")
    sj = store.register_identifier("Sarah Jones", "person").new_id("identifier")
    sa = store.register_identifier("Sarah", "person").new_id("identifier")
    store.replace_candidates([Candidate(seg, 0, 11, "Sarah Jones", "person", "ner", sj),
                              Candidate(seg, 0, 5, "Sarah", "person", "ner", sa)])
    store.decide(AnonymisationDecision(sj, seg, 0, 11, Decision.ACCEPT))
    store.decide(AnonymisationDecision(sa, seg, 0, 5, Decision.ACCEPT))
    assert plan_apply(store).summary.overlapping == 1
    store.edit_segment_text(seg, "Sarah Jane rang")
    summary = plan_apply(store).summary
    assert summary.stale == 1 and summary.replacements == 1


# --- apply -----------------------------------------------------------------------------------


def test_apply_leaves_no_original_anywhere_in_the_study(scenario: Scenario) -> None:
    store, folder = scenario.store, scenario.folder
    assert store.search_text("Sarah")
    assert b"Sarah" in database_bytes(folder)  # it was there before
    result = apply_anonymisation(store, folder)
    assert isinstance(result, ApplyResult)
    assert result.compacted
    assert result.key_file == folder.key_file and folder.key_file.exists()
    assert folder.key_file.parent == folder.root.parent  # beside the study, not inside it
    assert result.replaced >= 7 and result.moved_originals == 4
    for seg in store.segments(scenario.interview_id):
        assert not contains_original(seg.text), seg.text
        assert not any(contains_original(w.text) for w in seg.words)
        assert not any(contains_original(f.note) for f in seg.flags)
    for field in store.text_fields():
        assert not contains_original(field.value), field
    assert store.glossary() == ["safeguarding"]
    assert all(store.search_text(name) == [] for name in ORIGINALS)
    assert store.search_text("[Name 1]")
    assert store.originals() == {} and store.candidates() == [] and store.decisions() == []
    assert store.is_anonymised()
    (run,) = store.anonymisation_runs()
    assert (run.key_id, run.replaced, run.active) == (result.key_id, result.replaced, True)
    assert store.interview(scenario.interview_id).status is InterviewStatus.ANONYMISED
    raw = database_bytes(folder)
    for name in ORIGINALS:
        for form in (name, name.lower(), name.upper()):
            assert form.encode("utf-8") not in raw, form
    assert LeakChecker.for_store(store).check(
        (f.table, f.value) for f in store.text_fields()) == []


def test_apply_rewrites_text_words_and_codings_exactly(scenario: Scenario) -> None:
    store = scenario.store
    apply_anonymisation(store, scenario.folder)
    s1, s2, s3 = (store.segment(i) for i in scenario.segment_ids[1:])
    assert s1.text == ("Well, [Name 1]'s son [Participant's son] rang me from "
                       "[London borough].")
    assert s2.text == ("[Name 2] is what they called me; [Name 1], the social worker, "
                       "helped.")
    assert s3.text == "And [Participant's son]?"
    assert "".join(w.text for w in s1.words).strip() == s1.text
    assert "".join(w.text for w in s2.words).strip() == s2.text
    before = timed_words(TURNS[1][1], 10_000)
    assert s1.words[0] == before[0]  # untouched words keep their timings and confidence
    assert s1.words[1] == Word(" [Name 1]'s", before[1].start_ms, before[2].end_ms, 1.0)
    assert s1.words[2] == before[3]
    assert s1.words[-1].text == " [London borough]."
    assert [f.note for f in s1.flags] == ["Is this [Participant's son]?"]
    c = {k: next(x for x in store.codings() if x.id == v) for k, v in scenario.codings.items()}
    assert store.coded_text(c["name"]) == "[Name 1]"
    assert store.coded_text(c["inside"]) == "[Name 1]'s son [Participant's son]"
    assert store.coded_text(c["across"]).startswith("[Participant's son] rang")
    assert store.coded_text(c["across"]).endswith("[Name 2] is what they called me")
    assert store.coded_text(c["whole"]) == "And [Participant's son]?"
    assert store.coded_text(c["plain"]) == "Tell"
    assert [s.label for s in store.speakers(scenario.interview_id)] == ["Interviewer",
                                                                         "[Name 2]"]
    assert store.interview(scenario.interview_id).title == "[Name 1], [London borough]"
    memos = [m.text for m in store.memos()]
    assert memos == ["Remember [Name 2]'s son [Participant's son]", "[Name 1] again",
                     "About [Name 1]'s family"]
    assert store.journal()[0].text == "Thinking about [Name 1]'s story"
    assert store.participants()[0].notes == "[Name 2] works in [London borough]"
    assert store.media(1).original_name == "[Name 1]_interview.m4a"
    assert json.loads(store.jobs()[0].params) == {
        "options": {"hotwords": ["[Participant's son]", "[London borough]"]}}
    assert store.codes()[1].name == "Support from [London borough]"


def test_audit_log_never_holds_an_original(scenario: Scenario) -> None:
    store = scenario.store
    result = apply_anonymisation(store, scenario.folder)
    log = store.audit_log(100_000)
    assert not any(contains_original(e.detail) for e in log)
    applied = next(e for e in log if e.action == "anonymisation applied")
    detail = json.loads(applied.detail)
    assert detail["key_id"] == result.key_id and detail["replaced"] == result.replaced
    reverse_anonymisation(store, scenario.folder)
    ours = [e for e in store.audit_log(100_000)
            if e.action.startswith(("identifier", "anonymisation", "replacement"))]
    assert len(ours) > 10
    assert not any(contains_original(e.detail) for e in ours)


def test_key_file_holds_registry_and_reverse_data(scenario: Scenario) -> None:
    before = state(scenario.store)
    result = apply_anonymisation(scenario.store, scenario.folder)
    with KeyFile.open(result.key_file) as key:
        assert key.study_name == "Test study" and key.salt == scenario.store.salt()
        assert key.key_ids() == [result.key_id]
        assert sorted((e.original, e.identifier.replacement) for e in key.registry()) == [
            ("Lambeth", "[London borough]"), ("Sarah", "[Name 2]"),
            ("Sarah Jones", "[Name 1]"), ("Tobias", "[Participant's son]")]
        record = key.record(result.key_id)
    assert {s.before.id for s in record.segments} == set(scenario.segment_ids[1:])
    assert [s.before for s in record.segments] == [
        s for s in before["segments"] if s.id in scenario.segment_ids[1:]]
    assert record.candidates == tuple(before["candidates"])
    assert record.decisions == tuple(before["decisions"])


def test_second_interview_leaks_are_flagged_after_apply(scenario: Scenario) -> None:
    store = scenario.store
    apply_anonymisation(store, scenario.folder)
    iid = store.add_interview(Interview("Later")).new_id("interview")
    store.add_segments([Segment(iid, 0, 0, 1000, "I saw sarah jones's car")])
    leaks = LeakChecker.for_store(store).find(store.segments(iid)[0].text)
    assert [(x.text, x.replacement) for x in leaks] == [("sarah jones's", "[Name 1]")]


def test_applied_identifiers_cannot_be_deleted(scenario: Scenario) -> None:
    apply_anonymisation(scenario.store, scenario.folder)
    with pytest.raises(InUseError, match="reverse the anonymisation"):
        scenario.store.delete_identifier(scenario.identifiers["Sarah"])


def test_progress_is_reported(scenario: Scenario) -> None:
    seen: list[tuple[str, float]] = []
    apply_anonymisation(scenario.store, scenario.folder,
                        progress=lambda stage, f: seen.append((stage, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("key file" in stage for stage, _ in seen)


def test_nothing_to_apply_is_refused(study: Study) -> None:
    with pytest.raises(ValidationError, match="nothing to anonymise"):
        apply_anonymisation(study.store, study.folder)
    assert not study.folder.key_file.exists()


# --- failure ---------------------------------------------------------------------------------


def test_failure_inside_the_transaction_changes_nothing_and_leaves_no_key(
        scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    store = scenario.store
    before = state(store)
    log_before = store.audit_log(100_000)

    def boom(self: Store) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(Store, "_rebuild_search_index", boom)
    with pytest.raises(RuntimeError, match="injected"):
        apply_anonymisation(store, scenario.folder)
    assert state(store) == before
    assert store.audit_log(100_000) == log_before
    assert not scenario.folder.key_file.exists()
    assert list(scenario.folder.root.parent.glob("*.partial")) == []
    assert store.search_text("Sarah")


def test_failure_puts_the_previous_key_file_back(scenario: Scenario,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store, folder = scenario.store, scenario.folder
    apply_anonymisation(store, folder)
    reverse_anonymisation(store, folder)
    key_before = folder.key_file.read_bytes()
    before = state(store)
    def boom(self: Store) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(Store, "_rebuild_search_index", boom)
    with pytest.raises(RuntimeError):
        apply_anonymisation(store, folder)
    assert folder.key_file.read_bytes() == key_before
    assert state(store) == before


def test_stale_plan_is_refused_before_the_key_file_is_written(scenario: Scenario) -> None:
    store = scenario.store
    plan = plan_apply(store)
    store.edit_segment_text(scenario.segment_ids[1], "Completely different words now.")
    with pytest.raises(ValidationError, match="changed since"):
        apply_anonymisation(store, scenario.folder, plan=plan)
    assert not scenario.folder.key_file.exists()


def test_key_file_of_another_study_is_not_overwritten(scenario: Scenario, tmp_path: Path) -> None:
    other = tmp_path / "other.verbatim.key"
    with KeyFile.create(other, study_name="Other", salt="different") as key:
        key.save()
    data = other.read_bytes()
    with pytest.raises(StudyError, match="another study"):
        apply_anonymisation(scenario.store, scenario.folder, key_path=other)
    assert other.read_bytes() == data
    assert scenario.store.originals()


# --- reverse ---------------------------------------------------------------------------------


def test_reverse_restores_everything_exactly_when_unedited(scenario: Scenario) -> None:
    store = scenario.store
    before = state(store)
    audit_before = {e.id: e.detail for e in store.audit_log(100_000)}
    apply_anonymisation(store, scenario.folder)
    assert state(store) != before
    result = reverse_anonymisation(store, scenario.folder)
    after = state(store)
    runs = after.pop("runs")
    before.pop("runs")
    assert after == before
    assert len(runs) == 1 and not runs[0].active and not store.is_anonymised()
    assert result.not_found == 0 and result.restored >= 7
    assert {e.id: e.detail for e in store.audit_log(100_000)
            if e.id in audit_before} == audit_before
    assert store.search_text("Sarah Jones")


def test_reverse_after_edits_puts_back_what_it_finds(scenario: Scenario) -> None:
    store = scenario.store
    iid = scenario.interview_id
    _, s1, s2, s3 = scenario.segment_ids
    apply_anonymisation(store, scenario.folder)
    store.edit_segment_text(s1, "Oh well, [Name 1]'s son [Participant's son] rang me from "
                                "[London borough].")
    store.edit_segment_text(s2, "They called me that; [Name 1], the social worker, helped.")
    code = store.codes()[0].id
    assert code is not None
    text = store.segment(s1).text
    at = text.index("[Participant's son]")
    new = store.add_coding(Coding(code, iid, s1, at, s1, at + len("[Participant's son]"))
                           ).new_id("coding")
    s3_text = store.segment(s3).text
    at3 = s3_text.index("[")
    later = store.add_coding(Coding(code, iid, s3, at3, s3, len(s3_text) - 1)).new_id("coding")
    result = reverse_anonymisation(store, scenario.folder)
    assert result.not_found == 1  # "[Name 2]" was deleted from s2 since
    assert store.segment(s1).text == "Oh well, Sarah Jones's son Tobias rang me from Lambeth."
    assert store.segment(s2).text == "They called me that; sarah jones, the social worker, " \
                                     "helped."
    assert store.segment(s3).text == "And Tobias?"
    by_id = {c.id: c for c in store.codings()}
    assert store.coded_text(by_id[new]) == "Tobias"
    assert store.coded_text(by_id[later]) == "Tobias"
    assert store.coded_text(by_id[scenario.codings["name"]]) == "Sarah Jones"
    assert store.coded_text(by_id[scenario.codings["whole"]]) == "And Tobias?"
    assert store.originals()  # registered again
    assert store.candidates(segment_id=s3)  # unedited: its review came back
    assert store.candidates(segment_id=s1) == []  # edited: detection must run again


def test_reverse_needs_the_key_file_and_its_passphrase(scenario: Scenario) -> None:
    store, folder = scenario.store, scenario.folder
    with pytest.raises(ValidationError, match="not anonymised"):
        reverse_anonymisation(store, folder)
    apply_anonymisation(store, folder, passphrase="s3cret phrase")
    assert folder.key_file.read_bytes().startswith(MAGIC)
    assert b"Sarah" not in folder.key_file.read_bytes()
    with pytest.raises(PassphraseRequiredError):
        reverse_anonymisation(store, folder)
    with pytest.raises(WrongPassphraseError, match="does not open this key file"):
        reverse_anonymisation(store, folder, passphrase="nope")
    moved = folder.root.parent / "elsewhere.key"
    folder.key_file.rename(moved)
    with pytest.raises(StudyError, match="no key file"):
        reverse_anonymisation(store, folder, passphrase="s3cret phrase")
    assert store.is_anonymised()
    result = reverse_anonymisation(store, folder, passphrase="s3cret phrase", key_path=moved)
    assert result.not_found == 0 and not store.is_anonymised()


def test_two_applies_share_the_key_file_and_reverse_together(scenario: Scenario) -> None:
    store, folder = scenario.store, scenario.folder
    before = state(store)
    apply_anonymisation(store, folder)
    iid = store.add_interview(Interview("Second")).new_id("interview")
    (seg,) = store.add_segments([Segment(iid, 0, 0, 1000, "Ben told Sarah about it")]
                                ).ids("segment")
    ben = store.register_identifier("Ben", "colleague").new_id("identifier")
    sarah = scenario.identifiers["Sarah"]
    store.replace_candidates([Candidate(seg, 0, 3, "Ben", "colleague", "registered", ben),
                              Candidate(seg, 9, 14, "Sarah", "person", "registered", sarah)])
    store.decide(AnonymisationDecision(ben, seg, 0, 3, Decision.ACCEPT))
    second = apply_anonymisation(store, folder)
    assert store.segment(seg).text == "[Colleague 1] told [Name 2] about it"
    with KeyFile.open(folder.key_file) as key:
        assert len(key.key_ids()) == 2 and key.has_run(second.key_id)
    result = reverse_anonymisation(store, folder)
    assert len(result.key_ids) == 2 and result.not_found == 0
    assert store.segment(seg).text == "Ben told Sarah about it"
    after = state(store)
    assert store.segments(scenario.interview_id) == before["segments"]
    assert after["interviews"][0] == before["interviews"][0]
    assert store.interview(iid).status is InterviewStatus.RECORDED
    assert after["originals"] == {**before["originals"], ben: "Ben"}
    def spots(cs: list[Candidate]) -> set[tuple[int, int, int, str, int | None]]:
        return {(c.segment_id, c.start, c.end, c.text, c.identifier_id) for c in cs}

    assert spots(before["candidates"]) <= spots(after["candidates"])  # ids may differ
    for k in ("codings", "memos", "journal", "speakers", "participants", "codes", "glossary",
              "jobs"):
        assert after[k] == before[k], k
    assert [r.active for r in after["runs"]] == [False, False]


def test_reverse_refuses_a_key_file_missing_the_run(scenario: Scenario, tmp_path: Path) -> None:
    store, folder = scenario.store, scenario.folder
    apply_anonymisation(store, folder)
    with KeyFile.create(tmp_path / "empty.key", study_name="x", salt=store.salt()) as key:
        key.save()
    with pytest.raises(StudyError, match="does not hold the anonymisation"):
        reverse_anonymisation(store, folder, key_path=tmp_path / "empty.key")
    assert store.is_anonymised()


# --- backups ---------------------------------------------------------------------------------


def test_backups_with_originals_are_listed_and_purged(scenario: Scenario) -> None:
    store, folder = scenario.store, scenario.folder
    old = rolling_backup(store, folder, at=dt.datetime.now() - dt.timedelta(minutes=5))
    assert old is not None and b"Sarah" in old.read_bytes()
    migration = folder.backups / "before-schema-3-20240101-120000.sqlite"
    migration.write_bytes(b"SQLite format 3\x00 Sarah")
    result = apply_anonymisation(store, folder)
    assert set(result.backups_with_originals) == {old, migration}
    assert backups_holding_originals(folder) == [migration, old]
    future = folder.backups / (
        f"study-{(result.applied_at + dt.timedelta(hours=2)).strftime('%Y%m%d-%H%M%S')}.sqlite")
    future.write_bytes(b"later")
    removed = purge_backups_before(folder, result.applied_at)
    assert set(removed) == {old, migration}
    assert list(folder.backups.iterdir()) == [future]
    aware = result.applied_at.astimezone(dt.UTC)
    assert purge_backups_before(folder, aware) == []


# --- the pieces ------------------------------------------------------------------------------


def test_words_that_do_not_match_the_text_are_dropped_not_guessed() -> None:
    words = (Word(" Hello", 0, 100), Word(" there", 100, 200))
    swaps = [SpanSwap(6, 11, 6, 14, "Sarah", "[Name 1]")]
    assert rebuild_words("Hello Sarah", "Hello [Name 1]", words, swaps) is None


def test_a_word_holding_two_replacements_collapses_once() -> None:
    from analysis.anonymise.apply import PlannedReplacement as P
    text = "Ann/Bob came"
    planned = [P(1, 0, 3, "Ann", 1, "[Name 1]", "person"),
               P(1, 4, 7, "Bob", 2, "[Name 2]", "person")]
    new, swaps = rewrite_text(text, planned)
    assert new == "[Name 1]/[Name 2] came"
    words = (Word(" Ann/Bob", 0, 500, 0.5), Word(" came", 500, 900, 0.9))
    assert rebuild_words(text, new, words, swaps) == (
        Word(" [Name 1]/[Name 2]", 0, 500, 1.0), Word(" came", 500, 900, 0.9))


def test_suggestions_skip_taken_numbers_and_each_other(tmp_path: Path) -> None:
    with create_study(tmp_path / "Scheme") as study:
        store = study.store
        store.register_identifier("Sarah", "person")  # [Name 1]
        assert [store.suggest_replacement("person", skip=k) for k in range(3)] == [
            "[Name 2]", "[Name 3]", "[Name 4]"]
