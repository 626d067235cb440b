"""In-app recording against a real (private) PulseAudio server with a virtual microphone:
speech recorded through the dialog becomes a transcribable interview; pause, resume and
the shortcuts; closing mid-recording keeps it; a microphone that vanishes loses nothing;
no microphone at all is said plainly; and a recorder killed with SIGKILL leaves
a recording that `offer_recovery` turns into an interview. The recorder runs in a child
process with the server's environment (see conftest.py for why)."""

from __future__ import annotations

import os
import re
import signal
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gui.format import clock
from gui.recorder import low_disk_message, to_int16
from gui.recording_dialog import offer_recovery
from study.folder import Study
from study.model import JobState, Participant
from transcription.audio import AudioError, probe
from transcription.job import create_job, run_job
from transcription.options import Quality, TranscriptionOptions
from transcription.wav_writer import (
    GrowingWav,
    RecordingInfo,
    new_recording_path,
    recordings_dir,
    unfinished_recordings,
)

from .conftest import RATE, Child, Feeder, PulseServer, silence

FAST = TranscriptionOptions(quality=Quality.FAST, threads=2)
slow = pytest.mark.slow
Start = Callable[..., Child]
StartFeeder = Callable[..., Feeder]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def ms_of(audio: bytes) -> int:
    return len(audio) * 1000 // (2 * RATE)


def no_qt_warnings(child: Child) -> None:
    assert child.events("qt-warning") == []


def driver(children: Start, study: Study, pulse: PulseServer,
           **env: str) -> tuple[Child, dict]:
    child = children("recording_driver.py", str(study.folder.root), env=pulse.env() | env)
    return child, child.event("ready", timeout=60)


def media_of(study: Study, interview_id: int) -> tuple[Path, int]:
    interview = study.store.interview(interview_id)
    assert interview.media_id is not None
    media = study.store.media(interview.media_id)
    return study.folder.media / media.filename, media.duration_ms


# --- through the dialog ----------------------------------------------------------------------


@slow
def test_speech_recorded_through_the_dialog_becomes_a_transcribable_interview(
        pulse: PulseServer, feeders: StartFeeder, children: Start, study: Study,
        speech: tuple[bytes, str]) -> None:
    participant = study.store.add_participant(Participant("MHCC-1", "MHCC")).new_id(
        "participant")
    child, ready = driver(children, study, pulse)
    assert ready["inputs"] == [f"Unix FIFO source {pulse.fifo}"]
    assert ready["record_enabled"] and ready["status"] == ""

    child.send("title Interview with MHCC-1")
    child.send("participant MHCC-1")
    child.send("record")
    child.event("state", where=lambda e: e["state"] == "recording")
    recording = recordings_dir(study.folder)
    assert len(list(recording.glob("*.wav"))) == 1  # crash-safe file from the start

    said, text = speech
    audio = silence(0.5) + said + silence(1.0)
    total_ms = ms_of(audio)
    feeder = feeders(pulse.fifo, audio)
    assert feeder.done.wait(timeout=60)
    last = child.event("elapsed", where=lambda e: e["ms"] >= total_ms - 150)
    assert last["label"] == clock(last["ms"])
    assert last["max_level"] > 0.1  # the meter saw the speech

    child.send("stop")
    finished = child.event("finished")
    assert finished["result"] == 1  # accepted: saved
    assert child.finish() == 0
    no_qt_warnings(child)
    assert child.events("error") == []

    interview_id = finished["interview_id"]
    assert child.events("recorded") == [{"event": "recorded", "interview_id": interview_id}]
    interview = study.store.interview(interview_id)
    assert interview.title == "Interview with MHCC-1"
    assert interview.participant_id == participant
    media_path, duration_ms = media_of(study, interview_id)
    assert abs(duration_ms - total_ms) <= 200, (duration_ms, total_ms)
    info = probe(media_path)
    assert (info.channels, info.sample_rate, info.duration_ms) == (1, RATE, duration_ms)
    assert list(recording.iterdir()) == []  # imported: the recording and sidecar are gone

    job_id = create_job(study, interview_id, FAST)
    assert run_job(study.folder.root, job_id, progress=lambda p: None) is JobState.DONE
    heard = set(words(" ".join(s.text for s in study.store.segments(interview_id))))
    spoken = words(text)
    found = [w for w in spoken if w in heard]
    assert len(found) >= 0.6 * len(spoken), (heard, spoken)


@slow
def test_pause_resume_and_stop_with_the_keyboard(
        pulse: PulseServer, feeders: StartFeeder, children: Start, study: Study,
        speech: tuple[bytes, str]) -> None:
    child, ready = driver(children, study, pulse)
    assert ready["active"]  # shortcuts only reach the active window
    child.send("key Ctrl+R")
    started = child.event("state")
    assert started["state"] == "recording"
    assert not started["record_enabled"] and started["stop_enabled"]
    feeder = feeders(pulse.fifo, speech[0] + silence(0.5), loop=True)

    child.event("elapsed", where=lambda e: e["ms"] >= 1000)
    child.send("key Ctrl+P")
    paused = child.event("state")
    assert paused["state"] == "paused" and paused["pause_text"] == "&Resume"
    at_pause = paused["ms"]
    fed_at_pause = feeder.fed_ms
    feeder.wait_fed(fed_at_pause + 1500)  # 1.5 s spoken while paused: not recorded
    child.send("key Ctrl+P")
    resumed = child.event("state")
    assert resumed["state"] == "recording" and resumed["pause_text"] == "&Pause"
    assert resumed["ms"] == at_pause  # nothing was added while paused

    child.event("elapsed", where=lambda e: e["ms"] >= at_pause + 1000)
    child.send("key Ctrl+S")
    finished = child.event("finished")
    fed_total = feeder.fed_ms
    assert finished["result"] == 1
    assert child.finish() == 0
    no_qt_warnings(child)

    _path, duration_ms = media_of(study, finished["interview_id"])
    assert at_pause + 1000 <= duration_ms <= fed_total - 1400, (at_pause, duration_ms,
                                                                fed_total)
    assert study.store.interview(finished["interview_id"]).title.startswith("Recording ")


@slow
def test_closing_while_recording_stops_and_keeps_the_recording(
        pulse: PulseServer, feeders: StartFeeder, children: Start, study: Study,
        speech: tuple[bytes, str]) -> None:
    """Also: with little disk space left the dialog says so inline, and records on."""
    child, _ready = driver(children, study, pulse, VERBATIM_TEST_FREE_BYTES=str(150 << 20))
    child.send("record")
    warning = child.event("low-disk")["message"]
    assert warning.startswith("Low disk space: 150 MB free")
    assert child.event("state")["disk_warning"] == f"\u26a0 {warning}"
    feeders(pulse.fifo, speech[0], loop=True)
    child.event("elapsed", where=lambda e: e["ms"] >= 1500)
    child.send("close")  # the driver answers "stop and keep" to the question
    finished = child.event("finished")
    assert finished["result"] == 1 and finished["interview_id"] is not None
    assert child.finish() == 0
    no_qt_warnings(child)
    assert len(child.events("low-disk")) == 1  # said once, not at every sync
    assert media_of(study, finished["interview_id"])[1] >= 1500
    assert unfinished_recordings(study.folder) == []


@slow
def test_a_microphone_that_disappears_mid_recording_loses_nothing(
        pulse: PulseServer, feeders: StartFeeder, children: Start, study: Study,
        speech: tuple[bytes, str]) -> None:
    """PulseAudio moves a recording stream whose source vanishes to another source (here
    the null sink's monitor, silence), and Qt reports neither an error nor a change of
    inputs: the recording carries on and Stop keeps all of it."""
    child, _ready = driver(children, study, pulse)
    child.send("record")
    feeder = feeders(pulse.fifo, speech[0], loop=True)
    child.event("elapsed", where=lambda e: e["ms"] >= 1500)
    unloaded = pulse.pactl("unload-module", "module-pipe-source")
    assert unloaded.returncode == 0, unloaded.stderr
    assert feeder.done.wait(timeout=30) and feeder.unplugged
    unplugged_at = feeder.fed_ms
    child.event("elapsed", where=lambda e: e["ms"] >= unplugged_at + 1000)
    child.send("stop")
    finished = child.event("finished")
    assert finished["result"] == 1
    assert child.finish() == 0
    no_qt_warnings(child)
    assert media_of(study, finished["interview_id"])[1] >= unplugged_at + 1000


@slow
def test_without_a_microphone_the_dialog_says_so_and_cannot_record(
        pulse_without_mic: PulseServer, children: Start, study: Study) -> None:
    child, ready = driver(children, study, pulse_without_mic)
    assert ready["inputs"] == []
    assert ready["status"].startswith("No microphone was found")
    assert not ready["record_enabled"]
    child.send("record")  # the button is disabled; even a direct call does nothing
    did = child.event("did")
    assert not did["recording"] and not did["stop_enabled"]
    child.send("close")
    assert child.event("finished")["result"] == 0
    assert child.finish() == 0
    no_qt_warnings(child)
    assert unfinished_recordings(study.folder) == []
    assert study.store.interviews() == []


# --- killed mid-recording --------------------------------------------------------------------


@slow
def test_a_recorder_killed_mid_recording_is_recovered_as_an_interview(
        pulse: PulseServer, feeders: StartFeeder, children: Start, study: Study,
        speech: tuple[bytes, str]) -> None:
    child = children("record_until_killed.py", str(study.folder.root), "Pilot interview",
                     env=pulse.env())
    path = Path(child.wait_for(lambda line: line.startswith(("path ", "error ")),
                               timeout=60).removeprefix("path "))
    assert path.parent == recordings_dir(study.folder), path
    feeders(pulse.fifo, speech[0] + silence(0.3), loop=True)
    synced = [int(child.wait_for(lambda line: line.startswith("synced "), timeout=30).split()[1])
              for _ in range(2)]
    os.kill(child.process.pid, signal.SIGKILL)
    assert child.finish() == -signal.SIGKILL
    synced_ms = synced[-1]
    assert synced_ms >= 4000

    # As the kill left it, before any repair: a correct WAV of at least the synced audio.
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        assert w.getnframes() * 1000 // RATE >= synced_ms
    assert unfinished_recordings(study.folder) == [path]

    questions: list[tuple[str, str]] = []

    def yes(title: str, question: str) -> bool:
        questions.append((title, question))
        return True

    new_ids = offer_recovery(study, None, ask=yes)
    assert len(new_ids) == 1
    [(_title, question)] = questions
    assert re.fullmatch(r"A recording from \d{1,2} \w+ \d{4} at \d\d:\d\d \(\d\d:\d\d\) was "
                        r"not finished\. Keep it as an interview\?", question), question
    interview = study.store.interview(new_ids[0])
    assert interview.title == "Pilot interview"
    media_path, duration_ms = media_of(study, new_ids[0])
    assert duration_ms >= synced_ms
    assert probe(media_path).duration_ms == duration_ms
    assert list(recordings_dir(study.folder).iterdir()) == []
    assert offer_recovery(study, None, ask=yes) == []  # nothing left to offer


# --- recovery choices (no audio server needed) -------------------------------------------------


def leftover(study: Study, seconds: float, **info: object) -> Path:
    """A recording as a crash leaves it: written, never closed, sizes stale."""
    path = new_recording_path(study.folder)
    wav = GrowingWav(path, info=RecordingInfo.now(**info), sync_seconds=60)
    wav.append((np.ones(round(seconds * RATE)) * 800).astype("<i2").tobytes())
    wav._file.flush()
    wav._file.close()  # as a kill would: no final sizes
    return path


def test_recovery_declined_deletes_the_leftovers(study: Study) -> None:
    path = leftover(study, 1.5, title="Declined")
    asked: list[str] = []
    assert offer_recovery(study, None, ask=lambda t, q: asked.append(q) is not None) == []
    assert "(00:01)" in asked[0]
    assert not path.exists() and not path.with_suffix(".json").exists()
    assert study.store.interviews() == []


def test_recovery_names_the_interview_and_checks_the_participant(study: Study) -> None:
    kept = study.store.add_participant(Participant("CFSW-2", "CFSW")).new_id("participant")
    with_participant = leftover(study, 1.0, title="With CFSW-2", participant_id=kept)
    gone_participant = leftover(study, 1.0, participant_id=9999)
    ids = offer_recovery(study, None, ask=lambda t, q: True)
    assert len(ids) == 2
    by_title = {study.store.interview(i).title: study.store.interview(i) for i in ids}
    assert by_title["With CFSW-2"].participant_id == kept
    [untitled] = [i for t, i in by_title.items() if t != "With CFSW-2"]
    assert untitled.title.startswith("Recording ") and untitled.participant_id is None
    assert not with_participant.exists() and not gone_participant.exists()


def test_recovery_keeps_a_recording_it_could_not_import(study: Study,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = leftover(study, 1.0)
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr("gui.errors.show_error", lambda _p, t, m: shown.append((t, m)))

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise AudioError("Could not copy \u201crecording.wav\u201d into the study: "
                         "No space left on device.")

    monkeypatch.setattr("gui.recording_dialog.import_audio", disk_full)
    assert offer_recovery(study, None, ask=lambda t, q: True) == []
    assert path.exists() and path.with_suffix(".json").exists()
    assert shown and "No space left" in shown[0][1] and "offered again" in shown[0][1]


def test_recovery_drops_empty_recordings_without_asking(study: Study) -> None:
    path = leftover(study, 0.0)
    assert offer_recovery(study, None, ask=lambda t, q: pytest.fail("asked")) == []
    assert not path.exists()


def test_recovery_leaves_a_recording_that_is_still_running(study: Study) -> None:
    running = GrowingWav(new_recording_path(study.folder))
    running.append(bytes(RATE * 2))
    try:
        assert offer_recovery(study, None, ask=lambda t, q: pytest.fail("asked")) == []
        assert running.path.exists()
    finally:
        running.close()


# --- recorder helpers --------------------------------------------------------------------------


def test_low_disk_warning_thresholds() -> None:
    rate = 2 * RATE  # bytes a second, 16 kHz mono
    assert low_disk_message(10 * 1024**3, rate) is None
    assert "Low disk space" in (low_disk_message(150 * 1024**2, rate) or "")  # under 200 MB
    stereo_48k = 4 * 48_000
    assert low_disk_message(300 * 1024**2, stereo_48k) is not None  # about 27 minutes
    assert low_disk_message(400 * 1024**2, stereo_48k) is None


def test_samples_are_converted_to_16_bit() -> None:
    from PySide6.QtMultimedia import QAudioFormat

    fmt = QAudioFormat.SampleFormat
    floats = np.array([0.0, 0.5, -1.0, 1.5], np.float32).tobytes()
    assert np.frombuffer(to_int16(floats, fmt.Float), "<i2").tolist() == [
        0, 16384, -32767, 32767]
    ints = np.array([1 << 30, -(1 << 31)], np.int32).tobytes()
    assert np.frombuffer(to_int16(ints, fmt.Int32), "<i2").tolist() == [16384, -32768]
    bytes8 = bytes([128, 255, 0])
    assert np.frombuffer(to_int16(bytes8, fmt.UInt8), "<i2").tolist() == [0, 32512, -32768]

