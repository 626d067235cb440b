"""The anonymisation evaluation set is well formed, and detection meets its targets on it:
every registered name found, and at least 90% of person names and places (after
propagation, whatever category detection gave them)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from analysis.anonymise.evaluation import (
    CATEGORIES,
    PERSON_NAMES,
    REGISTERED,
    evaluate,
    evaluation_files,
    parse,
    parse_markup,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "anonymisation"


def test_markup_parses_to_plain_text_and_spans() -> None:
    plain, gold = parse_markup("my daughter [[family|Ellie]]'s school, [[place|Leeds]].", 7)
    assert plain == "my daughter Ellie's school, Leeds."
    assert [(g.segment_id, plain[g.start:g.end], g.category) for g in gold] == [
        (7, "Ellie", "family"), (7, "Leeds", "place")]
    with pytest.raises(ValueError, match="unknown category"):
        parse_markup("[[pet|Rex]]")


def test_the_evaluation_set_is_complete() -> None:
    files = evaluation_files(DATA)
    assert len(files) >= 20
    in_files: Counter[str] = Counter()
    for n, path in enumerate(files, 1):
        words = len(path.read_text(encoding="utf-8").split())
        assert 400 <= words <= 900, (path.name, words)
        t = parse(path, n)
        assert t.registered, path.name
        assert len(t.segments) >= 10, path.name
        assert "[[" not in "".join(text for _, text in t.segments), path.name
        texts = dict(t.segments)
        for g in t.gold:
            assert texts[g.segment_id][g.start:g.end] == g.text
        in_files.update({g.category for g in t.gold})
    assert set(in_files) == set(CATEGORIES)
    assert min(in_files.values()) >= 3, in_files


def test_detection_meets_its_targets() -> None:
    result = evaluate(evaluation_files(DATA))
    assert result[REGISTERED]["recall"] == 1.0
    for name in (PERSON_NAMES, "place"):
        recall = result[name]["recall"]
        assert isinstance(recall, float) and recall >= 0.90, (name, result[name])
    for name in ("email", "phone", "postcode", "nhs number", "ni number"):
        assert result[name]["recall"] == 1.0 and result[name]["precision"] == 1.0, name


def test_without_the_model_registered_names_are_still_all_found() -> None:
    result = evaluate(evaluation_files(DATA), use_ner=False)
    assert result[REGISTERED]["recall"] == 1.0
    assert result["organisation"]["candidates"] == 0
