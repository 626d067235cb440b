"""The strip under the interviews list that shows the transcription in progress: what,
how far, how long left, a cancel button, and what waits in the queue."""

from __future__ import annotations

import html
import json

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from gui.format import clock
from gui.job_runner import JobRunner
from study.model import JobState
from study.store import Store
from transcription.progress import Progress


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return "less than a minute left"
    minutes = round(seconds / 60)
    return f"about {minutes} min left" if minutes < 90 else f"about {minutes / 60:.1f} h left"


class TranscriptionPanel(QWidget):
    speed_measured = Signal(str, float)  # model key, seconds of speech per second
    resume_requested = Signal()

    def __init__(self, store: Store, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.runner = store, runner
        self.label = QLabel()
        self.label.setObjectName("transcriptionStatus")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelTranscription")
        self.cancel_button.setToolTip("Stop; what is transcribed so far is kept (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setObjectName("resumeTranscription")
        self.resume_button.clicked.connect(self.resume_requested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.resume_button)
        self.last: Progress | None = None
        self._outcome_shown = False  # the last job's outcome stays until the next starts
        runner.progress.connect(self.on_progress)
        runner.finished.connect(self.on_finished)
        runner.queue_changed.connect(self.refresh)
        self.refresh()

    def _title(self, interview_id: int) -> str:
        return html.escape(self.store.interview(interview_id).title)

    @Slot(object)
    def on_progress(self, p: Progress) -> None:
        self.last = p
        self._outcome_shown = False
        if p.stage == "failed":
            self.label.setText(f"Transcription failed: {html.escape(p.message.splitlines()[0])}")
            return
        where = f" · {clock(p.done_ms)} of {clock(p.total_ms)}" if p.total_ms else ""
        eta = eta_text(p.eta_s)
        self.label.setText(f"{p.stage.capitalize()} <b>{self._title(p.interview_id)}</b>"
                           f"{where}{' · ' + eta if eta else ''}{self._waiting_text()}")
        self.bar.setValue(round(p.fraction * 1000))
        self.show()

    @Slot(int, str)
    def on_finished(self, job_id: int, state: str) -> None:
        job = self.store.job(job_id)
        title = self._title(job.interview_id) if job.interview_id else "the interview"
        words = {"done": "finished", "cancelled": "cancelled (what was done is kept)",
                 "failed": f"failed: {html.escape(job.error.splitlines()[0] if job.error else '')}",
                 "interrupted": "stopped unexpectedly; resume to carry on"}
        self.label.setText(f"Transcription of <b>{title}</b> {words.get(state, state)}.")
        if state == "done" and self.last is not None and self.last.speed:
            options = json.loads(job.params or "{}").get("options", {})
            self.speed_measured.emit(options.get("model", "tiny.en"), self.last.speed)
        self.bar.setValue(1000 if state == "done" else self.bar.value())
        self._outcome_shown = True
        self.refresh()

    def _waiting_text(self) -> str:
        n = len(self.runner.waiting())
        return f" · {n} more waiting" if n else ""

    def resumable(self) -> list[int]:
        return [j.id for j in self.store.jobs(JobState.INTERRUPTED, JobState.CANCELLED)
                if j.id is not None and j.kind == "transcription"
                and not self.runner.is_queued(j.id)]

    def refresh(self) -> None:
        keep_label = self._outcome_shown
        running = self.runner.running_job() is not None
        resumable = self.resumable()
        self.cancel_button.setVisible(running)
        self.bar.setVisible(running or keep_label)
        self.resume_button.setVisible(bool(resumable) and not running)
        if not running and not keep_label:
            if resumable:
                n = len(resumable)
                self.label.setText(f"{n} transcription{'s' if n > 1 else ''} stopped before "
                                   "the end; what was done is kept.")
            else:
                self.label.setText("")
        self.setVisible(running or keep_label or bool(resumable))

    def cancel(self) -> None:
        job = self.runner.running_job()
        if job is not None:
            self.runner.cancel(job)
            self.label.setText("Cancelling…")
