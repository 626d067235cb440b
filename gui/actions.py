"""Every command is an action with a menu entry and a shortcut; one way to make one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

Shortcut = str | QKeySequence.StandardKey | None


def make_action(owner: QWidget, text: str, slot: Callable[[], object],
                shortcut: Shortcut = None) -> QAction:
    """An action owned by (and whose shortcut works within the window of) `owner`."""
    action = QAction(text, owner)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    owner.addAction(action)
    return action
