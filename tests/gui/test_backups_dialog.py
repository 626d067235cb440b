"""Help › Restore from backup…, and the offer to restore when a damaged study is opened:
the list of backups, a restore that closes, replaces and reopens the study and says what
happened, a refused backup that changes nothing, and the answer "no" that touches nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from analysis.anonymise.apply import apply_anonymisation
from gui.backups_dialog import BackupsDialog, describe_time
from gui.main_window import MainWindow
from study.folder import StudyFolder, backup_time, backups, create_study, rolling_backup
from study.model import Candidate, Interview, Participant, Segment


class Hooks:
    """Stand-ins for the dialog module's questions and notices."""

    def __init__(self) -> None:
        self.answer = True
        self.asked: list[str] = []
        self.told: list[str] = []

    def ask(self, _title: str, question: str) -> bool:
        self.asked.append(question)
        return self.answer

    def inform(self, _title: str, message: str) -> None:
        self.told.append(message)


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Hooks:
    h = Hooks()
    monkeypatch.setattr("gui.backups_dialog.ask", h.ask)
    monkeypatch.setattr("gui.backups_dialog.inform", h.inform)
    return h


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A closed study with two backups (two hours and ten minutes old, so opening it
    makes no other): the newer holds P1 and P2 with one interview; P3 came after it."""
    now = dt.datetime.now()
    with create_study(tmp_path / "Kept", name="Kept") as s:
        s.store.add_participant(Participant("P1"))
        assert rolling_backup(s.store, s.folder, at=now - dt.timedelta(hours=2))
        s.store.add_participant(Participant("P2"))
        iid = s.store.add_interview(Interview("First")).new_id("interview")
        s.store.add_segments([Segment(iid, 0, 0, 1000, "Sarah said hello.")])
        assert rolling_backup(s.store, s.folder, at=now - dt.timedelta(minutes=10))
        s.store.add_participant(Participant("P3"))
        return s.folder.root


def taken(root: Path, newest: int = 0) -> str:
    """When a backup was taken, as the dialog and the offer show it."""
    return describe_time(backup_time(backups(StudyFolder(root))[newest]))


def codes(window: MainWindow) -> list[str]:
    assert window.study is not None
    return [p.code for p in window.study.store.participants()]


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def dialog(qtbot: QtBot, window: MainWindow, root: Path) -> Iterator[BackupsDialog]:
    assert window.open_study(root)
    window.restore_action.trigger()
    found = window.findChild(BackupsDialog)
    assert found is not None and found.isVisible()
    yield found


def test_the_help_menu_offers_restore(window: MainWindow) -> None:
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert window.restore_action in help_menu.actions()
    assert window.restore_action.text() == "Restore from &backup…"


def test_the_dialog_lists_backups_newest_first(dialog: BackupsDialog, root: Path) -> None:
    table = dialog.table
    assert table.rowCount() == 2
    rows = [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]
    newest, oldest = rows
    assert (newest[0], oldest[0]) == (taken(root), taken(root, 1))
    assert newest[1].endswith("KB") and newest[2:4] == ["1", "0"]
    assert oldest[2:4] == ["0", "0"]
    assert dialog.selected() is dialog.entries[0] and dialog.restore_button.isEnabled()


def test_the_dialog_restores_closes_and_reopens(qtbot: QtBot, window: MainWindow,
                                                dialog: BackupsDialog, hooks: Hooks) -> None:
    before = window.study
    assert codes(window) == ["P1", "P2", "P3"]
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert "Restore Kept to the backup from" in hooks.asked[0]
    assert window.study is not None and window.study is not before
    assert codes(window) == ["P1", "P2"]
    (told,) = hooks.told
    assert "Kept was restored from the backup of" in told
    assert ": 1 interview, 0 codings. Work done after that backup" in told
    replaced = told.split("backups/")[1].rstrip(".")
    assert (window.study.folder.backups / replaced).exists()
    qtbot.waitUntil(lambda: window.findChild(BackupsDialog) is None)


def test_saying_no_in_the_dialog_changes_nothing(qtbot: QtBot, window: MainWindow,
                                                 dialog: BackupsDialog, hooks: Hooks) -> None:
    hooks.answer = False
    study = window.study
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert hooks.asked and hooks.told == []
    assert window.study is study and codes(window) == ["P1", "P2", "P3"]
    assert dialog.isVisible()


def test_a_damaged_backup_is_refused_and_the_study_reopened_as_it_was(
        qtbot: QtBot, window: MainWindow, root: Path, hooks: Hooks,
        errors: list[tuple[str, str]]) -> None:
    newest = StudyFolder(root).backups / sorted(
        p.name for p in StudyFolder(root).backups.iterdir())[-1]
    with closing(sqlite3.connect(newest, isolation_level=None)) as conn:
        conn.execute("UPDATE segments SET position = 3")  # SQLite finds nothing wrong
    assert window.open_study(root)
    window.restore_action.trigger()
    dialog = window.findChild(BackupsDialog)
    assert dialog is not None
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert errors[-1][0] == "Could not restore the backup"
    assert "cannot be restored" in errors[-1][1] and "position" in errors[-1][1]
    assert codes(window) == ["P1", "P2", "P3"] and hooks.told == []
    assert not [p for p in StudyFolder(root).backups.iterdir() if p.name.startswith("replaced")]


def test_a_backup_too_damaged_to_read_cannot_be_chosen(qtbot: QtBot, window: MainWindow,
                                                       root: Path) -> None:
    folder = StudyFolder(root)
    newest = folder.backups / sorted(p.name for p in folder.backups.iterdir())[-1]
    newest.write_bytes(newest.read_bytes()[:5000])
    assert window.open_study(root)
    window.restore_action.trigger()
    dialog = window.findChild(BackupsDialog)
    assert dialog is not None
    assert dialog.table.item(0, 4).text().startswith("Damaged: it is truncated")
    assert dialog.table.item(0, 2).text() == "–"
    assert not dialog.restore_button.isEnabled()
    dialog.table.selectRow(1)
    assert dialog.restore_button.isEnabled()


def test_restoring_a_backup_from_before_anonymisation_warns_of_real_names(
        qtbot: QtBot, window: MainWindow, root: Path, hooks: Hooks) -> None:
    assert window.open_study(root)
    assert window.study is not None
    store, folder = window.study.store, window.study.folder
    sarah = store.register_identifier("Sarah", "person").new_id("identifier")
    (seg,) = [s.id for s in store.segments(store.interviews()[0].id)]  # type: ignore[arg-type]
    assert seg is not None
    store.replace_candidates([Candidate(seg, 0, 5, "Sarah", "person", "registered", sarah)])
    apply_anonymisation(store, folder)
    window.restore_action.trigger()
    dialog = window.findChild(BackupsDialog)
    assert dialog is not None
    hooks.answer = False
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    assert "taken before the study was anonymised" in hooks.asked[0]
    assert "real names" in hooks.asked[0]


# --- the offer when a damaged study is opened -------------------------------------------------


def truncate(root: Path) -> bytes:
    db = root / "study.sqlite"
    damaged = db.read_bytes()[:4096 + 100]
    db.write_bytes(damaged)
    return damaged


def test_opening_a_damaged_study_offers_the_latest_backup(
        window: MainWindow, root: Path, hooks: Hooks, errors: list[tuple[str, str]]) -> None:
    damaged = truncate(root)
    assert window.open_study(root)
    (question,) = hooks.asked
    when = taken(root)
    assert question.startswith("Kept is damaged (it is truncated")
    assert f"Restore the latest backup from {when}?" in question
    assert codes(window) == ["P1", "P2"]
    assert errors == []
    assert "was restored from the backup of" in hooks.told[0]
    kept = [p for p in (root / "backups").iterdir() if p.name.startswith("replaced-")]
    assert [p.read_bytes() for p in kept] == [damaged]


def test_saying_no_to_the_offer_leaves_everything_untouched(
        window: MainWindow, root: Path, hooks: Hooks, errors: list[tuple[str, str]]) -> None:
    hooks.answer = False
    truncate(root)
    before = files(root)
    assert not window.open_study(root)
    assert len(hooks.asked) == 1 and hooks.told == []
    assert window.study is None
    assert errors[-1][0] == "Could not open the study" and "damaged" in errors[-1][1]
    assert files(root) == before


def test_a_missing_database_with_backups_is_offered_too(window: MainWindow, root: Path,
                                                       hooks: Hooks) -> None:
    (root / "study.sqlite").unlink()
    assert window.open_study(root)
    assert "the database file is missing" in hooks.asked[0]
    assert codes(window) == ["P1", "P2"]


def test_no_offer_without_a_sound_backup(window: MainWindow, root: Path, hooks: Hooks,
                                         errors: list[tuple[str, str]]) -> None:
    for backup in (root / "backups").iterdir():
        backup.write_bytes(b"\0" * 100)
    truncate(root)
    assert not window.open_study(root)
    assert hooks.asked == []
    assert "damaged" in errors[-1][1]


def age_newest_backup(root: Path) -> None:
    """Make the newest backup 90 minutes old, so the next open takes (and checks) one."""
    newest = backups(StudyFolder(root))[0]
    stamp = (dt.datetime.now() - dt.timedelta(minutes=90)).strftime("%Y%m%d-%H%M%S")
    newest.rename(newest.with_name(f"study-{stamp}.sqlite"))


def test_a_readable_damaged_study_opens_with_the_offer_of_a_sound_backup(
        window: MainWindow, root: Path, hooks: Hooks) -> None:
    from tests.unit.test_backups_restore import zero_root_page

    age_newest_backup(root)
    when = taken(root)
    zero_root_page(root / "study.sqlite", "journal")
    assert window.open_study(root)
    (question,) = hooks.asked
    assert question.startswith("Kept's database is damaged")
    assert f"Restore the latest sound backup, from {when}?" in question
    assert codes(window) == ["P1", "P2"]
    assert "was restored from the backup of" in hooks.told[0]


def test_saying_no_keeps_the_readable_damaged_study_open(
        window: MainWindow, root: Path, hooks: Hooks) -> None:
    from tests.unit.test_backups_restore import zero_root_page

    hooks.answer = False
    age_newest_backup(root)
    names = [p.name for p in backups(StudyFolder(root))]
    zero_root_page(root / "study.sqlite", "audit_log")  # no page reads it as it opens
    assert window.open_study(root)
    assert len(hooks.asked) == 1 and hooks.told == []
    assert codes(window) == ["P1", "P2", "P3"]
    assert [p.name for p in backups(StudyFolder(root))] == names


def test_saying_no_to_a_study_its_pages_cannot_read_shows_why_and_opens_nothing(
        window: MainWindow, root: Path, hooks: Hooks, errors: list[tuple[str, str]]) -> None:
    from tests.unit.test_backups_restore import zero_root_page

    hooks.answer = False
    age_newest_backup(root)
    zero_root_page(root / "study.sqlite", "journal")  # the journal page reads it at once
    assert not window.open_study(root)
    assert window.study is None and window.workspace is None
    assert errors[-1][0] == "Could not open the study" and "damaged" in errors[-1][1]
