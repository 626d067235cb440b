"""Comparing and reporting at scale: a study of 100 interviews (about a million words,
20,000 codings).

Measures the comparison matrix (themes by group, and codes by group, with every default:
interviewer speech left out, sub-codes in) computed from scratch on each call, as the
compare page does; also the participants-by-themes matrix, the co-occurrence matrix and
the quotes behind one cell. Target: the matrix under 200 ms (DESIGN.md section 7).

Each timing is in milliseconds: "first" is the first call after opening the study (cold
SQLite cache), "fastest" the best of RUNS calls, "cpu" the median processor time of
this process (what a call costs when other programs compete for the processor), the rest
the median of RUNS calls. Prints one JSON line.

Usage: python benchmarks/report.py [STUDY_FOLDER] (default: build the synthetic study in a
temporary folder).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script, this folder must not shadow the packages
    sys.path[:1] = [str(ROOT)]

from analysis.compare import compare, cooccurrence, presence_matrix, quotes  # noqa: E402
from benchmarks.synthetic_study import build_large_study, size_from_environment  # noqa: E402
from study.folder import open_study  # noqa: E402

RUNS = 15
TARGET_MS = 200


def _ms(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return (time.perf_counter() - began) * 1000


def _median(call: Callable[[], object], runs: int = RUNS) -> float:
    return round(statistics.median(_ms(call) for _ in range(runs)), 1)


def _cpu_ms(call: Callable[[], object]) -> float:
    """Processor time of this process: what the call costs when other programs compete
    for the processor (wall time then overstates it)."""
    began = time.process_time()
    call()
    return (time.process_time() - began) * 1000


def time_matrix(root: Path) -> dict[str, Any]:
    """Time the comparison and the matrices behind the charts on the study at `root`."""
    with open_study(root, backup=False) as study:
        store = study.store
        first = round(_ms(lambda: compare(store)), 1)
        matrix = _median(lambda: compare(store))
        codes = _median(lambda: compare(store, rows="codes"))
        fastest = round(min(_ms(lambda: compare(store)) for _ in range(RUNS)), 1)
        cpu = round(statistics.median(_cpu_ms(lambda: compare(store)) for _ in range(RUNS)), 1)
        comparison = compare(store)
        busiest = max(comparison.rows, key=lambda r: r.total.references)
        group = max(comparison.groups, key=lambda g: g.n).name
        cell = next(c for g, c in zip(comparison.groups, busiest.cells, strict=True)
                    if g.name == group)
        found = quotes(store, kind=busiest.kind, row_id=busiest.id, group=group)
        return {
            "codings": int(store.scalar("SELECT count(*) FROM codings")),
            "interviews": int(store.scalar("SELECT count(*) FROM interviews")),
            "matrix_first_ms": first,
            "matrix_ms": matrix,
            "matrix_fastest_ms": fastest,
            "matrix_cpu_ms": cpu,
            "matrix_codes_ms": codes,
            "presence_ms": _median(lambda: presence_matrix(store), 5),
            "cooccurrence_ms": _median(lambda: cooccurrence(store), 5),
            "quotes_ms": _median(lambda: quotes(store, kind=busiest.kind, row_id=busiest.id,
                                                group=group), 5),
            "quotes_in_cell": len(found),
            "references_in_cell": cell.references,
            "targets": {"matrix_ms": TARGET_MS},
        }


WORD_QUOTES = 1_000
WORD_TARGET_S = 5.0
WORD_RUNS = 3


def time_word_export(root: Path) -> dict[str, Any]:
    """Time the Word quotes report of about 1,000 quotes (DESIGN.md section 7: under 5 s),
    charts included, on a copy of the study at `root` (a theme is added to the copy).

    The theme takes leaf codes in codebook order until their references (in participants'
    own speech) reach WORD_QUOTES; the report is limited to it, so it holds that many
    quotes (a coding said by two participants would count twice). Seconds: the first
    export after opening, and the median of WORD_RUNS.
    """
    from docx import Document

    from analysis.exports.word import quotes_report
    from study.model import Theme

    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "Copy.verbatim"
        copy.mkdir()
        with open_study(root, backup=False) as study:
            study.store.backup_to(copy / "study.sqlite")
        with open_study(copy, backup=False) as study:
            store = study.store
            refs = {r.id: r.total.references for r in compare(store, rows="codes").rows}
            picked: list[int] = []
            for code in store.codes():
                if sum(refs.get(c, 0) for c in picked) >= WORD_QUOTES:
                    break
                if code.id is not None and code.parent_id is not None:
                    picked.append(code.id)
            theme = store.add_theme(Theme("Benchmark", "Codes picked for about 1,000 quotes.",
                                          code_ids=tuple(picked))).new_id("theme")
            target = Path(scratch) / "quotes report.docx"

            def export() -> None:
                quotes_report(store, target, theme_ids=[theme], include_charts=True)

            first = _ms(export) / 1000
            runs = [_ms(export) / 1000 for _ in range(WORD_RUNS)]
            doc = Document(str(target))
            written = sum(1 for p in doc.paragraphs
                          if p.style is not None and p.style.name == "Quote")
            return {
                "word_quotes": written,
                "word_codes": len(picked),
                "word_export_first_s": round(first, 2),
                "word_export_s": round(statistics.median(runs), 2),
                "word_docx_kb": round(target.stat().st_size / 1024),
                "targets": {"word_export_s": WORD_TARGET_S},
            }


def measure(root: Path) -> dict[str, Any]:
    """Every timing of this benchmark on the study at `root`, targets merged."""
    results: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    for timing in TIMINGS:
        part = timing(root)
        targets |= part.pop("targets", {})
        results |= part
    return {**results, "targets": targets}


TIMINGS: list[Callable[[Path], dict[str, Any]]] = [time_matrix, time_word_export]


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        if len(sys.argv) > 1:
            root = Path(sys.argv[1])
            built = 0.0
        else:
            began = time.perf_counter()
            root = build_large_study(Path(scratch) / "Large.verbatim", **size_from_environment())
            built = time.perf_counter() - began
        print(json.dumps({"benchmark": "report", "build_s": round(built, 1), **measure(root)}))


if __name__ == "__main__":
    main()
