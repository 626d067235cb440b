"""Opening a study database safely: pragmas, the schema-version guard, migrations."""

from __future__ import annotations

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
        conn.close()
        if "locked" in str(e) or "busy" in str(e):
            raise StudyLockedError(
                f"{path.parent.name} is in use by another program. Close it there and try again."
            ) from e
        raise StudyDamagedError(f"{path} could not be opened: {e}.") from e
    except sqlite3.DatabaseError as e:
        conn.close()
        raise StudyDamagedError(f"{path} is damaged and cannot be opened: {e}.") from e
    except BaseException:
        conn.close()
        raise
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_openable(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version, after refusing a newer schema or another app's database.

    A newer schema than this app knows is refused: writing to it could corrupt data
    the newer version relies on.
    """
    version = schema_version(conn)
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
