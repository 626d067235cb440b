"""main.py as a user runs it: a real process, offscreen, that shows its window on the
demo study (or a given study) and quits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from study.folder import create_study
from study.model import Participant

ROOT = Path(__file__).resolve().parents[2]


def launch(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "VERBATIM_CONFIG_DIR": str(tmp_path / "config"), "PYTHONWARNINGS": "error"}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args, "--exit-after-show"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.slow
def test_main_opens_the_demo_study_and_quits_cleanly(tmp_path: Path) -> None:
    result = launch(tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "window shown in" in result.stdout
    assert "study: Joint working demo study" in result.stdout
    assert "Traceback" not in result.stderr
    # The demo copy lived in a temporary folder that is gone again.
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("verbatim-demo-*")
                 if p.stat().st_mtime > tmp_path.stat().st_mtime]
    assert leftovers == []


@pytest.mark.slow
def test_main_opens_a_given_study(tmp_path: Path) -> None:
    with create_study(tmp_path / "Mine", name="My agencies study") as s:
        s.store.add_participant(Participant("MHCC-1", "MHCC"))
    result = launch(str(tmp_path / "Mine.verbatim"), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "study: My agencies study" in result.stdout
    assert list((tmp_path / "Mine.verbatim" / "backups").glob("study-*.sqlite"))
