"""Every benchmark script still runs and prints its one JSON line (at a tiny size), so
the figures in the notes can always be measured again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize(("script", "env", "keys"), [
    ("startup.py", {"RUNS": "1"}, {"window_shown_ms_median"}),
    ("editor_render.py", {"WORDS": "400"}, {"load_and_layout_ms", "first_paint_ms"}),
    ("coding.py", {"INTERVIEWS": "3", "WORDS": "6000", "CODINGS": "300"},
     {"open_ms", "render_500_codings_ms", "apply_ms", "undo_ms"}),
    ("transcription.py", {"MINUTES": "0.3"},
     {"time_ratio", "memory_ratio", "plain_wer", "pipeline_wer", "pipeline_dropped"}),
])
def test_benchmark_prints_one_json_line(script: str, env: dict[str, str], keys: set[str],
                                        tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script)], capture_output=True, text=True,
        timeout=600, check=False, cwd=tmp_path,
        env={**os.environ, **env, "QT_QPA_PLATFORM": "offscreen", "THREADS": "2",
             "VERBATIM_CONFIG_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    assert keys <= set(json.loads(lines[0]))
