"""Start-up time: from interpreter start to the main window shown on the demo study.

Target (DESIGN.md section 7): under 2 s. Runs main.py offscreen several times and
prints one JSON line with the median and worst, in milliseconds.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "5"))


def one_run(config: str) -> tuple[float, float]:
    """(ms until the window reported itself shown, ms of the whole process)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VERBATIM_CONFIG_DIR": config}
    began = time.perf_counter()
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--exit-after-show"],
                         env=env, capture_output=True, text=True, check=True).stdout
    total = (time.perf_counter() - began) * 1000
    shown = float(re.search(r"window shown in (\d+) ms", out).group(1))  # type: ignore[union-attr]
    return shown, total


def main() -> None:
    with tempfile.TemporaryDirectory() as config:
        one_run(config)  # warm the file cache, as a second launch would be
        runs = [one_run(config) for _ in range(RUNS)]
    shown = [r[0] for r in runs]
    print(json.dumps({
        "benchmark": "startup",
        "runs": RUNS,
        "window_shown_ms_median": statistics.median(shown),
        "window_shown_ms_max": max(shown),
        "process_ms_median": round(statistics.median(r[1] for r in runs)),
        "target_ms": 2000,
    }))


if __name__ == "__main__":
    main()
