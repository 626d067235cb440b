"""The study folder: `Name.verbatim/` with the database, media, exports and backups.

Opening a study makes a rolling backup first (at most one an hour, ten kept), so a
bad day can always be undone from the backups folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from study.errors import NotAStudyError, StudyError
from study.store import Store

SUFFIX = ".verbatim"
DATABASE = "study.sqlite"
BACKUP_EVERY = dt.timedelta(hours=1)
BACKUPS_KEPT = 10
BACKUP_STAMP = "%Y%m%d-%H%M%S"


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

    def __init__(self, folder: StudyFolder, store: Store) -> None:
        self.folder = folder
        self.store = store

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
    store = Store(folder.database)
    try:
        folder.make_dirs()
        if backup:
            rolling_backup(store, folder)
        if recover_jobs:
            store.mark_interrupted_jobs()
    except BaseException:
        store.close()
        raise
    return Study(folder, store)


def backups(folder: StudyFolder) -> list[Path]:
    """The study's backups, newest first."""
    if not folder.backups.exists():
        return []
    return sorted(folder.backups.glob("study-*.sqlite"), reverse=True)


def rolling_backup(
    store: Store, folder: StudyFolder, *, at: dt.datetime | None = None
) -> Path | None:
    """Back up unless the newest backup is less than an hour old; keep the last ten."""
    at = at or dt.datetime.now()
    existing = backups(folder)
    if existing:
        newest = dt.datetime.strptime(existing[0].stem.removeprefix("study-"), BACKUP_STAMP)
        if at - newest < BACKUP_EVERY:
            return None
    target = folder.backups / f"study-{at.strftime(BACKUP_STAMP)}.sqlite"
    partial = target.with_suffix(".partial")
    try:
        store.backup_to(partial)
        partial.replace(target)
    except OSError as e:
        partial.unlink(missing_ok=True)
        raise StudyError(f"Could not write a backup to {folder.backups}: {e.strerror}.") from e
    for old in backups(folder)[BACKUPS_KEPT:]:
        old.unlink(missing_ok=True)
    return target
