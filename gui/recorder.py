"""In-app recording: a microphone (QAudioSource, pull mode) into a crash-safe GrowingWav.

Time is counted in audio, not on the clock: `elapsed` is what the file holds, so it stops
when the microphone delivers nothing and never runs ahead of the recording. The level
meter keeps working while paused (the researcher can see the microphone is live); paused
audio is simply not written. Every sync (two seconds of audio) the free disk space is
checked. A failure of the device or the disk stops the recording and keeps what was
written: `error` says why, then `stopped` hands over the file as after a normal stop.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PySide6.QtCore import QIODevice, QObject, Signal, Slot
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSource, QMediaDevices, QtAudio

from transcription.wav_writer import (
    GrowingWav,
    RecordingError,
    RecordingFull,
    RecordingInfo,
    discard,
)

LEVEL_MS = 50  # the meter shows the peak of each 50 ms of audio
ELAPSED_STEP_MS = 100  # `elapsed` is emitted at most every 100 ms of audio
LOW_DISK_MINUTES = 30
LOW_DISK_BYTES = 200 * 1024 * 1024
NO_MICROPHONE = (
    "No microphone was found. Connect a microphone or USB recorder (and check that your "
    "system allows Verbatim to use it), then try again."
)

_FORMAT_NAMES = {
    QAudioFormat.SampleFormat.UInt8: "8-bit",
    QAudioFormat.SampleFormat.Int16: "16-bit",
    QAudioFormat.SampleFormat.Int32: "32-bit",
    QAudioFormat.SampleFormat.Float: "32-bit float",
}


def choose_format(device: QAudioDevice) -> tuple[QAudioFormat, str]:
    """The format to open `device` with, and a note when it is not plain 16-bit capture.

    The device's preferred format is used as it is when it is 16-bit. Otherwise 16-bit is
    asked for at the preferred rate and channel count; if the device refuses that too, it
    is opened in its preferred format and the samples are converted to 16-bit here.
    """
    preferred = device.preferredFormat()
    if preferred.sampleFormat() == QAudioFormat.SampleFormat.Int16:
        return preferred, ""
    wanted = QAudioFormat()
    wanted.setSampleRate(preferred.sampleRate() or 48_000)
    wanted.setChannelCount(preferred.channelCount() or 1)
    wanted.setSampleFormat(QAudioFormat.SampleFormat.Int16)
    if device.isFormatSupported(wanted):
        return wanted, ""
    name = _FORMAT_NAMES.get(preferred.sampleFormat())
    if name is None:
        raise RecordingError(
            f"{device.description()} only offers an audio format Verbatim cannot record. "
            "Choose another microphone.")
    return preferred, (f"{device.description()} delivers {name} audio; Verbatim converts it "
                       "to 16-bit as it records.")


def to_int16(data: bytes, sample_format: QAudioFormat.SampleFormat) -> bytes:
    """Whole samples of `sample_format` as little-endian int16 bytes."""
    match sample_format:
        case QAudioFormat.SampleFormat.Int16:
            return data
        case QAudioFormat.SampleFormat.UInt8:
            samples = (np.frombuffer(data, np.uint8).astype(np.int16) - 128) << 8
        case QAudioFormat.SampleFormat.Int32:
            samples = np.frombuffer(data, np.int32) >> 16
        case QAudioFormat.SampleFormat.Float:
            floats = np.frombuffer(data, np.float32)
            samples = np.clip(np.rint(floats * 32767.0), -32768, 32767)
        case _:
            raise RecordingError("Unsupported sample format.")
    return samples.astype("<i2").tobytes()


def low_disk_message(free_bytes: int, bytes_per_second: int) -> str | None:
    """A warning when less than about 30 minutes of recording (or 200 MB) fits on the disk."""
    minutes = free_bytes / max(bytes_per_second, 1) / 60
    if minutes >= LOW_DISK_MINUTES and free_bytes >= LOW_DISK_BYTES:
        return None
    return (f"Low disk space: {free_bytes / 1024 / 1024:,.0f} MB free, room for about "
            f"{minutes:.0f} more minutes of recording. Free some space or stop soon; what "
            "is recorded so far is safe.")


class Recorder(QObject):
    """Records one input device into a GrowingWav. One recording at a time."""

    level = Signal(float)  # 0..1, peak of the last ~50 ms of audio
    elapsed = Signal(int)  # ms of audio in the file
    synced = Signal(int)  # ms of audio that would survive a crash as it stands
    error = Signal(str)  # a plain-language message; the recording stops and is kept
    low_disk = Signal(str)
    stopped = Signal(object)  # Path of the finished WAV (closed and valid)
    inputs_changed = Signal()
    state_changed = Signal(str)  # "idle", "recording", "paused"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._devices = QMediaDevices(self)
        self._devices.audioInputsChanged.connect(self._inputs_changed)
        self._source: QAudioSource | None = None
        self._io: QIODevice | None = None
        self._wav: GrowingWav | None = None
        self._device: QAudioDevice | None = None
        self._format = QAudioFormat()
        self._pending = b""  # a partial sample from the last read
        self._peak = 0
        self._peak_frames = 0
        self._last_elapsed = -ELAPSED_STEP_MS
        self._low_disk_warned = False
        self._stopping = False
        self.format_note = ""

    # --- devices ---------------------------------------------------------------------------

    @staticmethod
    def inputs() -> list[QAudioDevice]:
        return list(QMediaDevices.audioInputs())

    @staticmethod
    def default_input() -> QAudioDevice | None:
        device = QMediaDevices.defaultAudioInput()
        return None if device.isNull() else device

    @Slot()
    def _inputs_changed(self) -> None:
        if self._device is not None and self._source is not None:
            ids = {d.id().data() for d in self.inputs()}
            if self._device.id().data() not in ids:
                self._fail(f"{self._device.description()} was disconnected. The recording "
                           "was stopped; everything recorded until then is kept.")
                return
        self.inputs_changed.emit()

    # --- state -----------------------------------------------------------------------------

    @property
    def recording(self) -> bool:
        return self._wav is not None

    @property
    def paused(self) -> bool:
        return self._wav is not None and self._wav.paused

    @property
    def path(self) -> Path | None:
        return self._wav.path if self._wav is not None else None

    @property
    def elapsed_ms(self) -> int:
        return self._wav.duration_ms if self._wav is not None else 0

    @property
    def audio_format(self) -> QAudioFormat:
        return self._format

    # --- control ---------------------------------------------------------------------------

    def start(self, device: QAudioDevice, path: Path, *, title: str = "",
              participant_id: int | None = None) -> None:
        """Start recording `device` into a new WAV at `path` (in the study's recordings/
        folder). Problems are reported through `error`; nothing is raised."""
        if self._wav is not None:
            raise RuntimeError("Already recording")
        if device.isNull():
            self.error.emit(NO_MICROPHONE)
            return
        try:
            fmt, self.format_note = choose_format(device)
            wav = GrowingWav(
                path, sample_rate=fmt.sampleRate(), channels=fmt.channelCount(),
                info=RecordingInfo.now(title=title, participant_id=participant_id,
                                       device=device.description()),
                on_sync=self._on_sync)
        except RecordingError as e:
            self.error.emit(str(e))
            return
        source = QAudioSource(device, fmt, self)
        source.stateChanged.connect(self._state)
        io = source.start()
        # error() is a QtAudio.Error; PySide's QAudio.Error is a different, never-equal enum.
        if io is None or source.error() != QtAudio.Error.NoError:
            wav.on_sync = None
            wav.close()
            discard(wav.path)
            source.deleteLater()
            self.error.emit(f"{device.description()} could not be opened. It may be in use by "
                            "another program, or unplugged.")
            return
        self._device, self._format, self._source, self._io, self._wav = (
            device, fmt, source, io, wav)
        self._pending, self._peak, self._peak_frames = b"", 0, 0
        self._last_elapsed = -ELAPSED_STEP_MS
        self._low_disk_warned = False
        self._stopping = False
        io.readyRead.connect(self._read)
        self._check_disk()
        self.state_changed.emit("recording")
        self.elapsed.emit(0)

    def pause(self) -> None:
        if self._wav is not None and not self._wav.paused:
            self._read()
            try:
                self._wav.pause()
            except OSError as e:
                self._write_failed(e)
                return
            self.state_changed.emit("paused")

    def resume(self) -> None:
        if self._wav is not None and self._wav.paused:
            self._wav.resume()
            self.state_changed.emit("recording")

    def stop(self) -> Path | None:
        """Stop, finalise the WAV and emit `stopped`; returns its path."""
        if self._wav is None:
            return None
        self._read()
        return self._finish()

    # --- reading ---------------------------------------------------------------------------

    @Slot()
    def _read(self) -> None:
        if self._io is None or self._wav is None:
            return
        data = self._pending + self._io.readAll().data()
        sample_bytes = self._format.bytesPerSample() or 2
        cut = len(data) - len(data) % (sample_bytes * max(self._format.channelCount(), 1))
        data, self._pending = data[:cut], data[cut:]
        if not data:
            return
        pcm = to_int16(data, self._format.sampleFormat())
        self._meter(pcm)
        if self._wav.paused:
            return
        try:
            self._wav.append(pcm)
        except RecordingFull as e:
            self._fail(str(e))
            return
        except OSError as e:
            self._write_failed(e)
            return
        ms = self._wav.duration_ms
        if ms - self._last_elapsed >= ELAPSED_STEP_MS:
            self._last_elapsed = ms
            self.elapsed.emit(ms)

    def _meter(self, pcm: bytes) -> None:
        samples = np.frombuffer(pcm, "<i2")
        if not len(samples):
            return
        self._peak = max(self._peak, int(np.abs(samples.astype(np.int32)).max()))
        channels = max(self._format.channelCount(), 1)
        self._peak_frames += len(samples) // channels
        if self._peak_frames * 1000 >= LEVEL_MS * self._format.sampleRate():
            self.level.emit(min(self._peak / 32768.0, 1.0))
            self._peak, self._peak_frames = 0, 0

    def _on_sync(self, ms: int) -> None:
        self.synced.emit(ms)
        self._check_disk()

    def _check_disk(self) -> None:
        if self._wav is None:
            return
        try:
            free = shutil.disk_usage(self._wav.path.parent).free
        except OSError:
            return
        message = low_disk_message(free, self._wav.bytes_per_second)
        if message is None:
            self._low_disk_warned = False
        elif not self._low_disk_warned:
            self._low_disk_warned = True
            self.low_disk.emit(message)

    # --- endings ---------------------------------------------------------------------------

    @Slot()
    def _state(self) -> None:
        # The signal's argument is a QAudio.State, which PySide 6.12 keeps as a separate
        # enum from the QtAudio.State that state() returns: ask the source instead.
        if self._source is None or self._stopping:
            return
        problem = self._source.error()
        if (self._source.state() == QtAudio.State.StoppedState
                and problem != QtAudio.Error.NoError):
            name = self._device.description() if self._device is not None else "The microphone"
            reason = {
                QtAudio.Error.OpenError: "could not be opened",
                QtAudio.Error.IOError: "stopped delivering sound",
                QtAudio.Error.FatalError: "failed",
            }.get(problem, "failed")
            self._fail(f"{name} {reason}. The recording was stopped; everything recorded "
                       "until then is kept.")

    def _write_failed(self, e: OSError) -> None:
        self._fail(f"The recording could not be written ({e.strerror or e}); the disk may be "
                   "full. It was stopped; everything recorded until then is kept.")

    def _fail(self, message: str) -> None:
        self.error.emit(message)
        self._finish()

    def _finish(self) -> Path | None:
        wav, source = self._wav, self._source
        if wav is None:
            return None
        self._stopping = True
        self._wav = self._source = self._io = None
        self._device = None
        if source is not None:
            source.stop()
            source.deleteLater()
        try:
            ms = wav.close()
        except OSError as e:
            # The file is valid up to its last sync; recovery repairs the rest next time.
            self.error.emit(f"The end of the recording could not be saved ({e.strerror or e}).")
            ms = wav.synced_ms
        self.elapsed.emit(ms)
        self.level.emit(0.0)
        self.state_changed.emit("idle")
        self.stopped.emit(wav.path)
        return wav.path
