"""How well detection finds the identifiers planted in the evaluation set.

The set (tests/data/anonymisation/interview_NN.txt) is synthetic interviews written for
the purpose, one speech turn per line ("Interviewer: ..." / "P: ..."), each identifier
marked inline on its identifying words only: `my daughter [[family|Ellie]]`. A header line
`# registered: Name One; Name Two` lists the names a researcher would register. Every
turn becomes one segment and the whole set one study, so propagation works across
interviews as it does in a real study.

Recall is category-agnostic: a planted identifier counts as found when any candidate
overlaps it, whatever category detection gave it (the model calls a daughter a PERSON;
the researcher re-categorises in review). Exact matches are reported too. Precision is per
category detection proposed: the share of its candidates that overlap a planted span.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from analysis.anonymise.detect import PERSON_LIKE, detect
from study.identifiers import normalise
from study.model import Candidate, Category

MARKUP = re.compile(r"\[\[([^|\]]+)\|([^\]]+)\]\]")
CATEGORIES = tuple(c.value for c in Category if c is not Category.OTHER)
PERSON_NAMES = "person names"  # person, family and colleague judged together
REGISTERED = "registered"  # planted spans that are exactly a registered name
ALL = "all"
SEGMENTS_PER_FILE = 1000  # segment id = file number * this + turn number


@dataclass(frozen=True, slots=True)
class GoldSpan:
    segment_id: int
    start: int
    end: int
    category: str
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    """One evaluation file: its turns as plain text and the identifiers planted in them."""

    name: str
    registered: tuple[str, ...]
    segments: tuple[tuple[int, str], ...]
    gold: tuple[GoldSpan, ...]


def parse_markup(marked: str, segment_id: int = 0) -> tuple[str, list[GoldSpan]]:
    """`'my daughter [[family|Ellie]]'` -> ('my daughter Ellie', [the span of Ellie])."""
    plain: list[str] = []
    gold: list[GoldSpan] = []
    length, last = 0, 0
    for m in MARKUP.finditer(marked):
        plain.append(marked[last:m.start()])
        length += m.start() - last
        category, text = m.group(1).strip(), m.group(2)
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r} in {m.group()!r}")
        gold.append(GoldSpan(segment_id, length, length + len(text), category, text))
        plain.append(text)
        length += len(text)
        last = m.end()
    plain.append(marked[last:])
    return "".join(plain), gold


def parse(path: Path, number: int = 0) -> Transcript:
    """Read one evaluation file; segment ids start at `number * SEGMENTS_PER_FILE`."""
    registered: tuple[str, ...] = ()
    segments: list[tuple[int, str]] = []
    gold: list[GoldSpan] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            if key.strip().lower() == "registered":
                registered = tuple(n.strip() for n in value.split(";") if n.strip())
            continue
        if not line.strip():
            continue
        _speaker, _, turn = line.partition(": ")
        segment_id = number * SEGMENTS_PER_FILE + len(segments)
        text, spans = parse_markup(turn, segment_id)
        segments.append((segment_id, text))
        gold += spans
    return Transcript(path.name, registered, tuple(segments), tuple(gold))


def evaluation_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("interview_*.txt"))


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(transcripts: Sequence[Transcript], candidates: Iterable[Candidate]
          ) -> dict[str, dict[str, float | int | None]]:
    """Recall per planted category and precision per proposed category (see module doc)."""
    registered = {normalise(n) for t in transcripts for n in t.registered}
    gold_by_segment: dict[int, list[GoldSpan]] = {}
    for t in transcripts:
        for g in t.gold:
            gold_by_segment.setdefault(g.segment_id, []).append(g)
    found_by_segment: dict[int, list[Candidate]] = {}
    for c in candidates:
        found_by_segment.setdefault(c.segment_id, []).append(c)

    groups = {c: {c} for c in CATEGORIES}
    groups[PERSON_NAMES] = set(PERSON_LIKE)
    result: dict[str, dict[str, float | int | None]] = {}
    for name in (*CATEGORIES, PERSON_NAMES, REGISTERED, ALL):
        gold = found = exact = proposed = correct = 0
        for segment_id, spans in gold_by_segment.items():
            cands = found_by_segment.get(segment_id, [])
            for g in spans:
                if name == REGISTERED:
                    if normalise(g.text) not in registered:
                        continue
                elif name != ALL and g.category not in groups[name]:
                    continue
                gold += 1
                found += any(_overlaps((g.start, g.end), (c.start, c.end)) for c in cands)
                exact += any((g.start, g.end) == (c.start, c.end) for c in cands)
        for segment_id, cands in found_by_segment.items():
            spans = gold_by_segment.get(segment_id, [])
            for c in cands:
                if name == REGISTERED:
                    if c.source != "registered":
                        continue
                elif name != ALL and c.category not in groups[name]:
                    continue
                proposed += 1
                correct += any(_overlaps((g.start, g.end), (c.start, c.end)) for g in spans)
        result[name] = {
            "gold": gold, "found": found, "exact": exact,
            "recall": round(found / gold, 3) if gold else None,
            "exact_recall": round(exact / gold, 3) if gold else None,
            "candidates": proposed, "correct": correct,
            "precision": round(correct / proposed, 3) if proposed else None,
        }
    return result


def evaluate(files: Sequence[Path], *, use_ner: bool = True
             ) -> dict[str, dict[str, float | int | None]]:
    """Detect over the files as one study, registering each file's header names as
    persons, and score the result against the planted identifiers."""
    transcripts = [parse(path, n + 1) for n, path in enumerate(files)]
    texts = [s for t in transcripts for s in t.segments]
    registered = [(name, Category.PERSON.value) for t in transcripts for name in t.registered]
    return score(transcripts, detect(texts, registered=registered, use_ner=use_ner))
