"""Memory: the peak resident memory of the app on a large study, and of transcribing a
long recording with each bundled model, each measured in its own child process so the
peaks never mix.

- app: the offscreen main window with a synthetic study of INTERVIEWS interviews open
  (default 100: about a million words, 20,000 codings), the coding page showing the
  interview with the most codings and the compare page computed. Then, in the same
  window, a chart drawn and a Word quotes report and a .qdpx exported: these run in the
  app's study process (gui.job_runner), whose peak is read when the study closes.
- transcription: Verbatim's pipeline (transcription/job.py, as the worker process runs
  it) on a recording of MINUTES minutes (default 60) built from the real speech clips as
  benchmarks/transcription.py builds it, once with tiny.en and once with base.

Peaks come from getrusage (ru_maxrss of the process itself, and of its waited-for
children for the study process); on Linux VmHWM from /proc/self/status is given too.
Prints one JSON line, in MB. THREADS sets the transcription threads, QUALITY "fast" or
"accurate" (the default, as in the app).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":  # run as a script, this folder must not shadow the packages
    sys.path[:1] = [str(ROOT)]

MODELS = ("tiny.en", "base")
COMPARE_PAGE = 7


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    """ru_maxrss in MB: kilobytes on Linux, bytes on macOS."""
    peak = resource.getrusage(who).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def vmhwm_mb() -> float | None:
    """The kernel's high-water mark of resident memory (Linux only)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


# --- the children ---------------------------------------------------------------------------


def measure_app(root: Path, scratch: Path) -> dict[str, object]:
    """The window on the large study: coding page, compare page; then the study
    process's work (a chart, a report, a .qdpx)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from benchmarks.responsiveness import wait_until
    from gui.exchange_actions import write_qdpx
    from gui.main_window import CODING_PAGE, MainWindow
    from gui.settings import Settings

    app = QApplication([])
    window = MainWindow(Settings(scratch / "settings.ini"))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    began = time.perf_counter()
    assert window.open_study(root)
    ws = window.workspace
    assert ws is not None
    busiest = max(ws.study.store.interview_summaries(), key=lambda s: s.coding_count)
    window.show_section(CODING_PAGE)
    assert busiest.interview.id is not None
    ws.coding.open_interview(busiest.interview.id)
    window.grab()
    window.show_section(COMPARE_PAGE)
    window.grab()
    assert ws.compare.comparison is not None
    shown = {"app_peak_mb": peak_mb(), "app_vmhwm_mb": vmhwm_mb(),
             "open_and_show_s": round(time.perf_counter() - began, 2),
             "codings_in_busiest": busiest.coding_count}

    finished: list[bool] = []
    ws.compare.finished.connect(finished.append)
    ws.exchange.finished.connect(finished.append)
    ws.compare.tabs.setCurrentIndex(2)  # participants by codes: the largest chart
    wait_until(lambda: "2" in ws.compare._charts)
    ws.compare.start_export_report(scratch / "quotes report.docx")
    ws.exchange.start_export(scratch / "project.qdpx", write_qdpx, scratch / "project.qdpx")
    wait_until(lambda: len(finished) == 2)
    assert finished == [True, True], finished
    window.close()  # closes the study: the study process ends and is waited for
    app.processEvents()
    return {**shown, "app_peak_after_exports_mb": peak_mb(),
            "study_process_peak_mb": peak_mb(resource.RUSAGE_CHILDREN)}


def measure_transcription(model: str, audio: Path, threads: int) -> dict[str, object]:
    """The real pipeline, as the worker process runs it, in this process."""
    from study.folder import create_study
    from transcription.audio import import_audio
    from transcription.job import create_job, run_job
    from transcription.options import Quality, TranscriptionOptions

    quality = Quality(os.environ.get("QUALITY", Quality.ACCURATE.value))
    with tempfile.TemporaryDirectory() as folder:
        with create_study(Path(folder) / "Memory") as study:
            interview_id, _ = import_audio(study, audio)
            job_id = create_job(study, interview_id, TranscriptionOptions(
                model=model, quality=quality, threads=threads))
            root = study.folder.root
        began = time.perf_counter()
        state = run_job(root, job_id, progress=lambda p: None)
        seconds = time.perf_counter() - began
    return {"peak_mb": peak_mb(), "vmhwm_mb": vmhwm_mb(), "seconds": round(seconds, 1),
            "state": str(state.value)}


def child(*args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--child", *args],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from benchmarks.synthetic_study import build_large_study, size_from_environment
    from benchmarks.transcription import build

    size = size_from_environment()
    minutes = float(os.environ.get("MINUTES", "60"))
    threads = int(os.environ.get("THREADS", str(os.cpu_count() or 1)))
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        root = build_large_study(scratch / "Large.verbatim", **size)
        app = child("app", str(root), str(scratch))
        audio = scratch / "long.wav"
        build(audio, minutes)
        transcription = {model: child("transcribe", model, str(audio), str(threads))
                         for model in MODELS}
    print(json.dumps({"benchmark": "memory", "interviews": size["interviews"], "minutes": minutes,
                      "threads": threads, **app,
                      **{f"transcription_{m.replace('.', '_')}_peak_mb": r["peak_mb"]
                         for m, r in transcription.items()},
                      "transcription": transcription}))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "app":
            result = measure_app(Path(rest[0]), Path(rest[1]))
        else:
            result = measure_transcription(rest[0], Path(rest[1]), int(rest[2]))
        print(json.dumps(result))
    else:
        main()
