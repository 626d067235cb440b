"""The key file `Name.verbatim.key`: what anonymisation took out of the study, kept apart.

It is a small SQLite database of its own, beside the study folder by default, which the
researcher may move elsewhere (UK Data Service guidance: originals kept for the team but
apart from the anonymised data). It holds the study's name and salt, and for every apply
(a run, named by a uuid the study's `anonymisation_runs.key_id` repeats) the registry
with the originals and the exact before and after of everything the apply changed, so
the apply can be reversed.

A key file is read into memory whole and written back whole, atomically (temporary
file, fsync, rename), so a crash never leaves half a key. Without a passphrase the file
is ordinary SQLite, readable by any SQLite tool. With one, the serialised database is
sealed with AES-256-GCM under a key derived by scrypt (n=2**15, r=8, p=1, random salt):

    magic "VERBATIM-KEY v1\\n" (16 bytes) | scrypt salt (16) | nonce (12) |
    ciphertext length (8, big-endian) | ciphertext with its 16-byte tag

The header is authenticated too, so any change to the file is detected. This is the
only module that uses `cryptography`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import sqlite3
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from study.errors import NotFoundError, StudyError
from study.model import (
    AnonymisationDecision,
    Candidate,
    Coding,
    Decision,
    Flag,
    FlagKind,
    Identifier,
    IdentifierRule,
    Segment,
    Word,
)
from study.store.anonymity import (
    AnonymisationRecord,
    CodingChange,
    FieldChange,
    GlossaryEntry,
    KeyEntry,
    SegmentChange,
    SpanSwap,
)

FORMAT = 1
MAGIC = b"VERBATIM-KEY v1\n"
SQLITE_HEADER = b"SQLite format 3\x00"
SALT_BYTES, NONCE_BYTES, LENGTH_BYTES = 16, 12, 8
HEADER_BYTES = len(MAGIC) + SALT_BYTES + NONCE_BYTES + LENGTH_BYTES
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

WRONG_PASSPHRASE = "The passphrase does not open this key file."

SCHEMA = """
CREATE TABLE key_file (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    format INTEGER NOT NULL,
    study_name TEXT NOT NULL,
    salt TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE runs (
    key_id TEXT PRIMARY KEY,
    applied_at TEXT NOT NULL,
    replaced INTEGER NOT NULL
);
-- Who is who: read this table to see which original each replacement stands for.
CREATE TABLE registry (
    key_id TEXT NOT NULL REFERENCES runs(key_id) ON DELETE CASCADE,
    identifier_id INTEGER NOT NULL,
    category TEXT NOT NULL,
    replacement TEXT NOT NULL,
    original TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    original_hash TEXT NOT NULL,
    rule TEXT NOT NULL,
    word_count INTEGER NOT NULL,
    PRIMARY KEY (key_id, identifier_id)
);
CREATE TABLE segments (
    key_id TEXT NOT NULL REFERENCES runs(key_id) ON DELETE CASCADE,
    segment_id INTEGER NOT NULL,
    text_before TEXT NOT NULL,
    text_after TEXT NOT NULL,
    before TEXT NOT NULL,  -- the whole segment as JSON, words and flags included
    after TEXT NOT NULL,
    swaps TEXT NOT NULL,
    PRIMARY KEY (key_id, segment_id)
);
CREATE TABLE codings (
    key_id TEXT NOT NULL REFERENCES runs(key_id) ON DELETE CASCADE,
    coding_id INTEGER NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    PRIMARY KEY (key_id, coding_id)
);
CREATE TABLE fields (
    key_id TEXT NOT NULL REFERENCES runs(key_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    table_name TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    column_name TEXT NOT NULL,
    before TEXT NOT NULL,
    after TEXT NOT NULL,
    swaps TEXT NOT NULL,
    PRIMARY KEY (key_id, position)
);
CREATE TABLE review (
    key_id TEXT NOT NULL REFERENCES runs(key_id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('candidate', 'decision', 'glossary')),
    position INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (key_id, kind, position)
);
"""


class PassphraseRequiredError(StudyError):
    """The key file is sealed and no passphrase was given: ask for one."""


class WrongPassphraseError(StudyError):
    pass


class KeyFileDamagedError(StudyError):
    pass


# --- sealing ---------------------------------------------------------------------------------


def _derive(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8"))


def seal(data: bytes, passphrase: str) -> bytes:
    salt, nonce = secrets.token_bytes(SALT_BYTES), secrets.token_bytes(NONCE_BYTES)
    header = MAGIC + salt + nonce + (len(data) + 16).to_bytes(LENGTH_BYTES, "big")
    return header + AESGCM(_derive(passphrase, salt)).encrypt(nonce, data, header)


def unseal(blob: bytes, passphrase: str) -> bytes:
    if len(blob) < HEADER_BYTES + 16 or not blob.startswith(MAGIC):
        raise KeyFileDamagedError("The key file is damaged: its header is incomplete.")
    at = len(MAGIC)
    salt = blob[at:at + SALT_BYTES]
    nonce = blob[at + SALT_BYTES:at + SALT_BYTES + NONCE_BYTES]
    length = int.from_bytes(blob[HEADER_BYTES - LENGTH_BYTES:HEADER_BYTES], "big")
    body = blob[HEADER_BYTES:]
    if len(body) != length:
        raise KeyFileDamagedError("The key file is damaged: it is shorter or longer than it "
                                  "says (a copy may have been cut off).")
    try:
        return AESGCM(_derive(passphrase, salt)).decrypt(nonce, body, blob[:HEADER_BYTES])
    except InvalidTag as e:
        raise WrongPassphraseError(WRONG_PASSPHRASE) from e


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path` (readable by its owner only: it holds
    originals), fsync it, rename it over `path`, fsync the folder."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    except BaseException:
        with suppress(OSError):
            partial.unlink()
        raise
    if os.name == "posix":
        with suppress(OSError):
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)


# --- (de)serialising the record --------------------------------------------------------------


def _segment_json(s: Segment) -> str:
    return json.dumps({
        "id": s.id, "interview_id": s.interview_id, "position": s.position,
        "start_ms": s.start_ms, "end_ms": s.end_ms, "speaker_id": s.speaker_id, "text": s.text,
        "words": [[w.text, w.start_ms, w.end_ms, w.probability] for w in s.words],
        "flags": [[f.kind.value, f.start_ms, f.end_ms, f.note] for f in s.flags]})


def _segment_from(text: str) -> Segment:
    d = json.loads(text)
    return Segment(d["interview_id"], d["position"], d["start_ms"], d["end_ms"], d["text"],
                   d["speaker_id"], tuple(Word(*w) for w in d["words"]),
                   tuple(Flag(FlagKind(f[0]), f[1], f[2], f[3]) for f in d["flags"]), d["id"])


def _swaps_json(swaps: Sequence[SpanSwap]) -> str:
    return json.dumps([[s.before_start, s.before_end, s.after_start, s.after_end, s.original,
                        s.replacement, s.identifier_id] for s in swaps])


def _swaps_from(text: str) -> tuple[SpanSwap, ...]:
    return tuple(SpanSwap(*s) for s in json.loads(text))


def _coding_json(c: Coding) -> str:
    return json.dumps([c.code_id, c.interview_id, c.start_segment_id, c.start_offset,
                       c.end_segment_id, c.end_offset, c.id])


def _coding_from(text: str) -> Coding:
    return Coding(*json.loads(text))


def _candidate_json(c: Candidate) -> str:
    return json.dumps([c.segment_id, c.start, c.end, c.text, c.category, c.source,
                       c.identifier_id, c.id])


def _decision_json(d: AnonymisationDecision) -> str:
    return json.dumps([d.identifier_id, d.segment_id, d.start_offset, d.end_offset,
                       d.decision.value, d.decided_at.isoformat() if d.decided_at else None,
                       d.id])


def _decision_from(text: str) -> AnonymisationDecision:
    i, s, a, b, decision, at, id_ = json.loads(text)
    return AnonymisationDecision(i, s, a, b, Decision(decision),
                                 dt.datetime.fromisoformat(at) if at else None, id_)


# --- the key file ----------------------------------------------------------------------------


class KeyFile:
    """An open key file, held in memory; `save` writes it back atomically.

    Open an existing one with KeyFile.open, make a new one with KeyFile.create (nothing
    is written until `save`). Close it when done (or use it as a context manager).
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, passphrase: str | None) -> None:
        self._conn = conn
        self._conn.row_factory = sqlite3.Row
        self.path = Path(path)
        self._passphrase = passphrase

    # --- lifetime ----------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, *, study_name: str, salt: str,
               passphrase: str | None = None) -> KeyFile:
        if passphrase is not None and not passphrase:
            raise StudyError("A passphrase cannot be empty.")
        conn = sqlite3.connect(":memory:")
        conn.executescript(SCHEMA)
        conn.execute("INSERT INTO key_file VALUES (1, ?, ?, ?, ?)",
                     (FORMAT, study_name, salt,
                      dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()))
        conn.commit()
        return cls(conn, path, passphrase)

    @classmethod
    def open(cls, path: Path, *, passphrase: str | None = None) -> KeyFile:
        """Read a key file. Raises PassphraseRequiredError when it is sealed and no
        passphrase was given, WrongPassphraseError, or KeyFileDamagedError."""
        path = Path(path)
        try:
            blob = path.read_bytes()
        except FileNotFoundError as e:
            raise NotFoundError(f"There is no key file at {path}.") from e
        except OSError as e:
            raise StudyError(f"The key file {path} could not be read: {e.strerror}.") from e
        if blob.startswith(MAGIC):
            if not passphrase:
                raise PassphraseRequiredError(
                    "This key file is protected by a passphrase; enter it to open the file.")
            data = unseal(blob, passphrase)
        elif blob.startswith(SQLITE_HEADER):
            data, passphrase = blob, None
        else:
            raise KeyFileDamagedError(f"{path.name} is not a Verbatim key file, or it is "
                                      "damaged.")
        conn = sqlite3.connect(":memory:")
        try:
            conn.deserialize(data)
            problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            row = conn.execute("SELECT format FROM key_file WHERE id = 1").fetchone()
            if problems != ["ok"] or row is None:
                raise sqlite3.DatabaseError("; ".join(problems) or "no key file record")
            if row[0] > FORMAT:
                raise StudyError(f"{path.name} was written by a newer version of Verbatim; "
                                 "update Verbatim to use it.")
        except (sqlite3.DatabaseError, ValueError, OverflowError) as e:
            conn.close()
            raise KeyFileDamagedError(f"{path.name} is damaged and cannot be read ({e}).") from e
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, passphrase)

    @staticmethod
    def is_sealed(path: Path) -> bool:
        """Whether the file at `path` needs a passphrase (False if it is missing)."""
        try:
            with Path(path).open("rb") as f:
                return f.read(len(MAGIC)) == MAGIC
        except OSError:
            return False

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> KeyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sealed(self) -> bool:
        return self._passphrase is not None

    def set_passphrase(self, passphrase: str | None) -> None:
        """Seal the file with this passphrase from the next save (None: save it plain)."""
        if passphrase is not None and not passphrase:
            raise StudyError("A passphrase cannot be empty.")
        self._passphrase = passphrase

    def to_bytes(self) -> bytes:
        data = self._conn.serialize()
        return seal(data, self._passphrase) if self._passphrase is not None else data

    def save(self, path: Path | None = None) -> Path:
        """Write the key file atomically (to `path`, or where it was opened)."""
        target = Path(path) if path is not None else self.path
        try:
            write_atomic(target, self.to_bytes())
        except OSError as e:
            raise StudyError(f"The key file could not be written to {target}: "
                             f"{e.strerror or e}.") from e
        self.path = target
        return target

    # --- contents ----------------------------------------------------------------------------

    def _meta(self) -> sqlite3.Row:
        row = self._conn.execute("SELECT * FROM key_file WHERE id = 1").fetchone()
        assert row is not None
        return row

    @property
    def study_name(self) -> str:
        return str(self._meta()["study_name"])

    @property
    def salt(self) -> str:
        return str(self._meta()["salt"])

    def key_ids(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT key_id FROM runs ORDER BY applied_at")]

    def has_run(self, key_id: str) -> bool:
        return self._conn.execute("SELECT 1 FROM runs WHERE key_id = ?",
                                  (key_id,)).fetchone() is not None

    def registry(self) -> list[KeyEntry]:
        """Every original the file holds, the latest run's entry for each identifier."""
        latest: dict[int, KeyEntry] = {}
        for r in self._conn.execute("SELECT g.* FROM registry g JOIN runs r USING (key_id) "
                                    "ORDER BY r.applied_at, g.identifier_id"):
            latest[r["identifier_id"]] = _entry(r)
        return list(latest.values())

    def add_run(self, record: AnonymisationRecord) -> None:
        """Keep one apply's record (in memory until `save`)."""
        c = self._conn
        with c:
            if self.has_run(record.key_id):
                raise StudyError("This key file already holds that anonymisation.")
            key = record.key_id
            c.execute("INSERT INTO runs VALUES (?, ?, ?)",
                      (key, record.applied_at.isoformat(), record.replaced))
            c.executemany("INSERT INTO registry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                (key, e.identifier.id, e.identifier.category, e.identifier.replacement,
                 e.original, json.dumps(dict(e.identifier.attributes)),
                 e.identifier.original_hash, e.identifier.rule.value, e.identifier.word_count)
                for e in record.registry])
            c.executemany("INSERT INTO segments VALUES (?, ?, ?, ?, ?, ?, ?)", [
                (key, s.before.id, s.before.text, s.after.text, _segment_json(s.before),
                 _segment_json(s.after), _swaps_json(s.swaps)) for s in record.segments])
            c.executemany("INSERT INTO codings VALUES (?, ?, ?, ?)", [
                (key, cc.before.id, _coding_json(cc.before), _coding_json(cc.after))
                for cc in record.codings])
            c.executemany("INSERT INTO fields VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                (key, n, f.table, f.row_id, f.column, f.before, f.after, _swaps_json(f.swaps))
                for n, f in enumerate(record.fields)])
            review: list[tuple[str, str, int, str]] = []
            review += [(key, "candidate", n, _candidate_json(x))
                       for n, x in enumerate(record.candidates)]
            review += [(key, "decision", n, _decision_json(x))
                       for n, x in enumerate(record.decisions)]
            review += [(key, "glossary", n, json.dumps([g.id, g.term, g.note]))
                       for n, g in enumerate(record.glossary)]
            c.executemany("INSERT INTO review VALUES (?, ?, ?, ?)", review)

    def record(self, key_id: str) -> AnonymisationRecord:
        """One apply's record, exactly as it was added."""
        c = self._conn
        run = c.execute("SELECT * FROM runs WHERE key_id = ?", (key_id,)).fetchone()
        if run is None:
            raise NotFoundError("This key file does not hold that anonymisation.")

        def rows(sql: str, *extra: Any) -> list[sqlite3.Row]:
            return c.execute(sql, (key_id, *extra)).fetchall()

        review = {kind: [json.loads(r["data"]) for r in rows(
            "SELECT data FROM review WHERE key_id = ? AND kind = ? ORDER BY position", kind)]
            for kind in ("candidate", "decision", "glossary")}
        return AnonymisationRecord(
            key_id=key_id,
            applied_at=dt.datetime.fromisoformat(run["applied_at"]),
            registry=tuple(_entry(r) for r in rows(
                "SELECT * FROM registry WHERE key_id = ? ORDER BY identifier_id")),
            segments=tuple(
                SegmentChange(_segment_from(r["before"]), _segment_from(r["after"]),
                              _swaps_from(r["swaps"]))
                for r in rows("SELECT * FROM segments WHERE key_id = ? ORDER BY segment_id")),
            codings=tuple(
                CodingChange(_coding_from(r["before"]), _coding_from(r["after"]))
                for r in rows("SELECT * FROM codings WHERE key_id = ? ORDER BY coding_id")),
            fields=tuple(
                FieldChange(r["table_name"], r["row_id"], r["column_name"], r["before"],
                            r["after"], _swaps_from(r["swaps"]))
                for r in rows("SELECT * FROM fields WHERE key_id = ? ORDER BY position")),
            candidates=tuple(Candidate(*x) for x in review["candidate"]),
            decisions=tuple(_decision_from(json.dumps(x)) for x in review["decision"]),
            glossary=tuple(GlossaryEntry(*x) for x in review["glossary"]),
        )


def _entry(r: sqlite3.Row) -> KeyEntry:
    return KeyEntry(Identifier(r["category"], r["replacement"], r["original_hash"],
                               tuple(sorted(json.loads(r["attributes"]).items())),
                               r["identifier_id"], IdentifierRule(r["rule"]), r["word_count"]),
                    r["original"])


__all__ = [
    "MAGIC",
    "WRONG_PASSPHRASE",
    "KeyFile",
    "KeyFileDamagedError",
    "PassphraseRequiredError",
    "WrongPassphraseError",
    "seal",
    "unseal",
]
