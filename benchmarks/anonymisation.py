"""Anonymisation detection: speed and quality.

Measures, in one process: loading the spaCy model; detecting identifiers (rules, model,
registered names, propagation) in a 10,000-word transcript made of the evaluation set's
turns (target under 3 s once the model is loaded); detecting over the synthetic study of
100 interviews, about a million words (INTERVIEWS and WORDS shrink it), through the store
as the app does; and recall and precision per category on the evaluation set
(tests/data/anonymisation). Prints one JSON line (seconds).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:1] = [str(ROOT)]  # run as a script, this folder must not shadow the packages

DATA = ROOT / "tests" / "data" / "anonymisation"
TRANSCRIPT_WORDS = 10_000


def main() -> None:
    from analysis.anonymise import ner
    from analysis.anonymise.detect import detect, detect_study
    from analysis.anonymise.evaluation import evaluate, evaluation_files, parse
    from benchmarks.synthetic_study import build_large_study
    from study.folder import open_study

    began = time.perf_counter()
    ner.load()
    load_s = time.perf_counter() - began
    ner.entities(["Warming up with Sarah in Leeds on 3 March."])

    # One long interview: the evaluation set's turns in order until 10,000 words.
    files = evaluation_files(DATA)
    transcripts = [parse(path, n + 1) for n, path in enumerate(files)]
    turns: list[tuple[int, str]] = []
    words = 0
    while words < TRANSCRIPT_WORDS:
        for _, text in (s for t in transcripts for s in t.segments):
            turns.append((len(turns), text))
            words += len(text.split())
            if words >= TRANSCRIPT_WORDS:
                break
    registered = [(name, "person") for t in transcripts for name in t.registered]
    began = time.perf_counter()
    found = detect(turns, registered=registered)
    transcript_s = time.perf_counter() - began

    interviews = int(os.environ.get("INTERVIEWS", "100"))
    study_words = int(os.environ.get("WORDS", str(interviews * 10_000)))
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        root = build_large_study(Path(folder) / "Large.verbatim", interviews=interviews,
                                 words=study_words, codings=interviews * 10)
        built_s = time.perf_counter() - began
        with open_study(root, backup=False) as study:
            store = study.store
            store.register_identifier("MHCC-1", "person")
            began = time.perf_counter()
            study_found = detect_study(store)
            study_s = time.perf_counter() - began
            segments = sum(len(store.segments(i.id)) for i in store.interviews()
                           if i.id is not None)

    quality = evaluate(files)
    print(json.dumps({
        "benchmark": "anonymisation",
        "model_load_s": round(load_s, 2),
        "transcript_words": words, "transcript_turns": len(turns),
        "transcript_candidates": len(found), "transcript_s": round(transcript_s, 2),
        "study_interviews": interviews, "study_words": study_words,
        "study_segments": segments, "study_build_s": round(built_s, 1),
        "study_candidates": len(study_found), "study_s": round(study_s, 1),
        "study_words_per_s": round(study_words / study_s),
        "evaluation": {name: {k: v[k] for k in ("gold", "recall", "exact_recall",
                                                 "candidates", "precision")}
                       for name, v in quality.items()},
        "targets": {"transcript_s": 3.0, "registered_recall": 1.0,
                    "person_names_recall": 0.9, "place_recall": 0.9},
    }))


if __name__ == "__main__":
    main()
