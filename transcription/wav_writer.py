"""Crash-safe recording to disk: a PCM WAV file whose header stays valid as it grows.

A recording is written to the study's `recordings/` folder while it runs. Every couple
of seconds of audio the header's RIFF and data sizes are rewritten and the file is
fsynced, so if the app is killed (or the laptop loses power) the file up to the last
sync is already a correct WAV that any player opens. `repair_wav` recovers the rest:
it sets the sizes from the real file length. A JSON sidecar beside each recording says
when it started, its title, participant and device, so recovery can name it.

Once a recording is imported into the study (media/ by content hash), the file and its
sidecar are deleted; anything left in recordings/ is therefore an unfinished recording.
While a recording is being written its file is locked (POSIX), so recovery never offers
a recording that is still running in another window or process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from study.errors import StudyError
from study.folder import StudyFolder

try:  # POSIX: advisory locks mark a recording in progress; elsewhere nothing is locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

RECORDINGS = "recordings"
HEADER_BYTES = 44
SIDECAR_VERSION = 1
DEFAULT_SYNC_SECONDS = 2.0
# The WAV sizes are 32-bit: the RIFF size (data + 36) must fit in 0xFFFFFFFF.
MAX_DATA_BYTES = 0xFFFFFFFF - (HEADER_BYTES - 8)
_STAMP = "%Y%m%d-%H%M%S"


class RecordingError(StudyError):
    """A recording that cannot be written or repaired; str() says why."""


class RecordingFull(RecordingError):
    """The WAV format's 4 GB limit was reached; what fitted is kept."""


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """What the sidecar says about a recording, so recovery can name and file it."""

    started_at: str  # ISO 8601, local time with offset
    title: str = ""
    participant_id: int | None = None
    device: str = ""
    sample_rate: int = 16_000
    channels: int = 1
    sample_width: int = 2  # bytes per sample

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.started_at)

    @classmethod
    def now(cls, **fields: object) -> RecordingInfo:
        return cls(started_at=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                   **fields)  # type: ignore[arg-type]


def recordings_dir(folder: StudyFolder | Path) -> Path:
    root = folder.root if isinstance(folder, StudyFolder) else Path(folder)
    return root / RECORDINGS


def sidecar_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def new_recording_path(folder: StudyFolder | Path, at: dt.datetime | None = None) -> Path:
    """A fresh file name in the study's recordings/ folder (created if missing)."""
    directory = recordings_dir(folder)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"recording-{(at or dt.datetime.now()).strftime(_STAMP)}"
    path, n = directory / f"{stem}.wav", 1
    while path.exists() or sidecar_path(path).exists():
        n += 1
        path = directory / f"{stem}-{n}.wav"
    return path


def write_sidecar(path: Path, info: RecordingInfo) -> None:
    """Write the sidecar under a temporary name, fsync, then rename: never half-written."""
    target = sidecar_path(path)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8") as f:
        json.dump({"version": SIDECAR_VERSION, **asdict(info)}, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    partial.replace(target)


def read_sidecar(path: Path) -> RecordingInfo | None:
    """The recording's sidecar, or None if it is missing or unreadable."""
    try:
        data = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
        pid = data.get("participant_id")
        return RecordingInfo(
            started_at=str(data["started_at"]), title=str(data.get("title") or ""),
            participant_id=int(pid) if pid is not None else None,
            device=str(data.get("device") or ""),
            sample_rate=int(data.get("sample_rate", 16_000)),
            channels=int(data.get("channels", 1)),
            sample_width=int(data.get("sample_width", 2)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _header(sample_rate: int, channels: int, sample_width: int, data_bytes: int) -> bytes:
    block_align = channels * sample_width
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", data_bytes + HEADER_BYTES - 8, b"WAVE", b"fmt ", 16,
        1, channels, sample_rate, sample_rate * block_align, block_align, sample_width * 8,
        b"data", data_bytes)


def _write_sizes(f: BinaryIO, data_offset: int, data_bytes: int) -> None:
    f.seek(4)
    f.write(struct.pack("<I", data_offset - 8 + data_bytes))
    f.seek(data_offset - 4)
    f.write(struct.pack("<I", data_bytes))


def _fsync(f: BinaryIO) -> None:
    f.flush()
    os.fsync(f.fileno())


class GrowingWav:
    """A 16-bit PCM WAV being recorded, valid on disk up to the last sync at all times.

    `append` takes raw interleaved little-endian samples in any chunk size (a chunk may
    split a frame; the partial frame waits for the next chunk). Every `sync_seconds` of
    audio the data is fsynced first and then the header sizes are rewritten and fsynced,
    so the header never claims audio that is not on disk. `pause()` syncs and then
    ignores appended audio until `resume()`. `close()` finalises.
    """

    def __init__(self, path: Path, *, sample_rate: int = 16_000, channels: int = 1,
                 sample_width: int = 2, sync_seconds: float = DEFAULT_SYNC_SECONDS,
                 info: RecordingInfo | None = None,
                 on_sync: Callable[[int], None] | None = None) -> None:
        if sample_width != 2:
            raise ValueError("GrowingWav writes 16-bit PCM only")
        if sample_rate <= 0 or channels <= 0:
            raise ValueError(f"bad audio format: {sample_rate} Hz, {channels} channels")
        self.path = Path(path)
        self.sample_rate, self.channels, self.sample_width = sample_rate, channels, sample_width
        self.block_align = channels * sample_width
        self.sync_bytes = max(self.block_align,
                              round(sync_seconds * sample_rate) * self.block_align)
        self.on_sync = on_sync
        self.paused = False
        self.closed = False
        self._data_bytes = 0  # audio bytes written (may end in a partial frame)
        self._synced_bytes = 0  # audio bytes the header claims (whole frames, on disk)
        info = info or RecordingInfo.now()
        self.info = RecordingInfo(info.started_at, info.title, info.participant_id,
                                  info.device, sample_rate, channels, sample_width)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._file: BinaryIO = self.path.open("xb")  # never overwrite a recording
        except FileExistsError as e:
            raise RecordingError(f"A recording named {self.path.name} already exists.") from e
        except OSError as e:
            raise RecordingError(
                f"Could not create the recording file in {self.path.parent}: "
                f"{e.strerror or e}.") from e
        try:
            if fcntl is not None:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._file.write(_header(sample_rate, channels, sample_width, 0))
            _fsync(self._file)
            write_sidecar(self.path, self.info)
        except OSError as e:
            self._file.close()
            self.path.unlink(missing_ok=True)
            raise RecordingError(
                f"Could not start the recording in {self.path.parent}: {e.strerror or e}."
            ) from e

    # --- state -----------------------------------------------------------------------------

    @property
    def frames(self) -> int:
        """Whole frames written so far (synced or not)."""
        return self._data_bytes // self.block_align

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.sample_rate

    @property
    def synced_frames(self) -> int:
        return self._synced_bytes // self.block_align

    @property
    def synced_ms(self) -> int:
        """Audio that survives a kill as a valid WAV without any repair."""
        return self.synced_frames * 1000 // self.sample_rate

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.block_align

    # --- writing ---------------------------------------------------------------------------

    def append(self, data: bytes) -> bool:
        """Add audio; returns True when this call synced the file. Ignored while paused.
        Raises RecordingFull at the 4 GB limit (after writing what fits) and OSError for a
        failed write (disk full): the file stays valid up to the last sync."""
        if self.closed:
            raise RecordingError("The recording is already closed.")
        if self.paused or not data:
            return False
        room = MAX_DATA_BYTES - self._data_bytes
        full = len(data) > room
        if full:
            data = data[: room - (self._data_bytes + room) % self.block_align]
        self._file.write(data)
        self._data_bytes += len(data)
        if full:
            self.sync()
            raise RecordingFull(
                "The recording reached the 4 GB limit of a WAV file; it was stopped there.")
        whole = self._data_bytes - self._data_bytes % self.block_align
        if whole - self._synced_bytes >= self.sync_bytes:
            self.sync()
            return True
        return False

    def sync(self) -> None:
        """Make everything appended so far (in whole frames) durable and claimed by the
        header: data first, then the sizes, each fsynced."""
        whole = self._data_bytes - self._data_bytes % self.block_align
        _fsync(self._file)
        _write_sizes(self._file, HEADER_BYTES, whole)
        self._file.seek(0, os.SEEK_END)
        _fsync(self._file)
        self._synced_bytes = whole
        if self.on_sync is not None:
            self.on_sync(self.synced_ms)

    def pause(self) -> None:
        if not self.paused and not self.closed:
            self.sync()
        self.paused = True

    def resume(self) -> None:
        self.paused = False

    def close(self) -> int:
        """Finalise: drop a trailing partial frame, write the sizes, fsync, unlock.
        Returns the duration in ms. Safe to call twice."""
        if self.closed:
            return self.synced_ms
        try:
            whole = self._data_bytes - self._data_bytes % self.block_align
            if whole != self._data_bytes:
                self._file.truncate(HEADER_BYTES + whole)
                self._data_bytes = whole
            self.sync()
        finally:
            self.closed = True
            self._file.close()  # closing releases the lock
        return self.synced_ms

    def __enter__(self) -> GrowingWav:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- recovery ----------------------------------------------------------------------------------


def _data_chunk(f: BinaryIO, path: Path) -> tuple[int, int, int]:
    """(offset of the audio data, sample rate, block align) from the file's chunks."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise RecordingError(f"{path.name} is not a WAV recording (its header is damaged).")
    rate = align = 0
    while True:
        chunk = f.read(8)
        if len(chunk) < 8:
            raise RecordingError(f"{path.name} has no audio data chunk.")
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"data":
            if not rate or not align:
                raise RecordingError(f"{path.name} does not say what audio format it holds.")
            return f.tell(), rate, align
        body_at = f.tell()
        if name == b"fmt ":
            fmt = f.read(16)
            if len(fmt) < 16:
                raise RecordingError(f"{path.name} has a damaged format header.")
            _tag, _channels, rate, _rate_bytes, align, _bits = struct.unpack("<HHIIHH", fmt)
        f.seek(body_at + size + (size & 1))


def repair_wav(path: Path) -> int:
    """Set the WAV sizes from the file's real length (dropping a trailing half frame) and
    return the duration in ms. Raises RecordingError for a file that is not a WAV."""
    path = Path(path)
    try:
        with path.open("r+b") as f:
            offset, rate, align = _data_chunk(f, path)
            size = f.seek(0, os.SEEK_END)
            data_bytes = min(max(size - offset, 0) // align * align,
                             MAX_DATA_BYTES // align * align)
            if offset + data_bytes != size:
                f.truncate(offset + data_bytes)
            _write_sizes(f, offset, data_bytes)
            _fsync(f)
    except OSError as e:
        raise RecordingError(f"Could not repair {path.name}: {e.strerror or e}.") from e
    return data_bytes // align * 1000 // rate


def in_use(path: Path) -> bool:
    """Whether a GrowingWav (in any process) is still writing this file."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        with Path(path).open("rb") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def unfinished_recordings(folder: StudyFolder | Path) -> list[Path]:
    """Recordings left in the study's recordings/ folder (not imported, not running),
    oldest first. `folder` is the study folder (or its root path)."""
    directory = recordings_dir(folder)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.wav") if p.is_file() and not in_use(p))


def discard(path: Path) -> None:
    """Delete a recording and its sidecar."""
    path = Path(path)
    path.unlink(missing_ok=True)
    sidecar_path(path).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        sidecar_path(path).with_name(sidecar_path(path).name + ".partial").unlink(
            missing_ok=True)
