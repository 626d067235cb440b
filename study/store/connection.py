"""Opening a study database safely: pragmas, the schema-version guard, migrations."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

from study.errors import (
    NotAStudyError,
    SchemaTooNewError,
    StudyDamagedError,
    StudyError,
    StudyLockedError,
)
from study.store.schema import CURRENT_VERSION, MIGRATIONS

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


def check_header(path: Path) -> None:
    """Refuse a file that is not SQLite before SQLite sees it (truncated, overwritten)."""
    with path.open("rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise StudyDamagedError(
            f"{path} is not a readable study database (its header is damaged or it is "
            "not a Verbatim study). A backup may be restored from the study's backups folder."
        )


def word_count(text: str | None) -> int:
    """Words as a reader counts them: runs of non-space, whatever the spacing."""
    return len(text.split()) if text else 0


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """Open (or create) the database with WAL, foreign keys and a busy timeout,
    migrated to the current schema. Raises a StudyError the user can act on."""
    exists = path.exists() and path.stat().st_size > 0
    if not exists and not create:
        raise NotAStudyError(f"No study database at {path}.")
    if exists:
        check_header(path)
    # the sidecar files SQLite makes as it opens: a refused open removes them again
    made = tuple(p for p in sidecars(path) if not p.exists())
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.create_function("word_count", 1, word_count, deterministic=True)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        # Refuse a file that is not ours before anything (even the WAL switch) writes to it.
        if check_openable(conn, path) == 0 and not create:
            raise NotAStudyError(f"{path} is an empty database, not a Verbatim study.")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StudyLockedError(f"Could not switch {path} to WAL mode (it is in {mode} mode).")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn, path)
    except sqlite3.OperationalError as e:
        close_without_writing(conn, path, made)
        if "locked" in str(e) or "busy" in str(e):
            raise StudyLockedError(
                f"{path.parent.name} is in use by another program. Close it there and try again."
            ) from e
        raise StudyDamagedError(f"{path} could not be opened: {e}.") from e
    except sqlite3.DatabaseError as e:
        close_without_writing(conn, path, made)
        raise StudyDamagedError(f"{path} is damaged and cannot be opened: {e}.") from e
    except UnicodeDecodeError as e:
        # SQLite's message quotes the damaged bytes of the schema, which are not UTF-8
        close_without_writing(conn, path, made)
        raise StudyDamagedError(f"{path} is damaged and cannot be opened: its table "
                                "definitions are unreadable.") from e
    except BaseException:
        close_without_writing(conn, path, made)
        raise
    return conn


def sidecars(path: Path) -> tuple[Path, Path]:
    """The -wal and -shm files SQLite keeps beside a WAL database."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def close_without_writing(conn: sqlite3.Connection, path: Path,
                          made: tuple[Path, ...] = ()) -> None:
    """Close a connection to a study that is being refused, leaving its files as they were.

    The last connection to close a WAL database checkpoints the -wal into it and deletes
    the -wal: for a damaged file that would write the researcher's latest work into the
    damage. A read-only connection holding the file open makes this one not the last, and
    closes last itself, which a read-only connection does without a checkpoint. The
    sidecar files in `made` (created by this open) are removed once both are closed, if
    still empty of changes: nobody else had the study open when they were made.
    """
    guard: sqlite3.Connection | None = None
    try:
        guard = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
        guard.execute("PRAGMA user_version").fetchone()  # holds the file's shared lock
    except (sqlite3.Error, UnicodeDecodeError):
        pass  # a file SQLite cannot read at all is not checkpointed either
    finally:
        conn.close()
        if guard is not None:
            guard.close()
    for sidecar in made:
        with contextlib.suppress(OSError):
            if sidecar.name.endswith("-shm") or sidecar.stat().st_size == 0:
                sidecar.unlink()


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_openable(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version, after refusing a newer schema or another app's database.

    A newer schema than this app knows is refused: writing to it could corrupt data
    the newer version relies on.
    """
    version = schema_version(conn)
    if version < 0:  # user_version is a signed 32-bit field: only damage makes it negative
        raise StudyDamagedError(f"{path} is damaged and cannot be opened: its schema version "
                                f"reads {version}.")
    if version > CURRENT_VERSION:
        raise SchemaTooNewError(
            f"This study was saved by a newer version of Verbatim (schema {version}; this "
            f"version understands up to {CURRENT_VERSION}). Update Verbatim to open it."
        )
    if version == 0:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        if tables[0]:
            raise NotAStudyError(f"{path} is an SQLite database but not a Verbatim study.")
    return version


def migrate(conn: sqlite3.Connection, path: Path, target: int = CURRENT_VERSION) -> int:
    """Bring the schema up to `target`, each step in its own transaction."""
    version = check_openable(conn, path)
    if 0 < version < target:
        backup_before_migration(conn, path, target)
    for step in range(version, target):
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[step]}\nPRAGMA user_version = {step + 1};\n"
                "COMMIT;"
            )
        except sqlite3.OperationalError as e:
            if "locked" in str(e) or "busy" in str(e):
                raise
            raise StudyError(
                f"{path.parent.name} could not be upgraded from schema {step} to {step + 1} "
                f"({e}); it was left as it was."
            ) from e
    return schema_version(conn)


def backup_before_migration(conn: sqlite3.Connection, path: Path, target: int) -> Path:
    """Keep the study as it was before an upgrade, beside the rolling backups."""
    folder = path.parent / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = folder / f"before-schema-{target}-{stamp}.sqlite"
    dest = sqlite3.connect(backup)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    return backup
