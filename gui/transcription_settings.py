"""Transcription settings: which Whisper model, how carefully, how many CPU threads.

Each model is shown with its language, size, the speed measured on this computer (from
the last transcription with it) and an honest word on its quality.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.settings import Settings
from transcription.models import ModelError, ModelInfo, available_models, describe_folder
from transcription.options import Quality, default_threads

COLUMNS = ("Model", "Language", "Size", "Speed here", "Quality")


def size_text(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size else "—"


class TranscriptionSettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transcription settings")
        self.settings = settings
        self.options = settings.transcription_options()
        self.folders = settings.model_folders()
        self.models: list[ModelInfo] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("modelsTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        add_folder = QPushButton("Add a model folder…")
        add_folder.clicked.connect(self.add_folder_dialog)
        note = QLabel("Models run on this computer only; audio is never sent anywhere. tiny.en "
                      "and base make a draft to correct, not a finished transcript.")
        note.setWordWrap(True)
        self.quality = QComboBox()
        self.quality.setObjectName("quality")
        self.quality.addItem("Accurate (beam search)", Quality.ACCURATE)
        self.quality.addItem("Fast (greedy)", Quality.FAST)
        self.quality.setCurrentIndex(self.quality.findData(self.options.quality))
        self.threads = QSpinBox()
        self.threads.setObjectName("threads")
        self.threads.setRange(1, max(64, default_threads()))
        self.threads.setValue(self.options.threads)
        self.split = QCheckBox("Stereo recordings have one speaker per channel")
        self.split.setObjectName("splitStereo")
        self.split.setChecked(self.options.split_stereo)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Decoding", self.quality)
        form.addRow("CPU threads", self.threads)
        form.addRow("", self.split)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.table)
        layout.addWidget(add_folder, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.error)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(860, 420)
        self.reload()

    def reload(self) -> None:
        self.models = available_models(self.folders)
        self.table.setRowCount(len(self.models))
        for row, m in enumerate(self.models):
            measured = self.settings.measured_speed(m.key)
            speed = (f"{measured:.1f}× real time" if measured
                     else f"not measured (≈{1 / m.relative_speed:.1f}× tiny.en)")
            quality = m.quality if m.available else f"Unavailable: {m.problem}"
            for column, text in enumerate((m.name, m.language, size_text(m.size_bytes),
                                           speed, quality)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if not m.available:
                    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(row, column, item)
            if m.key == self.options.model:
                self.table.selectRow(row)
        self.table.resizeRowsToContents()

    def add_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A CTranslate2 Whisper model folder")
        if path:
            self.add_folder(Path(path))

    def add_folder(self, path: Path) -> bool:
        try:
            info = describe_folder(path)
        except ModelError as e:
            self.error.setText(str(e))
            self.error.show()
            return False
        self.error.hide()
        if path not in self.folders:
            self.folders.append(path)
        self.options = dataclasses.replace(self.options, model=info.key)
        self.reload()
        return True

    def chosen_model(self) -> ModelInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()] if rows else None

    def accept(self) -> None:
        model = self.chosen_model()
        if model is None or not model.available:
            self.error.setText("Choose an installed model.")
            self.error.show()
            return
        self.settings.set_model_folders(self.folders)
        self.settings.set_transcription_options(dataclasses.replace(
            self.options, model=model.key, quality=Quality(self.quality.currentData()),
            threads=self.threads.value(), split_stereo=self.split.isChecked()))
        super().accept()
