"""`python main.py transcribe STUDY INTERVIEW_OR_AUDIO...`: batch transcription on a
terminal, for a long queue on another machine. Same job code as the GUI, in-process."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from study.errors import StudyError
from study.folder import Study, open_study
from study.model import JobState
from transcription.audio import AUDIO_SUFFIXES, import_audio
from transcription.job import Progress, create_job, run_job
from transcription.options import Quality, TranscriptionOptions

BAR = 30


def resolve_interview(study: Study, target: str) -> int:
    """An interview by id, title or participant code; an audio file is imported first."""
    path = Path(target)
    if path.suffix.lower() in AUDIO_SUFFIXES or path.is_file():
        interview_id, _media = import_audio(study, path)
        return interview_id
    store = study.store
    codes = {p.id: p.code for p in store.participants()}
    matches = [i.id for i in store.interviews()
               if str(i.id) == target or i.title.lower() == target.lower()
               or codes.get(i.participant_id or -1, "").lower() == target.lower()]
    if len(matches) != 1:
        raise StudyError(f"{target!r} names {'no' if not matches else 'more than one'} "
                         "interview in this study (use its title, participant code or id, "
                         "or the path of an audio file).")
    return matches[0]  # type: ignore[return-value]


def clock(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


class TerminalProgress:
    """One line, redrawn in place: stage, bar, position in the audio, time left."""

    def __init__(self, label: str, out: TextIO = sys.stderr) -> None:
        self.label, self.out = label, out
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        final = p.stage in ("done", "cancelled", "failed")
        if not final and now - self._last < 0.2:
            return
        self._last = now
        filled = int(BAR * p.fraction)
        eta = f" ETA {clock(int(p.eta_s * 1000))}" if p.eta_s is not None else ""
        where = f" {clock(p.done_ms)}/{clock(p.total_ms)}" if p.total_ms else ""
        line = (f"\r{self.label}: [{'#' * filled}{'.' * (BAR - filled)}] "
                f"{p.fraction * 100:3.0f}% {p.stage}{where}{eta}")
        self.out.write(line.ljust(100)[:120])
        if final:
            self.out.write(f"\n{p.message}\n" if p.message else "\n")
        self.out.flush()


def transcribe(study_path: Path, targets: Sequence[str], *, model: str = "tiny.en",
               fast: bool = False, threads: int = 0, replace: bool = False,
               split_stereo: bool = False, out: TextIO = sys.stderr) -> int:
    """Queue every target, then run them one after another; exit status 0 if all done."""
    options = TranscriptionOptions(model=model, quality=Quality.FAST if fast else
                                   Quality.ACCURATE, split_stereo=split_stereo,
                                   **({"threads": threads} if threads else {}))
    jobs: list[tuple[int, str]] = []
    with open_study(study_path) as study:
        for target in targets:
            interview_id = resolve_interview(study, target)
            title = study.store.interview(interview_id).title
            jobs.append((create_job(study, interview_id, options, replace=replace), title))
    interrupted: list[int] = []  # Ctrl+C cancels cleanly: committed windows stay
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(1))
    failures = 0
    try:
        for n, (job_id, title) in enumerate(jobs, 1):
            if interrupted:
                break
            state = run_job(study_path, job_id, cancelled=lambda: bool(interrupted),
                            progress=TerminalProgress(f"[{n}/{len(jobs)}] {title}", out))
            failures += state is not JobState.DONE
    finally:
        signal.signal(signal.SIGINT, previous)
    return 130 if interrupted else (1 if failures else 0)
