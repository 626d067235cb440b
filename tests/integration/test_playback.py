"""Playback through a real PulseAudio null sink: play from a segment, follow it, change
speed, and rewind on resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from study.demo import build_demo_study
from tests.integration.conftest import PulseServer

pytestmark = pytest.mark.slow
DRIVER = Path(__file__).with_name("playback_driver.py")


def test_play_follow_speed_and_rewind(pulse: PulseServer, tmp_path: Path) -> None:
    with build_demo_study(tmp_path / "Demo") as study:
        interview = next(i for i in study.store.interviews() if i.media_id is not None)
        root = study.folder.root
        segments = study.store.segments(interview.id)  # type: ignore[arg-type]
    result = subprocess.run(
        [sys.executable, str(DRIVER), str(root), str(interview.id)],
        env={**pulse.env(), "QT_QPA_PLATFORM": "offscreen"}, capture_output=True, text=True,
        timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["available"] is True
    assert report["end"] == "done", report
    start = segments[1].start_ms
    assert report["position_after_play"] >= start + 2500
    rows = report["rows"]
    followed = rows[rows.index(1):]  # played from the chosen segment (a first report of
    assert followed == sorted(followed) and followed[-1] >= 1  # 0 may precede the seek)
    assert report["rate"] == 1.5
    rewound = report["paused_at"] - report["resumed_at"]
    assert 1000 <= rewound <= 2000
