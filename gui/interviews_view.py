"""The interviews page: the list with status on the left, the selected interview's
transcript (speaker, time, text) on the right."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.format import clock, plural
from gui.interviews_model import INTERVIEW_ID_ROLE, InterviewsModel
from gui.job_runner import JobRunner
from gui.questions import ask_yes_no
from gui.settings import Settings
from gui.transcript_editor import TranscriptEditor
from gui.transcription_panel import TranscriptionPanel
from study.errors import StudyError
from study.folder import Study, open_study
from study.model import JobState

Ask = Callable[[str, str], bool]


class InterviewsView(QWidget):
    message = Signal(str)
    error = Signal(str, str)  # title, message
    imported = Signal(int)  # an interview made by a background import

    def __init__(self, study: Study, runner: JobRunner, settings: Settings, stack: QUndoStack,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study, self.store = study, study.store
        self.runner, self.settings = runner, settings
        self.ask: Ask = ask_yes_no
        store = self.store
        self.model = InterviewsModel(store, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.list = QTableView()
        self.list.setObjectName("interviewsTable")
        self.list.setModel(self.proxy)
        self.list.setSortingEnabled(True)
        self.list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.verticalHeader().hide()
        # Sized to the contents on reload only: sizing on every change re-reads every row.
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.model.modelReset.connect(self.list.resizeColumnsToContents)
        self.list.resizeColumnsToContents()

        self.editor = TranscriptEditor(study, stack, settings)
        self.editor.message.connect(self.message)
        self.transcript = self.editor.model
        self.header = QLabel("Select an interview to read its transcript.")
        self.header.setObjectName("transcriptHeader")
        self.header.setWordWrap(True)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.editor, 1)
        self.import_action = make_action(self, "&Import audio…", self.import_audio_dialog,
                                         "Ctrl+I")
        self.import_transcript_action = make_action(
            self, "Import trans&cript…", self.import_transcript_dialog, "Ctrl+Shift+I")
        self.transcribe_action = make_action(self, "&Transcribe", self.transcribe_selected,
                                             "Ctrl+T")
        self.cancel_action = make_action(self, "&Cancel transcription", self.cancel_running,
                                         "Ctrl+Shift+Esc")
        toolbar = QToolBar()
        toolbar.addActions([self.import_action, self.import_transcript_action,
                            self.transcribe_action])
        self.panel = TranscriptionPanel(store, runner)
        self.panel.resume_requested.connect(self.resume_stopped)
        self.panel.speed_measured.connect(settings.set_measured_speed)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(toolbar)
        left_layout.addWidget(self.list)
        left_layout.addWidget(self.panel)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([460, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        runner.study_changed.connect(self.model.on_changed)
        runner.study_changed.connect(self.transcript.on_changed)
        runner.queue_changed.connect(self._update_actions)
        self.list.selectionModel().selectionChanged.connect(self._update_actions)
        self.list.selectionModel().currentRowChanged.connect(lambda current, _prev:
                                                              self._show_row(current.row()))
        self.model.modelReset.connect(self._reselect)
        self.model.dataChanged.connect(lambda *_: self._show_header())
        self._update_actions()


    def _update_actions(self) -> None:
        self.transcribe_action.setEnabled(bool(self.selected_ids()))
        self.cancel_action.setEnabled(self.runner.running_job() is not None)

    def selected_ids(self) -> list[int]:
        return [self.proxy.index(i.row(), 0).data(INTERVIEW_ID_ROLE)
                for i in self.list.selectionModel().selectedRows()]

    # --- audio and transcription -------------------------------------------------------------

    def import_audio_dialog(self) -> None:
        from transcription.audio import AUDIO_SUFFIXES

        patterns = " ".join(f"*{s}" for s in sorted(AUDIO_SUFFIXES))
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Import interview audio", str(Path.home()),
            f"Audio and video ({patterns});;All files (*)")
        for path in paths:
            self.import_audio_in_background(Path(path))

    def import_audio_in_background(self, path: Path) -> None:
        """Copy and hash a (possibly hour-long) file without freezing the window."""
        from transcription.audio import import_audio

        root = self.study.folder.root

        def work() -> tuple[int, int]:
            with open_study(root, backup=False, recover_jobs=False) as study:
                interview_id, media = import_audio(study, path)
                return interview_id, media.duration_ms

        def done(result: tuple[int, int]) -> None:
            interview_id, duration_ms = result
            self.model.reload()
            self.select(interview_id)
            self.message.emit(f"Imported {path.name} ({clock(duration_ms)}).")
            self.imported.emit(interview_id)

        def failed(error: Exception) -> None:
            if not isinstance(error, StudyError):
                raise error
            self.error.emit("Could not import the audio", str(error))

        self.message.emit(f"Importing {path.name}…")
        self.runner.run_in_thread(work, done, failed)

    def import_audio(self, path: Path) -> int | None:
        """Copy an audio file into the study as a new interview; None if refused."""
        from transcription.audio import import_audio

        try:
            interview_id, media = import_audio(self.study, path)
        except StudyError as e:
            self.error.emit("Could not import the audio", str(e))
            return None
        self.select(interview_id)
        self.message.emit(f"Imported {path.name} ({clock(media.duration_ms)}).")
        return interview_id

    def import_transcript_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import a transcript", str(Path.home()),
            "Transcripts (*.txt *.docx *.srt *.vtt);;All files (*)")
        if path:
            self.import_transcript(Path(path))

    def import_transcript(self, path: Path) -> int | None:
        """Read a transcript into the selected interview if it has none yet (e.g. one with
        audio only), else into a new interview. None if the file was refused."""
        from transcription.transcript_import import import_transcript

        selected = self.selected_ids()
        target = selected[0] if len(selected) == 1 and not self.store.segment_count(
            selected[0]) else None
        try:
            interview_id, count = import_transcript(self.study, path, interview_id=target)
        except StudyError as e:
            self.error.emit("Could not import the transcript", str(e))
            return None
        self.select(interview_id)
        self.editor.load(interview_id)
        self.message.emit(f"Imported {count} segments from {path.name}.")
        return interview_id

    def transcribe_selected(self) -> list[int]:
        return self.transcribe(self.selected_ids())

    def transcribe(self, interview_ids: list[int]) -> list[int]:
        """Queue these interviews; returns the job ids queued."""
        from transcription.job import create_job

        options = self.settings.transcription_options()
        queued: list[int] = []
        for interview_id in interview_ids:
            title = self.store.interview(interview_id).title
            try:
                try:
                    job_id = create_job(self.study, interview_id, options)
                except StudyError as e:
                    if "already has a transcript" not in str(e):
                        raise
                    if not self.ask("Transcribe again?",
                                    f"{title} already has a transcript. Transcribing again "
                                    "replaces it, and the codings on it are lost. Go ahead?"):
                        continue
                    job_id = create_job(self.study, interview_id, options, replace=True)
            except StudyError as e:
                self.error.emit("Could not transcribe", str(e))
                continue
            self.runner.enqueue(job_id, interview_id)
            queued.append(job_id)
        return queued

    def resume_stopped(self) -> None:
        for job in self.store.jobs(JobState.INTERRUPTED, JobState.CANCELLED):
            if job.id is not None and job.interview_id is not None:
                self.runner.enqueue(job.id, job.interview_id)

    def cancel_running(self) -> None:
        self.panel.cancel()

    def _show_row(self, proxy_row: int) -> None:
        if proxy_row < 0:
            self.open_interview(None)
            return
        interview_id = self.proxy.index(proxy_row, 0).data(INTERVIEW_ID_ROLE)
        self.open_interview(interview_id)

    def _reselect(self) -> None:
        if self.transcript.interview_id is not None:
            self.select(self.transcript.interview_id)

    def select(self, interview_id: int) -> None:
        row = self.model.row_of(interview_id)
        if row < 0:
            self.open_interview(None)
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.list.selectRow(index.row())
        self.list.setCurrentIndex(index)
        self.open_interview(interview_id)

    def open_interview(self, interview_id: int | None) -> None:
        """Show one interview's transcript (or none)."""
        if interview_id == self.transcript.interview_id and interview_id is not None:
            return
        self.editor.load(interview_id)
        self._show_header()

    def _show_header(self) -> None:
        """The open interview's title, status, length and size; kept current as its row
        changes (a transcription fills it window by window)."""
        interview_id = self.transcript.interview_id
        row = self.model.row_of(interview_id) if interview_id is not None else -1
        if row < 0:
            self.header.setText("Select an interview to read its transcript.")
            return
        summary = self.model.summary(row)
        i = summary.interview
        parts = [f"<b>{html.escape(i.title)}</b>", f"Status: {i.status.value}"]
        if i.duration_ms:
            parts.append(f"Length {clock(i.duration_ms)}")
        parts.append("audio attached" if summary.media_filename else "no audio")
        parts.append(f"{plural(summary.segment_count, 'segment')}, "
                     f"{plural(summary.word_count, 'word')}")
        self.header.setText(" · ".join(parts))
