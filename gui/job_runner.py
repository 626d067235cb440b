"""The one place that starts background work.

Transcription jobs run one at a time in a spawned child process; the rest queue. A
QTimer in the GUI thread drains the progress queue about ten times a second, so the
event loop never blocks on the worker and updates are naturally throttled; views hear
of new transcript text at most once a poll, and only when a window was committed. Cancel
asks the worker to stop and, if it has not within half a second, terminates it:
committed windows are transactions, so nothing half-written survives.

Exports, imports and charts run in a second child process, the study process, one task
at a time, each on its own connection to the study. Not in a thread: any thread of
Python that works for seconds (building a report, reading rows from SQLite) keeps the
GUI thread from the GIL for 40 to 200 ms at a time on a busy two-core machine, far over
the 100 ms the window may stall (DESIGN.md section 7); in a process it stays under 40 ms.
run_in_thread is for work that mostly waits on the disk (copying and hashing a file).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing as mp
import operator
import os
import queue
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from study.errors import StudyError
from study.folder import open_study
from study.model import NO_CHANGES, Changes, JobState
from study.store import Store
from transcription.progress import Progress

if TYPE_CHECKING:  # the pool loads with the first task, not at start-up
    from concurrent.futures import Future, ProcessPoolExecutor

POLL_MS = 100
GRACE_MS = 500
WORKER_NICENESS = 10  # the transcription worker gives way to the window (see _lower_priority)
STUDY_PROCESS_IDLE_MS = 120_000  # then the study process ends, giving its memory back
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


@dataclass(frozen=True)
class _Outcome:
    """What a task in the study process sends back: its result and what it wrote, or the
    known error it met, as plain values (not every StudyError survives pickling)."""

    result: object = None
    changes: Changes = NO_CHANGES
    refused: str | None = None  # a StudyError's message
    os_error: tuple[int | None, str | None, str | None] | None = None

    def error(self) -> Exception | None:
        if self.refused is not None:
            return StudyError(self.refused)
        if self.os_error is not None:
            number, reason, filename = self.os_error
            return OSError(number, reason, filename)
        return None


def _on_study(root: str, work: Callable[..., object], args: tuple[Any, ...]) -> _Outcome:
    """In the study process: run work(study, *args) on a connection of its own."""
    written: list[Changes] = []
    try:
        with open_study(root, backup=False, recover_jobs=False) as study:
            study.store.subscribe(written.append)
            result = work(study, *args)
    except StudyError as e:
        return _Outcome(refused=str(e))
    except OSError as e:
        return _Outcome(os_error=(e.errno, e.strerror, e.filename))
    return _Outcome(result, functools.reduce(operator.or_, written, NO_CHANGES))


class JobRunner(QObject):
    progress = Signal(object)  # Progress
    finished = Signal(int, str)  # job id, final state (done, cancelled, failed, interrupted)
    queue_changed = Signal()
    study_changed = Signal(object)  # Changes written by the worker, for views to refresh
    _study_task_done = Signal(int, object)  # task id, its Future (from the pool's thread)

    def __init__(self, store: Store, study_root: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store, self.study_root = store, study_root
        self._context = mp.get_context("spawn")
        self._waiting: deque[tuple[int, int]] = deque()
        self._running: _Running | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._tasks: dict[int, tuple[_Task, Callable[[Any], None],
                                     Callable[[Exception], None]]] = {}
        self._next_task = 0
        self._pool: ProcessPoolExecutor | None = None
        self._study_tasks: dict[int, tuple[Callable[[Any, Changes], None],
                                           Callable[[Exception], None],
                                           ProcessPoolExecutor]] = {}
        self._study_task_done.connect(self._on_study_task_done)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(STUDY_PROCESS_IDLE_MS)
        self._idle.timeout.connect(self._end_study_process)

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

    def run_on_study(self, work: Callable[..., T], args: tuple[Any, ...],
                     done: Callable[[T, Changes], None],
                     failed: Callable[[Exception], None]) -> None:
        """Run work(study, *args) in the study process, on its own Study opened on the same
        folder; then, on the GUI thread, done(result, changes) with the Changes it wrote
        (the GUI's store never hears of them), or failed(error): a StudyError or OSError
        rebuilt from its message, or the bug. `work` and `args` must pickle (a function
        of a module, plain values), and so must the result. Tasks run one at a time, in
        the order given; the process starts with the first and ends when idle."""
        self._next_task += 1
        task_id = self._next_task
        self._idle.stop()
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(1, mp_context=self._context)
        self._study_tasks[task_id] = (done, failed, self._pool)
        future = self._pool.submit(_on_study, str(self.study_root), work, args)
        future.add_done_callback(lambda f: self._study_task_done.emit(task_id, f))

    @Slot(int, object)
    def _on_study_task_done(self, task_id: int, future: Future) -> None:
        from concurrent.futures.process import BrokenProcessPool

        handlers = self._study_tasks.pop(task_id, None)
        if not self._study_tasks:
            self._idle.start()
        if handlers is None:
            return  # finished during shutdown(): nothing is left to show it
        done, failed, pool = handlers
        try:
            outcome: _Outcome = future.result()
        except BrokenProcessPool:  # the process died (out of memory, killed): start anew
            if self._pool is pool:
                pool.shutdown(wait=False)
                self._pool = None
            failed(StudyError("The work stopped before it finished: its process ended "
                              "unexpectedly (out of memory?), and what it was writing was "
                              "not saved. Try again."))
            return
        except Exception as e:  # a bug in the work, raised again on the GUI thread
            failed(e)
            return
        error = outcome.error()
        if error is not None:
            failed(error)
        else:
            done(outcome.result, outcome.changes)

    def _end_study_process(self) -> None:
        if self._pool is not None and not self._study_tasks:
            self._pool.shutdown(wait=False)
            self._pool = None

    def busy_tasks(self) -> int:
        """Short tasks in threads and tasks of the study process, running or waiting."""
        return len(self._tasks) + len(self._study_tasks)

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
        """Before the study closes: finish short tasks and the study process's tasks (an
        export asked for is still written; results and errors are dropped, as nothing is
        left to show them), drop the queue, stop the worker."""
        for task, _, _ in list(self._tasks.values()):
            task.wait()
        self._tasks.clear()
        self._study_tasks.clear()
        self._idle.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
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
        _lower_priority(process.pid)
        self._running = _Running(job_id, interview_id, process, progress_queue, cancel)
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
        committed = False
        with contextlib.suppress(queue.Empty, EOFError, OSError):
            while True:
                latest = running.queue.get_nowait()
                committed |= self._note(running, latest)
        if latest is not None:
            self.progress.emit(latest)
        if committed:  # once a poll, however many windows: views reload what they show
            self.study_changed.emit(self._written(running))
        if not running.process.is_alive():
            self._finish(running)

    def _note(self, running: _Running, p: Progress) -> bool:
        """Keep the state of one report; True if the worker committed a window (only then
        is there anything new in the study to show)."""
        from transcription.job import SAVED  # loaded with the worker by _start_next

        running.last_state = p.stage
        if p.stage == "failed" and p.message:
            self.progress.emit(p)
        return p.stage == "transcribing" and p.message.startswith(SAVED)

    def _written(self, running: _Running, *more: tuple[str, int]) -> Changes:
        """What the worker's commits changed, put so that views refresh this interview
        only: its transcript (segment 0, "reload") and its row of the interviews list,
        through one of its segments. Naming the interview would reload the whole list,
        which takes over 100 ms on a study of 100 interviews."""
        segments = self.store.segments(running.interview_id)
        if not segments:
            return Changes(updated=(("segment", 0), ("interview", running.interview_id),
                                    *more))
        last = segments[-1].id
        assert last is not None
        return Changes(added=(("segment", last),), updated=(("segment", 0), *more))

    def _finish(self, running: _Running) -> None:
        running.process.join(1)
        with contextlib.suppress(queue.Empty, EOFError, OSError):
            while True:
                self._note(running, running.queue.get_nowait())
        state = self._final_state(running)
        running.queue.close()
        running.queue.join_thread()
        self._running = None
        self.study_changed.emit(self._written(running, ("job", running.job_id)))
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


def _lower_priority(pid: int | None) -> None:
    """Make the worker give way to the window and to exports: on two busy cores its
    threads otherwise take the time slices they need. Measured with a transcription, a
    Word report and a .qdpx running at once: the longest stall of the event loop went
    from 35-54 ms to 20-30 ms and the exports took half as long, the transcription no
    longer. Set before the worker loads its model, so the threads it starts then inherit
    it (Linux keeps niceness per thread). Where there is no setpriority (Windows) the
    worker keeps the normal priority."""
    if pid is None or not hasattr(os, "setpriority"):
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, pid, WORKER_NICENESS)
