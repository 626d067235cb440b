"""A report from a running job: small, picklable, sent across processes, and light to
import (the GUI needs it at start-up; the job's own modules load numpy and PyAV)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Progress:
    """One report from a running job; small and picklable, sent across processes."""

    job_id: int
    interview_id: int
    stage: str  # preparing audio, finding speech, transcribing, done, cancelled, failed
    fraction: float
    done_ms: int = 0
    total_ms: int = 0
    eta_s: float | None = None
    message: str = ""
    speed: float | None = None  # seconds of speech per second of work, this run
