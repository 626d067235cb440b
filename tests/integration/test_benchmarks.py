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
    ("report.py", {"INTERVIEWS": "3", "WORDS": "6000", "CODINGS": "300"},
     {"matrix_ms", "word_export_s"}),
    ("anonymisation.py", {"INTERVIEWS": "2", "WORDS": "2000"},
     {"transcript_s", "study_s"}),
    ("transcription.py", {"MINUTES": "0.3"},
     {"time_ratio", "memory_ratio", "plain_wer", "pipeline_wer", "pipeline_dropped"}),
    ("responsiveness.py", {"INTERVIEWS": "3", "WORDS": "6000", "CODINGS": "300",
                           "MINUTES": "0.3"},
     {"longest_gap_ms", "p99_gap_ms", "gaps_over_100ms", "report_s", "qdpx_s"}),
    ("memory.py", {"INTERVIEWS": "3", "WORDS": "6000", "CODINGS": "300", "MINUTES": "0.2",
                   "QUALITY": "fast"},
     {"app_peak_mb", "study_process_peak_mb", "transcription_tiny_en_peak_mb",
      "transcription_base_peak_mb"}),
])
def test_benchmark_prints_one_json_line(script: str, env: dict[str, str], keys: set[str],
                                        tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script)], capture_output=True, text=True,
        timeout=600, check=False, cwd=tmp_path,
        env={**os.environ, **env, "QT_QPA_PLATFORM": "offscreen", "THREADS": "2",
             "VERBATIM_CONFIG_DIR": str(tmp_path),
             "VERBATIM_MODEL_CACHE": str(tmp_path / "models")})  # base is joined there
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    assert keys <= set(json.loads(lines[0]))
