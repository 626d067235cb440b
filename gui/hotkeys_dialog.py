"""Configure the transcript editor's hotkeys and the rewind on resume."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QKeySequenceEdit,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.settings import Settings
from gui.transcript_editor import HOTKEYS


class HotkeysDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Transcription hotkeys")
        self.settings = settings
        self.edits: dict[str, QKeySequenceEdit] = {}
        form = QFormLayout()
        for hotkey in HOTKEYS:
            edit = QKeySequenceEdit(QKeySequence(settings.hotkey(hotkey.name, hotkey.default)))
            edit.setObjectName(f"hotkey:{hotkey.name}")
            edit.setMaximumSequenceLength(1)
            edit.setClearButtonEnabled(True)
            self.edits[hotkey.name] = edit
            form.addRow(hotkey.label, edit)
        self.rewind = QSpinBox()
        self.rewind.setObjectName("rewind")
        self.rewind.setRange(0, 5000)
        self.rewind.setSingleStep(250)
        self.rewind.setSuffix(" ms")
        self.rewind.setValue(settings.rewind_ms())
        form.addRow("Rewind when resuming", self.rewind)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def restore_defaults(self) -> None:
        for hotkey in HOTKEYS:
            self.edits[hotkey.name].setKeySequence(QKeySequence(hotkey.default))
        self.rewind.setValue(1500)

    def accept(self) -> None:
        chosen = {name: e.keySequence().toString() for name, e in self.edits.items()}
        used = [k for k in chosen.values() if k]
        clashes = sorted({k for k in used if used.count(k) > 1})
        if clashes:
            self.error.setText(f"{', '.join(clashes)} is used twice; give each action its own "
                               "keys.")
            self.error.show()
            return
        for name, keys in chosen.items():
            self.settings.set_hotkey(name, keys)
        self.settings.set_rewind_ms(self.rewind.value())
        super().accept()
