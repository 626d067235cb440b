"""The identifier registry, the replacement scheme, candidates and decisions in the store."""

from __future__ import annotations

import json

import pytest

from study.errors import NotFoundError, ValidationError
from study.folder import Study
from study.identifiers import term_hash
from study.model import (
    AnonymisationDecision,
    Candidate,
    Category,
    Changes,
    Decision,
    IdentifierRule,
    Interview,
    Segment,
)
from study.store import Store
from study.store.anonymity import DEFAULT_TEMPLATES, map_offset, swap_back
from study.store.anonymity import SpanSwap as Swap


@pytest.fixture
def store(study: Study) -> Store:
    return study.store


def transcript(store: Store, *texts: str, title: str = "Interview") -> tuple[int, list[int]]:
    iid = store.add_interview(Interview(title)).new_id("interview")
    changes = store.add_segments(
        Segment(iid, n, n * 1000, n * 1000 + 900, t) for n, t in enumerate(texts))
    return iid, list(changes.ids("segment"))


def register(store: Store, original: str, category: str = "person", **kw: object) -> int:
    return store.register_identifier(original, category, **kw).new_id(  # type: ignore[arg-type]
        "identifier")


def audit_text(store: Store) -> str:
    return "\n".join(f"{e.action} {e.detail}" for e in store.audit_log(100_000))


# --- the registry ----------------------------------------------------------------------------


def test_register_keeps_hash_word_count_and_original_until_applied(store: Store) -> None:
    heard: list[Changes] = []
    store.subscribe(heard.append)
    id_ = register(store, "  Sarah   Jones ")
    ident = store.identifier(id_)
    assert ident.original_hash == term_hash(store.salt(), "sarah jones")
    assert (ident.category, ident.replacement, ident.word_count, ident.rule) == (
        "person", "[Name 1]", 2, IdentifierRule.ASK)
    assert store.originals() == {id_: "Sarah Jones"}
    assert store.identifier_original(id_) == "Sarah Jones"
    assert store.identifier_original(404) is None
    assert heard[-1].ids("identifier") == (id_,)
    entry = store.audit_log()[0]
    assert entry.action == "identifier registered"
    assert json.loads(entry.detail) == {"id": id_, "category": "person",
                                        "replacement": "[Name 1]", "rule": "ask"}


def test_registered_numbers_follow_on_per_template(store: Store) -> None:
    assert store.register_identifier("Anna", "person").new_id("identifier")
    register(store, "Ben", "person")
    register(store, "Ward 7", "place")
    register(store, "Cara", "person", replacement="[Name 7]")
    register(store, "Dee", "colleague")
    assert [i.replacement for i in store.identifiers()] == [
        "[Name 1]", "[Name 2]", "[Place 1]", "[Name 7]", "[Colleague 1]"]
    assert store.suggest_replacement("person") == "[Name 8]"
    assert store.suggest_replacement("place") == "[Place 2]"


def test_the_same_term_in_another_form_is_refused_naming_its_replacement(store: Store) -> None:
    register(store, "Sarah Jones")
    for variant in ("sarah jones", "SARAH  JONES's", "Sarah Jones."):
        with pytest.raises(ValidationError, match=r"\[Name 1\]"):
            register(store, variant)
    assert len(store.identifiers()) == 1


@pytest.mark.parametrize("bad", ["Name 3", "[]", "[Name 3", "Sarah"])
def test_replacements_must_be_bracketed(store: Store, bad: str) -> None:
    with pytest.raises(ValidationError, match="square brackets"):
        register(store, "Sarah", replacement=bad)
    assert store.identifiers() == []


def test_refuses_empty_originals_and_replacements_that_repeat_the_original(store: Store) -> None:
    with pytest.raises(ValidationError, match="needs some text"):
        register(store, " '' ")
    with pytest.raises(ValidationError, match="needs a category"):
        register(store, "Sarah", " ")
    with pytest.raises(ValidationError, match="must not contain the original"):
        register(store, "Sarah", replacement="[Sarah's mum]")
    assert store.originals() == {}


def test_attributes_rule_and_edit(store: Store) -> None:
    id_ = register(store, "Tobias", "family", attributes={"relation": " son ", "empty": " "},
                   rule=IdentifierRule.ALWAYS)
    ident = store.identifier(id_)
    assert ident.attributes == (("relation", "son"),)
    assert ident.replacement == "[Participant's son]"
    assert ident.rule is IdentifierRule.ALWAYS
    store.set_identifier_rule(id_, IdentifierRule.NEVER)
    assert store.identifier(id_).rule is IdentifierRule.NEVER
    assert store.audit_log()[0].action == "identifier rule"
    with pytest.raises(ValidationError, match="square brackets"):
        store.update_identifier(ident.__class__("family", "son", ident.original_hash, (), id_))
    with pytest.raises(NotFoundError):
        store.set_identifier_rule(404, IdentifierRule.ALWAYS)


def test_delete_identifier_takes_its_decisions_and_unlinks_candidates(store: Store) -> None:
    _, (s,) = transcript(store, "Sarah met Ben")
    sarah, ben = register(store, "Sarah"), register(store, "Ben")
    store.replace_candidates([Candidate(s, 0, 5, "Sarah", "person", "registered", sarah),
                              Candidate(s, 10, 13, "Ben", "person", "registered", ben)])
    store.decide(AnonymisationDecision(sarah, s, 0, 5, Decision.ACCEPT))
    changes = store.delete_identifier(sarah)
    assert changes.ids("identifier", "removed") == (sarah,)
    assert len(changes.ids("decision", "removed")) == 1
    assert store.decisions() == []
    assert [c.identifier_id for c in store.candidates()] == [None, ben]
    assert store.originals() == {ben: "Ben"}
    entry = store.audit_log()[0]
    assert (entry.action, json.loads(entry.detail)) == (
        "identifier deleted", {"id": sarah, "category": "person", "replacement": "[Name 1]"})
    with pytest.raises(NotFoundError):
        store.delete_identifier(sarah)


def test_add_identifier_by_hash_still_works(store: Store) -> None:
    from study.model import Identifier
    id_ = store.add_identifier(Identifier("person", "[A]", "h1")).new_id("identifier")
    assert store.identifier(id_).original_hash == "h1"
    assert store.originals() == {}


# --- the scheme ------------------------------------------------------------------------------


def test_scheme_has_a_default_for_every_category(store: Store) -> None:
    scheme = store.replacement_scheme()
    assert set(scheme) == {c.value for c in Category}
    assert scheme == DEFAULT_TEMPLATES
    assert scheme["person"] == "[Name {n}]"
    assert scheme["family"] == "[Participant's {relation}]"
    assert scheme["nhs number"] == "[NHS number]"
    assert store.suggest_replacement("postcode") == "[Postcode]"
    assert store.suggest_replacement("email") == "[Email address]"
    assert store.suggest_replacement("role") == "[Job role]"


def test_family_falls_back_to_a_numbered_family_member(store: Store) -> None:
    assert store.suggest_replacement("family", {"relation": "son"}) == "[Participant's son]"
    assert store.suggest_replacement("family") == "[Family member 1]"
    register(store, "Tobias", "family")
    assert store.suggest_replacement("family", {"relation": ""}) == "[Family member 2]"


def test_templates_are_editable_with_attributes(store: Store) -> None:
    changes = store.set_replacement_template("place", "[{description}]")
    assert changes.kinds() == {"replacement_template", "audit"}
    assert store.replacement_scheme()["place"] == "[{description}]"
    assert store.suggest_replacement("place", {"description": "London borough"}) == \
        "[London borough]"
    assert store.suggest_replacement("place") == "[Place 1]"  # no description: the default
    store.set_replacement_template("role", "[{description} {n}]")
    assert store.suggest_replacement("role", {"description": "Social worker"}) == \
        "[Social worker 1]"
    store.set_replacement_template("place", "[Town {n}]")  # replaces, never duplicates
    assert store.replacement_scheme()["place"] == "[Town {n}]"
    store.set_replacement_template("hobby", "[Pastime {n}]")
    assert store.suggest_replacement("hobby") == "[Pastime 1]"
    assert store.suggest_replacement("unknown category") == "[Redacted 1]"
    entry = store.audit_log()[0]
    assert json.loads(entry.detail) == {"category": "hobby", "template": "[Pastime {n}]"}


@pytest.mark.parametrize("bad", ["Name {n}", "[{n.__class__}]", "[{n!r}]", "[{n:>5}]",
                                 "[Name {]", "[{0}]", "  "])
def test_bad_templates_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(ValidationError):
        store.set_replacement_template("person", bad)
    assert store.replacement_scheme()["person"] == "[Name {n}]"


# --- candidates and decisions ----------------------------------------------------------------


def test_replace_candidates_clears_and_inserts_in_one_go(store: Store) -> None:
    _, (a, b) = transcript(store, "Sarah rang Ben", "Ben again")
    sarah = register(store, "Sarah")
    first = store.replace_candidates([
        Candidate(b, 0, 3, "Ben", "person", "ner"),
        Candidate(a, 0, 5, "Sarah", "person", "registered", sarah),
        Candidate(a, 0, 5, "Sarah", "person", "ner"),  # the same span again: kept once
    ])
    assert len(first.ids("candidate")) == 2
    assert [(c.segment_id, c.start, c.text, c.source) for c in store.candidates()] == [
        (a, 0, "Sarah", "registered"), (b, 0, "Ben", "ner")]
    assert store.candidates(identifier_id=sarah)[0].text == "Sarah"
    assert [c.text for c in store.candidates(segment_id=b)] == ["Ben"]
    second = store.replace_candidates([Candidate(a, 11, 14, "Ben", "person", "propagated")])
    assert len(second.ids("candidate", "removed")) == 2
    assert [c.text for c in store.candidates()] == ["Ben"]
    entry = store.audit_log()[0]
    assert entry.action == "anonymisation candidates replaced"
    assert "Ben" not in entry.detail


def test_replace_candidates_refuses_stale_spans_and_changes_nothing(store: Store) -> None:
    _, (a,) = transcript(store, "Sarah rang")
    store.replace_candidates([Candidate(a, 0, 5, "Sarah", "person", "ner")])
    for bad in (Candidate(a, 0, 5, "Sally", "person", "ner"),
                Candidate(a, 5, 40, "x", "person", "ner"),
                Candidate(9999, 0, 1, "x", "person", "ner")):
        with pytest.raises(ValidationError):
            store.replace_candidates([bad])
        assert [c.text for c in store.candidates()] == ["Sarah"]


def test_replace_candidates_of_some_interviews_only(store: Store) -> None:
    _, (a,) = transcript(store, "Sarah rang", title="One")
    two, (b,) = transcript(store, "Ben rang", title="Two")
    store.replace_candidates([Candidate(a, 0, 5, "Sarah", "person", "ner"),
                              Candidate(b, 0, 3, "Ben", "person", "ner")])
    store.replace_candidates([Candidate(b, 4, 8, "rang", "other", "rule")], interview_ids=[two])
    assert [c.text for c in store.candidates()] == ["Sarah", "rang"]


def test_undecide_withdraws_a_decision(store: Store) -> None:
    _, (a,) = transcript(store, "Sarah rang")
    sarah = register(store, "Sarah")
    store.decide(AnonymisationDecision(sarah, a, 0, 5, Decision.ACCEPT))
    changes = store.undecide(a, 0, 5)
    assert len(changes.ids("decision", "removed")) == 1
    assert store.decisions() == []
    assert store.audit_log()[0].action == "anonymisation decision withdrawn"
    assert not store.undecide(a, 0, 5).ids("decision", "removed")


def test_no_runs_before_an_apply(store: Store) -> None:
    assert store.anonymisation_runs() == []
    assert not store.is_anonymised()


def test_audit_of_the_registry_never_holds_an_original(store: Store) -> None:
    _, (a,) = transcript(store, "Sarah Jones rang from Lambeth")
    sj = register(store, "Sarah Jones")
    lam = register(store, "Lambeth", "place", attributes={"description": "London borough"})
    store.set_replacement_template("place", "[{description}]")
    store.replace_candidates([Candidate(a, 0, 11, "Sarah Jones", "person", "registered", sj),
                              Candidate(a, 22, 29, "Lambeth", "place", "registered", lam)])
    store.decide(AnonymisationDecision(sj, a, 0, 11, Decision.ACCEPT))
    store.undecide(a, 0, 11)
    store.set_identifier_rule(lam, IdentifierRule.ALWAYS)
    store.delete_identifier(sj)
    text = audit_text(store).casefold()
    assert "sarah" not in text and "jones" not in text and "lambeth" not in text


# --- offset mapping --------------------------------------------------------------------------


def test_map_offset_moves_edges_inside_a_span_to_its_replacement_edges() -> None:
    # "I saw Sarah Jones today" -> "I saw [Name 1] today"
    swaps = [Swap(6, 17, 6, 14, "Sarah Jones", "[Name 1]")]
    assert [map_offset(swaps, p, end=False) for p in (0, 6, 8, 17, 18, 23)] == \
        [0, 6, 6, 14, 15, 20]
    assert [map_offset(swaps, p, end=True) for p in (6, 8, 17, 23)] == [6, 14, 14, 20]
    assert [map_offset(swaps, p, end=False, reverse=True) for p in (6, 9, 14, 20)] == \
        [6, 6, 17, 23]
    assert [map_offset(swaps, p, end=True, reverse=True) for p in (6, 9, 14, 20)] == \
        [6, 17, 17, 23]


def test_swap_back_finds_replacements_in_order() -> None:
    swaps = [Swap(0, 5, 0, 8, "Sarah", "[Name 1]"), Swap(10, 13, 13, 21, "Ben", "[Name 2]")]
    assert swap_back("Well, [Name 1] and [Name 2].", swaps) == ("Well, Sarah and Ben.", 0)
    assert swap_back("Only [Name 2] left", swaps) == ("Only Ben left", 1)
    assert swap_back("[Name 2] before [Name 1]", swaps) == ("[Name 2] before Sarah", 1)
