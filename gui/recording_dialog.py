"""Record an interview in the app, and recover recordings a crash left unfinished.

The dialog records into the study's recordings/ folder (crash-safe, see
transcription.wav_writer). On Stop the file is imported like any audio file (copied into
media/ by SHA-256, a new interview) and only then deleted; if the import fails the file
stays, and `offer_recovery` offers it again the next time the study opens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtMultimedia import QAudioDevice
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui import errors as gui_errors
from gui.format import clock
from gui.recorder import NO_MICROPHONE, Recorder
from study.errors import StudyError
from study.folder import Study
from transcription.audio import import_audio
from transcription.wav_writer import (
    HEADER_BYTES,
    RecordingError,
    discard,
    new_recording_path,
    read_sidecar,
    repair_wav,
    unfinished_recordings,
)

RECORD_KEY = "Ctrl+R"
PAUSE_KEY = "Ctrl+P"
STOP_KEY = "Ctrl+S"

Ask = Callable[[str, str], bool]


def _default_title(at: dt.datetime) -> str:
    return f"Recording {at:%Y-%m-%d %H:%M}"


def _when(at: dt.datetime) -> str:
    """4 March 2025 at 14:05 (no platform-specific strftime flags)."""
    return f"{at.day} {at:%B %Y} at {at:%H:%M}"


def question_box(parent: QWidget | None) -> Ask:
    """An `ask` that shows a Yes/No message box (Yes is the default)."""

    def ask(title: str, text: str) -> bool:
        answer = QMessageBox.question(
            parent, title, text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    return ask


class RecordingDialog(QDialog):
    """Input choice, title, participant, level meter, elapsed time, Record/Pause/Stop."""

    recorded = Signal(int)  # the new interview's id

    def __init__(self, study: Study, parent: QWidget | None = None, *,
                 recorder: Recorder | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record interview")
        self.study = study
        self.interview_id: int | None = None
        self.recorder = recorder or Recorder(self)
        # Asked when the dialog is closed mid-recording; True stops and keeps the recording.
        self.confirm_stop: Callable[[], bool] = self._confirm_stop
        self._devices: list[QAudioDevice] = []
        self._started_at = dt.datetime.now()
        self._shown_elapsed = ""
        self._shown_level = -1

        self.device_combo = QComboBox()
        self.device_combo.setObjectName("deviceCombo")
        self.title_edit = QLineEdit()
        self.title_edit.setObjectName("titleEdit")
        self.title_edit.setPlaceholderText("e.g. Interview with MHCC-3 (a default is used if "
                                           "left empty)")
        self.participant_combo = QComboBox()
        self.participant_combo.setObjectName("participantCombo")
        self.participant_combo.addItem("(none)", None)
        for p in study.store.participants():
            label = f"{p.code} ({p.group})" if p.group else p.code
            self.participant_combo.addItem(label, p.id)

        self.meter = QProgressBar()
        self.meter.setObjectName("levelMeter")
        self.meter.setRange(0, 100)
        self.meter.setValue(0)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Input level")
        self.elapsed_label = QLabel("00:00")
        self.elapsed_label.setObjectName("elapsedLabel")
        font = self.elapsed_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.elapsed_label.setFont(font)
        self.status_label = QLabel()
        self.status_label.setObjectName("statusLabel")
        self.status_label.setWordWrap(True)
        self.disk_label = QLabel()
        self.disk_label.setObjectName("diskLabel")
        self.disk_label.setWordWrap(True)
        self.disk_label.hide()

        self.record_button = QPushButton("&Record")
        self.record_button.setObjectName("recordButton")
        self.pause_button = QPushButton("&Pause")
        self.pause_button.setObjectName("pauseButton")
        self.stop_button = QPushButton("&Stop and save")
        self.stop_button.setObjectName("stopButton")
        for button, key in ((self.record_button, RECORD_KEY), (self.pause_button, PAUSE_KEY),
                            (self.stop_button, STOP_KEY)):
            button.setShortcut(QKeySequence(key))
            button.setToolTip(f"{button.text().replace('&', '')} ({key})")
            button.setAutoDefault(False)
        self.record_button.clicked.connect(self.start_recording)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_recording)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("&Microphone:", self.device_combo)
        form.addRow("&Title:", self.title_edit)
        form.addRow("P&articipant:", self.participant_combo)
        form.addRow("Level:", self.meter)
        form.addRow("Elapsed:", self.elapsed_label)
        buttons = QHBoxLayout()
        for b in (self.record_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(self.disk_label)
        layout.addLayout(buttons)
        layout.addWidget(close)

        self.recorder.level.connect(self._show_level)
        self.recorder.elapsed.connect(self._show_elapsed)
        self.recorder.error.connect(self._show_error)
        self.recorder.low_disk.connect(self._show_low_disk)
        self.recorder.stopped.connect(self._recording_stopped)
        self.recorder.inputs_changed.connect(self.refresh_devices)
        self.refresh_devices()
        self._update_buttons()

    # --- devices ---------------------------------------------------------------------------

    @Slot()
    def refresh_devices(self) -> None:
        if self.recorder.recording:
            return
        current = self.device_combo.currentData()
        self._devices = self.recorder.inputs()
        default = self.recorder.default_input()
        self.device_combo.clear()
        for n, device in enumerate(self._devices):
            self.device_combo.addItem(device.description(), device.id().data())
            if (current is None and default is not None and device.id() == default.id()) or (
                    current is not None and device.id().data() == current):
                self.device_combo.setCurrentIndex(n)
        if not self._devices:
            self.status_label.setText(NO_MICROPHONE)
        elif self.status_label.text() == NO_MICROPHONE:
            self.status_label.clear()
        self._update_buttons()

    # --- recording -------------------------------------------------------------------------

    @property
    def title(self) -> str:
        return self.title_edit.text().strip() or _default_title(self._started_at)

    @property
    def participant_id(self) -> int | None:
        value = self.participant_combo.currentData()
        return int(value) if value is not None else None

    @Slot()
    def start_recording(self) -> None:
        if self.recorder.recording or not self._devices:
            return
        device = self._devices[max(self.device_combo.currentIndex(), 0)]
        self._started_at = dt.datetime.now()
        self.status_label.clear()
        self.disk_label.hide()
        try:
            path = new_recording_path(self.study.folder, self._started_at)
        except OSError as e:
            self._show_error(f"Could not create the recordings folder: {e.strerror or e}.")
            return
        self.recorder.start(device, path, title=self.title, participant_id=self.participant_id)
        if self.recorder.recording and self.recorder.format_note:
            self.status_label.setText(self.recorder.format_note)
        self._update_buttons()

    @Slot()
    def toggle_pause(self) -> None:
        if not self.recorder.recording:
            return
        if self.recorder.paused:
            self.recorder.resume()
        else:
            self.recorder.pause()
        self._update_buttons()

    @Slot()
    def stop_recording(self) -> None:
        self.recorder.stop()  # -> stopped -> _recording_stopped
        self._update_buttons()

    @Slot(object)
    def _recording_stopped(self, path: Path) -> None:
        self._update_buttons()
        if not path.exists() or path.stat().st_size <= HEADER_BYTES:
            discard(path)
            self.status_label.setText("Nothing was recorded.")
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            interview_id, _media = import_audio(self.study, path, title=self.title,
                                                participant_id=self.participant_id)
        except StudyError as e:
            message = (f"{e} The recording is kept in {path.parent} and will be offered "
                       "again the next time this study is opened.")
            self.status_label.setText(message)
            gui_errors.show_error(self, "Recording not saved", message)
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        discard(path)
        self.interview_id = interview_id
        self.status_label.setText(f"Saved as the interview \u201c{self.title}\u201d.")
        self.recorded.emit(interview_id)
        self.accept()

    # --- display ---------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        recording = self.recorder.recording
        self.record_button.setEnabled(not recording and bool(self._devices))
        self.pause_button.setEnabled(recording)
        self.pause_button.setText("&Resume" if self.recorder.paused else "&Pause")
        self.pause_button.setShortcut(QKeySequence(PAUSE_KEY))
        self.stop_button.setEnabled(recording)
        self.device_combo.setEnabled(not recording and bool(self._devices))

    @Slot(float)
    def _show_level(self, level: float) -> None:
        value = round(min(max(level, 0.0), 1.0) * 100)
        if value != self._shown_level:  # each update of a widget has a cost: only changes
            self._shown_level = value
            self.meter.setValue(value)

    @Slot(int)
    def _show_elapsed(self, ms: int) -> None:
        text = clock(ms)
        if text != self._shown_elapsed:
            self._shown_elapsed = text
            self.elapsed_label.setText(text)

    @Slot(str)
    def _show_error(self, message: str) -> None:
        self.status_label.setText(message)

    @Slot(str)
    def _show_low_disk(self, message: str) -> None:
        self.disk_label.setText(f"\u26a0 {message}")
        self.disk_label.show()

    # --- closing ---------------------------------------------------------------------------

    def _confirm_stop(self) -> bool:
        return question_box(self)(
            "Recording in progress",
            "A recording is running. Stop it and keep it as an interview?")

    def reject(self) -> None:
        """Esc, Close and the window's close button: a running recording is stopped and
        kept if the researcher agrees, otherwise the dialog stays open and recording."""
        if self.recorder.recording:
            if self.confirm_stop():
                self.stop_recording()  # imports and accepts
                if self.recorder.recording:
                    return
                if self.isVisible() and self.result() != QDialog.DialogCode.Accepted:
                    super().reject()
            return
        super().reject()


def offer_recovery(study: Study, parent: QWidget | None = None,
                   ask: Ask | None = None) -> list[int]:
    """Offer each unfinished recording of the study as an interview; returns the new
    interview ids. Call when a study opens. `ask(title, question) -> bool` defaults to a
    Yes/No message box over `parent`.

    Each recording is repaired first (the sizes set from the real length). Leftovers are
    deleted only after a successful import or an explicit no; a recording that cannot be
    imported now stays and is offered again next time. Empty recordings are dropped.
    """
    ask = ask or question_box(parent)
    participants = {p.id for p in study.store.participants()}
    new_ids: list[int] = []
    for path in unfinished_recordings(study.folder):
        try:
            ms = repair_wav(path)
        except RecordingError:
            continue  # damaged beyond repair: left in place, never deleted unasked
        if ms <= 0:
            discard(path)
            continue
        info = read_sidecar(path)
        started = (info.started if info is not None
                   else dt.datetime.fromtimestamp(path.stat().st_mtime))
        if not ask("Unfinished recording",
                   f"A recording from {_when(started)} ({clock(ms)}) was not finished. "
                   "Keep it as an interview?"):
            discard(path)
            continue
        participant = info.participant_id if info is not None else None
        try:
            interview_id, _media = import_audio(
                study, path, title=(info.title if info and info.title else
                                    _default_title(started)),
                participant_id=participant if participant in participants else None)
        except StudyError as e:
            gui_errors.show_error(parent, "Recording not recovered",
                                  f"{e} It is kept in {path.parent} and will be offered "
                                  "again the next time this study is opened.")
            continue
        discard(path)
        new_ids.append(interview_id)
    return new_ids
