"""The crash-safe WAV writer: valid on disk at every sync, repairable after a kill, with a
sidecar that names the recording, and found again by `unfinished_recordings`."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from study.folder import Study, StudyFolder
from transcription.audio import AudioError, decode, import_audio, probe
from transcription.wav_writer import (
    HEADER_BYTES,
    GrowingWav,
    RecordingError,
    RecordingInfo,
    discard,
    in_use,
    new_recording_path,
    read_sidecar,
    recordings_dir,
    repair_wav,
    unfinished_recordings,
)

RATE = 16_000


def tone(seconds: float, rate: int = RATE, channels: int = 1) -> bytes:
    """A 440 Hz tone as interleaved int16 bytes."""
    t = np.arange(round(seconds * rate)) / rate
    mono = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    return np.repeat(mono, channels).tobytes() if channels > 1 else mono.tobytes()


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i:i + size] for i in range(0, len(data), size)]


def read_back(path: Path) -> tuple[int, int, int, bytes]:
    with wave.open(str(path), "rb") as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.readframes(w.getnframes())


def header_sizes(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:HEADER_BYTES]
    return struct.unpack("<I", head[4:8])[0], struct.unpack("<I", head[40:44])[0]


@pytest.fixture
def recordings(study: Study) -> Path:
    return recordings_dir(study.folder)


def test_a_closed_recording_is_a_correct_wav(recordings: Path) -> None:
    path = new_recording_path(StudyFolder(recordings.parent))
    assert path.parent == recordings and path.suffix == ".wav"
    audio = tone(5.0)
    with GrowingWav(path, sample_rate=RATE) as wav:
        for piece in chunks(audio, 1_001):  # odd sizes split frames across chunks
            wav.append(piece)
        assert wav.duration_ms == 5000
    assert read_back(path) == (RATE, 1, 2, audio)
    assert header_sizes(path) == (36 + len(audio), len(audio))
    info = probe(path)
    assert (info.duration_ms, info.channels, info.sample_rate) == (5000, 1, RATE)
    assert np.abs(decode(path)).max() == pytest.approx(0.3, abs=0.01)


def test_stereo_and_other_rates(tmp_path: Path) -> None:
    audio = tone(3.0, rate=48_000, channels=2)
    with GrowingWav(tmp_path / "r.wav", sample_rate=48_000, channels=2) as wav:
        wav.append(audio)
    assert read_back(tmp_path / "r.wav") == (48_000, 2, 2, audio)
    assert probe(tmp_path / "r.wav").duration_ms == 3000


def test_the_header_is_synced_every_two_seconds_of_audio(recordings: Path) -> None:
    synced: list[int] = []
    path = recordings / "r.wav"
    wav = GrowingWav(path, sample_rate=RATE, on_sync=synced.append)
    assert header_sizes(path) == (36, 0)  # valid (empty) from the first moment
    results = [wav.append(piece) for piece in chunks(tone(5.0), 1_600)]  # 50 ms each
    assert synced == [2000, 4000]
    assert results.count(True) == 2
    assert wav.synced_ms == 4000 and wav.duration_ms == 5000
    assert header_sizes(path) == (36 + 4 * 2 * RATE, 4 * 2 * RATE)
    wav.close()
    assert synced[-1] == 5000


def test_a_killed_recording_is_valid_up_to_the_last_sync_and_repairs_to_the_end(
        recordings: Path, tmp_path: Path) -> None:
    """Simulate a kill: copy the file mid-recording, as it is on disk, never closed."""
    path = recordings / "r.wav"
    audio = tone(5.3)
    wav = GrowingWav(path, sample_rate=RATE, info=RecordingInfo.now(title="Pilot"))
    for piece in chunks(audio, 999):
        wav.append(piece)
    wav._file.flush()  # what the OS has after a kill -9: everything written so far
    killed = tmp_path / "killed.wav"
    shutil.copyfile(path, killed)
    shutil.copyfile(path.with_suffix(".json"), killed.with_suffix(".json"))

    # Without any repair, the file is a correct WAV of the synced part.
    rate, channels, width, frames = read_back(killed)
    assert (rate, channels, width) == (RATE, 1, 2)
    assert len(frames) == wav.synced_frames * 2 and 4000 <= wav.synced_ms < 4100
    assert frames == audio[: len(frames)]
    assert probe(killed).duration_ms == wav.synced_ms

    # Repair recovers everything that reached the disk, without the half frame.
    assert len(audio) % 999 != 0 and killed.stat().st_size == HEADER_BYTES + len(audio)
    assert repair_wav(killed) == 5300
    assert read_back(killed)[3] == audio
    assert probe(killed).duration_ms == 5300
    assert read_sidecar(killed) == wav.info
    wav.close()


def test_repair_drops_a_half_frame_and_fixes_stale_sizes(tmp_path: Path) -> None:
    path = tmp_path / "r.wav"
    with GrowingWav(path, sample_rate=RATE, sync_seconds=60) as wav:
        wav.append(tone(1.0))
    with path.open("ab") as f:  # more audio after the last sync, then half a sample
        f.write(tone(0.5) + b"\x01")
    assert header_sizes(path)[1] == 2 * RATE
    assert repair_wav(path) == 1500
    assert path.stat().st_size == HEADER_BYTES + 3 * RATE
    assert header_sizes(path) == (36 + 3 * RATE, 3 * RATE)
    assert repair_wav(path) == 1500  # idempotent


def test_repair_of_an_empty_recording_and_of_garbage(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    GrowingWav(empty, sample_rate=RATE).close()
    assert repair_wav(empty) == 0
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"not a wav at all" * 10)
    with pytest.raises(RecordingError, match="not a WAV recording"):
        repair_wav(garbage)
    with pytest.raises(AudioError):
        probe(empty)  # nothing to import: recovery discards it rather than offering it


def test_pause_syncs_and_ignores_audio_until_resumed(tmp_path: Path) -> None:
    path = tmp_path / "r.wav"
    synced: list[int] = []
    with GrowingWav(path, sample_rate=RATE, on_sync=synced.append) as wav:
        wav.append(tone(1.0))
        wav.pause()
        assert synced == [1000]  # a long pause loses nothing
        assert wav.append(tone(3.0)) is False
        assert wav.duration_ms == 1000
        wav.resume()
        wav.append(tone(0.5))
    assert probe(path).duration_ms == 1500


def test_the_sidecar_names_the_recording(recordings: Path) -> None:
    path = new_recording_path(recordings.parent)
    info = RecordingInfo.now(title="Interview with MHCC-1", participant_id=3,
                             device="USB microphone")
    with GrowingWav(path, sample_rate=48_000, channels=2, info=info):
        pass
    stored = read_sidecar(path)
    assert stored is not None
    assert (stored.title, stored.participant_id, stored.device) == (
        "Interview with MHCC-1", 3, "USB microphone")
    assert (stored.sample_rate, stored.channels) == (48_000, 2)
    assert stored.started.tzinfo is not None
    path.with_suffix(".json").write_text("{broken")
    assert read_sidecar(path) is None


def test_recordings_are_never_overwritten(recordings: Path) -> None:
    first = new_recording_path(recordings.parent)
    GrowingWav(first).close()
    second = new_recording_path(recordings.parent)
    assert second != first and second.parent == recordings
    with pytest.raises(RecordingError, match="already exists"):
        GrowingWav(first)


def test_unfinished_recordings_skips_one_still_being_written(study: Study) -> None:
    assert unfinished_recordings(study.folder) == []
    done = new_recording_path(study.folder)
    GrowingWav(done).close()
    running = GrowingWav(new_recording_path(study.folder))
    running.append(tone(0.1))
    if sys.platform != "win32":
        assert in_use(running.path)
        assert unfinished_recordings(study.folder) == [done]
    running.close()
    assert not in_use(running.path)
    assert unfinished_recordings(study.folder) == sorted([done, running.path])
    assert unfinished_recordings(study.folder.root) == sorted([done, running.path])
    discard(done)
    assert not done.exists() and not done.with_suffix(".json").exists()


def test_a_process_killed_mid_recording_leaves_a_valid_wav(tmp_path: Path) -> None:
    """A real kill -9 of a process writing a GrowingWav (no Qt involved)."""
    path = tmp_path / "r.wav"
    script = (
        "import sys, numpy as np\n"
        "from transcription.wav_writer import GrowingWav\n"
        "wav = GrowingWav(sys.argv[1], on_sync=lambda ms: print(ms, flush=True))\n"
        "block = (np.ones(800) * 1000).astype('<i2').tobytes()\n"
        "while True:\n"
        "    wav.append(block)\n"
    )
    with subprocess.Popen([sys.executable, "-c", script, str(path)],
                          stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            synced = [int(child.stdout.readline()) for _ in range(3)]
        finally:
            child.kill()
            child.wait(timeout=30)
    assert synced == [2000, 4000, 6000]
    assert not in_use(path)  # the kernel released the dead process's lock
    assert probe(path).duration_ms >= 6000
    assert repair_wav(path) >= 6000
    _rate, _channels, _width, frames = read_back(path)
    assert set(np.frombuffer(frames, "<i2")) == {1000}


def test_a_repaired_recording_imports_into_the_study(study: Study, tmp_path: Path) -> None:
    path = new_recording_path(study.folder)
    wav = GrowingWav(path, sample_rate=RATE)
    wav.append(tone(2.5))
    wav._file.flush()
    assert repair_wav(path) == 2500
    interview_id, media = import_audio(study, path, title="Recovered")
    assert media.duration_ms == 2500
    assert study.store.interview(interview_id).title == "Recovered"
    wav.close()
