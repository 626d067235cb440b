"""Group comparison on a study small enough to count by hand.

The study (built by `hand_study`; every number below is counted from it in comments):

Participants: MHCC-1, MHCC-2, MHCC-3 (group MHCC), CFSW-1, CFSW-2 (group CFSW), X-1 (no
group: "(not set)"). Attribute "years": MHCC-1 2, MHCC-2 12, MHCC-3 2, CFSW-1 5, X-1 5,
CFSW-2 not set.

Codes, in codebook order: Risk, Risk › Escalation, Workload, Trust, Unused (no codings).
Themes: "Holding risk" = [Risk] (so Escalation too, as its sub-code), "Stretched" =
[Workload], "Relationships" = [Trust].

Interviews ([I] interviewer, [P] the participant's speaker, [-] no speaker):
  I1 MHCC-1, coded
    s0 [I] "How do you handle risk at work?"
    s1 [P] "We escalate risk to the team quickly."
    s2 [I] "And the workload?"
    s3 [P] "The workload is heavy every single week."
    c1 Risk        s1 "risk to the team quickly."            5 words
    c2 Escalation  s0 "handle risk at work?" -> s1 "We escalate risk"
                   spans question and answer: counts, 3 words of the answer
                   (4 more of the question only with include_interviewer)
    c3 Workload    s3 "workload is heavy"                     3 words
  I2 MHCC-2, coded
    s0 [I] "Tell me about trust and risk."
    s1 [P, not linked to a participant] "Trust takes time to build."
    c4 Risk        s0 "trust and risk"  interviewer speech only: MHCC-2 does not count
                   for Holding risk (3 words, only with include_interviewer)
    c5 Trust       s1 "Trust takes time to build."            5 words
  I3 MHCC-3, transcribed (left out by a filter on "coded")
    s0 [I] "What about workload?"
    s1 [P] "Workload never stops and risk grows."
    c6 Workload    s1 "Workload never stops and risk"          5 words
    c7 Risk        s1 "risk grows."                            2 words (overlaps c6)
  I4 CFSW-1, coded
    s0 [I] "How is the workload?"
    s1 [P] "Heavy, and escalation is slow."
    c8 Workload    s1 "Heavy,"                                  1 word
    c9 Escalation  s1 "escalation is slow."                     3 words
    c10 Workload   s1 "Heavy, and escalation is slow."          5 words (overlaps c8, c9)
  I5 CFSW-2, coded
    s0 [-] "I trust my manager."
    c11 Trust      s0 "trust my manager."                       3 words
  I6 X-1, coded
    s0 [P] "Risk is everywhere."
    c12 Risk       s0 "Risk is everywhere."                     3 words
  I7 "Team meeting", no participant, coded
    s0 [P, not linked] "Workload is fine."
    c13 Workload   s0 whole: belongs to nobody, left out with a warning
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from analysis.compare import (
    Cell,
    Comparison,
    compare,
    cooccurrence,
    natural_key,
    presence_matrix,
    quotes,
    to_rows,
)
from study.errors import ValidationError
from study.folder import Study
from study.model import (
    AttributeDef,
    AttributeType,
    Code,
    Coding,
    Interview,
    InterviewStatus,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Theme,
)
from study.store import Store
from study.store.queries import NOT_SET, format_value

Turn = tuple[str | None, str]  # (speaker label or None, text)


@dataclass
class Hand:
    """The ids of the hand-built study."""

    store: Store
    people: dict[str, int] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    themes: dict[str, int] = field(default_factory=dict)
    interviews: dict[str, int] = field(default_factory=dict)
    segments: dict[str, list[int]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    codings: dict[str, int] = field(default_factory=dict)
    starts: dict[str, list[int]] = field(default_factory=dict)

    def interview(self, name: str, participant: str | None, turns: list[Turn], *,
                  status: InterviewStatus = InterviewStatus.CODED,
                  linked: bool = True) -> None:
        """One interview; speakers are the interviewer and the participant (linked to
        the participant record when `linked`)."""
        pid = self.people[participant] if participant else None
        iid = self.store.add_interview(Interview(name, pid, dt.date(2025, 3, len(self.interviews)
                                                                    + 1), status=status)
                                       ).new_id("interview")
        voices: dict[str, int] = {}
        for label, _ in turns:
            if label is not None and label not in voices:
                role = SpeakerRole.INTERVIEWER if label == "Interviewer" else \
                    SpeakerRole.PARTICIPANT
                voices[label] = self.store.add_speaker(Speaker(
                    iid, label, role, pid if role is SpeakerRole.PARTICIPANT and linked
                    else None)).new_id("speaker")
        starts = [k * 10_000 for k in range(len(turns))]
        ids = self.store.add_segments(
            Segment(iid, k, starts[k], starts[k] + 9000, text,
                    voices[label] if label is not None else None)
            for k, (label, text) in enumerate(turns)).ids("segment")
        self.interviews[name] = iid
        self.segments[name] = list(ids)
        self.texts[name] = [text for _, text in turns]
        self.starts[name] = starts

    def code(self, name: str, code: str, interview: str, first: tuple[int, str],
             last: tuple[int, str] | None = None) -> None:
        """Code from the start of phrase first[1] in segment first[0] to the end of
        phrase last[1] in segment last[0] (the same phrase when last is None)."""
        last = last or first
        texts, ids = self.texts[interview], self.segments[interview]
        start = texts[first[0]].index(first[1])
        end = texts[last[0]].index(last[1]) + len(last[1])
        self.codings[name] = self.store.add_coding(Coding(
            self.codes[code], self.interviews[interview], ids[first[0]], start,
            ids[last[0]], end)).new_id("coding")


def hand_study(store: Store) -> Hand:
    h = Hand(store)
    store.add_attribute_def(AttributeDef("years", AttributeType.NUMBER))
    for code, group, years in (("MHCC-1", "MHCC", 2), ("MHCC-2", "MHCC", 12),
                               ("MHCC-3", "MHCC", 2), ("CFSW-1", "CFSW", 5),
                               ("CFSW-2", "CFSW", None), ("X-1", "", 5)):
        attrs = (("years", years),) if years is not None else ()
        h.people[code] = store.add_participant(Participant(code, group, attrs)
                                               ).new_id("participant")
    h.codes["Risk"] = store.add_code(Code("Risk", position=0)).new_id("code")
    h.codes["Escalation"] = store.add_code(Code("Escalation", h.codes["Risk"])).new_id("code")
    for n, name in enumerate(("Workload", "Trust", "Unused"), start=1):
        h.codes[name] = store.add_code(Code(name, position=n)).new_id("code")
    for n, (name, member) in enumerate((("Holding risk", "Risk"), ("Stretched", "Workload"),
                                        ("Relationships", "Trust"))):
        h.themes[name] = store.add_theme(Theme(name, code_ids=(h.codes[member],), position=n)
                                         ).new_id("theme")

    h.interview("I1", "MHCC-1", [("Interviewer", "How do you handle risk at work?"),
                                 ("MHCC-1", "We escalate risk to the team quickly."),
                                 ("Interviewer", "And the workload?"),
                                 ("MHCC-1", "The workload is heavy every single week.")])
    h.code("c1", "Risk", "I1", (1, "risk to the team quickly."))
    h.code("c2", "Escalation", "I1", (0, "handle risk at work?"), (1, "We escalate risk"))
    h.code("c3", "Workload", "I1", (3, "workload is heavy"))
    h.interview("I2", "MHCC-2", [("Interviewer", "Tell me about trust and risk."),
                                 ("MHCC-2", "Trust takes time to build.")], linked=False)
    h.code("c4", "Risk", "I2", (0, "trust and risk"))
    h.code("c5", "Trust", "I2", (1, "Trust takes time to build."))
    h.interview("I3", "MHCC-3", [("Interviewer", "What about workload?"),
                                 ("MHCC-3", "Workload never stops and risk grows.")],
                status=InterviewStatus.TRANSCRIBED)
    h.code("c6", "Workload", "I3", (1, "Workload never stops and risk"))
    h.code("c7", "Risk", "I3", (1, "risk grows."))
    h.interview("I4", "CFSW-1", [("Interviewer", "How is the workload?"),
                                 ("CFSW-1", "Heavy, and escalation is slow.")])
    h.code("c8", "Workload", "I4", (1, "Heavy,"))
    h.code("c9", "Escalation", "I4", (1, "escalation is slow."))
    h.code("c10", "Workload", "I4", (1, "Heavy, and escalation is slow."))
    h.interview("I5", "CFSW-2", [(None, "I trust my manager.")])
    h.code("c11", "Trust", "I5", (0, "trust my manager."))
    h.interview("I6", "X-1", [("X-1", "Risk is everywhere.")])
    h.code("c12", "Risk", "I6", (0, "Risk is everywhere."))
    h.interview("Team meeting", None, [("Someone", "Workload is fine.")])
    h.code("c13", "Workload", "Team meeting", (0, "Workload is fine."))
    return h


@pytest.fixture
def hand(study: Study) -> Hand:
    return hand_study(study.store)


def cells(c: Comparison, label: str) -> dict[str, tuple[int, int, float, int, int]]:
    """A row's cells as group -> (k, n, % rounded to 0.1, references, words), with the
    total under "All"."""
    row = next(r for r in c.rows if r.label == label)
    found = {g.name: cell for g, cell in zip(c.groups, row.cells, strict=True)}
    found["All"] = row.total

    def flat(cell: Cell) -> tuple[int, int, float, int, int]:
        return (cell.k, cell.n, round(cell.percent, 1), cell.references, cell.words)

    return {name: flat(cell) for name, cell in found.items()}


# --- the store's queries ------------------------------------------------------------------------


def test_coded_portions_cut_codings_at_segments(hand: Hand) -> None:
    portions = hand.store.coded_portions(with_text=True)
    # One portion per coding per covered segment: c2 covers two segments, the rest one.
    assert len(portions) == 14
    c2 = sorted((p for p in portions if p.coding_id == hand.codings["c2"]),
                key=lambda p: p.position)
    question, answer = c2
    assert (question.segment_id, question.speaker_role, question.words, question.text) == (
        hand.segments["I1"][0], SpeakerRole.INTERVIEWER, 4, "handle risk at work?")
    assert question.speaker_participant_id is None
    assert question.interview_participant_id == hand.people["MHCC-1"]
    assert (question.start, question.end) == (11, 31)
    assert (answer.segment_id, answer.speaker_role, answer.words, answer.text) == (
        hand.segments["I1"][1], SpeakerRole.PARTICIPANT, 3, "We escalate risk")
    assert (answer.start, answer.end, answer.start_ms) == (0, 16, 10_000)
    assert answer.speaker_participant_id == hand.people["MHCC-1"]
    assert answer.speaker_label == "MHCC-1"
    unspoken = next(p for p in portions if p.coding_id == hand.codings["c11"])
    assert (unspoken.speaker_role, unspoken.speaker_participant_id, unspoken.words) == (
        None, None, 3)
    # Without text, the same portions with the label and text left empty.
    plain = hand.store.coded_portions()
    assert sorted((p.coding_id, p.segment_id, p.words) for p in plain) == sorted(
        (p.coding_id, p.segment_id, p.words) for p in portions)
    assert {p.text for p in plain} == {""}


def test_coded_portions_filter_by_status_and_code(hand: Hand) -> None:
    coded = hand.store.coded_portions(statuses={InterviewStatus.CODED})
    assert hand.interviews["I3"] not in {p.interview_id for p in coded}
    assert len(coded) == 12  # c6 and c7 (I3, transcribed) left out
    trust = hand.store.coded_portions(code_ids=[hand.codes["Trust"]])
    assert sorted(p.coding_id for p in trust) == [hand.codings["c5"], hand.codings["c11"]]
    assert hand.store.coded_portions(statuses=()) == []


def test_participant_attribute_values(hand: Hand) -> None:
    store, people = hand.store, hand.people
    groups = store.participant_attribute_values("group")
    assert groups[people["MHCC-2"]] == "MHCC"
    assert groups[people["X-1"]] == NOT_SET == "(not set)"
    years = store.participant_attribute_values("years")
    assert [years[people[c]] for c in ("MHCC-1", "MHCC-2", "CFSW-1", "CFSW-2")] == [
        "2", "12", "5", "(not set)"]
    assert len(years) == 6
    with pytest.raises(ValidationError, match="no participant attribute called 'site'"):
        store.participant_attribute_values("site")
    assert format_value(AttributeType.NUMBER, "2.5") == "2.5"
    assert format_value(AttributeType.BOOLEAN, "1") == "yes"
    assert format_value(AttributeType.DATE, "2020-05-01") == "2020-05-01"


def test_interviews_by_participant(hand: Hand) -> None:
    heard = hand.store.interviews_by_participant()
    assert heard[hand.people["MHCC-3"]] == (hand.interviews["I3"],)
    assert len(heard) == 6  # the team meeting has nobody
    coded = hand.store.interviews_by_participant(statuses=[InterviewStatus.CODED])
    assert hand.people["MHCC-3"] not in coded


# --- the comparison -------------------------------------------------------------------------------


def test_themes_by_group(hand: Hand) -> None:
    c = compare(hand.store)
    # Groups in natural order, "(not set)" last; n = participants with an interview.
    assert [(g.name, g.n) for g in c.groups] == [("CFSW", 2), ("MHCC", 3), ("(not set)", 1)]
    assert [r.label for r in c.rows] == ["Holding risk", "Stretched", "Relationships"]
    assert {r.kind for r in c.rows} == {"theme"}
    # Holding risk = Risk + Escalation (a sub-code):
    #   CFSW: CFSW-1 c9 (3 words)                            -> 1/2, 1 ref, 3 words
    #   MHCC: MHCC-1 c1 (5) + c2 (3 of the answer only);
    #         MHCC-2 only in the interviewer's question (c4): not counted;
    #         MHCC-3 c7 (2)                                   -> 2/3, 3 refs, 10 words
    #   (not set): X-1 c12 (3)                                -> 1/1, 1 ref, 3 words
    #   All: 4/6, 5 refs, 16 words
    assert cells(c, "Holding risk") == {
        "CFSW": (1, 2, 50.0, 1, 3), "MHCC": (2, 3, 66.7, 3, 10),
        "(not set)": (1, 1, 100.0, 1, 3), "All": (4, 6, 66.7, 5, 16)}
    # Stretched = Workload: CFSW-1 c8 (1) + c10 (5); MHCC-1 c3 (3); MHCC-3 c6 (5);
    # the team meeting's c13 belongs to nobody.
    assert cells(c, "Stretched") == {
        "CFSW": (1, 2, 50.0, 2, 6), "MHCC": (2, 3, 66.7, 2, 8),
        "(not set)": (0, 1, 0.0, 0, 0), "All": (3, 6, 50.0, 4, 14)}
    # Relationships = Trust: MHCC-2 c5 (5, an unlinked participant speaker: the
    # interview's participant); CFSW-2 c11 (3, a segment with no speaker).
    assert cells(c, "Relationships") == {
        "CFSW": (1, 2, 50.0, 1, 3), "MHCC": (1, 3, 33.3, 1, 5),
        "(not set)": (0, 1, 0.0, 0, 0), "All": (2, 6, 33.3, 2, 8)}
    holding = c.rows[0]
    mhcc = holding.cells[1]
    assert mhcc.participant_ids == (hand.people["MHCC-1"], hand.people["MHCC-3"])
    assert holding.total.participant_ids == tuple(
        hand.people[p] for p in ("CFSW-1", "MHCC-1", "MHCC-3", "X-1"))
    assert c.groups[1].participant_ids == tuple(hand.people[p] for p in
                                                ("MHCC-1", "MHCC-2", "MHCC-3"))


def test_interviewer_speech_counts_only_when_asked(hand: Hand) -> None:
    c = compare(hand.store, include_interviewer=True)
    assert c.include_interviewer
    # MHCC now: MHCC-1 c1 (5) + c2 (4 of the question + 3 of the answer);
    # MHCC-2 c4 (3, the interviewer's words); MHCC-3 c7 (2) -> 3/3, 4 refs, 17 words.
    assert cells(c, "Holding risk")["MHCC"] == (3, 3, 100.0, 4, 17)
    assert cells(c, "Holding risk")["All"] == (5, 6, 83.3, 6, 23)
    # The team meeting still belongs to nobody.
    assert cells(c, "Stretched")["All"] == (3, 6, 50.0, 4, 14)


def test_status_filter_leaves_interviews_out(hand: Hand) -> None:
    c = compare(hand.store, statuses={InterviewStatus.CODED})
    assert c.statuses == frozenset({InterviewStatus.CODED})
    # I3 (MHCC-3) is only transcribed: MHCC has n = 2, and c6, c7 go.
    assert [(g.name, g.n) for g in c.groups] == [("CFSW", 2), ("MHCC", 2), ("(not set)", 1)]
    assert cells(c, "Holding risk")["MHCC"] == (1, 2, 50.0, 2, 8)
    assert cells(c, "Stretched")["MHCC"] == (1, 2, 50.0, 1, 3)
    assert cells(c, "Holding risk")["All"] == (3, 5, 60.0, 4, 14)
    none = compare(hand.store, statuses=[InterviewStatus.RECORDED])
    assert none.groups == ()
    assert none.warnings == ("No participant has an interview that passes the filter.",)
    assert [r.total.n for r in none.rows] == [0, 0, 0]


def test_sub_codes_only_when_asked(hand: Hand) -> None:
    c = compare(hand.store, include_subcodes=False)
    # Holding risk = Risk alone: MHCC-1 c1 (5), MHCC-3 c7 (2); CFSW-1's c9 is Escalation.
    assert cells(c, "Holding risk")["MHCC"] == (2, 3, 66.7, 2, 7)
    assert cells(c, "Holding risk")["CFSW"] == (0, 2, 0.0, 0, 0)


def test_codes_by_group_in_codebook_order(hand: Hand) -> None:
    c = compare(hand.store, rows="codes")
    assert c.row_kind == "code"
    assert [(r.kind, r.label) for r in c.rows] == [
        ("code", "Risk"), ("code", "Risk › Escalation"), ("code", "Workload"),
        ("code", "Trust"), ("code", "Unused")]
    # Risk takes in its sub-code, so it matches the theme built on it.
    assert cells(c, "Risk") == cells(compare(hand.store), "Holding risk")
    # Escalation: MHCC-1 c2 (3 words of the answer), CFSW-1 c9 (3).
    assert cells(c, "Risk › Escalation")["All"] == (2, 6, 33.3, 2, 6)
    assert cells(c, "Unused")["All"] == (0, 6, 0.0, 0, 0)
    only = compare(hand.store, rows="codes", include_subcodes=False)
    assert cells(only, "Risk")["All"] == (3, 6, 50.0, 3, 10)  # c1 5, c7 2, c12 3


def test_small_groups_and_other_warnings(hand: Hand) -> None:
    c = compare(hand.store)
    assert [g.name for g in c.small_groups()] == ["CFSW", "MHCC", "(not set)"]
    assert c.warnings == (
        "CFSW has 2 participants: read its percentages with care",
        "MHCC has 3 participants: read its percentages with care",
        "(not set) has 1 participant: read its percentages with care",
        'The interview "Team meeting" has no participant: its speech not linked to a '
        "participant is left out.")
    three = compare(hand.store, small_n=3)
    assert [g.name for g in three.small_groups()] == ["CFSW", "(not set)"]
    assert "MHCC has" not in " ".join(three.warnings)
    assert not [w for w in compare(hand.store, small_n=1).warnings if "care" in w]


def test_compare_by_a_typed_attribute(hand: Hand) -> None:
    c = compare(hand.store, by="years")
    assert c.attribute == "years"
    # Natural order (2, 5, 12), not text order; CFSW-2 has no value.
    assert [(g.name, g.n) for g in c.groups] == [("2", 2), ("5", 2), ("12", 1),
                                                 ("(not set)", 1)]
    # Holding risk: "2" = MHCC-1 (5 + 3) and MHCC-3 (2); "5" = CFSW-1 (3) and X-1 (3).
    assert cells(c, "Holding risk") == {
        "2": (2, 2, 100.0, 3, 10), "5": (2, 2, 100.0, 2, 6), "12": (0, 1, 0.0, 0, 0),
        "(not set)": (0, 1, 0.0, 0, 0), "All": (4, 6, 66.7, 5, 16)}


def test_choice_groups_follow_the_choices(study: Study) -> None:
    store = study.store
    store.add_attribute_def(AttributeDef("site", AttributeType.CHOICE, ("South", "North")))
    for code, site in (("A-1", "North"), ("A-2", "South")):
        pid = store.add_participant(Participant(code, attributes=(("site", site),))
                                    ).new_id("participant")
        store.add_interview(Interview(code, pid))
    assert [g.name for g in compare(store, by="site").groups] == ["South", "North"]


def test_bad_options(hand: Hand) -> None:
    with pytest.raises(ValidationError):
        compare(hand.store, by="nonsense")
    with pytest.raises(ValueError, match="themes"):
        compare(hand.store, rows="participants")


def test_to_rows(hand: Hand) -> None:
    table = to_rows(compare(hand.store))
    assert table[0][:6] == ["Theme", "CFSW k", "CFSW n", "CFSW %", "CFSW references",
                            "CFSW words"]
    assert table[0][-5:] == ["All k", "All n", "All %", "All references", "All words"]
    assert len(table[0]) == 1 + 5 * 4
    assert table[1][0] == "Holding risk"
    assert table[1][1:6] == ["1", "2", "50.0", "1", "3"]
    assert table[1][-5:] == ["4", "6", "66.7", "5", "16"]
    assert len(table) == 4
    assert to_rows(compare(hand.store, rows="codes"))[0][0] == "Code"


def test_a_joint_interview_counts_each_voice_for_its_own_participant(study: Study) -> None:
    """Speakers linked to participants own their speech, even in another's interview; a
    coding across both voices counts once in a total, with each voice's words."""
    store = study.store
    a = store.add_participant(Participant("A-1", "A")).new_id("participant")
    b = store.add_participant(Participant("B-1", "B")).new_id("participant")
    code = store.add_code(Code("Care")).new_id("code")
    iid = store.add_interview(Interview("Joint", a)).new_id("interview")
    voices = [store.add_speaker(Speaker(iid, label, SpeakerRole.PARTICIPANT, who)
                                ).new_id("speaker") for label, who in (("A-1", a), ("B-1", b))]
    s1, s2 = store.add_segments([Segment(iid, 0, 0, 900, "one two three", voices[0]),
                                 Segment(iid, 1, 1000, 1900, "four five", voices[1])]
                                ).ids("segment")
    coding = store.add_coding(Coding(code, iid, s1, 4, s2, 9)).new_id("coding")
    c = compare(store, rows="codes")
    # B-1 has no interview of their own but is heard here, so counts in B's n.
    assert [(g.name, g.n) for g in c.groups] == [("A", 1), ("B", 1)]
    assert cells(c, "Care") == {"A": (1, 1, 100.0, 1, 2), "B": (1, 1, 100.0, 1, 2),
                                "All": (2, 2, 100.0, 1, 4)}
    found = quotes(store, kind="code", row_id=code, group=None)
    assert [(q.participant_code, q.text, q.start_ms, q.speaker_label) for q in found] == [
        ("A-1", "two three", 0, "A-1"), ("B-1", "four five", 1000, "B-1")]
    assert {q.coding.id for q in found} == {coding}
    assert [q.text for q in quotes(store, kind="code", row_id=code, group="B")] == [
        "four five"]


# --- participants by rows, and co-occurrence -------------------------------------------------


def test_presence_matrix(hand: Hand) -> None:
    m = presence_matrix(hand.store)
    assert [(code, group) for _, code, group in m.participants] == [
        ("CFSW-1", "CFSW"), ("CFSW-2", "CFSW"), ("MHCC-1", "MHCC"), ("MHCC-2", "MHCC"),
        ("MHCC-3", "MHCC"), ("X-1", "(not set)")]
    assert [label for _, _, label in m.rows] == ["Holding risk", "Stretched", "Relationships"]
    # References per participant: Holding risk, Stretched, Relationships.
    assert m.counts == (
        (1, 2, 0),  # CFSW-1: c9; c8, c10
        (0, 0, 1),  # CFSW-2: c11
        (2, 1, 0),  # MHCC-1: c1, c2; c3
        (0, 0, 1),  # MHCC-2: (c4 is the interviewer's); c5
        (1, 1, 0),  # MHCC-3: c7; c6
        (1, 0, 0),  # c12
    )
    loud = presence_matrix(hand.store, include_interviewer=True, rows="codes",
                           statuses={InterviewStatus.CODED})
    assert [code for _, code, _ in loud.participants] == ["CFSW-1", "CFSW-2", "MHCC-1",
                                                          "MHCC-2", "X-1"]
    # Codes: Risk (with Escalation), Escalation, Workload, Trust, Unused.
    assert loud.counts[3] == (1, 0, 0, 1, 0)  # MHCC-2: c4 now counts; c5
    assert loud.counts[2] == (2, 1, 1, 0, 0)  # MHCC-1: c1, c2; c2; c3


def test_cooccurrence(hand: Hand) -> None:
    co = cooccurrence(hand.store)
    assert [label for _, label in co.codes] == ["Risk", "Risk › Escalation", "Workload",
                                                "Trust", "Unused"]
    # Diagonal: codings in counting speech (Risk: c1, c7, c12 - not c4, the
    # interviewer's; Escalation: c2, c9; Workload: c3, c6, c8, c10 - not c13, nobody's;
    # Trust: c5, c11). Overlaps: c1/c2 on "risk" in I1 s1 (Risk-Escalation), c6/c7 on
    # "risk" (Workload-Risk), c9/c10 (Escalation-Workload); c8/c10 are both Workload.
    assert co.counts == (
        (3, 1, 1, 0, 0),
        (1, 2, 1, 0, 0),
        (1, 1, 4, 0, 0),
        (0, 0, 0, 2, 0),
        (0, 0, 0, 0, 0),
    )
    assert cooccurrence(hand.store, include_interviewer=True).counts[0][0] == 4  # c4 too
    filtered = cooccurrence(hand.store, statuses={InterviewStatus.CODED})
    assert filtered.counts[0][:3] == (2, 1, 0)  # I3's c6/c7 overlap is gone


def test_codings_that_only_touch_do_not_cooccur(study: Study) -> None:
    store = study.store
    pid = store.add_participant(Participant("P-1")).new_id("participant")
    a, b, c = (store.add_code(Code(n)).new_id("code") for n in "ABC")
    iid = store.add_interview(Interview("One", pid)).new_id("interview")
    s1, s2 = store.add_segments([Segment(iid, 0, 0, 900, "alpha beta"),
                                 Segment(iid, 1, 1000, 1900, "gamma delta")]).ids("segment")
    store.add_coding(Coding(a, iid, s1, 0, s1, 5))  # "alpha"
    store.add_coding(Coding(b, iid, s1, 5, s2, 5))  # " beta" .. "gamma": touches A
    store.add_coding(Coding(c, iid, s2, 0, s2, 11))  # "gamma delta": overlaps B in s2
    store.add_coding(Coding(c, iid, s1, 10, s2, 0))  # an empty tail and head: nothing
    co = cooccurrence(store)
    assert co.counts == ((1, 0, 0), (0, 1, 1), (0, 1, 1))


# --- quotes -----------------------------------------------------------------------------------


def test_quotes_behind_a_cell(hand: Hand) -> None:
    store = hand.store
    theme = hand.themes["Holding risk"]
    found = quotes(store, kind="theme", row_id=theme, group="MHCC")
    # MHCC-1 first, in time order (c2's answer starts the segment, before c1), then MHCC-3;
    # MHCC-2's c4 is the interviewer's, so not theirs.
    assert [(q.participant_code, q.group, q.text, q.start_ms, q.speaker_label)
            for q in found] == [
        ("MHCC-1", "MHCC", "We escalate risk", 10_000, "MHCC-1"),
        ("MHCC-1", "MHCC", "risk to the team quickly.", 10_000, "MHCC-1"),
        ("MHCC-3", "MHCC", "risk grows.", 10_000, "MHCC-3")]
    assert [q.coding.id for q in found] == [hand.codings[c] for c in ("c2", "c1", "c7")]
    first = found[1]
    assert first.coding == store.codings(code_id=hand.codes["Risk"])[0]
    assert first.text == store.coded_text(first.coding)
    assert (first.interview_id, first.interview_title) == (hand.interviews["I1"], "I1")
    assert first.participant_id == hand.people["MHCC-1"]
    # A cell's quotes are as many as its references.
    cell = cells(compare(store), "Holding risk")["MHCC"]
    assert len(found) == cell[3]
    # The row's total: every group, participants in study-code order.
    everyone = quotes(store, kind="theme", row_id=theme, group=None)
    assert [(q.participant_code, q.text) for q in everyone] == [
        ("CFSW-1", "escalation is slow."), ("MHCC-1", "We escalate risk"),
        ("MHCC-1", "risk to the team quickly."), ("MHCC-3", "risk grows."),
        ("X-1", "Risk is everywhere.")]
    assert quotes(store, kind="theme", row_id=theme, group="Nobody") == []
    assert quotes(store, kind="theme", row_id=9999, group=None) == []


def test_quotes_with_interviewer_speech_and_filters(hand: Hand) -> None:
    store = hand.store
    theme = hand.themes["Holding risk"]
    loud = quotes(store, kind="theme", row_id=theme, group="MHCC", include_interviewer=True)
    assert [(q.participant_code, q.text, q.start_ms, q.speaker_label) for q in loud] == [
        ("MHCC-1", "handle risk at work? We escalate risk", 0, "Interviewer"),
        ("MHCC-1", "risk to the team quickly.", 10_000, "MHCC-1"),
        ("MHCC-2", "trust and risk", 0, "Interviewer"),
        ("MHCC-3", "risk grows.", 10_000, "MHCC-3")]
    assert loud[0].text == store.coded_text(loud[0].coding)
    coded = quotes(store, kind="theme", row_id=theme, group="MHCC",
                   statuses={InterviewStatus.CODED}, include_subcodes=False)
    assert [q.text for q in coded] == ["risk to the team quickly."]
    by_code = quotes(store, kind="code", row_id=hand.codes["Risk"], group="(not set)")
    assert [(q.participant_code, q.group) for q in by_code] == [("X-1", "(not set)")]
    by_years = quotes(store, kind="theme", row_id=theme, group="5", by="years")
    assert [q.participant_code for q in by_years] == ["CFSW-1", "X-1"]


def test_natural_key() -> None:
    assert sorted(["MHCC-10", "mhcc-2", "CFSW-1", "MHCC-1"], key=natural_key) == [
        "CFSW-1", "MHCC-1", "mhcc-2", "MHCC-10"]
