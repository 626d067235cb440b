"""GUI test fixtures: a main window with isolated settings, captured error messages, and an
undo stack and change signals for testing one panel of a study on its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from gui.settings import Settings
from gui.study_signals import StudySignals
from study.folder import Study
from tests.gui.helpers import show


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
    show(qtbot, w)
    yield w
    w.close()


@pytest.fixture
def stack() -> QUndoStack:
    return QUndoStack()


@pytest.fixture
def signals(study: Study) -> Iterator[StudySignals]:
    """The study's change signal, as the main window relays it to its panels."""
    s = StudySignals(study.store)
    yield s
    s.detach()


class ExportWarnings:
    """The "not anonymised yet" question before an export, answered without a modal box."""

    def __init__(self) -> None:
        self.answer = True
        self.asked: list[str] = []

    def ask(self, _title: str, question: str) -> bool:
        self.asked.append(question)
        return self.answer


@pytest.fixture(autouse=True)
def export_warnings(monkeypatch: pytest.MonkeyPatch) -> ExportWarnings:
    warnings = ExportWarnings()
    monkeypatch.setattr("gui.export_warning.ask", warnings.ask)
    return warnings
