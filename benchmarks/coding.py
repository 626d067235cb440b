"""Coding at scale: a study of 100 interviews (about a million words, 20,000 codings).

Measures, offscreen in one process: opening the study in the main window until it is
painted (first open, which takes the hourly backup, and a re-open, which does not),
showing the interview with 500 codings on the coding page until painted, and applying
and undoing a coding through the undo stack with every open page refreshed.
Targets: open under 1 s, render under 200 ms, apply and undo under 50 ms.
Prints one JSON line (milliseconds; apply and undo are medians of 15 runs).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:1] = [str(ROOT)]  # run as a script, this folder must not shadow the packages
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RUNS = 15


def main() -> None:
    from PySide6.QtGui import QTextCursor
    from PySide6.QtWidgets import QApplication

    from benchmarks.synthetic_study import build_large_study, size_from_environment
    from gui.main_window import CODING_PAGE, MainWindow
    from gui.settings import Settings
    from study.folder import open_study

    size = size_from_environment()
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        root = build_large_study(Path(folder) / "Large.verbatim", **size)
        built = time.perf_counter() - began
        with open_study(root, backup=False) as study:
            counts = {s.interview.id: s for s in study.store.interview_summaries()}
            per_interview: dict[int, int] = {}
            for c in study.store.codings():
                per_interview[c.interview_id] = per_interview.get(c.interview_id, 0) + 1
            busiest = max(per_interview, key=lambda i: per_interview[i])
            size = {"interviews": len(counts), "codings": sum(per_interview.values()),
                    "codings_in_busiest": per_interview[busiest],
                    "words": study.store.scalar(
                        "SELECT sum(word_count(text)) FROM segments"),
                    "database_mb": round(study.folder.database.stat().st_size / 2**20, 1)}

        window = MainWindow(Settings(Path(folder) / "settings.ini"))
        window.resize(1280, 800)
        window.show()
        app.processEvents()

        def open_once() -> float:
            t = time.perf_counter()
            window.open_study(root)
            window.grab()
            return (time.perf_counter() - t) * 1000

        first_open = open_once()
        window.close_study()
        reopen = open_once()

        workspace = window.workspace
        assert workspace is not None
        page = workspace.coding
        window.show_section(CODING_PAGE)
        app.processEvents()
        other = next(i for i in counts if i != busiest)
        page.open_interview(other)
        app.processEvents()
        t = time.perf_counter()
        page.open_interview(busiest)
        window.grab()
        render = (time.perf_counter() - t) * 1000
        spans = len(page.text.spans)

        code_id = window.study.store.codes()[-1].id  # type: ignore[union-attr]
        applies, undos = [], []
        block = page.text.document().findBlockByNumber(3)
        for _ in range(RUNS):
            cursor = page.text.textCursor()
            cursor.setPosition(block.position())
            cursor.setPosition(block.position() + min(20, block.length() - 1),
                               QTextCursor.MoveMode.KeepAnchor)
            page.text.setTextCursor(cursor)
            t = time.perf_counter()
            assert page.apply_code(code_id)
            app.processEvents()
            applies.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            window.undo_stack.undo()
            app.processEvents()
            undos.append((time.perf_counter() - t) * 1000)
        window.close()
    print(json.dumps({
        "benchmark": "coding", **size, "build_s": round(built, 1),
        "open_ms": round(first_open), "reopen_ms": round(reopen),
        "render_500_codings_ms": round(render), "spans_drawn": spans,
        "apply_ms": round(statistics.median(applies), 1),
        "undo_ms": round(statistics.median(undos), 1),
        "targets": {"open_ms": 1000, "render_500_codings_ms": 200, "apply_ms": 50,
                    "undo_ms": 50},
    }))


if __name__ == "__main__":
    main()
