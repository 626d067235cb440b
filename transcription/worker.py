"""The entry point of the transcription worker process.

The GUI's job runner starts this in a child process (spawn), so cancel can be
immediate, a crash or out-of-memory kills only the worker, and the GUI never waits.
Progress goes back through a multiprocessing queue.
"""

from __future__ import annotations

import traceback
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

from transcription.job import Progress, run_job


def work(study_root: str, job_id: int, interview_id: int, queue: Queue[Progress],
         cancel: Event) -> None:
    try:
        run_job(Path(study_root), job_id, progress=queue.put, cancelled=cancel.is_set)
    except BaseException as e:  # the parent shows it; the job row already says "failed"
        queue.put(Progress(job_id, interview_id, "failed", 0.0,
                           message=f"{type(e).__name__}: {e}\n\n{traceback.format_exc()}"))
        raise
