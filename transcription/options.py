"""What a transcription job is asked to do, stored with the job so a resumed job
carries on exactly as it began."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum


class Quality(StrEnum):
    ACCURATE = "accurate"  # beam search of 5
    FAST = "fast"  # greedy decoding of 30-second clips in batches


def default_threads() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class TranscriptionOptions:
    """Defaults are the ones that measured best on long interviews (DESIGN.md section 3)."""

    model: str = "tiny.en"
    quality: Quality = Quality.ACCURATE
    language: str | None = "en"
    threads: int = field(default_factory=default_threads)
    hotwords: tuple[str, ...] = ()
    split_stereo: bool = False
    min_silence_ms: int = 500
    window_ms: int = 600_000
    low_confidence: float = 0.4

    @property
    def beam_size(self) -> int:
        return 5 if self.quality is Quality.ACCURATE else 1

    def to_json(self) -> str:
        data = asdict(self)
        data["hotwords"] = list(self.hotwords)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TranscriptionOptions:
        raw = json.loads(text or "{}")
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in raw.items() if k in known}
        if "quality" in data:
            data["quality"] = Quality(data["quality"])
        if "hotwords" in data:
            data["hotwords"] = tuple(data["hotwords"])
        return cls(**data)
