"""A synthetic study at the size the quality bars name: 100 interviews, about a million
words and 20,000 codings (DESIGN.md section 7), for benchmarks and scale tests.

Participants MHCC-n and CFSW-n (about 70/30) with an "agency" choice attribute; one
interview each, interviewer and participant taking turns of generated English; about 60
codes in two levels, 5 themes, and codings spread over the interviews, interview 1 with
500 of them (some across two segments). Everything is written through the store in one
transaction. Seeded, so the same arguments always give the same study.

Run as a script it builds into FOLDER (or a temporary folder) and prints one JSON line of
counts and build seconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script, this folder must not shadow the packages
    sys.path[:1] = [str(ROOT)]

from study.folder import create_study, open_study  # noqa: E402
from study.model import (  # noqa: E402
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
    ThemeStatus,
)
from study.store import Store  # noqa: E402

BUSIEST = 500  # codings in interview 1: the "interview with 500 codings" of the bars
MS_PER_WORD = 400  # about 150 words a minute


def _vocabulary(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Function words repeat, so they come up about as often as in speech.
FUNCTION_WORDS = _vocabulary(
    "the the the and and and I I I we we to to to a a of of it it was was that that "
    "they they you you know just really so but with for on in in about because then "
    "there there when what if my our their his her me us them not no all very quite "
    "bit more much had have has been be is are were do did can could would will "
    "said say says like mean think felt feel got get going went came come back up out"
)
CONTENT_WORDS = _vocabulary(
    "staff family families social worker workers school schools referral support team "
    "teams meeting meetings plan plans child children mum dad parent parents care home "
    "service services time week weeks visit visits case cases manager court "
    "safeguarding assessment nurse doctor ward hospital appointment letter phone call "
    "email duty office agency agencies colleague colleagues supervision training "
    "caseload paperwork system record records review reviews concern concerns risk "
    "trust relationship relationships worry stress pressure budget funding housing "
    "benefits school-nurse health visitor therapist therapy medication crisis "
    "weekend evening morning night shift shifts handover partner partners police "
    "youth carer carers foster placement placements contact sister brother grandmother "
    "neighbour community church group groups session sessions waiting list months "
    "years day days decision decisions information consent confidential advice help "
    "difficult hard easy honest open frustrating exhausting busy quiet safe unsafe "
    "worried anxious angry tired supported listened ignored heard valued respected "
    "together properly straight away eventually somehow honestly basically actually "
    "rang wrote emailed chased escalated visited explained asked told listened agreed "
    "refused struggled managed coped waited worked helped changed stopped started"
)
INTERVIEWER_OPENERS = (
    "Can you tell me about", "How did you feel about", "What happened with",
    "Could you say more about", "What was it like when", "How often did you see",
    "Who did you talk to about", "What made the difference with",
)
CODEBOOK = {
    "Access to services": ["Waiting lists", "Referral routes", "Thresholds", "Out of hours"],
    "Working relationships": ["Trust", "Communication", "Shared language", "Conflict"],
    "Workload": ["Caseload size", "Paperwork", "Time pressure", "Staffing gaps"],
    "Safeguarding": ["Risk assessment", "Escalation", "Information sharing", "Consent"],
    "Family experience": ["Feeling heard", "Stigma", "Continuity", "Practical help"],
    "Professional identity": ["Role clarity", "Values", "Confidence", "Boundaries"],
    "Support for staff": ["Supervision", "Training", "Peer support", "Wellbeing"],
    "Systems and records": ["Case records", "IT systems", "Data protection", "Handover"],
    "Partnership working": ["Joint visits", "Meetings", "Lead professional", "Pathways"],
    "Emotional labour": ["Stress", "Burnout", "Moral distress", "Coping"],
    "Organisational change": ["Restructuring", "Funding", "Commissioning", "Policy"],
    "Outcomes": ["Improvement", "Crisis", "Placement stability", "Independence"],
}
THEMES = (
    ("Holding risk together", ThemeStatus.FINAL, ["Safeguarding", "Escalation", "Trust"]),
    ("Stretched thin", ThemeStatus.REVIEWED, ["Workload", "Time pressure", "Stress"]),
    ("Being heard", ThemeStatus.REVIEWED, ["Feeling heard", "Communication", "Values"]),
    ("Doors that open and close", ThemeStatus.CANDIDATE,
     ["Access to services", "Waiting lists", "Thresholds", "Pathways"]),
    ("Learning on the job", ThemeStatus.CANDIDATE, ["Support for staff", "Supervision",
                                                    "Confidence"]),
)
COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
           "#ff9da7", "#9c755f", "#bab0ac", "#2f4b7c", "#a05195")


def size_from_environment() -> dict[str, int]:
    """The study size a benchmark builds: 100 interviews, 10,000 words and 200 codings each,
    unless INTERVIEWS, WORDS or CODINGS say otherwise (the smoke tests shrink it)."""
    interviews = int(os.environ.get("INTERVIEWS", "100"))
    return {"interviews": interviews,
            "words": int(os.environ.get("WORDS", str(interviews * 10_000))),
            "codings": int(os.environ.get("CODINGS", str(interviews * 200)))}


def build_large_study(path: Path, *, interviews: int = 100, words: int = 1_000_000,
                      codings: int = 20_000, seed: int = 0) -> Path:
    """Create the study at `path` and return its folder.

    Interview 1 gets 500 codings (or half of `codings` when that is fewer; all of them
    when there is one interview); the rest are shared evenly by the other interviews.
    """
    rng = random.Random(seed)
    study = create_study(path, name="Synthetic study")
    with study:
        store = study.store
        with store.write():
            store.add_attribute_def(AttributeDef("agency", AttributeType.CHOICE,
                                                 ("MHCC", "CFSW")))
            code_ids = _add_codebook(store)
            quotas = _coding_quotas(interviews, codings)
            for n, (code, agency) in enumerate(_participants(interviews)):
                per_interview = words // interviews + (n < words % interviews)
                _add_interview(store, rng, n, code, agency, per_interview, quotas[n], code_ids)
        return study.folder.root


def _participants(count: int) -> Iterator[tuple[str, str]]:
    mhcc = round(count * 0.7)
    for n in range(count):
        yield (f"MHCC-{n + 1}", "MHCC") if n < mhcc else (f"CFSW-{n - mhcc + 1}", "CFSW")


def _coding_quotas(interviews: int, codings: int) -> list[int]:
    if interviews == 1:
        return [codings]
    first = min(BUSIEST, codings // 2)
    share, extra = divmod(codings - first, interviews - 1)
    return [first] + [share + (n < extra) for n in range(interviews - 1)]


def _add_codebook(store: Store) -> list[int]:
    """Parents and children, with the themes; returns the ids codings may use."""
    ids: dict[str, int] = {}
    for p, (parent, children) in enumerate(CODEBOOK.items()):
        parent_id = store.add_code(Code(parent, colour=COLOURS[p], position=p,
                                        definition=f"Anything about {parent.lower()}.")
                                   ).new_id("code")
        ids[parent] = parent_id
        for c, child in enumerate(children):
            ids[child] = store.add_code(Code(child, parent_id, colour=COLOURS[p],
                                             position=c)).new_id("code")
    for t, (name, status, members) in enumerate(THEMES):
        store.add_theme(Theme(name, f"Codes that speak of {name.lower()}.", status,
                              tuple(ids[m] for m in members), t))
    return list(ids.values())


def _sentence(rng: random.Random, length: int) -> list[str]:
    words = [rng.choice(FUNCTION_WORDS) if rng.random() < 0.55 else rng.choice(CONTENT_WORDS)
             for _ in range(length)]
    words[0] = words[0].capitalize()
    words[-1] += rng.choice("......?!") if length > 3 else "."
    return words


def _turn(rng: random.Random, length: int, interviewer: bool) -> str:
    """One segment of `length` words: sentences of 4 to 15 words."""
    words: list[str] = []
    if interviewer:  # a question first: "How did you feel about the referral?"
        words = rng.choice(INTERVIEWER_OPENERS).split()
        words += ["the", *rng.sample(CONTENT_WORDS, 2)][:max(1, length - len(words))]
        words = words[:length]
        words[-1] += "?"
    while len(words) < length:
        words += _sentence(rng, min(length - len(words), rng.randint(4, 15)))
    if words[-1][-1] not in ".?!,":
        words[-1] += "?" if interviewer else "."
    return " ".join(words)


def _turns(rng: random.Random, words: int) -> list[tuple[int, int, str]]:
    """(start ms, end ms, text) of each turn, the interviewer first, until `words`."""
    turns: list[tuple[int, int, str]] = []
    clock, left = 0, words
    while left > 0:
        interviewer = len(turns) % 2 == 0
        length = min(left, rng.randint(10, 25) if interviewer else rng.randint(10, 60))
        end = clock + length * MS_PER_WORD
        turns.append((clock, end, _turn(rng, length, interviewer)))
        clock, left = end + rng.randint(200, 1500), left - length
    return turns


def _add_interview(store: Store, rng: random.Random, n: int, code: str, agency: str,
                   words: int, quota: int, code_ids: list[int]) -> None:
    pid = store.add_participant(Participant(code, agency, (("agency", agency),))
                                ).new_id("participant")
    turns = _turns(rng, words)
    iid = store.add_interview(Interview(
        f"Interview with {code}", pid, dt.date(2025, 1, 6) + dt.timedelta(days=3 * n),
        duration_ms=turns[-1][1] if turns else 0,
        status=InterviewStatus.CODED if quota else InterviewStatus.TRANSCRIBED)
    ).new_id("interview")
    voices = (store.add_speaker(Speaker(iid, "Interviewer", SpeakerRole.INTERVIEWER)
                                ).new_id("speaker"),
              store.add_speaker(Speaker(iid, code, SpeakerRole.PARTICIPANT, pid)
                                ).new_id("speaker"))
    ids = list(store.add_segments(
        Segment(iid, k, start, end, text, voices[k % 2])
        for k, (start, end, text) in enumerate(turns)).ids("segment"))
    bounds = [[m.span() for m in re.finditer(r"\S+", text)] for _, _, text in turns]
    for _ in range(quota):
        k = rng.randrange(len(ids))
        first = rng.randrange(len(bounds[k]))
        if k + 1 < len(ids) and rng.random() < 0.1:  # across two segments
            last_seg, last = k + 1, rng.randrange(min(8, len(bounds[k + 1])))
        else:
            last_seg, last = k, min(len(bounds[k]) - 1, first + rng.randint(0, 14))
        store.add_coding(Coding(rng.choice(code_ids), iid, ids[k], bounds[k][first][0],
                                ids[last_seg], bounds[last_seg][last][1]))


def counts(root: Path) -> dict[str, int]:
    """What a built study holds, for the JSON line and the tests."""
    with open_study(root, backup=False) as study:
        store = study.store
        summaries = store.interview_summaries()
        by_interview = {s.interview.id: s.coding_count for s in summaries}
        return {
            "participants": len(store.participants()),
            "interviews": len(summaries),
            "segments": sum(s.segment_count for s in summaries),
            "words": sum(s.word_count for s in summaries),
            "codes": len(store.codes()),
            "themes": len(store.themes()),
            "codings": sum(by_interview.values()),
            "codings_in_interview_1": by_interview.get(1, 0),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path,
                        help="where to create the study (default: a temporary folder)")
    parser.add_argument("--interviews", type=int, default=100)
    parser.add_argument("--words", type=int, default=1_000_000)
    parser.add_argument("--codings", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        target = args.folder or Path(scratch) / "Synthetic.verbatim"
        began = time.perf_counter()
        root = build_large_study(target, interviews=args.interviews, words=args.words,
                                 codings=args.codings, seed=args.seed)
        seconds = time.perf_counter() - began
        print(json.dumps({"benchmark": "synthetic_study", **counts(root),
                          "database_mb": round((root / "study.sqlite").stat().st_size / 2**20, 1),
                          "build_s": round(seconds, 1)}))


if __name__ == "__main__":
    main()
