"""Text search (the index narrows, a regex decides), auto-coding its hits, and deleting
several codings at once (what undoes auto-coding)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from study.errors import NotFoundError, ValidationError
from study.folder import Study, create_study
from study.model import Code, Coding, Interview, SearchHit, Segment
from study.store import Store
from study.store.search import fts_match, like_pattern, matcher


@pytest.fixture
def store(study: Study) -> Store:
    return study.store


def transcript(store: Store, *texts: str, title: str = "Interview") -> tuple[int, list[int]]:
    iid = store.add_interview(Interview(title)).new_id("interview")
    changes = store.add_segments(
        Segment(iid, n, n * 1000, n * 1000 + 900, t) for n, t in enumerate(texts))
    return iid, list(changes.ids("segment"))


def found(hits: list[SearchHit]) -> list[str]:
    return [h.text[h.start:h.end] for h in hits]


def brute_force(store: Store, query: str, *, whole_words: bool,
                case_sensitive: bool) -> list[SearchHit]:
    """What search_text must find: the regex over every segment, no index."""
    words = query.split()
    if not words:
        return []
    decide = matcher(words, whole_words=whole_words, case_sensitive=case_sensitive)
    return [SearchHit(iid, s.id, start, end, s.text)  # type: ignore[arg-type]
            for iid in sorted(i.id for i in store.interviews() if i.id is not None)
            for s in store.segments(iid) for start, end in decide.spans(s.text)]


# --- search ------------------------------------------------------------------------------------


def test_finds_every_match_with_offsets_in_order(store: Store) -> None:
    i1, (a, b) = transcript(store, "Care is care. CARE!", "We had no care at all", title="one")
    i2, (c,) = transcript(store, "careful care", title="two")
    hits = store.search_text("care")
    assert hits == [
        SearchHit(i1, a, 0, 4, "Care is care. CARE!"),
        SearchHit(i1, a, 8, 12, "Care is care. CARE!"),
        SearchHit(i1, a, 14, 18, "Care is care. CARE!"),
        SearchHit(i1, b, 10, 14, "We had no care at all"),
        SearchHit(i2, c, 8, 12, "careful care"),
    ]


def test_order_follows_segment_position_not_id(store: Store) -> None:
    iid = store.add_interview(Interview("x")).new_id("interview")
    late, early = store.add_segments([Segment(iid, 1, 1000, 1500, "trust later"),
                                      Segment(iid, 0, 0, 500, "trust first")]).ids("segment")
    assert [h.segment_id for h in store.search_text("trust")] == [early, late]


def test_whole_words_or_any_part_of_a_word(store: Store) -> None:
    transcript(store, "careful carers in childcare care", "uncared-for")
    assert found(store.search_text("care")) == ["care"]
    assert found(store.search_text("care", whole_words=False)) == [
        "care", "care", "care", "care", "care"]
    assert found(store.search_text("car", whole_words=False)) == [
        "car", "car", "car", "car", "car"]
    assert found(store.search_text("ared", whole_words=False)) == ["ared"]
    assert store.search_text("ared") == []


def test_several_words_match_across_any_whitespace(store: Store) -> None:
    transcript(store, "the duty   team rang", "duty\tteam", "duty teams", "duty, team")
    assert found(store.search_text("duty team")) == ["duty   team", "duty\tteam"]
    assert found(store.search_text("  duty \n team ")) == ["duty   team", "duty\tteam"]
    assert found(store.search_text("uty tea", whole_words=False)) == [
        "uty   tea", "uty\ttea", "uty tea"]
    assert found(store.search_text("duty, team")) == ["duty, team"]


def test_case_sensitive(store: Store) -> None:
    transcript(store, "NHS nhs Nhs")
    assert found(store.search_text("NHS", case_sensitive=True)) == ["NHS"]
    assert found(store.search_text("nhs")) == ["NHS", "nhs", "Nhs"]


def test_accents_are_decided_by_the_text_not_the_index(store: Store) -> None:
    transcript(store, "café", "cafe", "CAFÉ noir", "naïve élan")
    assert found(store.search_text("café")) == ["café", "CAFÉ"]
    assert found(store.search_text("cafe")) == ["cafe"]
    assert found(store.search_text("ÉLAN")) == ["élan"]
    assert found(store.search_text("É", whole_words=False)) == ["é", "É", "é"]
    assert found(store.search_text("ïv", whole_words=False)) == ["ïv"]


def test_case_pairs_only_simple_upper_and_lower_forms(store: Store) -> None:
    transcript(store, "ı İ ſ \u212a Σσς")  # dotless i, dotted I, long s, Kelvin sign
    for ascii_letter in "iIsSkK":
        assert store.search_text(ascii_letter) == []
    assert found(store.search_text("ı")) == ["ı"]
    assert found(store.search_text("σ", whole_words=False)) == ["Σ", "σ"]


def test_an_accent_typed_apart_belongs_to_its_word(store: Store) -> None:
    transcript(store, "cafe\u0301 A\u0301A")  # é and Á as a letter and a combining accent
    assert store.search_text("cafe") == []
    assert found(store.search_text("cafe", whole_words=False)) == ["cafe"]
    assert store.search_text("a") == []


def test_whole_words_after_a_failed_overlapping_match(store: Store) -> None:
    transcript(store, "ba a a", "care_plan care-plan")
    assert found(store.search_text("a a")) == ["a a"]
    assert [h.start for h in store.search_text("a a")] == [3]
    assert found(store.search_text("care")) == ["care"]
    assert found(store.search_text("care", whole_words=False)) == ["care", "care"]


def test_punctuation_only_queries_use_a_scan(store: Store) -> None:
    transcript(store, "Really? Yes -- really.", "No.", "(laughs) well 50% of 1_000")
    assert found(store.search_text("?")) == ["?"]
    assert found(store.search_text("--")) == ["--"]
    assert found(store.search_text(".")) == [".", "."]
    assert found(store.search_text("%")) == ["%"]
    assert found(store.search_text("_", whole_words=False)) == ["_"]
    assert found(store.search_text("(laughs)")) == ["(laughs)"]
    assert found(store.search_text("? Yes")) == ["? Yes"]


@pytest.mark.parametrize("query", [
    '"', '""', "'", "AND", "OR", "NOT", "care AND", "NEAR(care trust)", "*", "care*", "^care",
    "text:care", "(", ")", "-care", "+", "{care}", "care OR trust", "c*a*r*e", "\\", "%_%",
])
@pytest.mark.parametrize("whole_words", [True, False])
def test_no_query_can_break_the_index(store: Store, query: str, whole_words: bool) -> None:
    transcript(store, 'She said "care AND trust" -- NEAR(care trust) * ^care text:care',
               "c*a*r*e {care} +1 -care \\ 100%_% 'quoted'", "or not")
    expected = brute_force(store, query, whole_words=whole_words, case_sensitive=False)
    assert store.search_text(query, whole_words=whole_words) == expected


def test_a_match_never_crosses_segments(store: Store) -> None:
    transcript(store, "I rang and rang.", "Nobody came.")
    assert store.search_text("rang. Nobody") == []
    assert store.search_text("rang.") != []


def test_blank_query_finds_nothing(store: Store) -> None:
    transcript(store, "anything at all")
    assert store.search_text("") == []
    assert store.search_text(" \t\n") == []


def test_only_in_given_interviews_and_up_to_a_limit(store: Store) -> None:
    i1, _ = transcript(store, "plan plan", "plan", title="one")
    i2, _ = transcript(store, "plan", title="two")
    i3, _ = transcript(store, "plan", title="three")
    assert [h.interview_id for h in store.search_text("plan")] == [i1, i1, i1, i2, i3]
    assert [h.interview_id for h in store.search_text("plan", interview_ids=[i3, i1])] == [
        i1, i1, i1, i3]
    assert store.search_text("plan", interview_ids=[]) == []
    assert store.search_text("plan", limit=2) == store.search_text("plan")[:2]
    assert store.search_text("plan", limit=0) == []
    assert len(store.search_text("plan", interview_ids=[i2], limit=5)) == 1


def test_search_follows_edits(store: Store) -> None:
    _, (seg,) = transcript(store, "the old words")
    store.edit_segment_text(seg, "the new words")
    assert store.search_text("old") == []
    assert found(store.search_text("new")) == ["new"]
    store.delete_segments([seg])
    assert store.search_text("new") == []


def test_fts_queries_are_quoted_and_safe() -> None:
    assert fts_match('say "hi"', whole_words=True) == '"say ""hi"""'
    assert fts_match("nurs", whole_words=False) is None  # may be inside a word: scan
    assert fts_match("nobody pick", whole_words=False) == '" pick" *'
    assert fts_match("?", whole_words=True) is None
    assert fts_match("(laughs", whole_words=False) == '"(laughs" *'
    assert like_pattern(["50%", "of"], case_sensitive=False) == "%50\\%%of%"
    assert like_pattern(["Élan", "kiss"], case_sensitive=False) == "%_lan%kiss%"
    assert like_pattern(["Élan"], case_sensitive=True) == "%Élan%"


TEXT = st.text(alphabet=st.sampled_from(list("aAbcéÉiIıİkK\u212asSſ\u0301 \t_-'.,?\"*()")),
               max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=1, max_size=6), st.data())
def test_the_index_never_hides_a_match(texts: list[str], data: st.DataObject) -> None:
    """Whatever the text and query, search_text finds exactly what the regex finds in
    every segment: the index only ever narrows to a superset."""
    with tempfile.TemporaryDirectory() as folder, create_study(Path(folder) / "S") as study:
        store = study.store
        transcript(store, *texts)
        source = data.draw(st.sampled_from(texts))
        i = data.draw(st.integers(0, len(source)))
        j = data.draw(st.integers(i, len(source)))
        query = data.draw(st.sampled_from([source[i:j], source[i:j].upper(), source[i:j] + "a",
                                           data.draw(TEXT)]))
        for whole_words in (True, False):
            for case_sensitive in (True, False):
                assert store.search_text(query, whole_words=whole_words,
                                         case_sensitive=case_sensitive) == brute_force(
                    store, query, whole_words=whole_words, case_sensitive=case_sensitive)


# --- auto-coding -------------------------------------------------------------------------------


def add_code(store: Store, name: str) -> int:
    return store.add_code(Code(name)).new_id("code")


def test_auto_code_codes_every_hit_in_one_step(store: Store) -> None:
    iid, (a, b) = transcript(store, "trust me, trust them", "no trust")
    code = add_code(store, "Trust")
    heard: list[object] = []
    store.subscribe(heard.append)
    hits = store.search_text("trust")
    changes = store.auto_code(code, hits)
    assert heard == [changes]
    added = changes.ids("coding", "added")
    assert len(added) == 3
    codings = store.codings(code_id=code)
    assert [c.id for c in codings] == list(added)
    assert [(c.start_segment_id, c.start_offset, c.end_offset) for c in codings] == [
        (a, 0, 5), (a, 10, 15), (b, 3, 8)]
    assert all(c.start_segment_id == c.end_segment_id and c.interview_id == iid
               for c in codings)
    assert [store.coded_text(c) for c in codings] == ["trust"] * 3
    entry = store.audit_log()[0]
    assert (entry.action, json.loads(entry.detail)) == ("auto-coded", {"code": code, "count": 3})


def test_auto_code_skips_what_the_code_already_covers(store: Store) -> None:
    iid, (a, b, c) = transcript(store, "we rang the team", "the team came", "team spirit")
    code, other = add_code(store, "Team"), add_code(store, "Other")
    store.add_coding(Coding(code, iid, a, 3, b, 8))  # covers "team" in a and b
    store.add_coding(Coding(other, iid, c, 0, c, 4))  # another code does not count
    hits = store.search_text("team")
    assert len(hits) == 3
    changes = store.auto_code(code, hits)
    (new,) = changes.ids("coding", "added")
    assert store.coded_text(next(x for x in store.codings() if x.id == new)) == "team"
    assert next(x for x in store.codings() if x.id == new).start_segment_id == c
    before = store.codings()
    audits = len(store.audit_log())
    assert not store.auto_code(code, hits)  # all covered now: nothing, not even an audit
    assert store.codings() == before
    assert len(store.audit_log()) == audits


def test_auto_code_whole_segments_each_once(store: Store) -> None:
    _, (a, b) = transcript(store, "plan and plan again", "no plan")
    code = add_code(store, "Plans")
    changes = store.auto_code(code, store.search_text("plan"), whole_segment=True)
    assert len(changes.ids("coding", "added")) == 2
    assert [(c.start_segment_id, c.start_offset, c.end_offset)
            for c in store.codings(code_id=code)] == [(a, 0, 19), (b, 0, 7)]
    assert json.loads(store.audit_log()[0].detail)["count"] == 2
    # hits inside an already coded whole segment add nothing
    assert not store.auto_code(code, store.search_text("plan"))


def test_auto_code_refuses_stale_hits_and_missing_codes(store: Store) -> None:
    _, (a, b) = transcript(store, "plan one", "plan two")
    code = add_code(store, "Plans")
    hits = store.search_text("plan")
    store.edit_segment_text(b, "the plan two")
    with pytest.raises(ValidationError, match="changed since this search"):
        store.auto_code(code, hits)
    assert store.codings() == []
    store.delete_segments([a])
    with pytest.raises(ValidationError, match="changed since this search"):
        store.auto_code(code, hits[:1])
    with pytest.raises(NotFoundError, match="code"):
        store.auto_code(code + 99, store.search_text("plan"))
    assert store.codings() == []
    assert not store.auto_code(code, [])


def test_undo_auto_code_with_delete_codings(store: Store) -> None:
    iid, (a,) = transcript(store, "trust and trust")
    code = add_code(store, "Trust")
    kept = store.add_coding(Coding(code, iid, a, 0, a, 5)).new_id("coding")
    before = store.codings()
    added = store.auto_code(code, store.search_text("trust")).ids("coding", "added")
    assert len(added) == 1
    changes = store.delete_codings(added)
    assert changes.ids("coding", "removed") == added
    assert store.codings() == before
    assert [c.id for c in store.codings()] == [kept]
    entry = store.audit_log()[0]
    assert (entry.action, json.loads(entry.detail)) == ("codings deleted", {"count": 1})


def test_delete_codings_is_all_or_nothing(store: Store) -> None:
    iid, (a,) = transcript(store, "one two three")
    code = add_code(store, "X")
    ids = [store.add_coding(Coding(code, iid, a, n, a, n + 3)).new_id("coding")
           for n in (0, 4, 8)]
    with pytest.raises(NotFoundError):
        store.delete_codings([ids[0], 9999])
    assert [c.id for c in store.codings()] == ids
    changes = store.delete_codings([ids[2], ids[0], ids[2]])
    assert changes.ids("coding", "removed") == (ids[2], ids[0])
    assert [c.id for c in store.codings()] == [ids[1]]
    assert not store.delete_codings([])
