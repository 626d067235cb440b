"""The app's Yes/No questions and notices, in one place. Views keep them as attributes or
module hooks (`self.ask`, `backups_dialog.ask`) so tests can answer without a modal box."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox

Ask = Callable[[str, str], bool]
Inform = Callable[[str, str], None]


def ask_yes_no(title: str, question: str) -> bool:
    """Yes or No, No the default: every question here guards something hard to take back
    (a delete, a restore, an export holding real names)."""
    answer = QMessageBox.question(None, title, question,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def inform(title: str, text: str) -> None:
    QMessageBox.information(None, title, text)
