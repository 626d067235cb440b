"""Codes, codings, themes, memos, the journal, anonymisation records and jobs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from study.errors import NotFoundError, StudyError, ValidationError
from study.folder import Study, open_study
from study.model import (
    AnalysisPhase,
    AnonymisationDecision,
    Changes,
    Code,
    Coding,
    Decision,
    Identifier,
    Interview,
    Job,
    JobState,
    JournalEntry,
    Memo,
    MemoTarget,
    Segment,
    Theme,
    ThemeStatus,
)
from study.store import Store


@pytest.fixture
def store(study: Study) -> Store:
    return study.store


def add_code(store: Store, name: str, parent: int | None = None, **kw: object) -> int:
    return store.add_code(Code(name, parent, **kw)).new_id("code")  # type: ignore[arg-type]


def transcript(store: Store, *texts: str, title: str = "Interview") -> tuple[int, list[int]]:
    iid = store.add_interview(Interview(title)).new_id("interview")
    changes = store.add_segments(
        Segment(iid, n, n * 1000, n * 1000 + 900, t) for n, t in enumerate(texts))
    return iid, list(changes.ids("segment"))


def recording(store: Store) -> list[Changes]:
    heard: list[Changes] = []
    store.subscribe(heard.append)
    return heard


# --- codes ------------------------------------------------------------------------------------


def test_code_hierarchy_round_trips(store: Store) -> None:
    care = add_code(store, "Care", definition="Anything about care", colour="#E15759")
    time = add_code(store, "Time pressure", care, position=1)
    staff = add_code(store, "Staffing", care, position=2)
    short = add_code(store, "Short shifts", staff)
    assert store.code(care) == Code("Care", None, "Anything about care", "#e15759", 0, care)
    assert store.code(time).parent_id == care
    assert store.code(short).parent_id == staff
    assert sorted(store.code_subtree(care)) == sorted([care, time, staff, short])
    assert sorted(store.code_subtree(staff)) == sorted([staff, short])
    assert store.code_subtree(short) == [short]
    assert {c.id for c in store.codes()} == {care, time, staff, short}


def test_codes_ordered_by_position_then_name(store: Store) -> None:
    add_code(store, "b", position=1)
    add_code(store, "C", position=0)
    add_code(store, "a", position=1)
    assert [c.name for c in store.codes()] == ["C", "a", "b"]


def test_add_code_changes_and_audit(store: Store) -> None:
    heard = recording(store)
    changes = store.add_code(Code("  Trust  "))
    id_ = changes.new_id("code")
    assert heard == [changes]
    assert store.code(id_).name == "Trust"
    entry = store.audit_log()[0]
    assert (entry.action, json.loads(entry.detail)) == ("code added", {"id": id_, "name": "Trust"})


@pytest.mark.parametrize("colour", ["red", "#fff", "#12345g", "4e79a7", "#4e79a7 ", "#4e79a7aa"])
def test_invalid_colour_refused(store: Store, colour: str) -> None:
    with pytest.raises(ValidationError, match="is not a colour like #4e79a7"):
        store.add_code(Code("X", colour=colour))
    assert store.codes() == []


def test_colour_stored_lower_case(store: Store) -> None:
    id_ = add_code(store, "X", colour="#ABCDEF")
    assert store.code(id_).colour == "#abcdef"


def test_code_needs_a_name(store: Store) -> None:
    with pytest.raises(ValidationError, match="needs a name"):
        store.add_code(Code("  "))


def test_duplicate_name_refused_at_the_same_level_only(store: Store) -> None:
    care = add_code(store, "Care")
    with pytest.raises(ValidationError, match="already a code 'care' at that level"):
        store.add_code(Code("care"))
    add_code(store, "Other", care)
    with pytest.raises(ValidationError, match="already a code"):
        store.add_code(Code(" OTHER ", care))
    # the same name at another level is fine
    inner = add_code(store, "Care", care)
    top_other = add_code(store, "Other")
    assert store.code(inner).parent_id == care
    assert store.code(top_other).parent_id is None
    assert len(store.codes()) == 4


def test_rename_to_sibling_name_refused_but_keeping_own_name_allowed(store: Store) -> None:
    a = add_code(store, "A")
    add_code(store, "B")
    store.update_code(Code("a", definition="now defined", id=a))
    assert store.code(a) == Code("a", None, "now defined", "#4e79a7", 0, a)
    with pytest.raises(ValidationError, match="already a code"):
        store.update_code(Code("b", id=a))
    assert store.code(a).name == "a"


def test_move_code_to_another_parent(store: Store) -> None:
    a, b = add_code(store, "A"), add_code(store, "B")
    child = add_code(store, "child", a)
    changes = store.update_code(Code("child", b, id=child))
    assert changes.ids("code", "updated") == (child,)
    assert store.code(child).parent_id == b
    assert store.code_subtree(a) == [a]


def test_code_cannot_move_inside_itself_or_its_descendants(store: Store) -> None:
    top = add_code(store, "Top")
    mid = add_code(store, "Mid", top)
    leaf = add_code(store, "Leaf", mid)
    for new_parent in (top, mid, leaf):
        with pytest.raises(ValidationError, match="cannot be placed inside itself"):
            store.update_code(Code("Top", new_parent, id=top))
    with pytest.raises(ValidationError, match="inside itself"):
        store.update_code(Code("Mid", leaf, id=mid))
    assert store.code(top).parent_id is None
    assert store.code(mid).parent_id == top


def test_update_unsaved_or_missing_code(store: Store) -> None:
    with pytest.raises(ValidationError, match="Only a saved code"):
        store.update_code(Code("X"))
    with pytest.raises(NotFoundError):
        store.update_code(Code("X", id=77))
    with pytest.raises(NotFoundError, match="code"):
        store.code(77)


def test_delete_code_removes_subtree_and_codings(store: Store) -> None:
    iid, (s1, s2) = transcript(store, "We never have enough time.", "Nobody listens.")
    care = add_code(store, "Care")
    time = add_code(store, "Time", care)
    rushed = add_code(store, "Rushed", time)
    other = add_code(store, "Other")
    c_care = store.add_coding(Coding(care, iid, s1, 0, s1, 7)).new_id("coding")
    c_time = store.add_coding(Coding(time, iid, s1, 8, s2, 6)).new_id("coding")
    c_rushed = store.add_coding(Coding(rushed, iid, s1, 13, s1, 25)).new_id("coding")
    c_other = store.add_coding(Coding(other, iid, s2, 0, s2, 6)).new_id("coding")
    assert store.coding_counts() == {care: 1, time: 1, rushed: 1, other: 1}

    heard = recording(store)
    changes = store.delete_code(care)
    assert heard == [changes]
    assert sorted(changes.ids("code", "removed")) == sorted([care, time, rushed])
    assert sorted(changes.ids("coding", "removed")) == sorted([c_care, c_time, c_rushed])
    assert [c.id for c in store.codes()] == [other]
    assert [c.id for c in store.codings()] == [c_other]
    assert store.coding_counts() == {other: 1}
    entry = store.audit_log()[0]
    assert entry.action == "code deleted"
    assert json.loads(entry.detail) == {"id": care, "name": "Care"}


def test_delete_missing_code(store: Store) -> None:
    heard = recording(store)
    with pytest.raises(NotFoundError):
        store.delete_code(5)
    assert heard == []


def test_restore_deleted_code_with_its_id(store: Store) -> None:
    id_ = add_code(store, "Keep", colour="#112233")
    saved = store.code(id_)
    store.delete_code(id_)
    assert store.add_code(saved).new_id("code") == id_
    assert store.code(id_) == saved


# --- codings ----------------------------------------------------------------------------------


def test_coding_within_one_segment(store: Store) -> None:
    iid, (s1,) = transcript(store, "I felt completely alone.")
    code = add_code(store, "Isolation")
    heard = recording(store)
    changes = store.add_coding(Coding(code, iid, s1, 7, s1, 23))
    cid = changes.new_id("coding")
    assert heard == [changes]
    (got,) = store.codings(interview_id=iid)
    assert got == Coding(code, iid, s1, 7, s1, 23, cid)
    assert store.coded_text(got) == "completely alone"


def test_coding_spanning_segments(store: Store) -> None:
    iid, (s1, s2, s3, s4) = transcript(store, "First part.", "Middle bit.", "Last one.", "Out.")
    code = add_code(store, "Span")
    cid = store.add_coding(Coding(code, iid, s1, 6, s3, 4)).new_id("coding")
    (c,) = store.codings(code_id=code)
    assert c.id == cid
    assert store.coded_text(c) == "part. Middle bit. Last"
    whole = Coding(code, iid, s2, 0, s3, len("Last one."))
    assert store.coded_text(whole) == "Middle bit. Last one."
    # a span ending at offset 0 of a segment takes nothing from it
    assert store.coded_text(Coding(code, iid, s1, 0, s2, 0)) == "First part."
    assert s4 not in (c.start_segment_id, c.end_segment_id)


def test_coded_text_follows_position_not_id(store: Store) -> None:
    iid = store.add_interview(Interview("x")).new_id("interview")
    late, early = store.add_segments([
        Segment(iid, 2, 2000, 2500, "third"),
        Segment(iid, 0, 0, 500, "first"),
    ]).ids("segment")
    (middle,) = store.add_segments([Segment(iid, 1, 1000, 1500, "second")]).ids("segment")
    code = add_code(store, "X")
    coding = Coding(code, iid, early, 0, late, 5)
    store.add_coding(coding)
    assert store.coded_text(coding) == "first second third"
    assert middle not in (early, late)


def test_codings_filter_by_interview_and_code(store: Store) -> None:
    i1, (a,) = transcript(store, "aaaa", title="one")
    i2, (b,) = transcript(store, "bbbb", title="two")
    x, y = add_code(store, "X"), add_code(store, "Y")
    c1 = store.add_coding(Coding(x, i1, a, 0, a, 2)).new_id("coding")
    c2 = store.add_coding(Coding(y, i1, a, 1, a, 3)).new_id("coding")
    c3 = store.add_coding(Coding(x, i2, b, 0, b, 4)).new_id("coding")
    assert [c.id for c in store.codings()] == [c1, c2, c3]
    assert [c.id for c in store.codings(interview_id=i1)] == [c1, c2]
    assert [c.id for c in store.codings(code_id=x)] == [c1, c3]
    assert [c.id for c in store.codings(interview_id=i2, code_id=y)] == []


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ((0, 3), (0, 3), "must cover some text"),
        ((0, 4), (0, 2), "must cover some text"),
        ((1, 0), (0, 2), "must cover some text"),
        ((0, 0), (0, 6), "outside its segment"),  # "hello" has 5 characters
        ((0, 6), (1, 1), "outside its segment"),
        ((0, 0), (1, 99), "outside its segment"),
        ((0, -1), (0, 2), "outside its segment"),
    ],
)
def test_invalid_codings_refused(store: Store, start: tuple[int, int], end: tuple[int, int],
                                 message: str) -> None:
    iid, segs = transcript(store, "hello", "world")
    code = add_code(store, "X")
    heard = recording(store)
    with pytest.raises(ValidationError, match=message):
        store.add_coding(Coding(code, iid, segs[start[0]], start[1], segs[end[0]], end[1]))
    assert store.codings() == []
    assert heard == []


def test_offsets_count_characters_not_bytes(store: Store) -> None:
    iid, (s,) = transcript(store, "café ☕ naïve")
    code = add_code(store, "X")
    store.add_coding(Coding(code, iid, s, 0, s, len("café ☕ naïve")))
    with pytest.raises(ValidationError, match="outside"):
        store.add_coding(Coding(code, iid, s, 0, s, len("café ☕ naïve") + 1))
    (c,) = store.codings()
    assert store.coded_text(c) == "café ☕ naïve"


def test_coding_across_interviews_refused(store: Store) -> None:
    i1, (a,) = transcript(store, "one one", title="one")
    _, (b,) = transcript(store, "two two", title="two")
    code = add_code(store, "X")
    with pytest.raises(ValidationError, match="cannot span two interviews"):
        store.add_coding(Coding(code, i1, a, 0, b, 3))
    with pytest.raises(ValidationError, match="cannot span two interviews"):
        store.add_coding(Coding(code, i1, b, 0, b, 3))
    assert store.codings() == []


def test_coding_on_missing_segment_or_code_refused(store: Store) -> None:
    iid, (a,) = transcript(store, "text")
    code = add_code(store, "X")
    with pytest.raises(NotFoundError, match="segment"):
        store.add_coding(Coding(code, iid, a, 0, a + 50, 1))
    with pytest.raises(StudyError):
        store.add_coding(Coding(code + 50, iid, a, 0, a, 2))
    assert store.codings() == []


def test_update_and_delete_coding(store: Store) -> None:
    iid, (a, b) = transcript(store, "first seg", "second seg")
    x, y = add_code(store, "X"), add_code(store, "Y")
    cid = store.add_coding(Coding(x, iid, a, 0, a, 5)).new_id("coding")
    changes = store.update_coding(Coding(y, iid, a, 6, b, 6, cid))
    assert changes.ids("coding", "updated") == (cid,)
    assert store.codings() == [Coding(y, iid, a, 6, b, 6, cid)]
    with pytest.raises(ValidationError, match="must cover some text"):
        store.update_coding(Coding(y, iid, b, 3, a, 1, cid))
    assert store.codings() == [Coding(y, iid, a, 6, b, 6, cid)]
    with pytest.raises(ValidationError, match="Only a saved coding"):
        store.update_coding(Coding(y, iid, a, 0, a, 1))
    removed = store.delete_coding(cid)
    assert removed.ids("coding", "removed") == (cid,)
    assert store.codings() == []
    with pytest.raises(NotFoundError):
        store.delete_coding(cid)


def test_moving_a_coding_to_another_interview_keeps_it_consistent(store: Store) -> None:
    i1, (a,) = transcript(store, "first", title="one")
    i2, (b,) = transcript(store, "second", title="two")
    x = add_code(store, "X")
    cid = store.add_coding(Coding(x, i1, a, 0, a, 5)).new_id("coding")
    store.update_coding(Coding(x, i2, b, 0, b, 6, cid))
    (c,) = store.codings()
    assert (c.interview_id, c.start_segment_id, c.end_segment_id) == (i2, b, b)
    assert [x.id for x in store.codings(interview_id=i2)] == [cid]


# --- themes -----------------------------------------------------------------------------------


def test_theme_with_member_codes_round_trips(store: Store) -> None:
    a, b, c = add_code(store, "A"), add_code(store, "B"), add_code(store, "C")
    t = Theme(" Coping ", "How staff cope", ThemeStatus.REVIEWED, (c, a, c), 2, 0.5, -1.25)
    changes = store.add_theme(t)
    tid = changes.new_id("theme")
    assert store.theme(tid) == Theme("Coping", "How staff cope", ThemeStatus.REVIEWED,
                                     tuple(sorted((a, c))), 2, 0.5, -1.25, tid)
    assert store.themes() == [store.theme(tid)]
    assert b not in store.theme(tid).code_ids
    assert store.audit_log()[0].action == "theme added"


def test_update_theme_replaces_members(store: Store) -> None:
    a, b = add_code(store, "A"), add_code(store, "B")
    tid = store.add_theme(Theme("T", code_ids=(a,))).new_id("theme")
    changes = store.update_theme(Theme("T2", status=ThemeStatus.FINAL, code_ids=(b,), id=tid))
    assert changes.ids("theme", "updated") == (tid,)
    got = store.theme(tid)
    assert (got.name, got.status, got.code_ids) == ("T2", ThemeStatus.FINAL, (b,))


def test_theme_validation(store: Store) -> None:
    with pytest.raises(ValidationError, match="needs a name"):
        store.add_theme(Theme(" "))
    with pytest.raises(StudyError):
        store.add_theme(Theme("T", code_ids=(404,)))
    assert store.themes() == []
    with pytest.raises(ValidationError, match="Only a saved theme"):
        store.update_theme(Theme("T"))
    with pytest.raises(NotFoundError, match="theme"):
        store.theme(1)


def test_deleting_a_code_removes_it_from_themes(store: Store) -> None:
    parent = add_code(store, "P")
    child = add_code(store, "Child", parent)
    other = add_code(store, "Other")
    tid = store.add_theme(Theme("T", code_ids=(parent, child, other))).new_id("theme")
    store.delete_code(parent)
    assert store.theme(tid).code_ids == (other,)


def test_delete_theme_keeps_codes(store: Store) -> None:
    a = add_code(store, "A")
    tid = store.add_theme(Theme("T", code_ids=(a,))).new_id("theme")
    changes = store.delete_theme(tid)
    assert changes.ids("theme", "removed") == (tid,)
    assert store.themes() == []
    assert [c.id for c in store.codes()] == [a]
    assert store.scalar("SELECT count(*) FROM theme_codes") == 0
    assert store.audit_log()[0].action == "theme deleted"


def test_themes_ordered_by_position_then_name(store: Store) -> None:
    store.add_theme(Theme("b", position=1))
    store.add_theme(Theme("a", position=1))
    store.add_theme(Theme("z", position=0))
    assert [t.name for t in store.themes()] == ["z", "a", "b"]


# --- memos ------------------------------------------------------------------------------------


def test_memos_on_every_target_kind(store: Store) -> None:
    iid, (s,) = transcript(store, "Some words here")
    code = add_code(store, "X")
    cid = store.add_coding(Coding(code, iid, s, 0, s, 4)).new_id("coding")
    tid = store.add_theme(Theme("T")).new_id("theme")
    targets = {
        MemoTarget.STUDY: None,
        MemoTarget.INTERVIEW: iid,
        MemoTarget.SEGMENT: s,
        MemoTarget.CODING: cid,
        MemoTarget.CODE: code,
        MemoTarget.THEME: tid,
    }
    assert set(targets) == set(MemoTarget)
    ids = {}
    for target, target_id in targets.items():
        changes = store.add_memo(Memo(target, f"about {target.value}", target_id))
        ids[target] = changes.new_id("memo")
    for target, target_id in targets.items():
        (m,) = store.memos(target, target_id)
        assert (m.target, m.target_id, m.text, m.id) == (
            target, target_id, f"about {target.value}", ids[target])
        assert m.created_at is not None
        assert m.created_at == m.updated_at
    assert len(store.memos()) == len(MemoTarget)
    assert store.memos(MemoTarget.INTERVIEW, iid + 1) == []


def test_memo_on_a_segment_span(store: Store) -> None:
    _, (s,) = transcript(store, "Some words here")
    store.add_memo(Memo(MemoTarget.SEGMENT, "this bit", s, 5, 10))
    (m,) = store.memos(MemoTarget.SEGMENT, s)
    assert (m.start_offset, m.end_offset) == (5, 10)


def test_study_memo_must_have_no_target_and_others_need_one(store: Store) -> None:
    with pytest.raises(ValidationError, match="A study memo has no target"):
        store.add_memo(Memo(MemoTarget.STUDY, "x", target_id=1))
    for target in set(MemoTarget) - {MemoTarget.STUDY}:
        with pytest.raises(ValidationError, match="every other memo needs one"):
            store.add_memo(Memo(target, "x"))
    assert store.memos() == []


def test_update_and_delete_memo(store: Store) -> None:
    mid = store.add_memo(Memo(MemoTarget.STUDY, "draft")).new_id("memo")
    before = store.memos(MemoTarget.STUDY)[0]
    changes = store.update_memo(Memo(MemoTarget.STUDY, "final", id=mid))
    assert changes.ids("memo", "updated") == (mid,)
    (after,) = store.memos(MemoTarget.STUDY)
    assert after.text == "final"
    assert after.created_at == before.created_at
    assert after.updated_at is not None and before.updated_at is not None
    assert after.updated_at >= before.updated_at
    assert store.delete_memo(mid).ids("memo", "removed") == (mid,)
    assert store.memos() == []
    with pytest.raises(NotFoundError):
        store.delete_memo(mid)
    with pytest.raises(ValidationError, match="Only a saved memo"):
        store.update_memo(Memo(MemoTarget.STUDY, "x"))


# --- journal ----------------------------------------------------------------------------------


def test_journal_entries_with_phases(store: Store) -> None:
    early = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    later = dt.datetime(2026, 2, 1, 17, 30, tzinfo=dt.UTC)
    b = store.add_journal_entry(JournalEntry("Themes emerging", AnalysisPhase.SEARCHING_FOR_THEMES,
                                             later)).new_id("journal")
    a = store.add_journal_entry(JournalEntry("First read", created_at=early)).new_id("journal")
    entries = store.journal()
    assert entries == [
        JournalEntry("First read", AnalysisPhase.FAMILIARISATION, early, a),
        JournalEntry("Themes emerging", AnalysisPhase.SEARCHING_FOR_THEMES, later, b),
    ]
    for phase in AnalysisPhase:
        store.add_journal_entry(JournalEntry(phase.value, phase))
    assert {e.phase for e in store.journal()} == set(AnalysisPhase)
    fresh = store.journal()[-1]
    assert fresh.created_at is not None and fresh.created_at.tzinfo is not None


def test_update_and_delete_journal_entry(store: Store) -> None:
    jid = store.add_journal_entry(JournalEntry("draft")).new_id("journal")
    changes = store.update_journal_entry(
        JournalEntry("revised", AnalysisPhase.WRITING_UP, id=jid))
    assert changes.ids("journal", "updated") == (jid,)
    (e,) = store.journal()
    assert (e.text, e.phase) == ("revised", AnalysisPhase.WRITING_UP)
    assert store.delete_journal_entry(jid).ids("journal", "removed") == (jid,)
    assert store.journal() == []
    with pytest.raises(ValidationError, match="Only a saved journal entry"):
        store.update_journal_entry(JournalEntry("x"))
    with pytest.raises(NotFoundError):
        store.delete_journal_entry(jid)


# --- identifiers and anonymisation decisions ------------------------------------------------------


def test_identifiers_round_trip(store: Store) -> None:
    changes = store.add_identifier(Identifier("person", "[Colleague A]", "h1",
                                              (("role", "nurse"), ("gender", "f"))))
    id_ = changes.new_id("identifier")
    expected = Identifier("person", "[Colleague A]", "h1", (("gender", "f"), ("role", "nurse")),
                          id_)
    assert store.identifiers() == [expected]
    assert store.identifier_by_hash("h1") == expected
    assert store.identifier_by_hash("nope") is None
    entry = store.audit_log()[0]
    assert entry.action == "identifier registered"
    assert json.loads(entry.detail) == {"id": id_, "category": "person",
                                        "replacement": "[Colleague A]"}
    store.update_identifier(Identifier("place", "[Town B]", "ignored", (), id_))
    assert store.identifiers() == [Identifier("place", "[Town B]", "h1", (), id_)]
    assert store.audit_log()[0].action == "identifier edited"


def test_identifier_hash_is_unique(store: Store) -> None:
    store.add_identifier(Identifier("person", "[A]", "same"))
    with pytest.raises(StudyError):
        store.add_identifier(Identifier("person", "[B]", "same"))
    assert len(store.identifiers()) == 1


def test_decide_records_and_replaces_on_the_same_span(store: Store) -> None:
    _, (s, s2) = transcript(store, "Dr Jones said so", "Jones again")
    ident = store.add_identifier(Identifier("person", "[Doctor]", "hj")).new_id("identifier")
    first = store.decide(AnonymisationDecision(ident, s, 3, 8, Decision.ACCEPT))
    first_id = first.new_id("decision")
    other = store.decide(AnonymisationDecision(ident, s2, 0, 5, Decision.ACCEPT))
    second = store.decide(AnonymisationDecision(ident, s, 3, 8, Decision.REJECT))
    second_id = second.new_id("decision")
    assert second_id != first_id
    decisions = store.decisions(ident)
    assert [(d.segment_id, d.start_offset, d.end_offset, d.decision) for d in decisions] == [
        (s2, 0, 5, Decision.ACCEPT), (s, 3, 8, Decision.REJECT)]
    assert [d.id for d in decisions] == [other.new_id("decision"), second_id]
    assert all(d.decided_at is not None for d in decisions)
    assert store.decisions() == decisions
    audits = [e for e in store.audit_log() if e.action == "anonymisation decision"]
    assert len(audits) == 3
    assert json.loads(audits[0].detail) == {"identifier": ident, "segment": s, "start": 3,
                                            "end": 8, "decision": "reject"}


def test_decisions_per_identifier_and_cascade(store: Store) -> None:
    _, (s,) = transcript(store, "Anna met Ben")
    anna = store.add_identifier(Identifier("person", "[A]", "ha")).new_id("identifier")
    ben = store.add_identifier(Identifier("person", "[B]", "hb")).new_id("identifier")
    store.decide(AnonymisationDecision(anna, s, 0, 4, Decision.ACCEPT))
    store.decide(AnonymisationDecision(ben, s, 9, 12, Decision.ACCEPT))
    assert [d.identifier_id for d in store.decisions(anna)] == [anna]
    assert len(store.decisions()) == 2
    store.delete_segments([s])
    assert store.decisions() == []


def test_decision_for_missing_identifier_refused(store: Store) -> None:
    _, (s,) = transcript(store, "x y z")
    with pytest.raises(StudyError):
        store.decide(AnonymisationDecision(404, s, 0, 1, Decision.ACCEPT))
    assert store.decisions() == []


# --- jobs -------------------------------------------------------------------------------------


def test_jobs_round_trip_and_filter_by_state(store: Store) -> None:
    iid, _ = transcript(store, "x")
    a = store.add_job(Job("transcribe", iid, JobState.RUNNING, '{"model": "small"}', 0,
                          60_000)).new_id("job")
    b = store.add_job(Job("export")).new_id("job")
    assert store.job(a) == Job("transcribe", iid, JobState.RUNNING, '{"model": "small"}', 0,
                               60_000, "", a)
    assert [j.id for j in store.jobs()] == [a, b]
    assert [j.id for j in store.jobs(JobState.QUEUED)] == [b]
    assert [j.id for j in store.jobs(JobState.RUNNING, JobState.QUEUED)] == [a, b]
    assert store.jobs(JobState.DONE) == []


def test_update_job_records_progress(store: Store) -> None:
    jid = store.add_job(Job("transcribe", state=JobState.RUNNING, total_ms=90_000)).new_id("job")
    changes = store.update_job(Job("transcribe", None, JobState.FAILED, "{}", 30_000, 90_000,
                                   "out of memory", jid))
    assert changes.ids("job", "updated") == (jid,)
    got = store.job(jid)
    assert (got.state, got.done_ms, got.error) == (JobState.FAILED, 30_000, "out of memory")
    with pytest.raises(ValidationError, match="Only a saved job"):
        store.update_job(Job("x"))
    with pytest.raises(NotFoundError, match="job"):
        store.job(jid + 1)


def test_mark_interrupted_jobs_only_touches_running_ones(store: Store) -> None:
    ids = {state: store.add_job(Job("transcribe", state=state, done_ms=1234)).new_id("job")
           for state in JobState}
    heard = recording(store)
    changes = store.mark_interrupted_jobs()
    assert changes.ids("job", "updated") == (ids[JobState.RUNNING],)
    assert heard == [changes]
    for state, id_ in ids.items():
        expected = JobState.INTERRUPTED if state is JobState.RUNNING else state
        assert store.job(id_).state is expected
        assert store.job(id_).done_ms == 1234
    again = store.mark_interrupted_jobs()
    assert not again
    assert heard == [changes]  # an empty write notifies nobody


def test_open_study_marks_jobs_left_running_as_interrupted(study: Study) -> None:
    jid = study.store.add_job(Job("transcribe", state=JobState.RUNNING)).new_id("job")
    root = study.folder.root
    study.close()
    with open_study(root) as again:
        assert again.store.job(jid).state is JobState.INTERRUPTED


def test_jobs_are_deleted_with_their_interview(store: Store) -> None:
    iid, _ = transcript(store, "x")
    store.add_job(Job("transcribe", iid))
    keep = store.add_job(Job("export")).new_id("job")
    store.delete_interview(iid)
    assert [j.id for j in store.jobs()] == [keep]


def test_memos_go_with_the_object_they_are_on(study: Study) -> None:
    store = study.store
    iid = store.add_interview(Interview("One")).new_id("interview")
    cid = store.add_code(Code("Trust")).new_id("code")
    tid = store.add_theme(Theme("Relationships", code_ids=(cid,))).new_id("theme")
    for target, target_id in ((MemoTarget.INTERVIEW, iid), (MemoTarget.CODE, cid),
                              (MemoTarget.THEME, tid), (MemoTarget.STUDY, None)):
        store.add_memo(Memo(target, f"about {target.value}", target_id))
    changes = store.delete_code(cid)
    assert ("theme", tid) in changes.updated
    store.delete_theme(tid)
    store.delete_interview(iid)
    assert [m.target for m in store.memos()] == [MemoTarget.STUDY]


# --- moving codes -----------------------------------------------------------------------------


def names_under(store: Store, parent: int | None) -> list[tuple[str, int]]:
    return [(c.name, c.position) for c in store.codes() if c.parent_id == parent]


def test_move_code_within_its_level_renumbers_siblings(store: Store) -> None:
    a, b, c, d = (add_code(store, n, position=i) for i, n in enumerate("ABCD"))
    heard = recording(store)
    changes = store.move_code(d, None, 1)
    assert heard == [changes]
    assert names_under(store, None) == [("A", 0), ("D", 1), ("B", 2), ("C", 3)]
    assert sorted(changes.ids("code", "updated")) == sorted([d, b, c])
    assert a not in changes.ids("code", "updated")
    assert not store.move_code(d, None, 1)  # already there: nothing changes


def test_move_code_to_another_parent_at_an_index(store: Store) -> None:
    a, b, c = (add_code(store, n, position=i) for i, n in enumerate("ABC"))
    x, y = add_code(store, "x", a, position=0), add_code(store, "y", a, position=1)
    changes = store.move_code(b, a, 1)
    assert store.code(b).parent_id == a
    assert names_under(store, a) == [("x", 0), ("B", 1), ("y", 2)]
    assert names_under(store, None) == [("A", 0), ("C", 1)]  # the old level closes up
    assert sorted(changes.ids("code", "updated")) == sorted([b, y, c])
    assert x not in changes.ids("code", "updated")
    store.move_code(b, None, 0)
    assert names_under(store, None) == [("B", 0), ("A", 1), ("C", 2)]
    assert names_under(store, a) == [("x", 0), ("y", 1)]


def test_move_code_clamps_the_index(store: Store) -> None:
    a, b, c = (add_code(store, n, position=i) for i, n in enumerate("ABC"))
    store.move_code(a, None, 99)
    assert names_under(store, None) == [("B", 0), ("C", 1), ("A", 2)]
    store.move_code(a, None, -3)
    assert names_under(store, None) == [("A", 0), ("B", 1), ("C", 2)]
    assert {b, c} <= {x.id for x in store.codes()}


def test_moving_back_undoes_a_move(store: Store) -> None:
    top = [add_code(store, n, position=i) for i, n in enumerate("ABCD")]
    kids = [add_code(store, n, top[0], position=i) for i, n in enumerate("xyz")]
    original = store.codes()
    code = store.code(top[2])
    before = (code.parent_id, [c.id for c in store.codes() if c.parent_id is None].index(code.id))
    store.move_code(top[2], kids[1], 0)
    store.move_code(top[2], *before)
    assert store.codes() == original


def test_move_code_refusals(store: Store) -> None:
    top = add_code(store, "Top")
    mid = add_code(store, "Mid", top)
    leaf = add_code(store, "Leaf", mid)
    add_code(store, "Leaf", top, position=1)
    original = store.codes()
    heard = recording(store)
    for into in (top, mid, leaf):
        with pytest.raises(ValidationError, match="cannot be placed inside itself or its own"):
            store.move_code(top, into, 0)
    with pytest.raises(ValidationError, match="already a code 'Leaf' at that level"):
        store.move_code(leaf, top, 0)
    with pytest.raises(NotFoundError, match="code"):
        store.move_code(leaf, 999, 0)
    with pytest.raises(NotFoundError, match="code"):
        store.move_code(999, None, 0)
    assert store.codes() == original
    assert heard == []


# --- snapshots, deleting and merging codes -------------------------------------------------------


def codebook_state(store: Store) -> tuple[object, ...]:
    return (store.codes(), store.codings(), store.themes(), store.memos(),
            store.code_map_positions())


def rich_codebook(store: Store) -> dict[str, int]:
    """A codebook with codings (one across segments), themes, memos and map places."""
    iid, (s1, s2, s3) = transcript(store, "We never have enough time.", "Nobody listens.",
                                   "The team is great.")
    ids = {"care": add_code(store, "Care", definition="About care", colour="#e15759")}
    ids["time"] = add_code(store, "Time", ids["care"])
    ids["rushed"] = add_code(store, "Rushed", ids["time"], position=1)
    ids["staff"] = add_code(store, "Staffing", ids["care"], position=1)
    ids["other"] = add_code(store, "Other", position=1)
    for name, code, span in (("c_care", "care", (s1, 0, s1, 7)), ("c_time", "time", (s1, 8, s2, 6)),
                             ("c_rushed", "rushed", (s1, 13, s1, 25)),
                             ("c_staff", "staff", (s3, 4, s3, 8)),
                             ("c_other", "other", (s2, 0, s2, 6))):
        ids[name] = store.add_coding(Coding(ids[code], iid, *span)).new_id("coding")
    ids["t1"] = store.add_theme(Theme("Pressure", code_ids=(ids["care"], ids["time"],
                                                            ids["other"]))).new_id("theme")
    ids["t2"] = store.add_theme(Theme("Speed", code_ids=(ids["rushed"],))).new_id("theme")
    for name, target, target_id in (("m_care", MemoTarget.CODE, ids["care"]),
                                    ("m_rushed", MemoTarget.CODE, ids["rushed"]),
                                    ("m_coding", MemoTarget.CODING, ids["c_time"]),
                                    ("m_other", MemoTarget.CODE, ids["other"]),
                                    ("m_study", MemoTarget.STUDY, None)):
        ids[name] = store.add_memo(Memo(target, f"memo {name}", target_id)).new_id("memo")
    store.set_map_positions(codes={ids["care"]: (1.5, -2.0), ids["rushed"]: (0.25, 3.0)})
    ids["interview"] = iid
    return ids


def test_code_snapshot_holds_the_subtree_and_what_hangs_on_it(store: Store) -> None:
    ids = rich_codebook(store)
    snap = store.code_snapshot(ids["care"])
    assert [c.id for c in snap.codes] == [ids["care"], ids["time"], ids["staff"], ids["rushed"]]
    assert snap.codes[0] == store.code(ids["care"])
    assert [c.id for c in snap.codings] == [ids["c_care"], ids["c_time"], ids["c_rushed"],
                                            ids["c_staff"]]
    assert snap.theme_links == ((ids["t1"], ids["care"]), (ids["t1"], ids["time"]),
                                (ids["t2"], ids["rushed"]))
    assert [m.id for m in snap.memos] == [ids["m_care"], ids["m_rushed"], ids["m_coding"]]
    assert snap.map_positions == ((ids["care"], 1.5, -2.0), (ids["rushed"], 0.25, 3.0))
    leaf = store.code_snapshot(ids["rushed"])
    assert [c.id for c in leaf.codes] == [ids["rushed"]]
    with pytest.raises(NotFoundError):
        store.code_snapshot(999)


def test_restore_snapshot_undoes_delete_exactly(store: Store) -> None:
    ids = rich_codebook(store)
    original = codebook_state(store)
    snap = store.code_snapshot(ids["care"])
    store.delete_code(ids["care"])
    assert [m.id for m in store.memos()] == [ids["m_other"], ids["m_study"]]
    heard = recording(store)
    changes = store.restore_code_snapshots([snap])
    assert heard == [changes]
    assert codebook_state(store) == original
    assert sorted(changes.ids("code")) == sorted([ids["care"], ids["time"], ids["staff"],
                                                  ids["rushed"]])
    assert sorted(changes.ids("coding")) == sorted([ids["c_care"], ids["c_time"],
                                                    ids["c_rushed"], ids["c_staff"]])
    assert sorted(changes.ids("memo")) == sorted([ids["m_care"], ids["m_rushed"],
                                                  ids["m_coding"]])
    assert sorted(changes.ids("theme", "updated")) == [ids["t1"], ids["t2"]]
    assert store.audit_log()[0].action == "codes restored"
    # and redo, undo again
    store.delete_code(ids["care"])
    store.restore_code_snapshots([snap])
    assert codebook_state(store) == original


def test_restore_snapshot_undoes_later_changes_to_those_codes(store: Store) -> None:
    ids = rich_codebook(store)
    original = codebook_state(store)
    snap = store.code_snapshot(ids["care"])
    iid = ids["interview"]
    seg = store.codings()[0].start_segment_id
    extra = store.add_coding(Coding(ids["time"], iid, seg, 0, seg, 2)).new_id("coding")
    note = store.add_memo(Memo(MemoTarget.CODE, "later", ids["staff"])).new_id("memo")
    store.update_code(Code("Caring", None, "changed", "#000000", 5, ids["care"]))
    store.move_code(ids["rushed"], None, 0)
    store.update_theme(Theme("Pressure", code_ids=(ids["other"],), id=ids["t1"]))
    store.set_map_positions(codes={ids["care"]: None, ids["time"]: (9.0, 9.0)})
    changes = store.restore_code_snapshots([snap])
    assert ("coding", extra) in changes.removed
    assert ("memo", note) in changes.removed
    assert codebook_state(store) == original


def test_merge_moves_everything_to_the_target(store: Store) -> None:
    ids = rich_codebook(store)
    iid = ids["interview"]
    care, time, other = ids["care"], ids["time"], ids["other"]
    # Time's coding of s1[8:] .. s2[:6] is also Other's: merging must not duplicate it
    coding = next(c for c in store.codings() if c.id == ids["c_time"])
    twin = store.add_coding(Coding(other, iid, coding.start_segment_id, coding.start_offset,
                                   coding.end_segment_id, coding.end_offset)).new_id("coding")
    add_code(store, "Sub", other)
    heard = recording(store)
    changes = store.merge_codes(time, other)
    assert heard == [changes]
    assert time not in {c.id for c in store.codes()}
    assert store.code(ids["rushed"]).parent_id == other
    assert [c.name for c in store.codes() if c.parent_id == other] == ["Sub", "Rushed"]
    assert {c.id for c in store.codings(code_id=other)} == {ids["c_other"], twin}
    assert store.codings(code_id=time) == []
    assert ("coding", ids["c_time"]) in changes.removed  # the duplicate went
    (memo,) = [m for m in store.memos() if m.id == ids["m_coding"]]
    assert (memo.target, memo.target_id) == (MemoTarget.CODING, twin)  # its memo stayed
    assert set(store.theme(ids["t1"]).code_ids) == {care, other}
    assert ("code", time) in changes.removed
    assert ("code", ids["rushed"]) in changes.updated
    assert ("theme", ids["t1"]) in changes.updated
    entry = store.audit_log()[0]
    assert entry.action == "codes merged"
    assert json.loads(entry.detail) == {"source": time, "source_name": "Time", "target": other,
                                        "target_name": "Other", "codings_moved": 0,
                                        "duplicates_removed": 1}


def test_merge_moves_codings_and_memos_and_undo_restores_everything(store: Store) -> None:
    ids = rich_codebook(store)
    care, other = ids["care"], ids["other"]
    original = codebook_state(store)
    snaps = [store.code_snapshot(care), store.code_snapshot(other)]
    counts = (store.coding_count(care), store.coding_count(other))
    changes = store.merge_codes(care, other)
    assert store.coding_count(other) == counts[0] + counts[1]
    assert {c.code_id for c in store.codings()} == {other, ids["time"], ids["rushed"],
                                                    ids["staff"]}
    assert ("coding", ids["c_care"]) in changes.updated
    assert store.memos(MemoTarget.CODE, other)[0].id == ids["m_care"]
    assert ("memo", ids["m_care"]) in changes.updated
    assert store.theme(ids["t1"]).code_ids == (ids["time"], other)
    assert [c.name for c in store.codes() if c.parent_id == other] == ["Time", "Staffing"]
    assert store.code_map_positions() == {ids["rushed"]: (0.25, 3.0)}
    store.restore_code_snapshots(snaps)
    assert codebook_state(store) == original


def test_merge_a_child_into_its_parent_and_undo(store: Store) -> None:
    ids = rich_codebook(store)
    original = codebook_state(store)
    snaps = [store.code_snapshot(ids["time"]), store.code_snapshot(ids["care"])]
    store.merge_codes(ids["time"], ids["care"])
    assert [c.name for c in store.codes() if c.parent_id == ids["care"]] == [
        "Staffing", "Rushed"]
    assert store.coding_count(ids["care"], with_children=False) == 2
    store.restore_code_snapshots(snaps)
    assert codebook_state(store) == original


def test_merge_refusals(store: Store) -> None:
    ids = rich_codebook(store)
    add_code(store, "Time", ids["other"])  # clashes with Care's child Time
    original = codebook_state(store)
    heard = recording(store)
    with pytest.raises(ValidationError, match="cannot be merged into itself"):
        store.merge_codes(ids["care"], ids["care"])
    with pytest.raises(ValidationError, match="into its own sub-code 'Rushed'"):
        store.merge_codes(ids["care"], ids["rushed"])
    with pytest.raises(ValidationError, match="'Other' already has a sub-code called 'Time'"):
        store.merge_codes(ids["care"], ids["other"])
    with pytest.raises(NotFoundError):
        store.merge_codes(ids["care"], 999)
    assert codebook_state(store) == original
    assert heard == []


def test_coding_count_with_and_without_children(store: Store) -> None:
    ids = rich_codebook(store)
    assert store.coding_count(ids["care"]) == 4
    assert store.coding_count(ids["care"], with_children=False) == 1
    assert store.coding_count(ids["time"]) == 2
    assert store.coding_count(ids["rushed"], with_children=False) == 1
    assert store.coding_count(999) == 0


# --- coding references (quotes) ------------------------------------------------------------------


def test_coding_refs_give_quote_and_context_in_order(store: Store) -> None:
    from study.model import Participant, Speaker

    pid = store.add_participant(Participant("MHCC-1")).new_id("participant")
    i1 = store.add_interview(Interview("First", participant_id=pid)).new_id("interview")
    i2 = store.add_interview(Interview("Second")).new_id("interview")
    who = store.add_speaker(Speaker(i1, "Participant")).new_id("speaker")
    s = list(store.add_segments([
        Segment(i1, 0, 0, 900, "We never have enough time.", who),
        Segment(i1, 1, 1000, 1900, "Nobody listens."),
        Segment(i1, 2, 2000, 2900, "The team is great.", who),
    ]).ids("segment"))
    (t,) = store.add_segments([Segment(i2, 0, 500, 900, "Time again.")]).ids("segment")
    x, y = add_code(store, "X"), add_code(store, "Y")
    late = store.add_coding(Coding(x, i1, s[2], 4, s[2], 8)).new_id("coding")
    span = store.add_coding(Coding(y, i1, s[0], 9, s[2], 3)).new_id("coding")
    other = store.add_coding(Coding(x, i2, t, 0, t, 4)).new_id("coding")
    first = store.add_coding(Coding(x, i1, s[0], 3, s[0], 8)).new_id("coding")

    refs = store.coding_refs()
    assert [r.coding.id for r in refs] == [first, span, late, other]
    assert [r.text for r in refs] == ["never", "have enough time. Nobody listens. The", "team",
                                      "Time"]
    assert all(r.text == store.coded_text(r.coding) for r in refs)
    assert [(r.interview_title, r.participant_code, r.start_ms, r.speaker_label)
            for r in refs] == [("First", "MHCC-1", 0, "Participant"),
                               ("First", "MHCC-1", 0, "Participant"),
                               ("First", "MHCC-1", 2000, "Participant"),
                               ("Second", "", 500, "")]
    assert [r.coding.id for r in store.coding_refs(code_ids=[x])] == [first, late, other]
    assert [r.coding.id for r in store.coding_refs(interview_id=i2)] == [other]
    assert [r.coding.id for r in store.coding_refs(code_ids=[y], interview_id=i1)] == [span]
    assert store.coding_refs(code_ids=[]) == []


def test_coding_refs_cost_a_query_per_interview_not_per_coding(store: Store) -> None:
    code = add_code(store, "X")
    for n in range(3):
        iid, segs = transcript(store, *(f"words in segment {k}" for k in range(20)),
                               title=f"I{n}")
        for seg in segs:
            store.add_coding(Coding(code, iid, seg, 0, seg, 5))
    statements: list[str] = []
    store._conn.set_trace_callback(statements.append)
    try:
        refs = store.coding_refs(code_ids=[code])
    finally:
        store._conn.set_trace_callback(None)
    assert len(refs) == 60
    assert len([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]) <= 4
