"""The export leak check: originals found by their salted hashes, whatever their form."""

from __future__ import annotations

import pytest

from analysis.leak_check import MASK, Leak, LeakChecker, LeakError, context
from study.errors import StudyError
from study.folder import Study
from study.identifiers import term_hash, word_count
from study.model import Identifier, IdentifierRule

SALT = "0123456789abcdef"


def checker(*terms: tuple[str, str]) -> LeakChecker:
    """A checker for (original, replacement) pairs, as a study's registry would hold them."""
    hashes = {}
    for n, (original, replacement) in enumerate(terms, 1):
        h = term_hash(SALT, original)
        hashes[h] = Identifier("person", replacement, h, (), n, IdentifierRule.ASK,
                               word_count(original))
    return LeakChecker(SALT, hashes)


@pytest.fixture
def names() -> LeakChecker:
    return checker(("Sarah Jones", "[Name 1]"), ("Sarah", "[Name 2]"),
                   ("sarah.jones@nhs.net", "[Email address]"), ("O'Brien", "[Name 3]"),
                   ("Mary-Jane", "[Name 4]"), ("s_jones@x.org", "[Email address]"))


def found(c: LeakChecker, text: str) -> list[str]:
    return [leak.text for leak in c.find(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("I met Sarah Jones today", ["Sarah Jones"]),
    ("then sarah jones's husband", ["sarah jones's"]),
    ("SARAH said so", ["SARAH"]),
    ("Sarah’s office", ["Sarah’s"]),
    ("rang Sarah\nJones at home", ["Sarah\nJones"]),
    ("rang Sarah  \r\n   Jones at home", ["Sarah  \r\n   Jones"]),
    ("(Sarah), and Sarah.", ["Sarah", "Sarah"]),
    ("write to sarah.jones@nhs.net please", ["sarah.jones@nhs.net"]),
    ("or to s_jones@x.org", ["s_jones@x.org"]),
    ("Mr O'Brien's car", ["O'Brien's"]),
    ("Mary-Jane came", ["Mary-Jane"]),
    ("sarah_jones_interview.m4a", ["sarah_jones"]),
])
def test_finds_originals_in_any_form(names: LeakChecker, text: str,
                                     expected: list[str]) -> None:
    assert found(names, text) == expected


@pytest.mark.parametrize("text", ["Sarahs and Jonesville", "Sarahjones", "Jones alone",
                                  "sara jones", "O'Briens", "", "   "])
def test_does_not_flag_other_words(names: LeakChecker, text: str) -> None:
    assert found(names, text) == []


def test_longest_registered_run_wins_and_leaks_do_not_overlap(names: LeakChecker) -> None:
    leaks = names.find("Sarah Jones and Sarah")
    assert leaks == [Leak(0, 11, "Sarah Jones", "person", "[Name 1]", 1),
                     Leak(16, 21, "Sarah", "person", "[Name 2]", 2)]


def test_empty_registry_finds_nothing() -> None:
    assert LeakChecker(SALT, {}).find("Sarah Jones") == []
    LeakChecker(SALT, {}).ensure_clean([("x", "Sarah Jones")])


def test_check_reports_location_and_masked_context(names: LeakChecker) -> None:
    text = "Well, I think the manager rang Sarah at the office, and later Sarah Jones came"
    reports = names.check([("Quote 3 (MHCC-2, 00:12:31)", text), ("Quote 4", "nothing here")])
    assert [r.location for r in reports] == ["Quote 3 (MHCC-2, 00:12:31)"] * 2
    first = reports[0]
    assert first.leak.text == "Sarah"
    assert first.context == f"…I think the manager rang {MASK} at the office, and later…"
    assert "Sarah" not in first.context
    assert MASK in reports[1].context and "Jones" not in reports[1].context


def test_context_at_the_edges_of_the_text() -> None:
    c = checker(("Sarah", "[Name 1]"))
    text = "Sarah rang"
    (leak,) = c.find(text)
    assert context(text, leak, [leak]) == f"{MASK} rang"


def test_ensure_clean_lists_up_to_ten_places(names: LeakChecker) -> None:
    parts = [(f"Quote {n}", f"and then Sarah said {n}") for n in range(1, 14)]
    with pytest.raises(LeakError) as info:
        names.ensure_clean(parts)
    error = info.value
    assert isinstance(error, StudyError)
    assert len(error.reports) == 13
    message = str(error)
    assert "13 original identifiers" in message
    assert "Quote 1: " in message and "Quote 10: " in message
    assert "Quote 11: " not in message
    assert "… and 3 more." in message
    assert "Sarah" not in message
    assert "[Name 2]" in message


def test_ensure_clean_accepts_clean_text_and_generators(names: LeakChecker) -> None:
    names.ensure_clean(("line", t) for t in ["[Name 1] rang", "Sarahs", "Jonesville"])


def test_for_store_leaves_out_identifiers_marked_never(study: Study) -> None:
    store = study.store
    store.register_identifier("Sarah", "person")
    jordan = store.register_identifier("Jordan", "place").new_id("identifier")
    store.set_identifier_rule(jordan, IdentifierRule.NEVER)
    c = LeakChecker.for_store(store)
    assert found(c, "Sarah went to Jordan") == ["Sarah"]
    assert c.salt == store.salt()


def test_speed_on_a_long_transcript(names: LeakChecker) -> None:
    import time
    text = "and so I said to the manager that we would need more time with them " * 2000
    started = time.perf_counter()
    assert names.find(text) == []
    assert time.perf_counter() - started < 2.0
