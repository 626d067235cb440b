"""The one place that starts background work.

Transcription jobs run one at a time in a spawned child process; the rest queue. A
QTimer in the GUI thread drains the progress queue about ten times a second, so the
event loop never blocks on the worker and updates are naturally throttled. Cancel
asks the worker to stop and, if it has not within half a second, terminates it:
committed windows are transactions, so nothing half-written survives.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing as mp
import operator
import queue
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from study.folder import Study, open_study
from study.model import Changes, JobState
from study.store import Store
from transcription.progress import Progress

POLL_MS = 100
GRACE_MS = 500
T = TypeVar("T")


class _Task(QThread):
    """One short piece of file work (a copy and a hash) off the GUI thread."""

    succeeded = Signal(int, object)
    failed = Signal(int, object)

    def __init__(self, task_id: int, work: Callable[[], object], parent: QObject) -> None:
        super().__init__(parent)
        self.task_id, self.work = task_id, work

    def run(self) -> None:
        try:
            result = self.work()
        except Exception as e:  # handed to the GUI thread, which decides what to show
            self.failed.emit(self.task_id, e)
        else:
            self.succeeded.emit(self.task_id, result)


@dataclass
class _Running:
    job_id: int
    interview_id: int
    process: SpawnProcess
    queue: Any
    cancel: Any
    cancel_requested: bool = False
    last_state: str = ""


class JobRunner(QObject):
    progress = Signal(object)  # Progress
    finished = Signal(int, str)  # job id, final state (done, cancelled, failed, interrupted)
    queue_changed = Signal()
    study_changed = Signal(object)  # Changes written by the worker, for views to refresh

    def __init__(self, store: Store, study_root: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store, self.study_root = store, study_root
        self._context = mp.get_context("spawn")
        self._waiting: deque[tuple[int, int]] = deque()
        self._running: _Running | None = None
        self._last_done_ms = -1
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._tasks: dict[int, tuple[_Task, Callable[[Any], None],
                                     Callable[[Exception], None]]] = {}
        self._next_task = 0

    # --- short tasks in a thread ---------------------------------------------------------------

    def run_in_thread(self, work: Callable[[], object], done: Callable[[Any], None],
                      failed: Callable[[Exception], None]) -> None:
        """Run `work` in a thread; `done` or `failed` is then called on the GUI thread.

        `work` must not touch the GUI's store: SQLite connections are per thread, so it
        opens its own (open_study with recover_jobs=False).
        """
        self._next_task += 1
        task = _Task(self._next_task, work, self)
        self._tasks[task.task_id] = (task, done, failed)
        task.succeeded.connect(self._task_succeeded)
        task.failed.connect(self._task_failed)
        task.start()

    def run_on_study(self, work: Callable[[Study], T], done: Callable[[T, Changes], None],
                     failed: Callable[[Exception], None]) -> None:
        """Run `work` in a thread on its own Study opened on the same folder; `done` gets
        its result and the Changes it wrote, which the GUI's store never hears of (they
        went through the thread's connection), so the caller can tell the views."""
        root = self.study_root

        def in_thread() -> tuple[T, Changes]:
            written: list[Changes] = []
            with open_study(root, backup=False, recover_jobs=False) as study:
                study.store.subscribe(written.append)
                result = work(study)
            return result, functools.reduce(operator.or_, written, Changes())

        self.run_in_thread(in_thread, lambda pair: done(*pair), failed)

    def busy_tasks(self) -> int:
        return len(self._tasks)

    @Slot(int, object)
    def _task_succeeded(self, task_id: int, result: object) -> None:
        if task_id not in self._tasks:
            return  # finished during shutdown(): the study it worked on is closed
        task, done, _ = self._tasks.pop(task_id)
        task.wait()
        task.deleteLater()
        done(result)

    @Slot(int, object)
    def _task_failed(self, task_id: int, error: object) -> None:
        if task_id not in self._tasks:
            return
        task, _, failed = self._tasks.pop(task_id)
        task.wait()
        task.deleteLater()
        assert isinstance(error, Exception)
        failed(error)

    # --- queue -------------------------------------------------------------------------------

    def enqueue(self, job_id: int, interview_id: int) -> None:
        if self.is_queued(job_id):
            return
        self._waiting.append((job_id, interview_id))
        self.queue_changed.emit()
        self._start_next()

    def is_queued(self, job_id: int) -> bool:
        running = self._running is not None and self._running.job_id == job_id
        return running or any(j == job_id for j, _ in self._waiting)

    def running_job(self) -> int | None:
        return self._running.job_id if self._running else None

    def waiting(self) -> list[int]:
        return [j for j, _ in self._waiting]

    def cancel(self, job_id: int) -> None:
        """Stop a job: a waiting one leaves the queue; the running one stops within 0.5 s."""
        for item in list(self._waiting):
            if item[0] == job_id:
                self._waiting.remove(item)
                self.queue_changed.emit()
                self.finished.emit(job_id, JobState.CANCELLED.value)
                return
        running = self._running
        if running is None or running.job_id != job_id or running.cancel_requested:
            return
        running.cancel_requested = True
        running.cancel.set()
        QTimer.singleShot(GRACE_MS, lambda: self._terminate_if_alive(running))

    def shutdown(self) -> None:
        """Before the study closes: finish short tasks (their results are dropped), drop
        the queue, stop the worker."""
        for task, _, _ in list(self._tasks.values()):
            task.wait()
        self._tasks.clear()
        self._waiting.clear()
        running = self._running
        if running is not None:
            running.cancel_requested = True
            running.cancel.set()
            running.process.join(GRACE_MS / 1000)
            self._terminate_if_alive(running)
            self._finish(running)
        self._timer.stop()

    # --- the worker --------------------------------------------------------------------------

    def _start_next(self) -> None:
        if self._running is not None or not self._waiting:
            return
        from transcription.worker import work  # loads numpy and PyAV: only when needed

        job_id, interview_id = self._waiting.popleft()
        progress_queue = self._context.Queue()
        cancel = self._context.Event()
        process = self._context.Process(
            target=work, args=(str(self.study_root), job_id, interview_id, progress_queue,
                               cancel),
            name=f"verbatim-transcription-{job_id}", daemon=True)
        process.start()
        self._running = _Running(job_id, interview_id, process, progress_queue, cancel)
        self._last_done_ms = -1
        self._timer.start()
        self.queue_changed.emit()
        self.progress.emit(Progress(job_id, interview_id, "starting", 0.0,
                                    message="Starting the transcription"))

    def _terminate_if_alive(self, running: _Running) -> None:
        if running.process.is_alive():
            running.process.terminate()
            running.process.join(2)
            if running.process.is_alive():
                running.process.kill()
                running.process.join()

    def _poll(self) -> None:
        running = self._running
        if running is None:
            self._timer.stop()
            return
        latest: Progress | None = None
        with contextlib.suppress(queue.Empty, EOFError, OSError):
            while True:
                latest = running.queue.get_nowait()
                self._note(running, latest)
        if latest is not None:
            self.progress.emit(latest)
        if not running.process.is_alive():
            self._finish(running)

    def _note(self, running: _Running, p: Progress) -> None:
        running.last_state = p.stage
        if p.stage == "failed" and p.message:
            self.progress.emit(p)
        if p.done_ms != self._last_done_ms and p.stage in ("transcribing", "done"):
            self._last_done_ms = p.done_ms
            self.study_changed.emit(Changes(updated=(("segment", 0),
                                                     ("interview", running.interview_id))))

    def _finish(self, running: _Running) -> None:
        running.process.join(1)
        with contextlib.suppress(queue.Empty, EOFError, OSError):
            while True:
                self._note(running, running.queue.get_nowait())
        state = self._final_state(running)
        running.queue.close()
        running.queue.join_thread()
        self._running = None
        self.study_changed.emit(Changes(updated=(("segment", 0),
                                                 ("interview", running.interview_id),
                                                 ("job", running.job_id))))
        self.finished.emit(running.job_id, state)
        self.queue_changed.emit()
        self._start_next()

    def _final_state(self, running: _Running) -> str:
        """What the job row says; a worker killed mid-run leaves it 'running'."""
        job = self.store.job(running.job_id)
        if job.state in (JobState.RUNNING, JobState.QUEUED):
            new = JobState.CANCELLED if running.cancel_requested else JobState.INTERRUPTED
            self.store.update_job(dataclasses.replace(job, state=new))
            return new.value
        return job.state.value


def runner_of(obj: QObject | None) -> JobRunner | None:
    """The job runner of the study a widget belongs to: the first of it and its parents
    that has one (the study workspace does), so a page need not be handed it."""
    while obj is not None:
        runner = getattr(obj, "runner", None)
        if isinstance(runner, JobRunner):
            return runner
        obj = obj.parent()
    return None
