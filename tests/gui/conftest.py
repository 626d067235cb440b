"""GUI test helpers: a main window with isolated settings, and captured error messages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from gui.settings import Settings


@pytest.fixture
def errors(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Messages the app would show in a modal box, captured instead of blocking."""
    shown: list[tuple[str, str]] = []

    def capture(_parent: object, title: str, message: str) -> None:
        shown.append((title, message))

    for module in ("gui.main_window", "gui.errors"):
        monkeypatch.setattr(f"{module}.show_error", capture)
    return shown


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, errors: list[tuple[str, str]]) -> Iterator[MainWindow]:
    w = MainWindow(Settings(tmp_path / "settings.ini"))
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)  # shortcuts only reach the active window
    yield w
    w.close()
