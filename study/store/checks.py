"""Reads for the consistency check (study/consistency.py) and for looking into a backup
without changing it. The rules live in study/consistency.py; this module only fetches
the facts, since only study/store touches SQL.

Backups are opened `immutable`: SQLite then takes no lock and writes no -wal or -shm
file beside them, so listing the backups never alters one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from study.errors import StudyDamagedError, StudyLockedError
from study.store.core import StoreCore

# Memos point at their target by kind and id, with no foreign key: which table is whose.
MEMO_TABLES = {"interview": "interviews", "segment": "segments", "coding": "codings",
               "code": "codes", "theme": "themes"}


@contextmanager
def damage_as_study_error(path: Path) -> Iterator[None]:
    """SQLite's "malformed" and "not a database" errors as the StudyDamagedError the app
    shows plainly (a locked file as StudyLockedError), instead of a crash dialog."""
    try:
        yield
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise StudyLockedError(f"{path.parent.name} is in use by another program. "
                                   "Close it there and try again.") from e
        raise StudyDamagedError(f"{path} is damaged: {e}.") from e
    except sqlite3.DatabaseError as e:
        raise StudyDamagedError(f"{path} is damaged: {e}.") from e


def damage_message(exc: BaseException) -> str | None:
    """What to tell the researcher when SQLite, in the middle of work, reports the study
    file damaged, unreadable or its disk full; None for any other exception (a bug)."""
    if type(exc) is sqlite3.DatabaseError:  # SQLITE_CORRUPT, SQLITE_NOTADB
        return (f"The study's database is damaged ({exc}); that change was not saved. Close "
                "the study and use Help › Restore from backup; `python main.py check STUDY` "
                "lists the problems.")
    if isinstance(exc, sqlite3.OperationalError):
        if "disk is full" in str(exc):
            return ("The disk is full, so that change was not saved. Free some space and try "
                    "again.")
        if "disk I/O error" in str(exc):
            return ("The study's file could not be read or written (a disk I/O error); that "
                    "change was not saved. Check the disk, then reopen the study.")
    return None


@dataclass(frozen=True, slots=True)
class Anchor:
    """The segment at one end of a coding, as the coding sees it (None: no such segment)."""

    segment_id: int
    offset: int
    interview_id: int | None
    position: int | None
    length: int | None


@dataclass(frozen=True, slots=True)
class CodingAnchors:
    coding_id: int
    interview_id: int
    start: Anchor
    end: Anchor


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """One segment's placement, speaker and raw word and flag JSON, for the checks."""

    id: int
    interview_id: int
    position: int
    start_ms: int
    end_ms: int
    speaker_id: int | None
    speaker_interview_id: int | None  # None with a speaker_id: the speaker is missing
    words: str
    flags: str


@dataclass(frozen=True, slots=True)
class AnonymisationLeftovers:
    """What an apply removes but the study still holds after its newest run in force:
    originals, candidates and decisions that were not added since that apply."""

    key_id: str
    applied_at: str
    apply_audited: bool
    originals: tuple[int, ...]  # identifier ids
    candidates: tuple[int, ...]
    decisions: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What a study file holds, read without changing it (for the list of backups)."""

    schema_version: int
    interviews: int
    codings: int
    anonymised: bool


def _audit_id(field: str) -> str:
    """A field of an audit entry's JSON detail; NULL, not an error, for a detail that
    is not JSON (CASE evaluates json_extract only for valid JSON)."""
    return f"(CASE WHEN json_valid(a.detail) THEN json_extract(a.detail, '$.{field}') END)"


class ChecksMixin(StoreCore):
    def search_index_errors(self) -> list[str]:
        """FTS5's own check of the search index against the segments it indexes."""
        outer = self._conn.in_transaction
        try:
            self.db.execute(
                "INSERT INTO segments_fts(segments_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as e:
            return [f"the search index does not match the transcripts ({e})"]
        finally:
            if not outer and self._conn.in_transaction:
                self._conn.rollback()  # the check writes nothing; end its implicit transaction
        return []

    def coding_anchors(self) -> Iterator[CodingAnchors]:
        sql = """
            SELECT c.id, c.interview_id, c.start_segment_id, c.start_offset, c.end_segment_id,
                   c.end_offset, s.interview_id AS s_iv, s.position AS s_pos,
                   length(s.text) AS s_len, e.interview_id AS e_iv, e.position AS e_pos,
                   length(e.text) AS e_len
            FROM codings c LEFT JOIN segments s ON s.id = c.start_segment_id
            LEFT JOIN segments e ON e.id = c.end_segment_id ORDER BY c.id"""
        for r in self.db.query(sql):
            yield CodingAnchors(
                r["id"], r["interview_id"],
                Anchor(r["start_segment_id"], r["start_offset"], r["s_iv"], r["s_pos"],
                       r["s_len"]),
                Anchor(r["end_segment_id"], r["end_offset"], r["e_iv"], r["e_pos"], r["e_len"]))

    def segment_facts(self) -> Iterator[SegmentFacts]:
        """Every segment in interview and position order, streamed (a large study has
        tens of thousands)."""
        sql = """
            SELECT s.id, s.interview_id, s.position, s.start_ms, s.end_ms, s.speaker_id,
                   sp.interview_id AS sp_iv, s.words, s.flags
            FROM segments s LEFT JOIN speakers sp ON sp.id = s.speaker_id
            ORDER BY s.interview_id, s.position, s.id"""
        for r in self.db.query(sql):
            yield SegmentFacts(r["id"], r["interview_id"], r["position"], r["start_ms"],
                               r["end_ms"], r["speaker_id"], r["sp_iv"], r["words"], r["flags"])

    def memos_without_target(self) -> list[tuple[int, str, int | None]]:
        """Memos (id, target kind, target id) whose target no longer exists."""
        found: list[tuple[int, str, int | None]] = []
        for target, table in MEMO_TABLES.items():
            found += [(r["id"], target, r["target_id"]) for r in self.rows(
                f"SELECT m.id, m.target_id FROM memos m WHERE m.target = ? AND NOT EXISTS "
                f"(SELECT 1 FROM {table} t WHERE t.id = m.target_id) ORDER BY m.id", (target,))]
        return found

    def theme_members_missing(self) -> list[tuple[int, int]]:
        """Theme memberships (theme id, code id) whose theme or code no longer exists."""
        return [(r["theme_id"], r["code_id"]) for r in self.rows(
            "SELECT tc.theme_id, tc.code_id FROM theme_codes tc "
            "WHERE NOT EXISTS (SELECT 1 FROM themes t WHERE t.id = tc.theme_id) "
            "OR NOT EXISTS (SELECT 1 FROM codes c WHERE c.id = tc.code_id) "
            "ORDER BY tc.theme_id, tc.code_id")]

    def anonymisation_leftovers(self) -> AnonymisationLeftovers | None:
        """None when no anonymisation is in force. Otherwise what its apply should have
        taken out of the study: rows older than the apply's audit entry. Rows added
        after it (identifiers registered, detection run, decisions taken for the next
        apply) are the researcher's new work, not leftovers."""
        runs = self.rows("SELECT key_id, applied_at FROM anonymisation_runs "
                         "WHERE reversed_at IS NULL ORDER BY id DESC LIMIT 1")
        if not runs:
            return None
        run = runs[0]
        applied = self.rows(
            f"SELECT max(a.id) AS id FROM audit_log a WHERE a.action = 'anonymisation applied' "
            f"AND {_audit_id('key_id')} = ?", (run["key_id"],))
        boundary = applied[0]["id"] if applied and applied[0]["id"] is not None else None
        after = boundary if boundary is not None else self.scalar(
            "SELECT coalesce(max(id), 0) FROM audit_log")
        originals = [r["identifier_id"] for r in self.rows(
            f"SELECT o.identifier_id FROM identifier_originals o WHERE NOT EXISTS ("
            f"SELECT 1 FROM audit_log a WHERE a.id > ? AND a.action = 'identifier registered' "
            f"AND {_audit_id('id')} = o.identifier_id) ORDER BY o.identifier_id", (after,))]
        detected_since = self.scalar(
            "SELECT count(*) FROM audit_log WHERE id > ? "
            "AND action = 'anonymisation candidates replaced'", (after,))
        candidates = [] if detected_since else [r["id"] for r in self.rows(
            "SELECT id FROM anonymisation_candidates ORDER BY id")]
        decisions = [r["id"] for r in self.rows(
            f"SELECT d.id FROM anonymisation_decisions d WHERE NOT EXISTS ("
            f"SELECT 1 FROM audit_log a WHERE a.id > ? AND a.action = 'anonymisation decision' "
            f"AND {_audit_id('segment')} = d.segment_id AND {_audit_id('start')} = "
            f"d.start_offset AND {_audit_id('end')} = d.end_offset) ORDER BY d.id", (after,))]
        return AnonymisationLeftovers(run["key_id"], run["applied_at"], boundary is not None,
                                      tuple(originals), tuple(candidates), tuple(decisions))

    def active_anonymisation_keys(self) -> list[tuple[str, str]]:
        """(key id, applied at) of every anonymisation in force, oldest first."""
        return [(r["key_id"], r["applied_at"]) for r in self.rows(
            "SELECT key_id, applied_at FROM anonymisation_runs WHERE reversed_at IS NULL "
            "ORDER BY id")]

    def media_files_in_use(self) -> list[tuple[int, str]]:
        """(interview id, media file name) for every interview with audio."""
        return [(r["id"], r["filename"]) for r in self.rows(
            "SELECT i.id, m.filename FROM interviews i JOIN media m ON m.id = i.media_id")]

    def table_counts(self) -> dict[str, int]:
        """How many of each kind of record the study holds, for the check's summary."""
        tables = ("participants", "interviews", "segments", "codes", "codings", "themes",
                  "memos")
        return {t: int(self.scalar(f"SELECT count(*) FROM {t}")) for t in tables}


def summarise_file(path: Path) -> FileSummary:
    """Counts from a study file opened read-only and immutable: never locks, migrates or
    writes it (not even a -wal file). Raises StudyDamagedError for a file SQLite cannot
    read."""
    uri = f"{Path(path).resolve().as_uri()}?immutable=1"
    with damage_as_study_error(path), closing(sqlite3.connect(uri, uri=True)) as conn:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type = 'table'")}

        def count(sql: str, table: str) -> int:
            return int(conn.execute(sql).fetchone()[0]) if table in tables else 0

        return FileSummary(
            version, count("SELECT count(*) FROM interviews", "interviews"),
            count("SELECT count(*) FROM codings", "codings"),
            bool(count("SELECT count(*) FROM anonymisation_runs WHERE reversed_at IS NULL",
                       "anonymisation_runs")))


def file_damage(path: Path) -> str | None:
    """SQLite's quick check of a study file, read-only and immutable; None when it
    passes, else the first problem it names."""
    uri = f"{Path(path).resolve().as_uri()}?immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
            if rows != ["ok"]:
                return f"its contents are damaged: {rows[0]}"
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        return f"its contents are damaged: {e}"
    if not tables and not version:
        return "it holds no study data"
    return None


__all__ = ["AnonymisationLeftovers", "ChecksMixin", "CodingAnchors", "FileSummary",
           "SegmentFacts", "damage_as_study_error", "damage_message", "file_damage",
           "summarise_file"]
