"""Audio decoding, probing, the PCM cache and import, on real files decoded by real PyAV.

The shared fixtures are used in place; other formats are made from jfk.flac with PyAV
into temporary folders, so every container and codec the file dialog offers is covered
by an actual file.
"""

from __future__ import annotations

import re
import shutil
import tracemalloc
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from study.errors import NotFoundError, StudyError
from study.folder import Study, file_sha256
from study.model import Interview, InterviewStatus, Participant
from transcription.audio import (
    AUDIO_SUFFIXES,
    SAMPLE_RATE,
    AudioError,
    AudioInfo,
    Cancelled,
    PcmCache,
    decode,
    import_audio,
    iter_pcm,
    probe,
)

TOLERANCE_MS = 50
JFK_MS = 11_000
ONE_LSB = 1 / 32768


# --- making test files with PyAV ---------------------------------------------------------------


def _transcode(source: Path, target: Path, container_format: str, codec: str, *,
               rate: int, layout: str = "mono", options: dict[str, str] | None = None,
               video_codec: str | None = None) -> Path:
    """Re-encode `source`'s audio (and optionally add a few black video frames)."""
    with av.open(str(source)) as src, av.open(str(target), "w", format=container_format) as out:
        video = None
        if video_codec:
            video = out.add_stream(video_codec, rate=10)
            video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = out.add_stream(codec, rate=rate, options=options or {})
        audio.layout = layout
        resampler = av.AudioResampler(
            format=audio.codec_context.codec.audio_formats[0].name, layout=layout, rate=rate,
            frame_size=audio.codec_context.frame_size or None,
        )
        for frame in src.decode(audio=0):
            for converted in resampler.resample(frame):
                out.mux(audio.encode(converted))
        for converted in resampler.resample(None):
            out.mux(audio.encode(converted))
        out.mux(audio.encode(None))
        if video is not None:
            _black_frames(out, video, seconds=11)
    return target


def _mp3_with_cover_art(source: Path, target: Path) -> Path:
    """An MP3 with an embedded album picture, which FFmpeg shows as a video stream."""
    with av.open(str(source)) as src, av.open(str(target), "w", format="mp3") as out:
        audio = out.add_stream("libmp3lame", rate=44_100)
        audio.layout = "mono"
        cover = out.add_stream("png")
        cover.width, cover.height, cover.pix_fmt = 16, 16, "rgb24"
        cover.disposition = av.stream.Disposition.attached_pic
        picture = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        out.mux(cover.encode(picture))
        out.mux(cover.encode(None))
        resampler = av.AudioResampler(format="s16p", layout="mono", rate=44_100,
                                      frame_size=1152)
        for frame in src.decode(audio=0):
            for converted in resampler.resample(frame):
                out.mux(audio.encode(converted))
        for converted in resampler.resample(None):
            out.mux(audio.encode(converted))
        out.mux(audio.encode(None))
    return target


def _black_frames(out: av.container.OutputContainer, video: av.VideoStream,
                  seconds: float) -> None:
    for i in range(round(seconds * 10)):
        frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
        frame.pts = i
        out.mux(video.encode(frame))
    out.mux(video.encode(None))


def _write_pcm(target: Path, samples: np.ndarray, *, rate: int = SAMPLE_RATE,
               container_format: str = "flac", codec: str = "flac",
               pts: list[int] | None = None, block: int = 1600) -> Path:
    """Encode int16 mono samples; with `pts`, each block of samples gets that timestamp."""
    with av.open(str(target), "w", format=container_format) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        for i, start in enumerate(range(0, len(samples), block)):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[None, start:start + block]), format="s16",
                layout="mono")
            frame.sample_rate = rate
            frame.time_base = Fraction(1, rate)
            frame.pts = pts[i] if pts is not None else start
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return target


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """jfk.flac in the other formats a researcher is likely to bring."""
    from tests.conftest import FIXTURES

    jfk = FIXTURES / "audio" / "jfk.flac"
    d = tmp_path_factory.mktemp("formats")
    files = {
        "m4a": _transcode(jfk, d / "jfk.m4a", "mp4", "aac", rate=44_100),
        "ogg": _transcode(jfk, d / "jfk.ogg", "ogg", "vorbis", rate=44_100, layout="stereo",
                          options={"strict": "experimental"}),
        "opus": _transcode(jfk, d / "jfk.opus", "ogg", "libopus", rate=48_000),
        "webm": _transcode(jfk, d / "jfk.webm", "webm", "libopus", rate=48_000),
        "mp3": _transcode(jfk, d / "jfk.mp3", "mp3", "libmp3lame", rate=22_050),
        "mp4": _transcode(jfk, d / "jfk.mp4", "mp4", "aac", rate=44_100, video_codec="mpeg4"),
        "mp3 with cover": _mp3_with_cover_art(jfk, d / "jfk cover.mp3"),
    }
    silent = d / "silent film.mp4"
    with av.open(str(silent), "w", format="mp4") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        _black_frames(out, video, seconds=2)
    files["no sound"] = silent
    picture = d / "photo.png"
    with av.open(str(picture), "w", format="image2") as out:
        still = out.add_stream("png", rate=1)
        still.width, still.height, still.pix_fmt = 64, 48, "rgb24"
        _black_frames(out, still, seconds=0.1)
    files["picture"] = picture
    return files


@pytest.fixture(scope="module")
def long_flac(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten minutes of a tone in noise at 22.05 kHz, so decoding must really resample."""
    rate, seconds = 22_050, 600
    t = np.arange(rate * seconds) / rate
    noise = np.random.default_rng(7).standard_normal(t.size) * 1000
    samples = (np.sin(2 * np.pi * 440 * t) * 8000 + noise).astype(np.int16)
    return _write_pcm(tmp_path_factory.mktemp("long") / "ten minutes.flac", samples,
                      rate=rate, block=rate * 10)


@pytest.fixture
def jfk(fixtures_dir: Path) -> Path:
    return fixtures_dir / "audio" / "jfk.flac"


@pytest.fixture
def stereo(fixtures_dir: Path) -> Path:
    return fixtures_dir / "audio" / "stereo_diarization.wav"


def _all(path: Path, **kw: Any) -> np.ndarray:
    return np.concatenate(list(iter_pcm(path, **kw)), axis=-1)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# --- probe ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "duration_ms", "channels", "rate", "codec"), [
    ("audio/jfk.flac", 11_000, 2, 44_100, "flac"),
    ("audio/stereo_diarization.wav", 5_000, 2, 16_000, "pcm_s16le"),
    ("audio/jackhammer.wav", 3_347, 2, 44_100, "pcm_s16le"),
    ("audio/1089-134686-0000.flac", 10_435, 1, 16_000, "flac"),
    ("transcripts/sonnet001.mp3", 53_267, 2, 44_100, "mp3"),
])
def test_probe_reports_the_shared_recordings(fixtures_dir: Path, name: str, duration_ms: int,
                                             channels: int, rate: int, codec: str) -> None:
    info = probe(fixtures_dir / name)
    assert info == AudioInfo(info.duration_ms, channels, rate, codec, has_video=False)
    assert abs(info.duration_ms - duration_ms) <= TOLERANCE_MS
    decoded_ms = _all(fixtures_dir / name).size * 1000 / SAMPLE_RATE
    assert abs(decoded_ms - info.duration_ms) <= TOLERANCE_MS


@pytest.mark.parametrize(("kind", "codec", "has_video"), [
    ("m4a", "aac", False), ("ogg", "vorbis", False), ("opus", "opus", False),
    ("webm", "opus", False), ("mp3", "mp3", False), ("mp4", "aac", True),
    ("mp3 with cover", "mp3", False),  # album art is not a video
])
def test_every_format_gives_the_true_duration_and_the_same_speech(
        made: dict[str, Path], jfk: Path, kind: str, codec: str, has_video: bool) -> None:
    info = probe(made[kind])
    assert (info.codec, info.has_video) == (codec, has_video)
    assert abs(info.duration_ms - JFK_MS) <= TOLERANCE_MS
    pcm = _all(made[kind])
    assert abs(pcm.size * 1000 / SAMPLE_RATE - JFK_MS) <= TOLERANCE_MS
    # Lossy codecs change the samples but not the speech, nor its timing.
    reference = _all(jfk)
    n = min(pcm.size, reference.size)
    assert np.corrcoef(pcm[:n], reference[:n])[0, 1] > 0.9


def test_a_browser_recording_without_a_declared_length_is_measured(
        made: dict[str, Path]) -> None:
    with av.open(str(made["webm"])) as c:
        assert c.streams.audio[0].duration is None  # WebM keeps no per-stream length
    assert abs(probe(made["webm"]).duration_ms - JFK_MS) <= TOLERANCE_MS


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("make", "words"), [
    (lambda d, m: d / "gone.wav", "cannot be found"),
    (lambda d, m: _write(d / "empty.wav", b""), "empty (0 bytes)"),
    (lambda d, m: _write(d / "noise.mp3", np.random.default_rng(1).bytes(50_000)),
     "not an audio or video file"),
    (lambda d, m: _write(d / "notes.wav", b"Interview notes, not audio.\n" * 100),
     "not an audio or video file"),
    (lambda d, m: m["no sound"], "video without a sound track"),
    (lambda d, m: m["picture"], "not a recording"),
    (lambda d, m: d, "is a folder"),
], ids=["missing", "empty", "random bytes", "text", "silent video", "picture", "folder"])
def test_unusable_files_are_refused_in_words_naming_the_file(
        tmp_path: Path, made: dict[str, Path],
        make: Callable[[Path, dict[str, Path]], Path], words: str) -> None:
    path = make(tmp_path, made)
    for attempt in (probe, _all, decode):
        with pytest.raises(AudioError, match=re.escape(words)) as caught:
            attempt(path)
        assert path.name in str(caught.value)
        assert isinstance(caught.value, StudyError)


@pytest.mark.parametrize("name", ["audio/jfk.flac", "transcripts/sonnet001.mp3"])
def test_a_cut_short_file_is_refused_or_decoded_as_far_as_it_goes(
        fixtures_dir: Path, tmp_path: Path, name: str) -> None:
    whole = fixtures_dir / name
    data = whole.read_bytes()
    cut = _write(tmp_path / whole.name, data[: len(data) * 3 // 10])
    with pytest.raises(AudioError, match=r"stops after .* although it says it lasts"):
        probe(cut)
    # Decoding anyway never fails with anything but an AudioError, and never invents audio.
    try:
        pcm = _all(cut)
    except AudioError as e:
        assert cut.name in str(e)
    else:
        assert 0 < pcm.size < probe(whole).duration_ms * SAMPLE_RATE // 1000 * 0.4


def test_a_damaged_mp4_without_its_index_is_refused(made: dict[str, Path],
                                                    tmp_path: Path) -> None:
    data = made["m4a"].read_bytes()
    with pytest.raises(AudioError, match="not an audio or video file"):
        probe(_write(tmp_path / "cut.m4a", data[: len(data) // 3]))


def test_suffixes_cover_the_usual_recorders_and_videos() -> None:
    wanted = {".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma",
              ".webm", ".mp4", ".mov", ".mkv", ".avi", ".m4v"}
    assert wanted <= AUDIO_SUFFIXES
    assert all(s.startswith(".") and s == s.lower() for s in AUDIO_SUFFIXES)


# --- iter_pcm -----------------------------------------------------------------------------


def test_iter_pcm_yields_chunks_of_the_asked_length(jfk: Path) -> None:
    chunks = list(iter_pcm(jfk, chunk_seconds=2.0))
    assert [c.shape for c in chunks] == [(32_000,)] * 5 + [(16_000,)]
    assert all(c.dtype == np.float32 for c in chunks)
    assert np.array_equal(np.concatenate(chunks), _all(jfk, chunk_seconds=30.0))
    peak = max(float(np.abs(c).max()) for c in chunks)
    assert 0.1 < peak <= 1.0


def test_split_channels_keeps_the_two_speakers_apart(stereo: Path) -> None:
    chunks = list(iter_pcm(stereo, chunk_seconds=1.5, split_channels=True))
    assert all(c.shape[0] == 2 for c in chunks)
    assert [c.shape[1] for c in chunks] == [24_000] * 3 + [8_000]
    both = np.concatenate(chunks, axis=1)
    left, right = both
    # Only the left speaker talks in the last two seconds.
    assert _rms(left[3 * SAMPLE_RATE:]) > 30 * _rms(right[3 * SAMPLE_RATE:])
    assert _rms(right[SAMPLE_RATE:2 * SAMPLE_RATE]) > 0.01
    assert abs(np.corrcoef(left, right)[0, 1]) < 0.5
    # The mono down-mix is the mean of the channels.
    assert np.allclose(_all(stereo), both.mean(axis=0), atol=1e-6)


def test_split_channels_of_a_mono_file_gives_its_channel_twice(fixtures_dir: Path) -> None:
    mono = fixtures_dir / "audio" / "1089-134686-0001.flac"
    both = _all(mono, split_channels=True)
    assert both.shape == (2, 52_400)
    assert np.array_equal(both[0], both[1])
    assert np.array_equal(both[0], _all(mono))


def test_iter_pcm_memory_stays_bounded_on_a_long_file(long_flac: Path) -> None:
    full_size = 600 * SAMPLE_RATE * 4  # ten minutes of float32: 38 MB
    tracemalloc.start()
    try:
        longest = total = 0
        for chunk in iter_pcm(long_flac, chunk_seconds=30.0):
            longest = max(longest, chunk.shape[-1])
            total += chunk.shape[-1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert longest == 30 * SAMPLE_RATE
    assert total == 600 * SAMPLE_RATE
    assert peak < full_size / 3


def test_a_gap_in_the_timestamps_becomes_silence(tmp_path: Path) -> None:
    """A recorder that drops a stretch: later speech must stay at its true time."""
    rng = np.random.default_rng(3)
    samples = (rng.standard_normal(100 * 1600) * 3000).astype(np.int16)  # 10 s of noise
    pts = [i * 1600 + (32_000 if i >= 30 else 0) for i in range(100)]  # 2 s gap at 3 s
    path = _write_pcm(tmp_path / "gap.mka", samples, container_format="matroska",
                      codec="pcm_s16le", pts=pts)
    assert probe(path).duration_ms == 12_000
    pcm = _all(path)
    assert pcm.size == 12 * SAMPLE_RATE
    assert _rms(pcm[int(3.05 * SAMPLE_RATE):int(4.95 * SAMPLE_RATE)]) == 0
    after = samples[30 * 1600:].astype(np.float32) / 32768
    assert np.allclose(pcm[5 * SAMPLE_RATE:], after, atol=1e-6)
    assert np.allclose(decode(path, start_ms=6000, end_ms=7000),
                       after[SAMPLE_RATE:2 * SAMPLE_RATE], atol=1e-6)


# --- decode ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["flac", "wav", "mp3 fixture", "m4a", "opus", "webm", "mp4"])
def test_decode_of_a_span_is_that_span_of_the_whole(
        fixtures_dir: Path, made: dict[str, Path], kind: str) -> None:
    path = {
        "flac": fixtures_dir / "audio" / "jfk.flac",
        "wav": fixtures_dir / "audio" / "jackhammer.wav",
        "mp3 fixture": fixtures_dir / "transcripts" / "sonnet001.mp3",
    }.get(kind) or made[kind]
    whole = _all(path)
    for start_ms, end_ms in [(0, 500), (1000, 2500), (2345, 3210), (2000, None)]:
        span = decode(path, start_ms=start_ms, end_ms=end_ms)
        expected = whole[start_ms * 16:None if end_ms is None else end_ms * 16]
        if end_ms is not None:
            assert span.size == (end_ms - start_ms) * 16
        assert span.dtype == np.float32
        if kind == "webm" and start_ms:
            # WebM timestamps are whole milliseconds: a seek may land a millisecond off.
            assert _lag(span, expected) <= SAMPLE_RATE // 1000
        else:
            assert np.allclose(span, expected, atol=1e-6)


def _lag(a: np.ndarray, b: np.ndarray, most: int = 64) -> int:
    """By how many samples `a` is shifted against `b` (best correlation)."""
    core = b[most:-most]
    scores = [float(np.dot(a[most + k:most + k + core.size], core)) for k in range(-most, most)]
    return abs(int(np.argmax(scores)) - most)


def test_decode_clamps_to_the_audio_and_picks_channels(stereo: Path) -> None:
    assert decode(stereo, start_ms=4000, end_ms=9000).size == SAMPLE_RATE
    assert decode(stereo, start_ms=7000, end_ms=9000).size == 0
    assert decode(stereo, start_ms=1000, end_ms=1000).size == 0
    left, right = _all(stereo, split_channels=True)
    assert np.array_equal(decode(stereo, start_ms=3000, end_ms=4000, channel=1),
                          right[3 * SAMPLE_RATE:4 * SAMPLE_RATE])
    assert np.array_equal(decode(stereo, channel=0), left)
    with pytest.raises(ValueError, match="no channel 2"):
        decode(stereo, channel=2)


def test_decode_late_in_a_long_file_does_not_decode_from_the_start(long_flac: Path) -> None:
    """A seek, then a few seconds: the same samples as decoding the whole way."""
    tail = decode(long_flac, start_ms=590_000, end_ms=591_000)
    assert tail.size == SAMPLE_RATE
    chunks = list(iter_pcm(long_flac, chunk_seconds=10.0))
    assert np.allclose(tail, chunks[59][:SAMPLE_RATE], atol=1e-6)


# --- PcmCache ------------------------------------------------------------------------------


def test_cache_round_trip_equals_decode(stereo: Path, tmp_path: Path) -> None:
    seen: list[float] = []
    target = tmp_path / "cache" / "interview.pcm"
    cache = PcmCache.build(stereo, target, split_channels=True, progress=seen.append)
    assert (cache.channels, cache.frames, cache.duration_ms) == (2, 80_000, 5_000)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert target.stat().st_size == 80_000 * 2 * 2
    assert sorted(p.name for p in target.parent.iterdir()) == ["interview.json", "interview.pcm"]

    reopened = PcmCache.open(target, source_sha256=file_sha256(stereo))
    assert reopened == cache
    assert np.allclose(reopened.read(16_000, 48_000), decode(stereo, start_ms=1000,
                                                            end_ms=3000), atol=ONE_LSB)
    for ch in (0, 1):
        assert np.allclose(reopened.read(0, 80_000, channel=ch), decode(stereo, channel=ch),
                           atol=ONE_LSB)
    assert reopened.read(79_000, 90_000).size == 1000
    assert reopened.read(-50, 10).size == 10
    assert reopened.read(500, 100).size == 0


def test_a_mono_cache_reads_the_mix(jfk: Path, tmp_path: Path) -> None:
    cache = PcmCache.build(jfk, tmp_path / "jfk.pcm")
    assert (cache.channels, cache.frames) == (1, 176_000)
    assert np.allclose(cache.read(0, cache.frames), decode(jfk), atol=ONE_LSB)
    assert np.array_equal(cache.read(100, 200, channel=1), cache.read(100, 200))


def test_cache_open_refuses_missing_incomplete_or_foreign_caches(jfk: Path,
                                                                 tmp_path: Path) -> None:
    target = tmp_path / "jfk.pcm"
    assert PcmCache.open(target) is None
    PcmCache.build(jfk, target)
    assert PcmCache.open(target) is not None
    assert PcmCache.open(target, source_sha256="0" * 64) is None
    with target.open("r+b") as f:
        f.truncate(1000)
    assert PcmCache.open(target) is None
    target.unlink()
    assert PcmCache.open(target) is None
    target.write_bytes(b"")
    target.with_suffix(".json").write_text("{not json", encoding="utf-8")
    assert PcmCache.open(target) is None


def test_cancelled_build_leaves_no_files(long_flac: Path, tmp_path: Path) -> None:
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        PcmCache.build(long_flac, tmp_path / "long.pcm", cancelled=cancelled)
    assert len(calls) == 3  # stopped at once, not at the end of ten minutes
    assert list(tmp_path.iterdir()) == []
    assert not issubclass(Cancelled, StudyError)  # nothing to tell the researcher


def test_build_from_a_bad_file_leaves_no_files(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.mp3", b"ID3 but nothing else" * 10)
    out = tmp_path / "out"
    with pytest.raises(AudioError):
        PcmCache.build(bad, out / "bad.pcm")
    assert not out.exists() or list(out.iterdir()) == []


# --- import_audio ---------------------------------------------------------------------------


def _media_files(study: Study) -> list[str]:
    return sorted(p.name for p in study.folder.media.iterdir())


def test_import_creates_an_interview_with_the_media(study: Study, jfk: Path) -> None:
    interview_id, media = import_audio(study, jfk)
    sha = file_sha256(jfk)
    assert media.id is not None
    assert (media.sha256, media.filename, media.original_name) == (sha, f"{sha}.flac",
                                                                   "jfk.flac")
    assert (media.duration_ms, media.channels, media.sample_rate) == (11_000, 2, 44_100)
    assert _media_files(study) == [f"{sha}.flac"]
    assert (study.folder.media / media.filename).read_bytes() == jfk.read_bytes()
    assert study.store.media_by_hash(sha) == media
    interview = study.store.interview(interview_id)
    assert interview == Interview("jfk", None, None, media.id, 11_000,
                                  InterviewStatus.RECORDED, interview.language, interview_id)
    assert study.store.audit_log()[0].action == "audio imported"


def test_the_same_file_twice_is_stored_once(study: Study, jfk: Path, tmp_path: Path) -> None:
    first_id, first = import_audio(study, jfk, title="Ward A, morning")
    renamed = tmp_path / "same recording.FLAC"
    shutil.copyfile(jfk, renamed)
    second_id, second = import_audio(study, renamed)
    assert second == first
    assert second_id != first_id
    assert study.store.interview(second_id).title == "same recording"
    assert study.store.interview(first_id).title == "Ward A, morning"
    assert _media_files(study) == [first.filename]


def test_same_content_under_another_suffix_keeps_one_file(study: Study, jfk: Path,
                                                          tmp_path: Path) -> None:
    _, media = import_audio(study, jfk)
    other = tmp_path / "jfk.fla"
    shutil.copyfile(jfk, other)
    _, again = import_audio(study, other)
    assert again == media
    assert _media_files(study) == [media.filename]


def test_import_attaches_to_an_existing_interview(study: Study, stereo: Path) -> None:
    participant_id = study.store.add_participant(Participant("MHCC-1")).new_id("participant")
    interview_id = study.store.add_interview(
        Interview("Ward B", participant_id=participant_id)).new_id("interview")
    got_id, media = import_audio(study, stereo, interview_id=interview_id)
    assert got_id == interview_id
    interview = study.store.interview(interview_id)
    assert (interview.title, interview.participant_id) == ("Ward B", participant_id)
    assert (interview.media_id, interview.duration_ms) == (media.id, 5_000)
    assert len(study.store.interviews()) == 1


def test_import_sets_title_and_participant(study: Study, stereo: Path) -> None:
    participant_id = study.store.add_participant(Participant("MHCC-2")).new_id("participant")
    interview_id, _ = import_audio(study, stereo, title="Second visit",
                                   participant_id=participant_id)
    interview = study.store.interview(interview_id)
    assert (interview.title, interview.participant_id) == ("Second visit", participant_id)


def _snapshot(study: Study) -> tuple[object, ...]:
    return (study.store.interviews(), len(study.store.audit_log()), _media_files(study))


def test_a_bad_file_leaves_the_study_unchanged(study: Study, made: dict[str, Path],
                                               tmp_path: Path) -> None:
    before = _snapshot(study)
    for bad in (_write(tmp_path / "notes.wav", b"not audio" * 100), made["no sound"]):
        with pytest.raises(AudioError):
            import_audio(study, bad)
        assert study.store.media_by_hash(file_sha256(bad)) is None
    assert _snapshot(study) == before


def test_a_failure_after_the_copy_removes_the_copy(study: Study, jfk: Path) -> None:
    before = _snapshot(study)
    with pytest.raises(StudyError):
        import_audio(study, jfk, participant_id=999)  # no such participant
    assert _snapshot(study) == before
    assert study.store.media_by_hash(file_sha256(jfk)) is None


def test_a_failure_keeps_a_file_other_interviews_use(study: Study, jfk: Path) -> None:
    _, media = import_audio(study, jfk)
    with pytest.raises(StudyError):
        import_audio(study, jfk, participant_id=999)
    assert _media_files(study) == [media.filename]


def test_attaching_to_a_missing_interview_copies_nothing(study: Study, jfk: Path) -> None:
    before = _snapshot(study)
    with pytest.raises(NotFoundError):
        import_audio(study, jfk, interview_id=42)
    assert _snapshot(study) == before
