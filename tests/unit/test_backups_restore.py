"""Damage is recognised (truncated, overwritten header, garbage pages) and a rolling
backup restores the study: checked before it replaces anything, the replaced database
kept (with its -wal) and never deleted, a damaged backup refused with nothing changed."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from study.consistency import check_study
from study.errors import StudyDamagedError
from study.folder import (
    Study,
    StudyFolder,
    backups,
    create_study,
    damage_of,
    open_study,
    restore_backup,
    rolling_backup,
)
from study.model import Code, Coding, Interview, Participant, Segment
from study.store.checks import summarise_file

HOUR_AGO = dt.datetime.now() - dt.timedelta(hours=1)


def fill(study: Study, code: str) -> None:
    store = study.store
    pid = store.add_participant(Participant(code, "Nurses")).new_id("participant")
    iid = store.add_interview(Interview(f"Interview {code}", pid)).new_id("interview")
    (seg,) = store.add_segments([Segment(iid, 0, 0, 1000, f"{code} talks about support.")]
                                ).ids("segment")
    cid = store.add_code(Code(f"Support {code}")).new_id("code")
    store.add_coding(Coding(cid, iid, seg, 0, seg, 5))


def data(study: Study) -> tuple[object, ...]:
    s = study.store
    return (s.participants(), s.interviews(), s.codes(), s.codings(),
            [s.segments(i.id) for i in s.interviews() if i.id is not None])


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture
def backed_up(tmp_path: Path) -> tuple[StudyFolder, Path, tuple[object, ...]]:
    """A closed study with one rolling backup, and work done after that backup."""
    with create_study(tmp_path / "Kept", name="Kept") as s:
        fill(s, "P1")
        backup = rolling_backup(s.store, s.folder, at=HOUR_AGO)
        assert backup is not None
        saved = data(s)
        fill(s, "P2")
        return s.folder, backup, saved


# --- recognising damage -----------------------------------------------------------------------


def test_damage_of_a_sound_study_is_none(backed_up: tuple[StudyFolder, Path, object]) -> None:
    folder, backup, _ = backed_up
    assert damage_of(folder.database) is None
    assert damage_of(backup) is None


def test_damage_of_tells_the_kinds_apart(tmp_path: Path,
                                         backed_up: tuple[StudyFolder, Path, object]) -> None:
    folder, _, _ = backed_up
    good = folder.database.read_bytes()
    page = int.from_bytes(good[16:18], "big")

    def damaged(content: bytes) -> str | None:
        path = tmp_path / "probe.sqlite"
        path.write_bytes(content)
        return damage_of(path)

    assert damage_of(tmp_path / "missing.sqlite") == "the database file is missing"
    assert damaged(b"") == "the file is empty"
    assert "SQLite's header" in str(damaged(b"PK\x03\x04" + good[4:]))
    assert "SQLite's header" in str(damaged(b"\x00" * len(good)))
    assert "truncated" in str(damaged(good[:-page]))  # whole pages lost: the header knows
    assert "not a whole number" in str(damaged(good[:-100]))
    assert "shorter than SQLite's header" in str(damaged(good[:40]))
    middle = len(good) // page // 2 * page
    garbage = good[:middle] + b"\xff" * page + good[middle + page:]
    assert str(damaged(garbage)).startswith("its contents are damaged")
    with closing(sqlite3.connect(tmp_path / "blank.sqlite", isolation_level=None)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("DROP TABLE t")  # a valid database file, with nothing in it
    assert damage_of(tmp_path / "blank.sqlite") == "it holds no study data"


def test_damage_of_writes_nothing_beside_the_file(
        backed_up: tuple[StudyFolder, Path, object]) -> None:
    folder, backup, _ = backed_up
    before = files(folder.root)
    assert damage_of(backup) is None and damage_of(folder.database) is None
    assert summarise_file(backup).interviews == 1
    assert files(folder.root) == before


def test_opening_a_study_cut_off_at_a_page_boundary_is_refused(
        backed_up: tuple[StudyFolder, Path, object]) -> None:
    """SQLite itself would open it and fail only when the lost pages are read."""
    folder, _, _ = backed_up
    good = folder.database.read_bytes()
    page = int.from_bytes(good[16:18], "big")
    folder.database.write_bytes(good[:-page])
    with pytest.raises(StudyDamagedError, match=r"truncated.*Restore from backup"):
        open_study(folder.root)


def test_a_garbage_page_met_while_opening_is_a_study_error(
        backed_up: tuple[StudyFolder, Path, object]) -> None:
    """Not a crash dialog: SQLite's "malformed" from the work done on open (here the jobs
    table, read to recover interrupted jobs) becomes StudyDamagedError, and the backup
    made on open, a copy of a damaged file, is not kept."""
    folder, _, _ = backed_up
    with closing(sqlite3.connect(folder.database)) as conn:
        (root_page,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'jobs'").fetchone()
    good = folder.database.read_bytes()
    page = int.from_bytes(good[16:18], "big")
    at = (root_page - 1) * page
    folder.database.write_bytes(good[:at] + b"\xff" * page + good[at + page:])
    before = sorted(p.name for p in folder.backups.iterdir())
    with pytest.raises(StudyDamagedError, match="malformed"):
        open_study(folder.root)
    assert sorted(p.name for p in folder.backups.iterdir()) == before  # no damaged copy
    assert damage_of(folder.database, thorough=False) is None  # only a full read finds it
    assert str(damage_of(folder.database)).startswith("its contents are damaged")


# --- restoring --------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncate", "header"])
def test_restore_a_damaged_study_from_its_rolling_backup(
        damage: str, backed_up: tuple[StudyFolder, Path, tuple[object, ...]]) -> None:
    folder, backup, saved = backed_up
    good = folder.database.read_bytes()
    broken = good[:len(good) // 3] if damage == "truncate" else b"\x00" * 100 + good[100:]
    folder.database.write_bytes(broken)
    with pytest.raises(StudyDamagedError):
        open_study(folder.root)
    backup_bytes = backup.read_bytes()

    replaced = restore_backup(folder, backup)

    assert replaced is not None and replaced.parent == folder.backups
    assert replaced.name.startswith("replaced-") and replaced.read_bytes() == broken
    assert backup.read_bytes() == backup_bytes  # the backup itself is untouched
    assert backups(folder) == [backup]  # a replaced copy is not a rolling backup
    with open_study(folder.root) as s:
        assert data(s) == saved
        assert check_study(s.store) == []
        assert s.store.audit_log(1)[0].action == "restored from backup"
    assert not [p for p in folder.root.iterdir() if p.name.startswith(".restoring")]


def test_restore_keeps_the_replaced_database_with_its_wal(
        tmp_path: Path, backed_up: tuple[StudyFolder, Path, tuple[object, ...]]) -> None:
    """As after a kill: committed work still only in the -wal. It moves with the file, so
    the kept copy opens with that work in it."""
    folder, backup, saved = backed_up
    crashed = tmp_path / "Crashed.verbatim"
    with open_study(folder.root, backup=False) as s:
        fill(s, "P3")
        latest = data(s)
        assert (folder.root / "study.sqlite-wal").stat().st_size > 0
        shutil.copytree(folder.root, crashed)  # the files as a kill would leave them
    folder = StudyFolder(crashed)
    backup = folder.backups / backup.name

    replaced = restore_backup(folder, backup)

    assert replaced is not None
    assert not (crashed / "study.sqlite-wal").exists()
    assert not (crashed / "study.sqlite-shm").exists()
    assert replaced.with_name(replaced.name + "-wal").exists()
    with open_study(folder.root) as s:
        assert data(s) == saved
    kept = tmp_path / "Kept copy.verbatim"
    kept.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(replaced.with_name(replaced.name + suffix), kept / f"study.sqlite{suffix}")
    with open_study(kept, backup=False) as s:
        assert data(s) == latest


def test_two_restores_keep_both_replaced_databases(
        backed_up: tuple[StudyFolder, Path, object]) -> None:
    folder, backup, _ = backed_up
    first = restore_backup(folder, backup)
    second = restore_backup(folder, backup)
    assert first is not None and second is not None and first != second
    assert first.exists() and second.exists()


def test_restore_into_a_study_without_a_database(
        backed_up: tuple[StudyFolder, Path, tuple[object, ...]]) -> None:
    folder, backup, saved = backed_up
    folder.database.unlink()
    assert restore_backup(folder, backup) is None
    with open_study(folder.root) as s:
        assert data(s) == saved


@pytest.mark.parametrize("damage", ["truncate", "header", "inconsistent"])
def test_a_damaged_backup_is_refused_and_nothing_changes(
        damage: str, backed_up: tuple[StudyFolder, Path, object]) -> None:
    folder, backup, _ = backed_up
    if damage == "inconsistent":  # sound to SQLite, but a coding points past its text
        with closing(sqlite3.connect(backup, isolation_level=None)) as conn:
            conn.execute("UPDATE codings SET end_offset = 500")
    else:
        good = backup.read_bytes()
        backup.write_bytes(good[:len(good) // 2] if damage == "truncate"
                           else b"garbage!" * 4 + good[32:])
    before = files(folder.root)
    with pytest.raises(StudyDamagedError, match=f"The backup {backup.name} cannot be restored"):
        restore_backup(folder, backup)
    assert files(folder.root) == before
    with open_study(folder.root, backup=False) as s:
        assert [p.code for p in s.store.participants()] == ["P1", "P2"]


def test_summarise_file_counts_a_backup(backed_up: tuple[StudyFolder, Path, object]) -> None:
    folder, backup, _ = backed_up
    summary = summarise_file(backup)
    assert (summary.interviews, summary.codings, summary.anonymised) == (1, 1, False)
    assert summarise_file(folder.database).interviews == 2
    bad = folder.root / "bad.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    with pytest.raises(StudyDamagedError):
        summarise_file(bad)


def zero_root_page(database: Path, table: str) -> None:
    """Damage the study file in a way SQLite only notices when it reads `table`: the
    study still opens and most of it reads."""
    with closing(sqlite3.connect(database)) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                               (table,)).fetchone()
    data = database.read_bytes()
    database.write_bytes(data[:(root - 1) * page] + bytes(page) + data[root * page:])


def test_a_readable_damaged_study_opens_but_never_pushes_out_a_sound_backup(
        tmp_path: Path) -> None:
    now = dt.datetime.now()
    with create_study(tmp_path / "Worn", name="Worn") as study:
        fill(study, "P1")
        for hours in range(12, 2, -1):  # ten sound backups, the newest three hours old
            assert rolling_backup(study.store, study.folder, at=now - dt.timedelta(hours=hours))
        folder = study.folder
    sound = {p.name: p.read_bytes() for p in backups(folder)}
    zero_root_page(folder.database, "journal")
    with open_study(folder.root) as opened:
        assert opened.damage is not None and "damaged" in opened.damage
        assert [p.code for p in opened.store.participants()] == ["P1"]
    assert {p.name: p.read_bytes() for p in backups(folder)} == sound
    assert not list(folder.backups.glob("*.partial"))


def test_a_sound_study_opens_without_damage(tmp_path: Path) -> None:
    with create_study(tmp_path / "Fine", name="Fine") as study:
        fill(study, "P1")
    with open_study(tmp_path / "Fine") as opened:
        assert opened.damage is None
        assert len(backups(opened.folder)) == 1
