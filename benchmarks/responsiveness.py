"""Responsiveness: the longest the GUI thread stops answering while a transcription runs
and large exports are written at the same time.

A probe ticks every 5 ms on the GUI thread and records the time between ticks; a gap
much over 5 ms is the event loop held up that long. Target (DESIGN.md section 7): no
gap over 100 ms. The scenario, in one offscreen main window: open a synthetic study of
INTERVIEWS interviews (default 100: about a million words, 20,000 codings) and import a
recording of MINUTES minutes (default 5) built from the real speech clips as
benchmarks/transcription.py builds it; then, with the probe running, transcribe it
(bundled tiny.en in the worker process, the app's default options, THREADS threads) and,
once it is transcribing, start a Word quotes report and a REFI-QDA .qdpx export the way
the menus do (both in the study process, one after the other); wait for all three.
Prints one JSON line: longest gap, 99th percentile and median gap, gaps over 100 and
50 ms, and when each piece finished (seconds; the exports from their start).

tests/gui/test_responsiveness.py runs the same scenario at a small size.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script, this folder must not shadow the packages
    sys.path[:1] = [str(ROOT)]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TICK_MS = 5
TARGET_MS = 100
WaitUntil = Callable[..., Any]  # (predicate, timeout=ms): qtbot.waitUntil, or wait_until


class GapProbe:
    """Ticks on the GUI thread every TICK_MS and keeps the gaps between ticks (ms)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000)
        self._last = now

    def summary(self) -> dict[str, float]:
        gaps = sorted(self.gaps) or [0.0]
        return {"ticks": len(self.gaps), "longest_gap_ms": round(gaps[-1], 1),
                "p99_gap_ms": round(gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))], 1),
                "median_gap_ms": round(statistics.median(gaps), 1),
                "gaps_over_100ms": sum(g > TARGET_MS for g in gaps),
                "gaps_over_50ms": sum(g > 50 for g in gaps)}


def wait_until(predicate: Callable[[], bool], timeout: int = 600_000) -> None:
    """Run the event loop until `predicate` holds (as qtbot.waitUntil does, sleeping never:
    a sleep would itself be a gap)."""
    loop = QEventLoop()
    began = time.perf_counter()

    def check() -> None:
        if predicate() or (time.perf_counter() - began) * 1000 > timeout:
            loop.quit()

    poll = QTimer()
    poll.setInterval(10)
    poll.timeout.connect(check)
    poll.start()
    if not predicate():
        loop.exec()
    poll.stop()
    if not predicate():
        raise TimeoutError(f"not done after {timeout} ms")


@dataclass
class Outcome:
    """What the scenario saw: the probe's gaps, and when each piece finished."""

    probe: GapProbe
    job_state: str = ""
    exports_ok: list[bool] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        return {**self.probe.summary(), "job_state": self.job_state,
                "exports_ok": self.exports_ok,
                **{f"{k}_s": round(v, 2) for k, v in self.seconds.items()}}


def run_scenario(window: Any, study_root: Path, audio: Path, out: Path,
                 wait: WaitUntil, *, timeout_ms: int = 600_000) -> Outcome:
    """Open the study in `window` (a MainWindow), import `audio`, then with the probe
    running transcribe it and, once it is transcribing, export a quotes report and a
    .qdpx into `out` through the background paths the menus use."""
    from gui.exchange_actions import write_qdpx

    assert window.open_study(study_root)
    ws = window.workspace
    interview_id = ws.interviews.import_audio(audio)
    assert interview_id is not None
    # Let the opening finish (first paint, deferred layouts) before measuring: opening a
    # study has targets of its own.
    QApplication.processEvents()
    window.grab()
    QApplication.processEvents()
    outcome = Outcome(GapProbe())
    finished: dict[str, float] = {}
    began = time.perf_counter()

    def job_done(_job_id: int, state: str) -> None:
        outcome.job_state = state
        finished["transcription"] = time.perf_counter() - began

    def export_done(name: str) -> Callable[[bool], None]:
        def done(ok: bool) -> None:
            outcome.exports_ok.append(ok)
            finished[name] = time.perf_counter() - exports_began

        return done

    ws.runner.finished.connect(job_done)
    ws.compare.finished.connect(export_done("report"))
    ws.exchange.finished.connect(export_done("qdpx"))
    outcome.probe.start()
    try:
        assert ws.interviews.transcribe([interview_id])
        wait(lambda: "transcription" in finished or (
            ws.interviews.panel.last is not None
            and ws.interviews.panel.last.stage in ("transcribing", "done")), timeout=timeout_ms)
        exports_began = time.perf_counter()
        finished["transcribing_from"] = exports_began - began
        ws.compare.start_export_report(out / "quotes report.docx")
        ws.exchange.start_export(out / "project.qdpx", write_qdpx, out / "project.qdpx")
        wait(lambda: len(outcome.exports_ok) == 2 and "transcription" in finished,
             timeout=timeout_ms)
        wait(lambda: ws.runner.busy_tasks() == 0, timeout=timeout_ms)
    finally:
        outcome.probe.stop()
    outcome.seconds = finished
    return outcome


def main() -> None:
    from benchmarks.synthetic_study import build_large_study, size_from_environment
    from benchmarks.transcription import build
    from gui.main_window import MainWindow
    from gui.settings import Settings
    from transcription.options import TranscriptionOptions, default_threads

    size = size_from_environment()
    minutes = float(os.environ.get("MINUTES", "5"))
    threads = int(os.environ.get("THREADS", str(default_threads())))
    app = QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        root = build_large_study(scratch / "Large.verbatim", **size)
        build(scratch / "interview.wav", minutes)
        settings = Settings(scratch / "settings.ini")
        settings.set_transcription_options(TranscriptionOptions(threads=threads))
        window = MainWindow(settings)
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        outcome = run_scenario(window, root, scratch / "interview.wav", scratch, wait_until)
        window.close()
        app.processEvents()
    print(json.dumps({"benchmark": "responsiveness", "interviews": size["interviews"],
                      "minutes": minutes, "threads": threads, **outcome.summary(),
                      "target_ms": TARGET_MS}))


if __name__ == "__main__":
    main()
