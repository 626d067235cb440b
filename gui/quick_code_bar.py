"""Code by typing: a bar under the transcript where the researcher types part of a
code's name, picks it with the arrow keys and presses Enter. A name no code has
offers to create that code and apply it in the same step."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QWidget

from gui.code_tree import ordered, swatch
from study.model import Code

NEW = -1


def matches(codes: Sequence[Code], typed: str) -> list[Code]:
    """Codes whose name contains what was typed; names starting with it first."""
    needle = typed.strip().casefold()
    found = [c for c, _ in ordered(codes) if needle in c.name.casefold()]
    return sorted(found, key=lambda c: not c.name.casefold().startswith(needle))


class QuickCodeBar(QWidget):
    chosen = Signal(int)  # an existing code's id
    create = Signal(str)  # a new code's name
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.codes: list[Code] = []
        self.edit = QLineEdit()
        self.edit.setObjectName("quickCode")
        self.edit.setPlaceholderText("Type a code's name, Enter to apply, Esc to close")
        self.edit.textChanged.connect(self._refill)
        self.edit.installEventFilter(self)
        self.list = QListWidget()
        self.list.setObjectName("quickCodeMatches")
        self.list.setMaximumHeight(110)
        self.list.itemActivated.connect(self._choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Code as:"))
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.list, 2)
        self.hide()

    def start(self, codes: Sequence[Code], typed: str = "") -> None:
        self.codes = list(codes)
        self.show()
        self.edit.setText(typed)
        self._refill(typed)
        self.edit.setFocus()

    def _refill(self, typed: str) -> None:
        self.list.clear()
        for code in matches(self.codes, typed):
            item = QListWidgetItem(swatch(code.colour), code.name)
            item.setData(Qt.ItemDataRole.UserRole, code.id)
            self.list.addItem(item)
        name = typed.strip()
        if name and not any(c.name.casefold() == name.casefold() for c in self.codes):
            item = QListWidgetItem(f"Create code “{name}”")
            item.setData(Qt.ItemDataRole.UserRole, NEW)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def _choose(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        code_id = int(item.data(Qt.ItemDataRole.UserRole))
        name = self.edit.text().strip()
        self.finish()
        if code_id == NEW:
            self.create.emit(name)
        else:
            self.chosen.emit(code_id)

    def finish(self) -> None:
        self.hide()
        self.edit.clear()
        self.closed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.edit and isinstance(event, QKeyEvent) and \
                event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
                self.list.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._choose(self.list.currentItem())
                return True
            if key == Qt.Key.Key_Escape:
                self.finish()
                return True
        return super().eventFilter(watched, event)
