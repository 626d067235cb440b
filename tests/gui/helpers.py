"""Helpers for GUI tests that drive widgets with the keyboard."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot


def show(qtbot: QtBot, widget: QWidget) -> None:
    """Show `widget` as the active window (shortcuts only reach the active window)."""
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)


def focus(qtbot: QtBot, widget: QWidget) -> None:
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
