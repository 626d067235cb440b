"""Turns the store's change callbacks into a Qt signal, so views refresh only what
changed, whoever changed it (an undo command, an import, a dialog)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from study.model import Changes
from study.store import Store


class StudySignals(QObject):
    changed = Signal(object)  # Changes

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = store.subscribe(self._emit)

    def _emit(self, changes: Changes) -> None:
        self.changed.emit(changes)

    def detach(self) -> None:
        self._unsubscribe()
