"""The study folder: `Name.verbatim/` with the database, media, exports and backups.

Opening a study makes a rolling backup first (at most one an hour, ten kept), so a
bad day can always be undone from the backups folder. Restoring one never deletes
anything: the database it replaces is kept in backups/ as `replaced-<stamp>.sqlite`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from study.errors import DamageFoundError, NotAStudyError, StudyDamagedError, StudyError
from study.store import Store
from study.store.checks import damage_as_study_error, file_damage
from study.store.connection import SQLITE_HEADER, check_header, sidecars

SUFFIX = ".verbatim"
DATABASE = "study.sqlite"
BACKUP_EVERY = dt.timedelta(hours=1)
BACKUPS_KEPT = 10
BACKUP_STAMP = "%Y%m%d-%H%M%S"
# The files SQLite may keep beside a database; they belong to it and move with it.
SIDECARS = ("-wal", "-shm", "-journal")
RESTORE_HINT = "A backup can be restored from the Help menu (Restore from backup…)."


@dataclass(frozen=True, slots=True)
class StudyFolder:
    root: Path

    @property
    def name(self) -> str:
        return self.root.name.removesuffix(SUFFIX)

    @property
    def database(self) -> Path:
        return self.root / DATABASE

    @property
    def media(self) -> Path:
        return self.root / "media"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def key_file(self) -> Path:
        """Where the identifier key goes by default: beside the study, not inside it."""
        return self.root.with_name(f"{self.name}{SUFFIX}.key")

    def make_dirs(self) -> None:
        for d in (self.media, self.exports, self.backups):
            d.mkdir(parents=True, exist_ok=True)


def study_path(path: Path | str) -> Path:
    """Accept the folder, its database file, or a name without the suffix."""
    p = Path(path).expanduser()
    if p.name == DATABASE:
        p = p.parent
    if p.suffix != SUFFIX and not p.exists():
        p = p.with_name(p.name + SUFFIX)
    return p.resolve()


class Study:
    """An open study: its folder and its store. Close it when done."""

    def __init__(self, folder: StudyFolder, store: Store, *, damage: str | None = None) -> None:
        self.folder = folder
        self.store = store
        # what the check of the open's backup copy found: the study opened, but is damaged
        self.damage = damage

    @property
    def name(self) -> str:
        return self.store.study_info().name

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def import_media_file(self, source: Path) -> tuple[str, str]:
        """Copy a file into media/ named by its SHA-256; returns (sha256, filename).

        The copy goes to a temporary name first and is renamed when complete, so a
        crash never leaves a half-copied file under a real name.
        """
        sha = file_sha256(source)
        filename = f"{sha}{source.suffix.lower()}"
        target = self.folder.media / filename
        if not target.exists():
            self.folder.media.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(filename + ".partial")
            shutil.copyfile(source, partial)
            partial.replace(target)
        return sha, filename


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def create_study(path: Path | str, name: str = "") -> Study:
    root = study_path(path)
    if root.exists() and any(root.iterdir()):
        raise StudyError(f"{root} already exists and is not empty; choose another name.")
    folder = StudyFolder(root)
    try:
        folder.make_dirs()
    except OSError as e:
        raise StudyError(f"Could not create the study folder {root}: {e.strerror}.") from e
    store = Store(folder.database, create=True, name=name or folder.name)
    store.audit("study created", name=name or folder.name)
    return Study(folder, store)


def open_study(path: Path | str, *, backup: bool = True, recover_jobs: bool = True) -> Study:
    """Open a study. The app's own open makes a backup and marks jobs a crash left
    'running' as interrupted; a worker or helper thread opens with both off, so it
    never mistakes a job in progress elsewhere for a crashed one."""
    root = study_path(path)
    folder = StudyFolder(root)
    if not folder.database.exists():
        raise NotAStudyError(f"{root} is not a Verbatim study (it has no {DATABASE}).")
    short = _length_damage(folder.database)
    if short is not None:  # SQLite may open a cut-off file and fail only later, mid-work
        raise StudyDamagedError(f"{folder.database} is damaged and cannot be opened: {short}. "
                                f"{RESTORE_HINT}")
    fresh = tuple(p for p in sidecars(folder.database) if not p.exists())
    store = Store(folder.database)
    made: Path | None = None
    damage: str | None = None
    try:
        folder.make_dirs()
        with damage_as_study_error(folder.database):
            if backup:
                try:
                    made = rolling_backup(store, folder)
                except DamageFoundError as e:  # readable, so opened: the GUI offers a restore
                    damage = str(e)
            if recover_jobs:
                store.mark_interrupted_jobs()
    except BaseException as e:
        store.abandon(fresh)
        if made is not None and isinstance(e, StudyDamagedError):
            made.unlink(missing_ok=True)  # a copy of a damaged file must not pose as a backup
        raise
    return Study(folder, store, damage=damage)


def backups(folder: StudyFolder) -> list[Path]:
    """The study's backups, newest first."""
    if not folder.backups.exists():
        return []
    return sorted(folder.backups.glob("study-*.sqlite"), reverse=True)


def rolling_backup(
    store: Store, folder: StudyFolder, *, at: dt.datetime | None = None
) -> Path | None:
    """Back up unless the newest backup is less than an hour old; keep the last ten.

    The copy is checked (SQLite's quick check) before it joins them: a study damaged yet
    still readable, opened every hour, would otherwise replace all ten sound backups
    with damaged copies in a day. Raises DamageFoundError then, having kept them all."""
    at = at or dt.datetime.now()
    existing = backups(folder)
    if existing:
        newest = dt.datetime.strptime(existing[0].stem.removeprefix("study-"), BACKUP_STAMP)
        if at - newest < BACKUP_EVERY:
            return None
    target = folder.backups / f"study-{at.strftime(BACKUP_STAMP)}.sqlite"
    partial = target.with_suffix(".partial")
    try:
        with damage_as_study_error(folder.database):
            store.backup_to(partial)
        damage = file_damage(partial)
        if damage is not None:  # a damaged copy must not push the sound backups out
            partial.unlink()
            raise DamageFoundError(
                f"{folder.name}'s database is damaged ({damage}). Its backups were kept as "
                "they were, and no copy of the damaged state was added to them.")
        partial.replace(target)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise StudyError(f"Could not write a backup to {folder.backups}: {e.strerror}.") from e
    except StudyError:
        partial.unlink(missing_ok=True)
        raise
    for old in backups(folder)[BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    return target


def backup_time(backup: Path) -> dt.datetime | None:
    """When a rolling backup was taken (local time), from its name."""
    try:
        return dt.datetime.strptime(backup.stem.removeprefix("study-"), BACKUP_STAMP)
    except ValueError:
        return None


# --- damage and restore ---------------------------------------------------------------------


def damage_of(path: Path, *, thorough: bool = True) -> str | None:
    """Why the study file at `path` cannot be trusted, in a few words ("it is truncated
    (…)"), or None when it looks sound. The header and length checks read 100 bytes;
    `thorough` adds SQLite's quick check of every page, read-only (it writes nothing,
    not even a -wal file), for a file that failed to open or a backup about to be
    restored."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "the database file is missing"
    except OSError as e:
        return f"it cannot be read ({e.strerror})"
    if size == 0:
        return "the file is empty"
    try:
        check_header(path)
    except StudyDamagedError:
        return "it does not start with SQLite's header (overwritten, or not a database)"
    except OSError as e:
        return f"it cannot be read ({e.strerror})"
    short = _length_damage(path)
    if short is not None:
        return short
    return file_damage(path) if thorough else None


def _length_damage(path: Path) -> str | None:
    """A cut-off file, told from its header: SQLite files are whole pages, and the header
    records how many (valid when its two change counters agree). Skipped while a -wal
    or hot journal holds changes not yet written back, which may account for the rest."""
    try:
        with path.open("rb") as f:
            header = f.read(100)
        size = path.stat().st_size
        if any(_has_content(path.with_name(path.name + s)) for s in ("-wal", "-journal")):
            return None
    except OSError:
        return None  # connect() reports an unreadable file
    if not header.startswith(SQLITE_HEADER):
        return None  # connect() reports a wrong header, in its own words
    if len(header) < 100:
        return f"it is truncated ({size} bytes, shorter than SQLite's header)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "its header is damaged (impossible page size)"
    pages = int.from_bytes(header[28:32], "big")
    if size % page_size:
        return (f"it is truncated ({size:,} bytes is not a whole number of {page_size:,}-byte "
                "pages)")
    if header[92:96] == header[24:28] and size < pages * page_size:
        return f"it is truncated ({size:,} of {pages * page_size:,} bytes)"
    return None


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def restore_backup(folder: StudyFolder, backup: Path) -> Path | None:
    """Make `backup` the study's database; the study must be closed (the GUI closes it).

    The backup is copied beside the database and checked there (SQLite's integrity
    checks and check_study; an older schema is upgraded on the copy) before anything is
    replaced, so a damaged backup is refused with the study untouched. The database it
    replaces, with its -wal and -shm, moves to backups/replaced-<stamp>.sqlite and is
    never deleted. Returns that path, or None when there was no database to keep."""
    from study.consistency import check_study  # it imports the store, as this module does

    backup = Path(backup)
    damage = damage_of(backup)
    if damage is not None:
        raise StudyDamagedError(f"The backup {backup.name} cannot be restored: {damage}.")
    stamp = dt.datetime.now().strftime(BACKUP_STAMP)
    staging = folder.root / f".restoring-{stamp}.sqlite"
    try:
        shutil.copyfile(backup, staging)
        _fsync(staging)
        try:
            store = Store(staging)
        except StudyError as e:
            raise StudyDamagedError(f"The backup {backup.name} cannot be restored: {e}") from e
        try:
            errors = [p for p in check_study(store) if p.is_error]
            if errors:
                more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
                raise StudyDamagedError(f"The backup {backup.name} cannot be restored: "
                                        f"{errors[0].message}{more}")
            store.audit("restored from backup", backup=backup.name)
        finally:
            store.close()
        _fsync(staging)
        replaced = _move_aside(folder, stamp)
        try:
            os.replace(staging, folder.database)
        except OSError:
            _move_back(folder, replaced)
            raise
        _fsync(folder.root)
    except OSError as e:
        raise StudyError(f"Could not restore the backup {backup.name}: {e.strerror or e}."
                         ) from e
    finally:
        for name in (staging.name, *(staging.name + s for s in SIDECARS)):
            (folder.root / name).unlink(missing_ok=True)
    return replaced


def _move_aside(folder: StudyFolder, stamp: str) -> Path | None:
    """Move the database and its sidecar files to backups/replaced-<stamp>.sqlite[-wal…],
    so SQLite can still open the kept copy with its uncommitted-to-file changes."""
    present = [s for s in ("", *SIDECARS) if folder.database.with_name(DATABASE + s).exists()]
    if not present:
        return None
    folder.backups.mkdir(parents=True, exist_ok=True)
    kept = folder.backups / f"replaced-{stamp}.sqlite"
    n = 1
    while any(kept.with_name(kept.name + s).exists() for s in ("", *SIDECARS)):
        n += 1
        kept = folder.backups / f"replaced-{stamp}-{n}.sqlite"
    for s in present:
        os.replace(folder.database.with_name(DATABASE + s), kept.with_name(kept.name + s))
    _fsync(folder.backups)
    return kept


def _move_back(folder: StudyFolder, kept: Path | None) -> None:
    if kept is None:
        return
    for s in ("", *SIDECARS):
        moved = kept.with_name(kept.name + s)
        if moved.exists():
            os.replace(moved, folder.database.with_name(DATABASE + s))


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') data to disk, so a power cut after the
    rename cannot leave the restored database half-written."""
    if path.is_dir() and os.name == "nt":
        return  # Windows cannot open a folder as a file; its renames are durable anyway
    flags = (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if path.is_dir() else os.O_RDWR
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
