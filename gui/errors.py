"""Two kinds of failure, shown differently: known errors of the environment or input
(a plain message, the study untouched) and bugs (a crash dialog with the traceback)."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from study.errors import StudyError
from study.store.checks import damage_message


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    QMessageBox.warning(parent, title, message)


class CrashDialog(QDialog):
    """Shown for a bug: what happened, that the study is safe, and the traceback to send."""

    def __init__(self, details: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Verbatim hit a bug")
        self.details = details
        intro = QLabel(
            "Something went wrong inside Verbatim. Your study was saved up to your last "
            "completed edit; the action that failed was not applied.\n\n"
            "Please send the details below to the developers. They contain no transcript "
            "text, but check them before sharing."
        )
        intro.setWordWrap(True)
        text = QPlainTextEdit(details)
        text.setReadOnly(True)
        text.setObjectName("crashDetails")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = QPushButton("Copy details")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.details))
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.resize(640, 420)


def bug_report(exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None) -> str:
    """The traceback with code locations only: no local values, so no interview text."""
    from study import __version__

    lines = traceback.format_exception(exc_type, exc, tb)
    return f"Verbatim {__version__}, Python {sys.version.split()[0]}\n\n" + "".join(lines)


def handle_exception(exc_type: type[BaseException], exc: BaseException,
                     tb: TracebackType | None) -> None:
    """sys.excepthook for the GUI: known errors get a message, bugs the crash dialog."""
    if issubclass(exc_type, KeyboardInterrupt):
        QApplication.quit()
        return
    parent = QApplication.activeWindow()
    if isinstance(exc, StudyError):
        show_error(parent, "Verbatim", str(exc))
        return
    if isinstance(exc, OSError):
        show_error(parent, "Verbatim", f"The system reported a problem: {exc}.")
        return
    damage = damage_message(exc)
    if damage is not None:  # SQLite found the file damaged, or the disk full: not a bug
        show_error(parent, "Verbatim", damage)
        return
    report = bug_report(exc_type, exc, tb)
    sys.stderr.write(report)
    CrashDialog(report, parent).exec()


def install_exception_hook() -> None:
    sys.excepthook = handle_exception
