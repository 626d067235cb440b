"""Interview audio: check a file, decode it to 16 kHz float32, cache it, import it.

Everything goes through PyAV (FFmpeg), so any common recording or video format works.
Decoding streams in bounded pieces, so a three-hour interview needs no more memory than
a short one. Sample positions follow the file's own timestamps: a stretch the recorder
dropped becomes silence rather than pulling later speech earlier, so transcript times
stay in step with playback.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from study.errors import StudyError
from study.folder import Study, file_sha256
from study.model import Interview, InterviewStatus, Media

SAMPLE_RATE = 16_000

AUDIO_SUFFIXES: frozenset[str] = frozenset({
    # audio
    ".wav", ".wave", ".mp3", ".m4a", ".m4b", ".aac", ".flac", ".ogg", ".oga", ".opus",
    ".wma", ".aif", ".aiff", ".aifc", ".amr", ".3ga", ".caf", ".mka", ".ac3", ".au",
    ".weba", ".spx", ".ape", ".wv",
    # video with a sound track
    ".webm", ".mp4", ".mov", ".mkv", ".avi", ".m4v", ".wmv", ".3gp", ".mpg", ".mpeg",
    ".ts", ".mts", ".flv", ".ogv",
})

# Formats FFmpeg opens but that are never recordings (pictures, text shown as "video");
# single pictures also come as "<codec>_pipe".
_NOT_RECORDINGS = frozenset({"image2", "tty", "gif", "apng", "webp"})
# Timestamps jumping ahead by more than this are a gap in the recording: fill with silence.
_GAP_SECONDS = 0.1
# Jumps longer than this are broken timestamps, not a pause: play straight on.
_MAX_GAP_SECONDS = 6 * 3600
# Damaged packets in a row before decoding gives up (isolated ones are skipped, as players do).
_MAX_BAD_PACKETS = 25
# Audio decoded before a requested span, so codecs and the resampler have settled.
_PREROLL_SECONDS = 0.5
# How far from its declared end a file may stop before it counts as cut short.
_END_TOLERANCE_SECONDS = 2.0
_CACHE_VERSION = 1


class AudioError(StudyError):
    """A file that cannot be used as interview audio; str() says why, naming the file."""


class Cancelled(Exception):
    """The user stopped the work. Not a StudyError: there is nothing to tell them."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    duration_ms: int
    channels: int  # of the first audio stream
    sample_rate: int  # native rate of that stream
    codec: str
    has_video: bool


# --- opening --------------------------------------------------------------------------------


def _quoted(path: Path) -> str:
    return f"\u201c{path.name}\u201d"


def _clock(seconds: float) -> str:
    """A duration as a researcher would say it: 3.1 s, 12 min 5 s, 1 h 02 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s} s"


def _unreadable(path: Path) -> AudioError:
    return AudioError(
        f"{_quoted(path)} is not an audio or video file that Verbatim can read. It may be "
        "damaged or incompletely copied, or be another kind of file with an audio name."
    )


def _check_file(path: Path) -> None:
    """Plain-language errors for the problems FFmpeg reports cryptically."""
    if not path.exists():
        raise AudioError(f"{_quoted(path)} cannot be found at {path.parent}.")
    if path.is_dir():
        raise AudioError(f"{_quoted(path)} is a folder, not an audio file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{_quoted(path)} is empty (0 bytes); it has no audio in it.")


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[Any, Any]]:
    """The open container and its first audio stream; closed on exit."""
    path = Path(path)
    _check_file(path)
    try:
        container = av.open(str(path), metadata_errors="replace")
    except PermissionError as e:
        raise AudioError(f"{_quoted(path)} cannot be read: permission denied.") from e
    except (av.error.FFmpegError, OSError, UnicodeDecodeError, ValueError) as e:
        raise _unreadable(path) from e
    with container:
        if not container.streams.audio:
            videos = [s for s in container.streams.video if not _is_picture(s)]
            name = container.format.name
            if videos and name not in _NOT_RECORDINGS and not name.endswith("_pipe"):
                raise AudioError(
                    f"{_quoted(path)} is a video without a sound track, so there is nothing "
                    "to transcribe."
                )
            if container.streams.video:
                raise AudioError(f"{_quoted(path)} is a picture or document, not a recording.")
            raise AudioError(f"{_quoted(path)} has no sound in it.")
        yield container, container.streams.audio[0]


def _is_picture(stream: Any) -> bool:
    """Cover art in an MP3 or M4A shows up as a one-frame video stream."""
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


# --- decoding ---------------------------------------------------------------------------------


def _frames(path: Path, container: Any, stream: Any, where: list[float]) -> Iterator[Any]:
    """Decoded frames in order. Isolated damaged packets are skipped as players do; a run of
    them, or a read error, stops with an AudioError saying how far decoding got. `where`
    holds the time (s) of the last good frame, for that message."""
    bad = 0

    def failed(e: Exception) -> AudioError:
        return AudioError(
            f"{_quoted(path)} could only be decoded up to {_clock(where[0])}; the rest is "
            f"damaged or unreadable ({e})."
        )

    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except (av.error.FFmpegError, OSError) as e:
            raise failed(e) from e
        try:
            frames = packet.decode()
        except av.error.InvalidDataError as e:
            bad += 1
            if bad > _MAX_BAD_PACKETS:
                raise failed(e) from e
            continue
        except (av.error.FFmpegError, OSError) as e:
            raise failed(e) from e
        bad = 0
        for frame in frames:
            if frame.time is not None:
                where[0] = max(where[0], frame.time)
            yield frame


def _trim_frame(frame: Any, drop: int) -> Any:
    """The frame without its first `drop` samples (PyAV cannot slice frames itself)."""
    data = frame.to_ndarray()
    channels = frame.layout.nb_channels
    data = data[:, drop:] if frame.format.is_planar else data[:, drop * channels:]
    out = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(data), format=frame.format.name, layout=frame.layout.name
    )
    out.sample_rate = frame.sample_rate
    if frame.pts is not None and frame.time_base is not None:
        out.time_base = frame.time_base
        out.pts = frame.pts + round(Fraction(drop, frame.sample_rate) / frame.time_base)
    return out


class _Pcm:
    """One audio stream as contiguous 16 kHz float32 blocks placed by the file's timestamps.

    Each block is (n,) for a down-mix, (2, n) for split channels or (n,) for one channel.
    Sample i of the output is at time i / 16000 after the stream's start. The resampler
    starts on an input sample that falls exactly on the 16 kHz grid, so decoding from a
    seek point gives the same samples as decoding from the beginning.
    """

    def __init__(self, path: Path, container: Any, stream: Any, *, split: bool = False,
                 channel: int | None = None, origin: int = 0) -> None:
        self.path, self.container, self.stream = path, container, stream
        self.split, self.channel = split, channel
        self.origin = origin  # pts of output sample 0
        self.where = [0.0]

    def _select(self, data: np.ndarray) -> np.ndarray:
        if self.split:
            return np.stack([data[0], data[min(1, len(data) - 1)]])
        if self.channel is not None:
            return data[min(self.channel, len(data) - 1)]
        return data[0] if len(data) == 1 else data.mean(axis=0, dtype=np.float32)

    def _out(self, frames: list[Any]) -> Iterator[np.ndarray]:
        for f in frames:
            if f.samples:
                yield self._select(f.to_ndarray().astype(np.float32, copy=False))

    def _silence(self, n: int) -> Iterator[np.ndarray]:
        step = SAMPLE_RATE * 10
        for i in range(0, n, step):
            k = min(step, n - i)
            yield np.zeros((2, k) if self.split else k, np.float32)

    def blocks(self, first: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(index of the block's first sample, block), contiguous. From `first` on if given
        (silence fills up to where the audio starts), else from where the audio starts.
        Indices may begin below `first` for audio timed before the stream's start."""
        resampler: Any = None
        setup: tuple[str, str, int] | None = None
        # Per-frame checks use float seconds (exact Fractions cost too much per frame);
        # only a (re)start of the resampler, which places samples, uses exact time.
        expected: float | None = None  # when the next frame should start, seconds
        shift = Fraction(0)  # absorbs timestamp jumps too big to be pauses
        position = first  # index of the next output sample
        emitted = False
        for frame in _frames(self.path, self.container, self.stream, self.where):
            rate = frame.sample_rate
            timed = frame.pts is not None and frame.time_base is not None
            if timed:
                t = (frame.pts - self.origin) * float(frame.time_base) - float(shift)
            else:
                t = expected or 0.0
            if expected is not None and not -1 < t - expected < _MAX_GAP_SECONDS:
                shift += Fraction(t - expected)  # broken timestamps: play straight on
                t = expected
            key = (frame.format.name, frame.layout.name, rate)
            gap = t - expected if expected is not None else 0.0
            if resampler is None or key != setup or gap > _GAP_SECONDS:
                if resampler is not None:
                    for block in self._out(resampler.resample(None)):
                        yield position, block
                        position += block.shape[-1]
                    resampler = None
                exact = (
                    (frame.pts - self.origin) * frame.time_base - shift
                    if timed else Fraction(round(t * rate), rate)
                )
                # Start the resampler on an input sample that lies on the 16 kHz grid.
                if (exact * rate).denominator == 1:
                    step = rate // math.gcd(rate, SAMPLE_RATE)
                    drop = int(-(exact * rate).numerator % step)
                    if drop >= frame.samples:
                        expected = t + frame.samples / rate
                        continue
                    if drop:
                        frame = _trim_frame(frame, drop)
                        exact += Fraction(drop, rate)
                        t = float(exact)
                start = round(exact * SAMPLE_RATE)
                if position is None or (not emitted and start < position):
                    position = start
                elif start > position:
                    for block in self._silence(start - position):
                        yield position, block
                        position += block.shape[-1]
                resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
                setup = key
            expected = t + frame.samples / rate
            for block in self._out(resampler.resample(frame)):
                emitted = True
                yield position, block
                position += block.shape[-1]
        if resampler is not None:
            for block in self._out(resampler.resample(None)):
                yield position, block
                position += block.shape[-1]


def _origin(stream: Any) -> int:
    """The pts of output sample 0: the stream's start, which skips codec priming."""
    return stream.start_time if stream.start_time is not None else 0


def _check_channel(path: Path, stream: Any, channel: int | None) -> None:
    channels = stream.codec_context.channels or 1
    if channel is not None and not 0 <= channel < max(2, channels):
        raise ValueError(f"{path.name} has {channels} channel(s); there is no channel {channel}")


def iter_pcm(path: Path, *, chunk_seconds: float = 30.0,
             split_channels: bool = False) -> Iterator[np.ndarray]:
    """The whole file as 16 kHz float32 in chunks of `chunk_seconds` (the last shorter):
    shape (n,) down-mixed to mono, or (2, n) for the first two channels with
    `split_channels` (a mono file gives its channel twice). Memory stays at about one chunk
    whatever the length. Raises AudioError if decoding fails part-way."""
    if chunk_seconds <= 0:
        raise ValueError("chunk_seconds must be positive")
    size = max(1, round(chunk_seconds * SAMPLE_RATE))
    path = Path(path)
    with _opened(path) as (container, stream):
        pcm = _Pcm(path, container, stream, split=split_channels, origin=_origin(stream))
        shape: tuple[int, ...] = (2, size) if split_channels else (size,)
        buffer = np.empty(shape, np.float32)
        filled = 0
        for index, block in pcm.blocks(first=0):
            if index < 0:  # audio timed before the stream's start (codec priming)
                block = block[..., -index:]
            while block.shape[-1]:
                take = min(size - filled, block.shape[-1])
                buffer[..., filled:filled + take] = block[..., :take]
                filled += take
                block = block[..., take:]
                if filled == size:
                    yield buffer
                    buffer = np.empty(shape, np.float32)
                    filled = 0
        if filled:
            yield buffer[..., :filled].copy()


def decode(path: Path, *, start_ms: int = 0, end_ms: int | None = None,
           channel: int | None = None) -> np.ndarray:
    """16 kHz float32 of just [start_ms, end_ms): the mono down-mix, or one channel.

    Seeks first, so a window late in a long file costs no more than an early one. The
    samples are those iter_pcm gives for the span wherever the file's timestamps count
    samples exactly (WAV, FLAC, MP3, MP4/M4A, Ogg); Matroska/WebM count whole
    milliseconds, so there a span may sit up to a millisecond off."""
    path = Path(path)
    start = max(0, round(start_ms * SAMPLE_RATE / 1000))
    end = None if end_ms is None else max(start, round(end_ms * SAMPLE_RATE / 1000))
    if end == start:
        return np.zeros(0, np.float32)
    seek_to = start / SAMPLE_RATE - _PREROLL_SECONDS
    for seek in (seek_to > 0, False):
        with _opened(path) as (container, stream):
            _check_channel(path, stream, channel)
            origin = _origin(stream)
            if seek:
                try:
                    container.seek(origin + int(seek_to / stream.time_base), stream=stream)
                except (av.error.FFmpegError, OSError):
                    continue
            pcm = _Pcm(path, container, stream, channel=channel, origin=origin)
            out = _collect(pcm.blocks(first=None if seek else 0), start, end)
            if out is not None:
                return out
    raise AssertionError("decoding from the beginning always returns")


def _collect(blocks: Iterator[tuple[int, np.ndarray]], start: int,
             end: int | None) -> np.ndarray | None:
    """Samples [start, end) from contiguous blocks; None if they begin after `start`."""
    parts: list[np.ndarray] = []
    for index, block in blocks:
        if not parts and index > start:
            return None  # the seek landed late: the caller decodes from the beginning
        lo = max(start - index, 0)
        hi = block.shape[-1] if end is None else min(end - index, block.shape[-1])
        if hi > lo:
            parts.append(block[lo:hi])
        if end is not None and index + block.shape[-1] >= end:
            break
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


# --- probing -------------------------------------------------------------------------------


def probe(path: Path) -> AudioInfo:
    """What the file is and how long, checked by decoding its first and last moments, so a
    damaged, cut-short or soundless file is refused before anything is imported."""
    path = Path(path)
    with _opened(path) as (container, stream):
        cc = stream.codec_context
        has_video = any(not _is_picture(s) for s in container.streams.video)
        origin = _origin(stream)
        # The stream's own length is exact; the container's may include a longer video.
        exact = bool(stream.duration)
        declared: float | None = None
        if stream.duration:
            declared = float(stream.duration * stream.time_base)
        elif container.duration:
            declared = container.duration / av.time_base
        first = _first_frame(path, container, stream)
        if first is None:
            raise AudioError(
                f"{_quoted(path)} contains no sound that can be decoded. It may be damaged, "
                "or be another kind of file with an audio name."
            )
        channels = cc.channels or first.layout.nb_channels
        rate = cc.sample_rate or first.sample_rate
        codec = cc.codec.canonical_name if cc.codec else cc.name

        seconds = declared
        if declared is None or not _reaches(container, stream, origin, declared):
            measured = _measure(path, container, stream, origin)
            short = declared is not None and measured < declared - max(
                _END_TOLERANCE_SECONDS, 0.1 * declared)
            if exact and short:
                raise AudioError(
                    f"{_quoted(path)} stops after {_clock(measured)}, although it says it "
                    f"lasts {_clock(declared or 0)}. It may be damaged or incompletely copied; "
                    "try copying it again from the recorder."
                )
            seconds = measured
    duration_ms = round((seconds or 0) * 1000)
    if duration_ms <= 0:
        raise AudioError(f"{_quoted(path)} contains no sound (it lasts 0 seconds).")
    return AudioInfo(duration_ms, int(channels), int(rate), str(codec), has_video)


def _first_frame(path: Path, container: Any, stream: Any) -> Any:
    try:
        for frame in _frames(path, container, stream, [0.0]):
            if frame.samples:
                return frame
    except AudioError:
        pass
    return None


def _reaches(container: Any, stream: Any, origin: int, declared: float) -> bool:
    """Whether audio can still be decoded near the declared end (cheap: seek, decode ~2 s)."""
    target = declared - _END_TOLERANCE_SECONDS
    if target <= 0:
        return False  # short: measuring costs next to nothing
    try:
        container.seek(origin + int(target / stream.time_base), stream=stream)
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue
            for frame in frames:
                if frame.pts is not None and frame.samples:
                    end = (frame.pts - origin) * frame.time_base + Fraction(
                        frame.samples, frame.sample_rate)
                    if end >= declared - _END_TOLERANCE_SECONDS / 2:
                        return True
    except (av.error.FFmpegError, OSError):
        return False
    return False


def _measure(path: Path, container: Any, stream: Any, origin: int) -> float:
    """The duration by reading every packet's timestamp (no decoding): for files that do not
    say how long they are (browser recordings) or that stop early."""
    with contextlib.suppress(av.error.FFmpegError, OSError):
        container.seek(origin, stream=stream)
    end = Fraction(0)
    try:
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                stop = packet.pts + (packet.duration or 0)
                end = max(end, (stop - origin) * packet.time_base)
    except (av.error.FFmpegError, OSError):
        pass  # as far as it goes
    if end > 0:
        return float(end)
    # No timestamps at all: count the samples.
    samples = 0
    with contextlib.suppress(av.error.FFmpegError, OSError):
        container.seek(0)
    with contextlib.suppress(AudioError):
        for frame in _frames(path, container, stream, [0.0]):
            samples += frame.samples
    return samples / (stream.codec_context.sample_rate or SAMPLE_RATE)


# --- the PCM cache --------------------------------------------------------------------------


def _sidecar(target: Path) -> Path:
    return target.with_suffix(".json")


def _partial(target: Path) -> Path:
    return target.with_name(target.name + ".partial")


@dataclass(frozen=True, slots=True)
class PcmCache:
    """The decoded audio of one file as raw int16 16 kHz in a file, so a long interview can be
    read window by window without holding it in memory, and decoded only once."""

    path: Path
    channels: int
    frames: int
    source_sha256: str = ""

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // SAMPLE_RATE

    @classmethod
    def build(cls, source: Path, target: Path, *, split_channels: bool = False,
              progress: Callable[[float], None] | None = None,
              cancelled: Callable[[], bool] | None = None) -> PcmCache:
        """Decode `source` into `target` (int16, interleaved when split) plus a JSON sidecar.
        Written under temporary names and renamed when complete, so a crash or cancel never
        leaves a cache that `open` would accept. Raises Cancelled when `cancelled()` says so."""
        source, target = Path(source), Path(target)
        channels = 2 if split_channels else 1
        expected = max(1, probe(source).duration_ms * SAMPLE_RATE // 1000)
        sha = file_sha256(source)
        data_partial, meta_partial = _partial(target), _partial(_sidecar(target))
        frames = 0
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with data_partial.open("wb") as f:
                for chunk in iter_pcm(source, chunk_seconds=10.0,
                                      split_channels=split_channels):
                    if cancelled is not None and cancelled():
                        raise Cancelled(f"Preparing the audio of {source.name} was cancelled.")
                    pcm = np.clip(np.rint(chunk * 32768.0), -32768, 32767).astype("<i2")
                    f.write((pcm.T if split_channels else pcm).tobytes())
                    frames += chunk.shape[-1]
                    if progress is not None:
                        progress(min(frames / expected, 1.0))
                f.flush()
                os.fsync(f.fileno())
            meta = {"version": _CACHE_VERSION, "format": "s16le", "sample_rate": SAMPLE_RATE,
                    "channels": channels, "frames": frames, "source_sha256": sha}
            with meta_partial.open("w", encoding="utf-8") as f:
                json.dump(meta, f)
                f.flush()
                os.fsync(f.fileno())
            _sidecar(target).unlink(missing_ok=True)
            data_partial.replace(target)
            meta_partial.replace(_sidecar(target))
        except BaseException as e:
            data_partial.unlink(missing_ok=True)
            meta_partial.unlink(missing_ok=True)
            if isinstance(e, OSError):
                raise AudioError(
                    f"Could not write the decoded audio of {_quoted(source)} to {target.parent}:"
                    f" {e.strerror or e}."
                ) from e
            raise
        if progress is not None:
            progress(1.0)
        return cls(target, channels, frames, sha)

    @classmethod
    def open(cls, target: Path, *, source_sha256: str | None = None) -> PcmCache | None:
        """The cache at `target` if complete and (when given) made from that source; else None."""
        target = Path(target)
        try:
            meta = json.loads(_sidecar(target).read_text(encoding="utf-8"))
            channels, frames = int(meta["channels"]), int(meta["frames"])
            ok = (
                meta.get("version") == _CACHE_VERSION
                and meta.get("format") == "s16le"
                and meta.get("sample_rate") == SAMPLE_RATE
                and channels in (1, 2)
                and target.stat().st_size == frames * channels * 2
                and (source_sha256 is None or meta.get("source_sha256") == source_sha256)
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(target, channels, frames, str(meta.get("source_sha256", ""))) if ok else None

    def read(self, start_sample: int, end_sample: int,
             channel: int | None = None) -> np.ndarray:
        """float32 samples [start, end), clamped to the audio: the mix, or one channel
        (channel 1 of a one-channel cache is its only channel, as in iter_pcm)."""
        if channel is not None and not 0 <= channel < 2:
            raise ValueError(f"there is no channel {channel}; caches hold at most two")
        start = min(max(start_sample, 0), self.frames)
        end = min(max(end_sample, start), self.frames)
        width = self.channels * 2
        with self.path.open("rb") as f:
            f.seek(start * width)
            raw = f.read((end - start) * width)
        data = np.frombuffer(raw, "<i2").reshape(-1, self.channels).astype(np.float32)
        data /= 32768.0
        if channel is not None:
            return np.ascontiguousarray(data[:, min(channel, self.channels - 1)])
        return data[:, 0].copy() if self.channels == 1 else data.mean(axis=1, dtype=np.float32)


# --- importing ----------------------------------------------------------------------------------


def import_audio(study: Study, source: Path, *, interview_id: int | None = None,
                 title: str | None = None,
                 participant_id: int | None = None) -> tuple[int, Media]:
    """Copy a recording into the study and attach it to an interview (a new one unless
    `interview_id` is given). A file that cannot be used changes nothing; the same
    content imported twice is stored once. Returns (interview id, media)."""
    source = Path(source)
    info = probe(source)
    store = study.store
    existing = store.interview(interview_id) if interview_id is not None else None
    media_dir = study.folder.media
    before = set(os.listdir(media_dir)) if media_dir.is_dir() else set()
    copied: Path | None = None
    try:
        try:
            sha, filename = study.import_media_file(source)
        except OSError as e:
            raise AudioError(
                f"Could not copy {_quoted(source)} into the study: {e.strerror or e}."
            ) from e
        if filename not in before:
            copied = media_dir / filename
        with store.write():
            store.add_media(Media(sha, filename, source.name, info.duration_ms,
                                  info.channels, info.sample_rate))
            media = store.media_by_hash(sha)
            assert media is not None and media.id is not None
            if existing is not None:
                interview = replace(
                    existing, media_id=media.id, duration_ms=info.duration_ms,
                    title=existing.title if title is None else title,
                    participant_id=(existing.participant_id if participant_id is None
                                    else participant_id),
                )
                store.update_interview(interview)
                new_id = existing.id
            else:
                changes = store.add_interview(Interview(
                    title=title or source.stem, participant_id=participant_id,
                    media_id=media.id, duration_ms=info.duration_ms,
                    status=InterviewStatus.RECORDED,
                ))
                new_id = changes.new_id("interview")
            store.audit("audio imported", interview=new_id, media=media.id,
                        name=source.name, duration_ms=info.duration_ms)
    finally:
        if copied is not None:
            _remove_if_unused(study, copied)
    assert new_id is not None
    return new_id, media


def _remove_if_unused(study: Study, copied: Path) -> None:
    """Delete a file this import copied into media/ unless a Media row now names it."""
    try:
        kept = study.store.media_by_hash(copied.stem)
    except StudyError:
        return  # cannot tell: keeping a stray file is safer than losing a referenced one
    if kept is None or kept.filename != copied.name:
        copied.unlink(missing_ok=True)
