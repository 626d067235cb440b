"""The transcription job: plain Python with a progress callback and a cancel check, so
the GUI's worker process, the headless command and the tests all run the same code.

Each window of the recording is committed in one transaction together with the job's
position, so a crash or a kill loses at most the window in flight, and the job
resumes from the last committed window.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from study.errors import StudyError
from study.folder import Study, open_study
from study.model import Flag, FlagKind, InterviewStatus, Job, JobState, Segment, Speaker, Word
from transcription.audio import SAMPLE_RATE, Cancelled, PcmCache
from transcription.guards import low_confidence_flags, repetition_flag
from transcription.options import Quality, TranscriptionOptions
from transcription.progress import Progress
from transcription.windows import (
    Span,
    TimeMap,
    Window,
    batch_clips,
    merge_spans,
    plan_windows,
    uncovered,
)

KIND = "transcription"
VAD_CHUNK_MS = 300_000  # the VAD reads the cached audio five minutes at a time
MISSED_RETRY_PAD_MS = 200
BATCH_SIZE = 8  # clips decoded together in the fast (batched) mode
# On 2 cores batching measured no faster than plain greedy decoding (14.0 s against
# 13.4 s for 5 minutes, same WER); it pays with more cores to keep busy.
BATCH_MIN_THREADS = 4
SAVED = "saved up to"  # the message after each committed window, with its end in ms

if TYPE_CHECKING:  # the engine (and faster-whisper) load only when a job runs
    from transcription.engine import Engine


ProgressCallback = Callable[[Progress], None]


def create_job(study: Study, interview_id: int, options: TranscriptionOptions, *,
               replace: bool = False) -> int:
    """Queue a transcription of the interview's audio; returns the job id.

    An unfinished job for the same interview is reused (it resumes rather than
    starting over). A transcript that exists already is only replaced when asked.
    """
    store = study.store
    interview = store.interview(interview_id)
    if interview.media_id is None:
        raise StudyError(f"{interview.title} has no audio to transcribe. Import its audio first.")
    for job in store.jobs(JobState.QUEUED, JobState.RUNNING, JobState.INTERRUPTED,
                          JobState.CANCELLED, JobState.FAILED):
        if job.kind == KIND and job.interview_id == interview_id:
            return job.id  # type: ignore[return-value]
    if store.segment_count(interview_id) and not replace:
        raise StudyError(f"{interview.title} already has a transcript. Transcribing again "
                         "replaces it (and its codings); confirm to go ahead.")
    if not options.hotwords:
        options = dataclasses.replace(options, hotwords=tuple(store.glossary()))
    params = json.dumps({"options": json.loads(options.to_json()), "replace": replace})
    with store.write():
        job_id = store.add_job(Job(KIND, interview_id, JobState.QUEUED, params)).new_id("job")
        store.audit("transcription queued", job=job_id, interview=interview_id,
                    model=options.model)
    return job_id


def run_job(study_root: Path, job_id: int, *, progress: ProgressCallback,
            cancelled: Callable[[], bool] = lambda: False,
            model_dir: Path | None = None) -> JobState:
    """Run (or resume) one transcription job to the end; returns its final state."""
    with open_study(study_root, backup=False, recover_jobs=False) as study:
        return TranscriptionRun(study, job_id, progress, cancelled, model_dir).run()


class TranscriptionRun:
    def __init__(self, study: Study, job_id: int, progress: ProgressCallback,
                 cancelled: Callable[[], bool], model_dir: Path | None) -> None:
        self.study, self.store = study, study.store
        self.job = self.store.job(job_id)
        if self.job.interview_id is None:
            raise StudyError("This transcription job has lost its interview.")
        self.interview_id = self.job.interview_id
        self.params = json.loads(self.job.params or "{}")
        self.options = TranscriptionOptions.from_json(json.dumps(self.params.get("options", {})))
        self._progress, self._cancelled, self.model_dir = progress, cancelled, model_dir
        self.total_ms = 0
        self.started = time.monotonic()
        self.speech_done_ms = 0
        self.speech_done_at_start = 0

    # --- reporting ---------------------------------------------------------------------------

    def report(self, stage: str, fraction: float, done_ms: int = 0, message: str = "",
               eta_s: float | None = None) -> None:
        self._progress(Progress(self.job.id or 0, self.interview_id, stage,
                                min(max(fraction, 0.0), 1.0), done_ms, self.total_ms, eta_s,
                                message, self.speed()))

    def speed(self) -> float | None:
        elapsed = time.monotonic() - self.started
        done = self.speech_done_ms - self.speech_done_at_start
        return done / 1000 / elapsed if done > 0 and elapsed > 0 else None

    def check_cancelled(self) -> None:
        if self._cancelled():
            raise Cancelled

    def _save(self, **changes: object) -> None:
        self.job = dataclasses.replace(self.job, **changes)  # type: ignore[arg-type]
        self.store.update_job(self.job)

    # --- the run -----------------------------------------------------------------------------

    def run(self) -> JobState:
        try:
            self._save(state=JobState.RUNNING, error="")
            state = self._run()
        except Cancelled:
            self._save(state=JobState.CANCELLED)
            self.store.audit("transcription cancelled", job=self.job.id,
                             at_ms=self.job.done_ms)
            self.report("cancelled", self.job.done_ms / max(self.total_ms, 1), self.job.done_ms,
                        "Cancelled. What was transcribed is kept; resume to carry on.")
            return JobState.CANCELLED
        except StudyError as e:
            self._save(state=JobState.FAILED, error=str(e))
            self.report("failed", 0.0, self.job.done_ms, str(e))
            return JobState.FAILED
        except Exception as e:
            self._save(state=JobState.FAILED, error=f"{type(e).__name__}: {e}")
            raise
        return state

    def _run(self) -> JobState:
        interview = self.store.interview(self.interview_id)
        if interview.media_id is None:
            raise StudyError(f"{interview.title} has no audio to transcribe.")
        media = self.store.media(interview.media_id)
        self.total_ms = media.duration_ms
        if self.params.get("replace") and self.job.done_ms == 0 and not self.params.get(
                "replaced"):
            with self.store.write():
                ids = [s.id for s in self.store.segments(self.interview_id) if s.id is not None]
                self.store.delete_segments(ids)
                self.params["replaced"] = True
                self._save(params=json.dumps(self.params))
        cache = self._pcm_cache(self.study.folder.media / media.filename, media.sha256)
        self.total_ms = cache.duration_ms
        speech = self._speech_map(cache)
        channels = range(cache.channels)
        all_speech = merge_spans([s for spans in speech for s in spans])
        windows = plan_windows(all_speech, cache.duration_ms, self.options.window_ms)
        total_speech = sum(w.speech_ms for w in windows) or 1
        self.speech_done_at_start = sum(w.speech_ms for w in windows
                                        if w.end_ms <= self.job.done_ms)
        self.speech_done_ms = self.speech_done_at_start
        self.started = time.monotonic()
        speakers = self._speakers(cache.channels)
        engine = self._engine()
        for window in windows:
            if window.end_ms <= self.job.done_ms:
                continue
            self.check_cancelled()
            segments: list[Segment] = []
            for channel in channels:
                # speech longer than a window is cut at its edges, so no stretch is
                # transcribed in two windows (and none ends past the saved position)
                channel_window = Window(window.start_ms, window.end_ms, tuple(
                    (max(s[0], window.start_ms), min(s[1], window.end_ms))
                    for s in merge_spans(speech[channel]) if s[1] > window.start_ms
                    and s[0] < window.end_ms))
                segments += self._transcribe_window(engine, cache, channel_window,
                                                    channel if cache.channels > 1 else None,
                                                    speakers[channel], total_speech)
            self._commit(window, sorted(segments, key=lambda s: (s.start_ms, s.end_ms)))
            self.speech_done_ms += window.speech_ms
            self.report("transcribing", 0.08 + 0.92 * self.speech_done_ms / total_speech,
                        window.end_ms, f"{SAVED} {window.end_ms}")
        with self.store.write():
            if self.store.interview(self.interview_id).status is InterviewStatus.RECORDED:
                self.store.set_interview_status(self.interview_id, InterviewStatus.TRANSCRIBED)
            self._save(state=JobState.DONE, done_ms=self.total_ms, total_ms=self.total_ms)
            self.store.audit("transcription finished", job=self.job.id,
                             interview=self.interview_id)
        self.report("done", 1.0, self.total_ms, "Transcription finished.")
        return JobState.DONE

    # --- stages ------------------------------------------------------------------------------

    def _pcm_cache(self, source: Path, sha256: str) -> PcmCache:
        """Decode once into the study's cache; a resumed job reuses it."""
        split = self.options.split_stereo
        target = self.study.folder.root / "cache" / f"{sha256}{'-stereo' if split else ''}.s16"
        cache = PcmCache.open(target)
        if cache is not None:
            return cache
        target.parent.mkdir(parents=True, exist_ok=True)
        self.report("preparing audio", 0.0, message="Decoding the audio")
        return PcmCache.build(source, target, split_channels=split,
                              progress=lambda f: self.report("preparing audio", 0.03 * f),
                              cancelled=self._cancelled)

    def _speech_map(self, cache: PcmCache) -> list[list[Span]]:
        """Where people speak, per channel: computed once and kept with the job."""
        if "speech" in self.params:
            return [[(s, e) for s, e in spans] for spans in self.params["speech"]]
        from transcription.engine import speech_regions

        maps: list[list[Span]] = []
        total = cache.frames * cache.channels or 1
        for channel in range(cache.channels):
            spans: list[Span] = []
            step = VAD_CHUNK_MS * SAMPLE_RATE // 1000
            for first in range(0, cache.frames, step):
                self.check_cancelled()
                audio = cache.read(first, first + step, channel if cache.channels > 1 else None)
                offset_ms = first * 1000 // SAMPLE_RATE
                spans += [(offset_ms + s * 1000 // SAMPLE_RATE, offset_ms + e * 1000 // SAMPLE_RATE)
                          for s, e in speech_regions(audio,
                                                     min_silence_ms=self.options.min_silence_ms)]
                done = channel * cache.frames + first + len(audio)
                self.report("finding speech", 0.03 + 0.05 * done / total)
            maps.append(merge_spans(spans, gap_ms=self.options.min_silence_ms // 2))
        self.params["speech"] = maps
        self._save(params=json.dumps(self.params), total_ms=cache.duration_ms)
        return maps

    def _speakers(self, channels: int) -> list[int | None]:
        """Stereo with one speaker per channel: one speaker each; mono: assigned later."""
        if channels < 2:
            return [None]
        existing = {s.label: s.id for s in self.store.speakers(self.interview_id)}
        ids: list[int | None] = []
        for n, side in enumerate(("left", "right")):
            label = f"Speaker {n + 1} ({side})"
            if label not in existing:
                existing[label] = self.store.add_speaker(
                    Speaker(self.interview_id, label)).new_id("speaker")
            ids.append(existing[label])
        return ids

    def _engine(self) -> Engine:
        from transcription.engine import Engine
        from transcription.models import find, model_path

        self.check_cancelled()
        directory = self.model_dir
        if directory is None:
            key = self.options.model
            folders = [Path(key.removeprefix("folder:"))] if key.startswith("folder:") else []
            directory = model_path(find(key, folders))
        self.report("transcribing", 0.08, self.job.done_ms, "Loading the model")
        return Engine(directory, threads=self.options.threads)

    def _transcribe_window(self, engine: Engine, cache: PcmCache, window: Window,
                           channel: int | None, speaker_id: int | None,
                           total_speech: int) -> list[Segment]:
        if not window.speech:
            return []
        segments = self._recognise(engine, cache, window.speech, channel, speaker_id,
                                   window, total_speech)
        covered = [(w.start_ms, w.end_ms) for s in segments for w in s.words]
        for gap in uncovered(window.speech, covered):
            self.check_cancelled()
            padded = (max(0, gap[0] - MISSED_RETRY_PAD_MS), gap[1] + MISSED_RETRY_PAD_MS)
            retry = self._recognise(engine, cache, (padded,), channel, speaker_id, None, 0)
            retry = [s for s in retry if s.text.strip()]
            if retry:
                segments += retry
            else:
                segments.append(Segment(
                    self.interview_id, 0, gap[0], gap[1], "", speaker_id,
                    flags=(Flag(FlagKind.MISSED_SPEECH, gap[0], gap[1],
                                "Speech was heard here but no words were recognised."),)))
        return segments

    def _recognise(self, engine: Engine, cache: PcmCache, spans: Sequence[Span],
                   channel: int | None, speaker_id: int | None, window: Window | None,
                   total_speech: int) -> list[Segment]:
        """Recognise the given speech spans joined together, timed back to the recording."""
        pieces = [cache.read(s * SAMPLE_RATE // 1000, e * SAMPLE_RATE // 1000, channel)
                  for s, e in spans]
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        time_map = TimeMap(tuple(spans))
        segments: list[Segment] = []
        hotwords = " ".join(self.options.hotwords) or None
        batched = (self.options.quality is Quality.FAST and window is not None
                   and self.options.threads >= BATCH_MIN_THREADS)
        for rec in engine.recognise(audio, beam_size=self.options.beam_size,
                                    language=self.options.language, hotwords=hotwords,
                                    clips=batch_clips(spans) if batched else (),
                                    batch_size=BATCH_SIZE if batched else 0,
                                    should_stop=self._cancelled):
            words = tuple(
                Word(w.text, time_map.to_original(w.start_s * 1000),
                     time_map.to_original(w.end_s * 1000, is_end=True), w.probability)
                for w in rec.words)
            start = words[0].start_ms if words else time_map.to_original(rec.start_s * 1000)
            end = words[-1].end_ms if words else time_map.to_original(rec.end_s * 1000,
                                                                      is_end=True)
            flags = low_confidence_flags(words, self.options.low_confidence)
            loop = repetition_flag(rec.text, start, end)
            if loop is not None:
                flags.append(loop)
            segments.append(Segment(self.interview_id, 0, start, max(start, end), rec.text,
                                    speaker_id, words, tuple(flags)))
            if window is not None:
                heard = self.speech_done_ms + self._speech_before(window, end)
                self._report_transcribing(heard, total_speech, end)
            self.check_cancelled()
        return segments

    @staticmethod
    def _speech_before(window: Window, at_ms: int) -> int:
        return sum(max(0, min(e, at_ms) - s) for s, e in window.speech)

    def _report_transcribing(self, speech_done: int, total_speech: int, at_ms: int) -> None:
        fraction = speech_done / total_speech
        this_run = speech_done - self.speech_done_at_start
        elapsed = time.monotonic() - self.started
        eta = None
        if this_run > 0 and elapsed > 1:
            eta = (total_speech - speech_done) * elapsed / this_run
        self.report("transcribing", 0.08 + 0.92 * fraction, at_ms, eta_s=eta)

    def _commit(self, window: Window, segments: list[Segment]) -> None:
        """One window, one transaction: its segments and the job's new position."""
        with self.store.write():
            position = self.store.next_segment_position(self.interview_id)
            self.store.add_segments(
                dataclasses.replace(s, position=position + n) for n, s in enumerate(segments))
            self._save(done_ms=window.end_ms, total_ms=self.total_ms)
        self.check_cancelled()
