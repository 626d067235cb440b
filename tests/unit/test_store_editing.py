"""Transcript edits keep codings on the same words: text edits, split, merge, speaker
changes, and snapshot restore (what undo does); with hypothesis edit sequences."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from study.errors import ValidationError
from study.folder import Study, create_study
from study.model import Changes, Code, Coding, Interview, Segment, Speaker, Word
from study.remap import remap_span
from study.store import Store


def setup_interview(store: Store, texts: list[str]) -> tuple[int, list[int], int]:
    iid = store.add_interview(Interview("One")).new_id("interview")
    ids = list(store.add_segments(
        Segment(iid, n, n * 10_000, n * 10_000 + 9_000, t) for n, t in enumerate(texts)
    ).ids("segment"))
    code = store.add_code(Code("Trust")).new_id("code")
    return iid, ids, code


def code_words(store: Store, iid: int, code: int, seg: int, text: str, phrase: str) -> int:
    start = text.index(phrase)
    return store.add_coding(Coding(code, iid, seg, start, seg, start + len(phrase))
                            ).new_id("coding")


def norm(text: str) -> str:
    return " ".join(text.split())


def test_editing_around_a_coding_keeps_its_words(study: Study) -> None:
    store = study.store
    text = "We rang the duty team and nobody picked up the phone."
    iid, (seg,), code = setup_interview(store, [text])
    coding = code_words(store, iid, code, seg, text, "nobody picked up")
    changes = store.edit_segment_text(seg, "Honestly, we rang the duty team, and nobody picked "
                                           "up the phone at all.")
    assert ("coding", coding) in changes.updated
    (c,) = store.codings()
    assert store.coded_text(c) == "nobody picked up"


def test_editing_inside_a_coding_keeps_it_on_the_replacement(study: Study) -> None:
    store = study.store
    text = "nobody picked up the phone"
    iid, (seg,), code = setup_interview(store, [text])
    code_words(store, iid, code, seg, text, "nobody picked up")
    store.edit_segment_text(seg, "no one picked up the phone")
    (c,) = store.codings()
    assert store.coded_text(c) == "no one picked up"


def test_deleting_all_coded_words_removes_the_coding(study: Study) -> None:
    store = study.store
    text = "It was fine. Then the referral vanished."
    iid, (seg,), code = setup_interview(store, [text])
    coding = code_words(store, iid, code, seg, text, "the referral vanished")
    changes = store.edit_segment_text(seg, "It was fine. Then.")
    assert ("coding", coding) in changes.removed
    assert store.codings() == []


def test_word_timings_survive_punctuation_edits_but_not_word_changes(study: Study) -> None:
    store = study.store
    iid = store.add_interview(Interview("One")).new_id("interview")
    words = (Word(" we", 0, 200), Word(" rang", 200, 500))
    (seg,) = store.add_segments([Segment(iid, 0, 0, 500, "we rang", words=words)]).ids("segment")
    store.edit_segment_text(seg, "We rang.")
    assert store.segment(seg).words == words
    store.edit_segment_text(seg, "We phoned.")
    assert store.segment(seg).words == ()


def test_split_carries_codings_and_times(study: Study) -> None:
    store = study.store
    text = "We share the plan. Then the school calls us."
    iid = store.add_interview(Interview("One")).new_id("interview")
    words = tuple(Word(" " + w, n * 500, n * 500 + 400) for n, w in enumerate(text.split()))
    (seg,) = store.add_segments([Segment(iid, 0, 0, 5_000, text, words=words)]).ids("segment")
    code = store.add_code(Code("Schools")).new_id("code")
    early = code_words(store, iid, code, seg, text, "share the plan")
    late = code_words(store, iid, code, seg, text, "school calls")
    across = code_words(store, iid, code, seg, text, "plan. Then")
    store.split_segment(seg, text.index("Then"))
    first, second = store.segments(iid)
    assert (first.text, second.text) == ("We share the plan.", "Then the school calls us.")
    assert first.id == seg and first.end_ms == second.start_ms == 2_000
    assert [w.text.strip() for w in second.words][:2] == ["Then", "the"]
    texts = {c.id: norm(store.coded_text(c)) for c in store.codings()}
    assert texts == {early: "share the plan", late: "school calls", across: "plan. Then"}
    assert [s.position for s in store.segments(iid)] == [0, 1]


def test_merge_carries_codings_and_refuses_non_neighbours(study: Study) -> None:
    store = study.store
    texts = ["I rang them.", "Nobody came.", "So I wrote."]
    iid, ids, code = setup_interview(store, texts)
    c2 = code_words(store, iid, code, ids[1], texts[1], "Nobody came")
    with pytest.raises(ValidationError, match="neighbouring"):
        store.merge_segments(ids[0], ids[2])
    store.merge_segments(ids[0], ids[1])
    merged, last = store.segments(iid)
    assert merged.text == "I rang them. Nobody came."
    assert (merged.start_ms, merged.end_ms) == (0, 19_000)
    assert [s.position for s in (merged, last)] == [0, 1]
    (c,) = store.codings()
    assert c.id == c2 and store.coded_text(c) == "Nobody came"


def test_snapshot_restore_undoes_split_merge_and_edit_exactly(study: Study) -> None:
    store = study.store
    texts = ["We share the plan.", "Then the school calls us.", "And that is that."]
    iid, ids, code = setup_interview(store, texts)
    code_words(store, iid, code, ids[0], texts[0], "share")
    store.add_coding(Coding(code, iid, ids[0], 3, ids[1], 8))
    original = (store.segments(iid), store.codings())

    snap = store.snapshot([ids[1]])
    new = store.split_segment(ids[1], 5).ids("segment", "added")
    store.restore(snap, [ids[1], *new])
    assert (store.segments(iid), store.codings()) == original

    snap = store.snapshot([ids[0], ids[1]])
    store.merge_segments(ids[0], ids[1])
    store.restore(snap, [ids[0]])
    assert (store.segments(iid), store.codings()) == original

    snap = store.snapshot([ids[0]])
    store.edit_segment_text(ids[0], "Plan.")
    store.restore(snap, [ids[0]])
    assert (store.segments(iid), store.codings()) == original


def test_speaker_assignment(study: Study) -> None:
    store = study.store
    iid, ids, _ = setup_interview(store, ["a", "b"])
    spk = store.add_speaker(Speaker(iid, "Interviewer")).new_id("speaker")
    store.set_segment_speaker(ids, spk)
    assert [s.speaker_id for s in store.segments(iid)] == [spk, spk]


# --- properties ----------------------------------------------------------------------------

WORDS = ["we", "rang", "the", "duty", "team", "social", "worker", "school", "plan", "mum",
         "Harrowfield", "care", "coordinator", "nobody", "came", "again", "staff", "staffing",
         "staffed", "ward", "warden", "cared", "carer", "planning"]


@st.composite
def edit_far_from(draw: st.DrawFn, text: str, start: int, end: int) -> str:
    """An edit (insert, delete or replace) that does not touch text[start:end]."""
    before, coded, after = text[:start], text[start:end], text[end:]
    side = draw(st.sampled_from(["before", "after"]))
    part = before if side == "before" else after
    i = draw(st.integers(0, len(part)))
    j = draw(st.integers(i, len(part)))
    insert = draw(st.sampled_from(["", " uh", " you know,", "X", " again and again "]))
    keep_gap = " " if side == "before" else ""
    new_part = part[:i] + insert + part[j:]
    if side == "before":
        new_part = new_part.rstrip() + keep_gap if part.endswith(" ") else new_part
        return new_part + coded + after
    return before + coded + (new_part if not part.startswith(" ") or new_part.startswith(" ")
                             else " " + new_part)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(WORDS), min_size=6, max_size=20), st.data())
def test_random_edits_outside_a_coding_never_move_it_off_its_words(
        words: list[str], data: st.DataObject) -> None:
    text = " ".join(words)
    first = data.draw(st.integers(1, len(words) - 3))
    last = data.draw(st.integers(first, len(words) - 2))
    start = len(" ".join(words[:first])) + 1
    end = start + len(" ".join(words[first:last + 1]))
    coded = text[start:end]
    for _ in range(data.draw(st.integers(1, 5))):
        new = data.draw(edit_far_from(text, start, end))
        span = remap_span(text, new, start, end)
        assert span is not None
        start, end = span
        text = new
        assert text[start:end] == coded


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(WORDS), min_size=2, max_size=8), min_size=2,
                max_size=5), st.data())
def test_random_splits_and_merges_keep_every_coding_on_its_words(
        sentences: list[list[str]], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder, create_study(Path(folder) / "P") as study:
        check_splits_and_merges(study.store, sentences, data)


def check_splits_and_merges(store: Store, sentences: list[list[str]],
                            data: st.DataObject) -> None:
    texts = [" ".join(s) for s in sentences]
    iid, ids, code = setup_interview(store, texts)
    for seg, text in zip(ids, texts, strict=True):
        n = data.draw(st.integers(0, len(text.split()) - 1))
        word = text.split()[n]
        start = len(" ".join(text.split()[:n])) + (1 if n else 0)
        store.add_coding(Coding(code, iid, seg, start, seg, start + len(word)))
    store.add_coding(Coding(code, iid, ids[0], 0, ids[-1], len(texts[-1])))
    expected = {c.id: norm(store.coded_text(c)) for c in store.codings()}
    for _ in range(data.draw(st.integers(1, 6))):
        segs = store.segments(iid)
        if data.draw(st.booleans()) and len(segs) > 1:
            k = data.draw(st.integers(0, len(segs) - 2))
            store.merge_segments(segs[k].id, segs[k + 1].id)  # type: ignore[arg-type]
        else:
            seg = data.draw(st.sampled_from(segs))
            cuts = [m.start() for m in re.finditer(" ", seg.text)]
            if cuts:
                store.split_segment(seg.id, data.draw(st.sampled_from(cuts)))  # type: ignore[arg-type]
        actual = {c.id: norm(store.coded_text(c)) for c in store.codings()}
        assert actual == expected
        assert [s.position for s in store.segments(iid)] == list(range(len(store.segments(iid))))


# --- mixed edit sequences over a coded interview -------------------------------------------------
#
# Every word is told apart by a number (so the expected words can be tracked by value),
# while many share their beginnings and ends ("staff1 staffing2 staffed3"): the diff
# must keep codings exactly on their words whatever their neighbours look like.

Span = tuple[int, int, int, bool, bool]  # coding id, start, end, continues from, continues to
# ("replace", old, new), ("delete", old), ("insert", new, word before, word after)
Effect = tuple[str | None, ...]


class Filler:
    """Fresh words to insert or replace with: capitals, none sharing a first or last
    letter with another."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{chr(64 + self.n)}UM{chr(91 - self.n)}"  # AUMZ, BUMY, ... up to 12


def distinct_texts(sentences: list[list[str]]) -> list[str]:
    n = iter(range(1000))
    return [" ".join(f"{w}{next(n)}" for w in s) for s in sentences]


def spans_by_segment(store: Store, iid: int) -> dict[int, list[Span]]:
    """Each segment's coded character spans, and whether the coding goes on beyond it."""
    segs = store.segments(iid)
    order = {s.id: n for n, s in enumerate(segs)}
    spans: dict[int, list[Span]] = {s.id: [] for s in segs}  # type: ignore[misc]
    for c in store.codings(interview_id=iid):
        first, last = order[c.start_segment_id], order[c.end_segment_id]
        for p in range(first, last + 1):
            seg = segs[p]
            start = c.start_offset if p == first else 0
            end = c.end_offset if p == last else len(seg.text)
            spans[seg.id].append((c.id, start, end, p > first, p < last))  # type: ignore[arg-type,index]
    return spans


def word_bounds(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"\S+", text)]


def covered_words(bounds: list[tuple[int, int]], span: Span) -> set[int]:
    """Indexes of the words a span touches; -1 and len(bounds) when it goes on beyond."""
    _, start, end, before, after = span
    inside = {i for i, (a, b) in enumerate(bounds) if start < b and end > a}
    return inside | ({-1} if before else set()) | ({len(bounds)} if after else set())


def gap_codings(bounds: list[tuple[int, int]], spans: list[Span], gap: int) -> set[int]:
    """The codings a word inserted before word `gap` lands inside."""
    return {s[0] for s in spans if {gap - 1, gap} <= covered_words(bounds, s)}


def word_codings(bounds: list[tuple[int, int]], spans: list[Span], word: int) -> set[int]:
    return {s[0] for s in spans if word in covered_words(bounds, s)}


def speaker_setup(store: Store, iid: int) -> list[int | None]:
    return [store.add_speaker(Speaker(iid, label)).new_id("speaker")
            for label in ("Interviewer", "Participant")] + [None]


def code_interview(store: Store, texts: list[str],
                   data: st.DataObject) -> tuple[int, dict[int, list[str]]]:
    """An interview with a coding in each segment and some spanning two or more."""
    iid, ids, code = setup_interview(store, texts)
    for seg, text in zip(ids, texts, strict=True):
        bounds = word_bounds(text)
        i = data.draw(st.integers(0, len(bounds) - 1))
        j = data.draw(st.integers(i, len(bounds) - 1))
        store.add_coding(Coding(code, iid, seg, bounds[i][0], seg, bounds[j][1]))
    for _ in range(data.draw(st.integers(1, 3))):
        k = data.draw(st.integers(0, len(ids) - 2))
        m = data.draw(st.integers(k + 1, len(ids) - 1))
        start = data.draw(st.sampled_from(word_bounds(texts[k])))[0]
        end = data.draw(st.sampled_from(word_bounds(texts[m])))[1]
        store.add_coding(Coding(code, iid, ids[k], start, ids[m], end))
    return iid, {c.id: store.coded_text(c).split()  # type: ignore[misc]
                 for c in store.codings(interview_id=iid)}


def edit_step(store: Store, iid: int, data: st.DataObject, fresh: Filler,
              speakers: list[int | None], *, inside: bool) -> tuple[Changes, dict[int, Effect]]:
    """One random edit (only outside codings unless `inside`). Returns its Changes and
    the Effect on the words of each coding it edited inside."""
    segs = store.segments(iid)
    spans = spans_by_segment(store, iid)
    kinds = ["insert", "delete", "replace", "split", "merge", "speaker"]
    kind = data.draw(st.sampled_from(kinds), label="edit")
    seg = data.draw(st.sampled_from(segs), label="segment")
    bounds = word_bounds(seg.text)
    words = seg.text.split()
    assert " ".join(words) == seg.text
    own = spans[seg.id]  # type: ignore[index]
    gaps = [g for g in range(len(words) + 1) if inside or not gap_codings(bounds, own, g)]
    if kind == "insert" and gaps:
        gap = data.draw(st.sampled_from(gaps), label="gap")
        new = fresh()
        changes = store.edit_segment_text(seg.id, " ".join([*words[:gap], new, *words[gap:]]))  # type: ignore[arg-type]
        effect: Effect = ("insert", new, words[gap - 1] if gap else None,
                          words[gap] if gap < len(words) else None)
        return changes, {c: effect for c in gap_codings(bounds, own, gap)}
    choices = [i for i in range(len(words)) if inside or not word_codings(bounds, own, i)]
    if kind in ("delete", "replace") and choices and (kind == "replace" or len(words) > 1):
        i = data.draw(st.sampled_from(choices), label="word")
        new = fresh()
        rest = words[:i] + ([new] if kind == "replace" else []) + words[i + 1:]
        changes = store.edit_segment_text(seg.id, " ".join(rest))  # type: ignore[arg-type]
        effect = ("replace", words[i], new) if kind == "replace" else ("delete", words[i])
        return changes, {c: effect for c in word_codings(bounds, own, i)}
    if kind == "split" and len(words) > 1:
        cut = data.draw(st.sampled_from([a - 1 for a, _ in bounds[1:]]), label="cut")
        return store.split_segment(seg.id, cut), {}  # type: ignore[arg-type]
    if kind == "merge" and len(segs) > 1:
        k = data.draw(st.integers(0, len(segs) - 2), label="merge at")
        return store.merge_segments(segs[k].id, segs[k + 1].id), {}  # type: ignore[arg-type]
    chosen = data.draw(st.lists(st.sampled_from(segs), min_size=1, unique_by=lambda s: s.id))
    who = data.draw(st.sampled_from(speakers), label="speaker")
    return store.set_segment_speaker([s.id for s in chosen], who), {}  # type: ignore[misc]


def apply_effect(words: list[str], effect: Effect) -> list[str]:
    match effect:
        case ("replace", old, new):
            return [new if w == old else w for w in words]  # type: ignore[misc]
        case ("delete", old):
            return [w for w in words if w != old]
        case ("insert", new, after, before):
            at = words.index(after) + 1 if after in words else words.index(before)  # type: ignore[arg-type]
            return [*words[:at], new, *words[at:]]  # type: ignore[list-item]
    raise AssertionError(effect)


SENTENCES = st.lists(st.lists(st.sampled_from(WORDS), min_size=2, max_size=7), min_size=2,
                     max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SENTENCES, st.data())
def test_random_edits_around_codings_keep_them_on_their_words(
        sentences: list[list[str]], data: st.DataObject) -> None:
    """Edits outside codings, inserted words, splits, merges and speaker changes in any
    order: every coding keeps exactly its words, and the database stays sound."""
    with tempfile.TemporaryDirectory() as folder, create_study(Path(folder) / "P") as study:
        store = study.store
        iid, expected = code_interview(store, distinct_texts(sentences), data)
        speakers, fresh = speaker_setup(store, iid), Filler()
        for _ in range(data.draw(st.integers(1, 12), label="steps")):
            changes, touched = edit_step(store, iid, data, fresh, speakers, inside=False)
            assert touched == {}
            assert not changes.ids("coding", "removed")
            actual = {c.id: store.coded_text(c).split() for c in store.codings()}
            assert actual == expected
            assert store.integrity_errors() == []
            assert [s.position for s in store.segments(iid)] == list(
                range(len(store.segments(iid))))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SENTENCES, st.data())
def test_replacing_words_inside_codings_keeps_them_on_what_survives(
        sentences: list[list[str]], data: st.DataObject) -> None:
    """Edits anywhere, including coded words: a coding whose words all went is removed
    (and reported so); any other covers its surviving words and the new ones typed among
    them, never a word outside it."""
    with tempfile.TemporaryDirectory() as folder, create_study(Path(folder) / "P") as study:
        store = study.store
        iid, expected = code_interview(store, distinct_texts(sentences), data)
        speakers, fresh = speaker_setup(store, iid), Filler()
        for _ in range(data.draw(st.integers(1, 12), label="steps")):
            changes, touched = edit_step(store, iid, data, fresh, speakers, inside=True)
            for coding_id, effect in touched.items():
                expected[coding_id] = apply_effect(expected[coding_id], effect)
            removed = set(changes.ids("coding", "removed"))
            for coding_id in removed:
                assert expected.pop(coding_id) == []
            codings = store.codings()
            assert {c.id: store.coded_text(c).split() for c in codings} == expected
            assert all(expected[c.id] for c in codings)  # none outlives its words
            assert store.integrity_errors() == []


def test_deleting_a_similar_word_before_a_coding_keeps_it_whole(study: Study) -> None:
    store = study.store
    text = "we rang the ward and the warden said"
    iid, (seg,), code = setup_interview(store, [text])
    code_words(store, iid, code, seg, text, "warden")
    store.edit_segment_text(seg, "we rang the warden said")
    (c,) = store.codings()
    assert store.coded_text(c) == "warden"  # a character diff left it on "en"


def test_deleting_every_word_of_a_coding_across_segments_removes_it(study: Study) -> None:
    store = study.store
    iid, (a, b), code = setup_interview(store, ["alpha beta", "gamma delta"])
    coding = store.add_coding(Coding(code, iid, a, 6, b, 5)).new_id("coding")  # beta gamma
    store.edit_segment_text(a, "alpha")
    changes = store.edit_segment_text(b, "delta")
    assert ("coding", coding) in changes.removed  # not left behind covering nothing
