"""Transcription from the GUI: the event loop keeps turning while the worker process
runs, progress shows, cancel takes effect within a second, and resume finishes."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from study.model import JobState
from transcription.audio import decode
from transcription.options import Quality, TranscriptionOptions

pytestmark = pytest.mark.slow


CLIPS = ("audio/jfk.flac", "audio/1089-134686-0000.flac", "transcripts/sonnet001.mp3",
         "audio/1089-134686-0001.flac")


def long_recording(path: Path, fixtures_dir: Path, clips: int = 4) -> Path:
    """Different real passages with pauses (a repeated one would look like a loop)."""
    pause = np.zeros(24_000, np.float32)
    samples = np.concatenate([np.concatenate([pause, decode(fixtures_dir / name)])
                              for name in CLIPS[:clips]])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture
def interviews(window: MainWindow, tmp_path: Path):  # type: ignore[no-untyped-def]
    assert window.new_study(tmp_path / "Transcribe")
    window.settings.set_transcription_options(TranscriptionOptions(
        quality=Quality.FAST, threads=2, window_ms=20_000))
    window.show_section(1)
    return window.workspace.interviews  # type: ignore[union-attr]


def test_event_loop_keeps_turning_while_a_job_runs(interviews, qtbot: QtBot,  # type: ignore[no-untyped-def]
                                                    fixtures_dir: Path, tmp_path: Path) -> None:
    interview_id = interviews.import_audio(long_recording(tmp_path / "a.wav", fixtures_dir, 2))
    assert interview_id is not None
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()

    def tick() -> None:
        gaps.append(clock.restart())

    ticker = QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(tick)
    ticker.start()
    with qtbot.waitSignal(interviews.runner.finished, timeout=120_000) as finished:
        assert interviews.transcribe([interview_id])
        qtbot.waitUntil(lambda: interviews.panel.isVisible())
    ticker.stop()
    assert finished.args[1] == JobState.DONE.value
    assert len(gaps) > 50 and max(gaps[1:]) < 150, max(gaps[1:])
    interviews.select(interview_id)
    texts = [interviews.transcript.index(r, 2).data()
             for r in range(interviews.transcript.rowCount())]
    assert any("country" in t.lower() for t in texts)
    assert any("stew" in t.lower() for t in texts)
    assert "finished" in interviews.panel.label.text()
    assert interviews.model.summary(interviews.model.row_of(interview_id)).interview.status \
        .value == "transcribed"


def test_cancel_within_a_second_then_resume(interviews, qtbot: QtBot,  # type: ignore[no-untyped-def]
                                             fixtures_dir: Path, tmp_path: Path) -> None:
    interview_id = interviews.import_audio(long_recording(tmp_path / "b.wav", fixtures_dir))
    (job_id,) = interviews.transcribe([interview_id])
    qtbot.waitUntil(lambda: interviews.panel.last is not None
                    and interviews.panel.last.stage == "transcribing", timeout=60_000)
    with qtbot.waitSignal(interviews.runner.finished, timeout=1000) as finished:
        pressed = time.monotonic()
        qtbot.mouseClick(interviews.panel.cancel_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - pressed < 1.0
    assert finished.args == [job_id, JobState.CANCELLED.value]
    store = interviews.store
    assert store.job(job_id).state is JobState.CANCELLED
    qtbot.waitUntil(lambda: interviews.panel.resume_button.isVisible())
    with qtbot.waitSignal(interviews.runner.finished, timeout=120_000) as resumed:
        qtbot.mouseClick(interviews.panel.resume_button, Qt.MouseButton.LeftButton)
    assert resumed.args == [job_id, JobState.DONE.value]
    text = " ".join(s.text.lower() for s in store.segments(interview_id))
    for phrase in ("your country", "fairest creatures", "stew"):
        assert phrase in text


def test_audio_import_runs_off_the_gui_thread(interviews, qtbot: QtBot,  # type: ignore[no-untyped-def]
                                              fixtures_dir: Path, tmp_path: Path) -> None:
    with qtbot.waitSignal(interviews.imported, timeout=30_000) as imported:
        interviews.import_audio_in_background(fixtures_dir / "audio" / "jfk.flac")
    interview_id = imported.args[0]
    interview = interviews.store.interview(interview_id)
    assert interview.media_id is not None and 10_500 < interview.duration_ms < 11_500
    assert interviews.model.row_of(interview_id) >= 0  # the list shows it
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio at all", encoding="utf-8")
    with qtbot.waitSignal(interviews.error, timeout=30_000) as refused:
        interviews.import_audio_in_background(bad)
    assert "notes.wav" in refused.args[1]
    assert len(interviews.store.interviews()) == 1
    assert interviews.runner.busy_tasks() == 0
