"""Run every benchmark, one subprocess each, and write a JSON summary with the machine
they ran on (benchmarks/results/latest.json) and a table of the figures that matter
(benchmarks/RESULTS.md, linked from the README).

    .venv/bin/python benchmarks/run_all.py            # all, full size (about half an hour)
    .venv/bin/python benchmarks/run_all.py coding report   # some of them

Each script prints one JSON line; a script that fails is recorded with its error and
the others still run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
SCRIPTS = ("startup", "editor_render", "coding", "report", "anonymisation",
           "responsiveness", "memory", "transcription")

# Sizes that differ from a script's default: the memory target is set for an hour's audio
SIZES = {"transcription": {"MINUTES": "60"}}

# (benchmark, key, what it is, target) rows of the table in RESULTS.md
HEADLINES = (
    ("startup", "window_shown_ms_median", "window shown, demo study (ms)", "< 2000"),
    ("coding", "open_ms", "open the 100-interview study (ms)", "< 1000"),
    ("coding", "render_500_codings_ms", "render an interview with 500 codings (ms)", "< 200"),
    ("coding", "apply_ms", "apply a coding, all pages refreshed (ms)", "< 50"),
    ("coding", "undo_ms", "undo it (ms)", "< 50"),
    ("report", "matrix_ms", "comparison matrix, 100 interviews (ms)", "< 200"),
    ("report", "word_export_s", "1,000-quote Word export (s)", "< 5"),
    ("anonymisation", "transcript_s", "detect identifiers in 10,000 words (s)", "< 3"),
    ("anonymisation", "study_s", "detect identifiers in 100 interviews (s)", "—"),
    ("responsiveness", "longest_gap_ms", "longest GUI event-loop gap under load (ms)", "< 100"),
    ("memory", "app_peak_mb", "app peak memory, 100-interview study open (MB)", "—"),
    ("memory", "transcription_tiny_en_peak_mb",
     "transcribing 60 minutes with tiny.en, peak memory (MB)", "—"),
    ("memory", "transcription_base_peak_mb",
     "transcribing 60 minutes with base, peak memory (MB)", "—"),
    ("transcription", "time_ratio", "transcription time, pipeline / plain, 60 minutes", "≤ 1.10"),
    ("transcription", "memory_ratio", "transcription peak memory, pipeline / plain, 60 minutes",
     "≤ 0.5"),
)


def machine() -> dict[str, object]:
    memory_kb = 0
    with suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    cpu = platform.processor()
    with suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip()
                   for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return {"system": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "memory_gb": round(memory_kb / 2**20, 1), "python": platform.python_version()}


def run(name: str) -> dict[str, object]:
    began = time.perf_counter()
    result = subprocess.run([sys.executable, str(HERE / f"{name}.py")], capture_output=True,
                            text=True, check=False, cwd=ROOT,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                 **SIZES.get(name, {})})
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    figures: dict[str, object] = {"date": dt.date.today().isoformat(),
                                  "seconds": round(time.perf_counter() - began, 1)}
    if result.returncode == 0 and lines:
        figures.update(json.loads(lines[-1]))
    else:
        figures["error"] = (result.stderr or result.stdout)[-1500:]
    return figures


def table(results: dict[str, dict[str, object]], where: dict[str, object]) -> str:
    rows = ["| measure | figure | target |", "|---|---|---|"]
    dates = sorted({str(r["date"]) for r in results.values() if "date" in r} or {where["date"]})
    when = dates[0] if len(dates) == 1 else f"between {dates[0]} and {dates[-1]}"
    for bench, key, label, target in HEADLINES:
        value = results.get(bench, {}).get(key, "not run")
        rows.append(f"| {label} | {value} | {target} |")
    return (f"# Latest benchmark figures\n\nMeasured {when} on {where['cpu']}, "
            f"{where['cores']} cores, {where['memory_gb']} GB, Python {where['python']} "
            f"({where['system']}), offscreen Qt. Every figure comes from "
            "`benchmarks/run_all.py`; the full output is in `results/latest.json`.\n\n"
            + "\n".join(rows) + "\n")


def main(argv: list[str]) -> None:
    chosen = argv or list(SCRIPTS)
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    latest = out_dir / "latest.json"
    previous = json.loads(latest.read_text()) if latest.exists() else {}
    results: dict[str, dict[str, object]] = dict(previous.get("benchmarks", {}))
    for name in chosen:
        print(f"running {name}…", file=sys.stderr, flush=True)
        results[name] = run(name)
    where = {**machine(), "date": dt.date.today().isoformat()}
    summary = {"machine": where, "benchmarks": results}
    latest.write_text(json.dumps(summary, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(table(results, where))
    print(json.dumps({"benchmark": "run_all", "ran": chosen,
                      "failed": [n for n in chosen if "error" in results[n]]}))


if __name__ == "__main__":
    main(sys.argv[1:])
