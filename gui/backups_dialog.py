"""Restoring a study from its rolling backups: the Help menu's "Restore from backup…"
dialog, and the offer made when a study will not open because its database is damaged.

Restoring closes the study, puts the backup in place (study.folder.restore_backup checks
it first and keeps the replaced database in backups/), reopens the study and says what
happened. Questions and notices go through this module's `ask` and `inform` hooks, which
the tests replace (as gui/interviews_view.py does with its `ask`); errors go through
gui.errors.show_error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import errors
from gui.format import plural
from gui.questions import Ask, Inform, ask_yes_no
from gui.questions import inform as inform_box
from study.errors import StudyError
from study.folder import (
    BACKUPS_KEPT,
    Study,
    StudyFolder,
    backup_time,
    backups,
    damage_of,
    restore_backup,
    study_path,
)
from study.store.checks import FileSummary, summarise_file

ask: Ask = ask_yes_no
inform: Inform = inform_box


class StudyHost(Protocol):
    """The main window, as far as restoring needs it."""

    study: Study | None

    def close_study(self) -> None: ...

    def open_study(self, path: Path) -> bool: ...


@dataclass(frozen=True, slots=True)
class BackupEntry:
    """One backup as the list shows it; `summary` is None when it cannot be read."""

    path: Path
    taken: dt.datetime | None
    size: int
    summary: FileSummary | None
    damage: str | None


def describe_time(when: dt.datetime | None) -> str:
    return when.strftime("%d %b %Y, %H:%M") if when is not None else "an unknown time"


def list_backups(folder: StudyFolder) -> list[BackupEntry]:
    """The study's rolling backups, newest first, read without changing them. Only the
    quick header and length checks run here; restoring checks every page."""
    entries = []
    for path in backups(folder):
        damage = damage_of(path, thorough=False)
        summary = None
        if damage is None:
            try:
                summary = summarise_file(path)
            except StudyError as e:
                damage = str(e)
        entries.append(BackupEntry(path, backup_time(path), path.stat().st_size, summary,
                                   damage))
    return entries


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def restore_and_reopen(host: StudyHost, folder: StudyFolder, backup: Path,
                       parent: QWidget | None) -> bool:
    """Close the study if it is open, restore `backup`, reopen the study and say what
    happened. A refused backup changes nothing: the study is reopened as it was."""
    was_open = host.study is not None and host.study.folder.root == folder.root
    if was_open:
        host.close_study()
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        replaced = restore_backup(folder, backup)
    except StudyError as e:
        QApplication.restoreOverrideCursor()
        errors.show_error(parent, "Could not restore the backup", str(e))
        if was_open:
            host.open_study(folder.root)
        return False
    QApplication.restoreOverrideCursor()
    if not host.open_study(folder.root):
        return False
    assert host.study is not None
    counts = host.study.store.table_counts()
    kept = (f" The database it replaced is kept as backups/{replaced.name}." if replaced
            else "")
    inform("Study restored",
           f"{host.study.name} was restored from the backup of "
           f"{describe_time(backup_time(backup))}: {plural(counts['interviews'], 'interview')}"
           f", {plural(counts['codings'], 'coding')}. Work done after that backup is not in "
           f"it.{kept}")
    return True


def offer_restore(host: StudyHost, path: Path) -> bool | None:
    """After a study failed to open: if its database is damaged (or missing) and it has
    a sound backup, offer to restore the newest. None when nothing was offered, or the
    researcher said no (the caller shows its error); otherwise whether the study is open."""
    folder = StudyFolder(study_path(path))
    kept = backups(folder)
    if not kept:
        return None
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # each check reads a file
    try:
        damage = damage_of(folder.database)
        sound = next((b for b in kept if damage_of(b) is None), None) if damage else None
    finally:
        QApplication.restoreOverrideCursor()
    if damage is None or sound is None:
        return None  # not damage (another app's database, a newer schema), or no backup
    if not ask("Study damaged",
               f"{folder.name} is damaged ({damage}). Restore the latest backup from "
               f"{describe_time(backup_time(sound))}?\n\nThe damaged file is kept in the "
               "study's backups folder; work done after that backup is not in it."):
        return None
    return restore_and_reopen(host, folder, sound, None)


def offer_restore_of_damage(host: StudyHost, study: Study) -> bool | None:
    """Before showing a study that opened although the check of its backup copy failed:
    say so, and offer the newest sound backup. None when the researcher goes on with the
    damaged study (or there is no sound backup); otherwise whether the restored study is
    open (`study` is closed then)."""
    if study.damage is None:
        return None
    folder = study.folder
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # each check reads a file
    try:
        sound = next((b for b in backups(folder) if damage_of(b) is None), None)
    finally:
        QApplication.restoreOverrideCursor()
    if sound is None:
        inform("Study damaged",
               f"{study.damage} There is no sound backup to restore. Export what you need "
               "now; `python main.py check` lists the problems.")
        return None
    if not ask("Study damaged",
               f"{study.damage} Restore the latest sound backup, from "
               f"{describe_time(backup_time(sound))}?\n\nThe damaged file is kept in the "
               "study's backups folder; work done after that backup is not in it. No opens "
               "the damaged study as it is."):
        return None
    study.close()
    return restore_and_reopen(host, folder, sound, None)


def choose_study_folder(parent: QWidget | None) -> Path | None:
    path = QFileDialog.getExistingDirectory(parent, "Restore which study (a .verbatim folder)?",
                                            str(Path.home()))
    return Path(path) if path else None


class BackupsDialog(QDialog):
    """The study's backups, newest first, with when each was taken, its size and what it
    holds; Restore puts the selected one in place."""

    COLUMNS = ("Taken", "Size", "Interviews", "Codings", "Note")

    def __init__(self, root: Path, host: StudyHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = StudyFolder(study_path(root))
        self.host = host
        self.setWindowTitle(f"Restore {self.folder.name} from a backup")
        self.entries = list_backups(self.folder)
        intro = QLabel(
            f"Verbatim backs up {self.folder.name} when it is opened (at most once an hour) "
            f"and keeps the last {BACKUPS_KEPT} backups. Restoring one keeps the study as it "
            "is now in the backups folder, so nothing is lost."
            if self.entries else f"{self.folder.name} has no backups yet: Verbatim makes one "
            "when the study is opened, at most once an hour.")
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.entries), len(self.COLUMNS))
        self.table.setObjectName("backupsTable")
        self.table.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            len(self.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        for row, entry in enumerate(self.entries):
            s = entry.summary
            cells = (describe_time(entry.taken), size_text(entry.size),
                     str(s.interviews) if s else "–", str(s.codings) if s else "–",
                     f"Damaged: {entry.damage}" if entry.damage
                     else "anonymised" if s and s.anonymised else "")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column in (1, 2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.restore_button = QPushButton("&Restore")
        self.restore_button.setObjectName("restoreButton")
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.restore_button.clicked.connect(self.restore_selected)
        self.table.itemSelectionChanged.connect(self._update_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 360)
        if self.entries:
            self.table.selectRow(0)
        self._update_button()

    def selected(self) -> BackupEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def _update_button(self) -> None:
        entry = self.selected()
        self.restore_button.setEnabled(entry is not None and entry.damage is None)

    def restore_selected(self) -> bool:
        entry = self.selected()
        if entry is None or entry.damage is not None:
            return False
        question = (f"Restore {self.folder.name} to the backup from "
                    f"{describe_time(entry.taken)}? Work done since then will not be in the "
                    "study; the study as it is now is kept in the backups folder.")
        study = self.host.study
        if (study is not None and study.folder.root == self.folder.root
                and study.store.is_anonymised() and entry.summary is not None
                and not entry.summary.anonymised):
            question += ("\n\nThis backup was taken before the study was anonymised: it "
                         "holds the real names and details, and restoring it brings them "
                         "back into the study.")
        if not ask("Restore from backup", question):
            return False
        if not restore_and_reopen(self.host, self.folder, entry.path, self):
            return False
        self.accept()
        return True
