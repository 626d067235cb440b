"""The one module that talks to faster-whisper: load a model, find speech, recognise it.

Everything above this works with plain numpy arrays and frozen dataclasses, so the
recogniser could be swapped without touching the job, the store or the GUI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.vad import VadOptions, get_speech_timestamps

SAMPLE_RATE = 16_000


@dataclass(frozen=True, slots=True)
class RecognisedWord:
    text: str
    start_s: float
    end_s: float
    probability: float


@dataclass(frozen=True, slots=True)
class RecognisedSegment:
    start_s: float
    end_s: float
    text: str
    words: tuple[RecognisedWord, ...]
    avg_logprob: float
    no_speech_prob: float


def speech_regions(audio: np.ndarray, *, min_silence_ms: int = 500,
                   speech_pad_ms: int = 400) -> list[tuple[int, int]]:
    """Silero VAD (bundled with faster-whisper): speech as (start, end) sample indices."""
    if audio.size == 0:
        return []
    options = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=speech_pad_ms)
    return [(int(c["start"]), int(c["end"]))
            for c in get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)]


class Engine:
    """A loaded Whisper model (int8 on the CPU)."""

    def __init__(self, model_dir: Path, *, threads: int = 0, compute_type: str = "int8") -> None:
        self.model_dir = model_dir
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type=compute_type,
                                  cpu_threads=threads, local_files_only=True)
        self._batched: BatchedInferencePipeline | None = None

    @property
    def multilingual(self) -> bool:
        return bool(self.model.model.is_multilingual)

    def recognise(self, audio: np.ndarray, *, beam_size: int = 5, language: str | None = "en",
                  hotwords: str | None = None, clips: Sequence[tuple[float, float]] = (),
                  batch_size: int = 0,
                  should_stop: Callable[[], bool] = lambda: False) -> Iterator[RecognisedSegment]:
        """Recognise speech already cut to what the VAD heard (no second VAD pass).

        With batch_size, the audio is decoded as independent clips of at most 30 s
        (`clips`, in seconds, cut between speech spans) several at a time: faster on
        long files, at some cost in accuracy. Segments are yielded as they are decoded,
        so the caller can report progress and stop between them.
        """
        if audio.size < SAMPLE_RATE // 10:
            return
        language = language if self.multilingual or language in (None, "en") else "en"
        if batch_size and clips:
            if self._batched is None:
                self._batched = BatchedInferencePipeline(self.model)
            segments, _info = self._batched.transcribe(
                audio, language=language, beam_size=beam_size, word_timestamps=True,
                condition_on_previous_text=False, vad_filter=False, hotwords=hotwords or None,
                clip_timestamps=[{"start": s, "end": e} for s, e in clips],
                batch_size=batch_size)
        else:
            segments, _info = self.model.transcribe(
                audio, language=language, beam_size=beam_size, word_timestamps=True,
                condition_on_previous_text=False, vad_filter=False, hotwords=hotwords or None)
        for seg in segments:
            yield RecognisedSegment(
                start_s=seg.start,
                end_s=seg.end,
                text=seg.text.strip(),
                words=tuple(RecognisedWord(w.word, w.start, w.end, w.probability)
                            for w in (seg.words or ())),
                avg_logprob=seg.avg_logprob,
                no_speech_prob=seg.no_speech_prob,
            )
            if should_stop():
                return
