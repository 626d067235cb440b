"""The store's core: one connection, write transactions that report what changed,
change listeners, the audit log and the study record."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from study.errors import NotFoundError, StudyError
from study.model import AuditEntry, Changes, StudyInfo
from study.store.connection import close_without_writing, connect, schema_version

ChangeListener = Callable[[Changes], None]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def parse_time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class Transaction:
    """Collects what one write changed; the store reports it when it commits."""

    def __init__(self) -> None:
        self.added: list[tuple[str, int]] = []
        self.updated: list[tuple[str, int]] = []
        self.removed: list[tuple[str, int]] = []

    def add(self, kind: str, id_: int) -> None:
        self.added.append((kind, id_))

    def update(self, kind: str, id_: int) -> None:
        self.updated.append((kind, id_))

    def remove(self, kind: str, id_: int) -> None:
        self.removed.append((kind, id_))

    def merge(self, inner: Transaction) -> None:
        self.added += inner.added
        self.updated += inner.updated
        self.removed += inner.removed

    def changes(self) -> Changes:
        return Changes(tuple(self.added), tuple(self.updated), tuple(self.removed))


class StoreCore:
    """Owns the SQLite connection of one study. Use from one thread only: other
    threads and processes open their own Store on the same file."""

    def __init__(self, path: Path, *, create: bool = False, name: str = "") -> None:
        self.path = Path(path)
        self._conn = connect(self.path, create=create)
        self.db = Database(self._conn, execute_plugins=False)
        self._listeners: list[ChangeListener] = []
        self._tx: Transaction | None = None
        if create and self.db.execute("SELECT count(*) FROM study").fetchone()[0] == 0:
            with self.write():
                self.db.execute(
                    "INSERT INTO study (id, name, created_at, salt) VALUES (1, ?, ?, ?)",
                    (name or self.path.parent.stem, now().isoformat(), secrets.token_hex(16)),
                )

    # --- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint the WAL so the study is one self-contained file, then close."""
        with suppress(sqlite3.Error):
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._conn.close()

    def abandon(self, made: tuple[Path, ...] = ()) -> None:
        """Close after a refused open, writing nothing; `made`: the sidecar files the
        open created, to remove (see close_without_writing)."""
        close_without_writing(self._conn, self.path, made)

    def __enter__(self) -> StoreCore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writes and change notification ----------------------------------------------------

    def subscribe(self, listener: ChangeListener) -> Callable[[], None]:
        """Call `listener` with the Changes of every committed write; returns unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """One atomic write. A nested call is a savepoint inside the outer transaction:
        its Changes are its own, and listeners hear about the whole once, after commit."""
        parent = self._tx
        tx = Transaction()
        self._tx = tx
        try:
            with self.db.atomic():
                yield tx
        except sqlite3.IntegrityError as e:
            raise StudyError(f"That change breaks a rule of the study data: {e}.") from e
        finally:
            self._tx = parent
        if parent is not None:
            parent.merge(tx)
            return
        changes = tx.changes()
        if changes:
            for listener in list(self._listeners):
                listener(changes)

    def insert(self, table: str, row: dict[str, Any]) -> int:
        cur = self.db.execute(
            f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def update_row(self, table: str, id_: int, row: dict[str, Any]) -> None:
        sets = ", ".join(f"{k} = ?" for k in row)
        cur = self.db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*row.values(), id_])
        if cur.rowcount == 0:
            raise NotFoundError(f"No {table.rstrip('s')} with id {id_}; it may have been deleted.")

    def delete_row(self, table: str, id_: int) -> None:
        cur = self.db.execute(f"DELETE FROM {table} WHERE id = ?", [id_])
        if cur.rowcount == 0:
            raise NotFoundError(f"No {table.rstrip('s')} with id {id_}; it may have been deleted.")

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def one(self, sql: str, params: Any = (), what: str = "row") -> dict[str, Any]:
        found = self.rows(sql, params)
        if not found:
            raise NotFoundError(f"No such {what}; it may have been deleted.")
        return found[0]

    def scalar(self, sql: str, params: Any = ()) -> Any:
        return self.db.execute(sql, params).fetchone()[0]

    # --- study record and audit log --------------------------------------------------------

    def study_info(self) -> StudyInfo:
        row = self.one("SELECT * FROM study WHERE id = 1", what="study record")
        return StudyInfo(
            name=row["name"],
            description=row["description"],
            created_at=parse_time(row["created_at"]),
            schema_version=schema_version(self._conn),
        )

    def update_study_info(self, name: str, description: str) -> Changes:
        with self.write() as tx:
            self.db.execute(
                "UPDATE study SET name = ?, description = ? WHERE id = 1", (name, description)
            )
            tx.update("study", 1)
        return tx.changes()

    def salt(self) -> str:
        return str(self.scalar("SELECT salt FROM study WHERE id = 1"))

    def audit(self, action: str, **detail: Any) -> None:
        """Record a significant action (inside the caller's transaction if there is one)."""
        with self.write() as tx:
            id_ = self.insert(
                "audit_log",
                {
                    "at": now().isoformat(),
                    "action": action,
                    "detail": json.dumps(detail, default=str, sort_keys=True),
                },
            )
            tx.add("audit", id_)

    def audit_log(self, limit: int = 1000) -> list[AuditEntry]:
        return [
            AuditEntry(r["action"], r["detail"], parse_time(r["at"]), r["id"])
            for r in self.rows("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
        ]

    # --- maintenance -------------------------------------------------------------------------

    def backup_to(self, target: Path) -> None:
        """A consistent copy through SQLite's backup API, safe while the study is open."""
        dest = sqlite3.connect(target)
        try:
            self._conn.backup(dest)
        finally:
            dest.close()

    def integrity_errors(self) -> list[str]:
        """SQLite's own integrity check and foreign-key check; empty when healthy."""
        problems = [r[0] for r in self.db.execute("PRAGMA integrity_check").fetchall()]
        problems = [p for p in problems if p != "ok"]
        problems += [
            f"{table} row {rowid} points at a missing {parent}"
            for table, rowid, parent, _ in self.db.execute("PRAGMA foreign_key_check").fetchall()
        ]
        return problems
