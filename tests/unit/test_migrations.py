"""Migrations: every earlier schema version opens and ends up exactly like a new study.

When you append a migration to study/store/schema.py, add a SEED entry for the
version it migrates *from* (data valid for that schema, written with plain SQL), so
the data-survival test covers it. test_every_version_has_seed_data enforces this.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from study.errors import NotAStudyError, StudyError
from study.folder import create_study, open_study
from study.model import (
    AnalysisPhase,
    Decision,
    InterviewStatus,
    JobState,
    MemoTarget,
    Participant,
    ThemeStatus,
)
from study.store import Store, connection
from study.store.schema import CURRENT_VERSION, MIGRATIONS


def plain(path: Path) -> closing[sqlite3.Connection]:
    return closing(sqlite3.connect(path))


def build_at(path: Path, version: int) -> None:
    """A database at `version`, made by hand the way an older Verbatim left it."""
    with plain(path) as conn:
        for step in MIGRATIONS[:version]:
            conn.executescript(step)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()
        if version:
            SEED[version](conn)
            conn.commit()


def schema_of(path: Path) -> list[tuple[str, str, str, str]]:
    with plain(path) as conn:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    return [(t, n, tbl, " ".join((sql or "").split())) for t, n, tbl, sql in rows]


def user_version(path: Path) -> int:
    with plain(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def dump(path: Path) -> list[str]:
    with plain(path) as conn:
        return list(conn.iterdump())


@pytest.fixture(scope="module")
def fresh_schema(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str]]:
    with create_study(tmp_path_factory.mktemp("fresh") / "Fresh") as s:
        path = s.folder.database
    return schema_of(path)


# --- data valid for each old version ----------------------------------------------------------


def seed_v1(conn: sqlite3.Connection) -> None:
    conn.executescript("""
        INSERT INTO study (id, name, description, created_at, salt)
            VALUES (1, 'Old study', 'from v1', '2025-01-02T03:04:05+00:00', 'abc123');
        INSERT INTO attribute_defs (name, type, choices, position)
            VALUES ('years', 'number', '[]', 1), ('site', 'choice', '["North", "South"]', 2);
        INSERT INTO participants (id, code, group_name, notes) VALUES (7, 'MHCC-1', 'Nurses', 'n');
        INSERT INTO participant_attributes (participant_id, name, value)
            VALUES (7, 'years', '12.0'), (7, 'site', 'North');
        INSERT INTO media (id, sha256, filename, original_name, duration_ms)
            VALUES (3, 'ab', 'ab.wav', 'one.wav', 9000);
        INSERT INTO interviews (id, participant_id, title, date, media_id, duration_ms, status)
            VALUES (5, 7, 'First', '2025-01-01', 3, 9000, 'coded');
        INSERT INTO speakers (id, interview_id, label, role, participant_id)
            VALUES (2, 5, 'MHCC-1', 'participant', 7);
        INSERT INTO segments (id, interview_id, position, start_ms, end_ms, speaker_id, text,
                              words, flags)
            VALUES (11, 5, 0, 0, 1500, 2, 'Hello there', '[["Hello", 0, 700, 0.9]]',
                    '[["note", 0, 700, "check"]]'),
                   (12, 5, 1, 1500, 3000, 2, 'General Kenobi', '[]', '[]');
        INSERT INTO codes (id, parent_id, name, colour) VALUES (20, NULL, 'Greeting', '#112233');
        INSERT INTO codes (id, parent_id, name) VALUES (21, 20, 'Formal');
        INSERT INTO codings (id, code_id, interview_id, start_segment_id, start_offset,
                             end_segment_id, end_offset) VALUES (30, 21, 5, 11, 0, 12, 7);
        INSERT INTO themes (id, name, status) VALUES (40, 'Openings', 'reviewed');
        INSERT INTO theme_codes (theme_id, code_id) VALUES (40, 20);
        INSERT INTO memos (target, target_id, text, created_at, updated_at)
            VALUES ('code', 20, 'a memo', '2025-01-02T00:00:00+00:00',
                    '2025-01-02T00:00:00+00:00');
        INSERT INTO journal (phase, text, created_at)
            VALUES ('generating codes', 'thinking', '2025-01-03T00:00:00+00:00');
        INSERT INTO identifiers (id, category, replacement, original_hash, attributes)
            VALUES (50, 'person', '[Jedi]', 'h1', '{}');
        INSERT INTO anonymisation_decisions (identifier_id, segment_id, start_offset,
                                             end_offset, decision, decided_at)
            VALUES (50, 12, 8, 14, 'accept', '2025-01-04T00:00:00+00:00');
        INSERT INTO jobs (kind, interview_id, state, done_ms, total_ms, created_at, updated_at)
            VALUES ('transcribe', 5, 'done', 3000, 3000, '2025-01-01T00:00:00+00:00',
                    '2025-01-01T00:00:00+00:00');
        INSERT INTO audit_log (at, action, detail)
            VALUES ('2025-01-02T03:04:05+00:00', 'study created', '{}');
    """)


def seed_v2(conn: sqlite3.Connection) -> None:
    seed_v1(conn)
    conn.execute("UPDATE codes SET map_x = 10.5, map_y = -3 WHERE id = 20")


def seed_v3(conn: sqlite3.Connection) -> None:
    seed_v2(conn)
    conn.executescript("""
        UPDATE identifiers SET rule = 'always', word_count = 2 WHERE id = 50;
        INSERT INTO identifier_originals (identifier_id, original) VALUES (50, 'Obi-Wan');
        INSERT INTO anonymisation_candidates (segment_id, start_offset, end_offset, text,
                                              category, source, identifier_id)
            VALUES (12, 8, 14, 'Kenobi', 'person', 'ner', 50);
        INSERT INTO replacement_scheme (category, template) VALUES ('person', '[Jedi {n}]');
    """)


SEED: dict[int, Callable[[sqlite3.Connection], None]] = {1: seed_v1, 2: seed_v2, 3: seed_v3}


def check_seed_survived(store: Store) -> None:
    """What every SEED wrote, read back through today's store."""
    info = store.study_info()
    assert (info.name, info.description) == ("Old study", "from v1")
    assert info.created_at == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert store.participants() == [
        Participant("MHCC-1", "Nurses", (("years", 12), ("site", "North")), "n", 7)]
    (interview,) = store.interviews()
    assert (interview.id, interview.title, interview.date, interview.status) == (
        5, "First", dt.date(2025, 1, 1), InterviewStatus.CODED)
    assert store.media(3).original_name == "one.wav"
    assert [s.label for s in store.speakers(5)] == ["MHCC-1"]
    segments = store.segments(5)
    assert [s.text for s in segments] == ["Hello there", "General Kenobi"]
    assert segments[0].words[0].text == "Hello"
    assert segments[0].flags[0].note == "check"
    (coding,) = store.codings()
    assert store.coded_text(coding) == "Hello there General"
    assert store.code(21).parent_id == 20
    (theme,) = store.themes()
    assert (theme.status, theme.code_ids) == (ThemeStatus.REVIEWED, (20,))
    assert [m.text for m in store.memos(MemoTarget.CODE, 20)] == ["a memo"]
    assert [e.phase for e in store.journal()] == [AnalysisPhase.GENERATING_CODES]
    assert [d.decision for d in store.decisions(50)] == [Decision.ACCEPT]
    assert [j.state for j in store.jobs()] == [JobState.DONE]
    assert any(e.action == "study created" for e in store.audit_log())
    assert store.integrity_errors() == []
    assert store.scalar("SELECT rowid FROM segments_fts WHERE segments_fts MATCH 'kenobi'") == 12


# --- tests ------------------------------------------------------------------------------------


def test_every_version_has_seed_data() -> None:
    assert set(SEED) == set(range(1, CURRENT_VERSION + 1))


def test_migrations_are_numbered_by_position() -> None:
    assert len(MIGRATIONS) == CURRENT_VERSION >= 1


@pytest.mark.parametrize("version", range(CURRENT_VERSION))
def test_migrates_from_every_earlier_version(tmp_path: Path, version: int,
                                             fresh_schema: list[tuple[str, str, str, str]]
                                             ) -> None:
    path = tmp_path / "study.sqlite"
    build_at(path, version)
    assert user_version(path) == version
    # version 0 is a blank database: only creating a study starts from there
    with Store(path, create=version == 0, name="Old study") as store:
        assert store.study_info().schema_version == CURRENT_VERSION
        if version:
            check_seed_survived(store)
            if version >= 2:
                assert store.code_map_positions() == {20: (10.5, -3.0)}
            if version >= 3:
                assert store.scalar("SELECT original FROM identifier_originals") == "Obi-Wan"
        assert store.integrity_errors() == []
    assert user_version(path) == CURRENT_VERSION
    assert schema_of(path) == fresh_schema


def test_current_version_built_by_hand_matches_a_new_study(
        tmp_path: Path, fresh_schema: list[tuple[str, str, str, str]]) -> None:
    """The seed data and the hand-built schema agree with what the store writes."""
    path = tmp_path / "study.sqlite"
    build_at(path, CURRENT_VERSION)
    before = dump(path)
    with Store(path) as store:
        check_seed_survived(store)
    assert schema_of(path) == fresh_schema
    assert dump(path) == before  # opening an up-to-date study changes nothing


def test_blank_database_is_not_turned_into_a_half_study(tmp_path: Path) -> None:
    """Opening (not creating) a blank SQLite file must neither migrate nor change it."""
    path = tmp_path / "study.sqlite"
    build_at(path, 0)
    before = path.read_bytes()
    with pytest.raises(NotAStudyError, match="empty database"):
        Store(path)
    assert path.read_bytes() == before
    assert schema_of(path) == []


def extend_migrations(monkeypatch: pytest.MonkeyPatch, step: str) -> int:
    """Pretend this Verbatim ships one more migration. connection.py imported the
    names, so patch them there; migrate()'s `target` default was bound at import."""
    new_version = CURRENT_VERSION + 1
    monkeypatch.setattr(connection, "MIGRATIONS", (*MIGRATIONS, step))
    monkeypatch.setattr(connection, "CURRENT_VERSION", new_version)
    monkeypatch.setattr(connection.migrate, "__defaults__", (new_version,))
    return new_version


def make_current_study(tmp_path: Path) -> Path:
    with create_study(tmp_path / "Current") as s:
        s.store.add_participant(Participant("P1", "GPs"))
        s.store.add_participant(Participant("P2", "Nurses"))
        return s.folder.root


def test_an_extra_migration_runs_and_keeps_data(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks the patching below really makes the store run a new step."""
    root = make_current_study(tmp_path)
    new_version = extend_migrations(
        monkeypatch, "CREATE TABLE extra (id INTEGER PRIMARY KEY);"
                     "ALTER TABLE participants ADD COLUMN pronouns TEXT NOT NULL DEFAULT '';")
    with open_study(root, backup=False) as s:
        assert s.store.study_info().schema_version == new_version
        assert [p.code for p in s.store.participants()] == ["P1", "P2"]
    assert user_version(root / "study.sqlite") == new_version


def test_a_migration_failing_half_way_leaves_the_study_untouched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_current_study(tmp_path)
    db = root / "study.sqlite"
    before_dump, before_bytes = dump(db), db.read_bytes()
    extend_migrations(
        monkeypatch,
        "CREATE TABLE extra (id INTEGER PRIMARY KEY);"
        "INSERT INTO extra VALUES (1);"
        "ALTER TABLE participants ADD COLUMN pronouns TEXT NOT NULL DEFAULT '';"
        "UPDATE participants SET group_name = 'changed';"
        "INSERT INTO no_such_table VALUES (1);",
    )
    with pytest.raises(StudyError, match=r"could not be upgraded.*no_such_table"):
        open_study(root)
    assert user_version(db) == CURRENT_VERSION
    assert dump(db) == before_dump
    assert db.read_bytes() == before_bytes
    assert not (root / "study.sqlite-wal").exists()
    # The only thing written is the copy kept from before the upgrade, itself the old study.
    (kept,) = (root / "backups").iterdir()
    assert kept.name.startswith(f"before-schema-{CURRENT_VERSION + 1}-")
    assert user_version(kept) == CURRENT_VERSION and dump(kept) == before_dump
    monkeypatch.undo()
    with open_study(root, backup=False) as s:  # still opens with the old schema
        assert [p.group for p in s.store.participants()] == ["GPs", "Nurses"]
