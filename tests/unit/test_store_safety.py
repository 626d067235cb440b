"""The study file is opened safely: WAL, foreign keys, atomic writes, version guard,
clear errors for files that are not (or no longer) studies."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from study.errors import NotAStudyError, SchemaTooNewError, StudyDamagedError, StudyError
from study.folder import Study, create_study, open_study
from study.model import AttributeDef, AttributeType, Changes, Interview, Participant, Segment
from study.store import CURRENT_VERSION, Store
from study.store.connection import BUSY_TIMEOUT_MS


def plain(path: Path) -> closing[sqlite3.Connection]:
    """A plain sqlite3 connection for looking at the file from outside the store."""
    return closing(sqlite3.connect(path))


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in the folder (recursively) with its bytes and mtime."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def closed_study(tmp_path: Path, name: str = "Safe") -> Path:
    with create_study(tmp_path / name) as s:
        s.store.add_participant(Participant("P1", "Nurses"))
        return s.folder.root


# --- pragmas ----------------------------------------------------------------------------------


def test_file_is_in_wal_mode(study: Study) -> None:
    with plain(study.folder.database) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_and_busy_timeout_are_on(study: Study) -> None:
    db = study.store.db
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    assert BUSY_TIMEOUT_MS >= 1000


def test_schema_version_is_current(study: Study) -> None:
    assert study.store.study_info().schema_version == CURRENT_VERSION
    with plain(study.folder.database) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == CURRENT_VERSION


def test_close_leaves_one_self_contained_file(tmp_path: Path) -> None:
    root = closed_study(tmp_path)
    assert not (root / "study.sqlite-wal").exists()
    lone = tmp_path / "elsewhere" / "study.sqlite"
    lone.parent.mkdir()
    shutil.copyfile(root / "study.sqlite", lone)
    with Store(lone) as store:
        assert [p.code for p in store.participants()] == ["P1"]


# --- atomic writes ----------------------------------------------------------------------------


def test_invalid_attribute_value_writes_no_participant(study: Study) -> None:
    store = study.store
    store.add_attribute_def(AttributeDef("years", AttributeType.NUMBER))
    store.add_attribute_def(AttributeDef("role"))
    with pytest.raises(StudyError, match="years"):
        store.add_participant(Participant("P1", attributes=(("role", "GP"), ("years", "many"))))
    with plain(study.folder.database) as conn:
        assert conn.execute("SELECT count(*) FROM participants").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM participant_attributes").fetchone()[0] == 0
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log")]
    assert "participant added" not in actions


def test_error_inside_an_outer_write_undoes_every_inner_write(study: Study) -> None:
    store = study.store
    heard: list[Changes] = []
    store.subscribe(heard.append)
    with pytest.raises(RuntimeError, match="half-way"), store.write():
        store.add_participant(Participant("P1"))
        store.add_interview(Interview("I1"))
        raise RuntimeError("half-way")
    assert store.participants() == []
    assert store.interviews() == []
    assert heard == []
    # the store is usable afterwards
    store.add_participant(Participant("P2"))
    assert [p.code for p in store.participants()] == ["P2"]


def test_nested_writes_notify_once_with_everything(study: Study) -> None:
    store = study.store
    heard: list[Changes] = []
    store.subscribe(heard.append)
    with store.write():
        a = store.add_participant(Participant("P1")).new_id("participant")
        i = store.add_interview(Interview("I1", participant_id=a)).new_id("interview")
        assert heard == []
    (changes,) = heard
    assert changes.ids("participant") == (a,)
    assert changes.ids("interview") == (i,)


def test_database_rule_violation_rolls_back_the_whole_batch(study: Study) -> None:
    store = study.store
    iid = store.add_interview(Interview("I")).new_id("interview")
    with pytest.raises(StudyError, match="breaks a rule"):
        store.add_segments([Segment(iid, 0, 0, 10, "ok"), Segment(404, 1, 10, 20, "orphan")])
    assert store.segments(iid) == []


# --- the schema-version guard -------------------------------------------------------------------


def test_newer_schema_refused_and_file_untouched(tmp_path: Path) -> None:
    root = closed_study(tmp_path)
    with plain(root / "study.sqlite") as conn:
        conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    before = snapshot(root)
    with pytest.raises(SchemaTooNewError, match="Update Verbatim") as info:
        open_study(root)
    assert f"schema {CURRENT_VERSION + 1}" in str(info.value)
    assert snapshot(root) == before
    assert list((root / "backups").iterdir()) == []


def test_newer_schema_in_rollback_journal_mode_is_not_switched_to_wal(tmp_path: Path) -> None:
    """Opening must not rewrite even the header of a file it refuses."""
    root = closed_study(tmp_path)
    with plain(root / "study.sqlite") as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 5}")
    before = snapshot(root)
    with pytest.raises(SchemaTooNewError):
        open_study(root)
    assert snapshot(root) == before


def test_newer_schema_refused_by_store_directly(tmp_path: Path) -> None:
    root = closed_study(tmp_path)
    with plain(root / "study.sqlite") as conn:
        conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    with pytest.raises(SchemaTooNewError):
        Store(root / "study.sqlite")


# --- files that are not studies -----------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"This is a note, not a database.\n" * 10, b"\x00" * 4096,
     b"SQLite format 2\x00" + b"x" * 200],
)
def test_non_sqlite_file_is_reported_damaged(tmp_path: Path, content: bytes) -> None:
    root = tmp_path / "Broken.verbatim"
    root.mkdir()
    (root / "study.sqlite").write_bytes(content)
    with pytest.raises(StudyDamagedError, match="backup"):
        open_study(root)
    assert (root / "study.sqlite").read_bytes() == content


def test_sqlite_header_with_garbage_body_is_reported_damaged(tmp_path: Path) -> None:
    root = tmp_path / "Broken.verbatim"
    root.mkdir()
    (root / "study.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(StudyDamagedError):
        open_study(root)


def test_truncated_study_is_reported_damaged(tmp_path: Path) -> None:
    root = closed_study(tmp_path)
    db = root / "study.sqlite"
    data = db.read_bytes()
    db.write_bytes(data[:1024])  # the header survives, the pages do not
    with pytest.raises(StudyDamagedError), open_study(root, backup=False) as s:
        s.store.participants()


def test_sqlite_file_of_another_app_is_not_a_study_and_is_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "Other.verbatim"
    root.mkdir()
    with plain(root / "study.sqlite") as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('Ann')")
        conn.commit()
    before = snapshot(root)
    with pytest.raises(NotAStudyError, match="not a Verbatim study"):
        open_study(root)
    assert snapshot(root) == before
    with plain(root / "study.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_missing_folder_is_not_a_study(tmp_path: Path) -> None:
    with pytest.raises(NotAStudyError):
        open_study(tmp_path / "Nowhere.verbatim")
    assert not (tmp_path / "Nowhere.verbatim").exists()


def test_folder_without_database_is_not_a_study(tmp_path: Path) -> None:
    (tmp_path / "Empty.verbatim").mkdir()
    with pytest.raises(NotAStudyError, match=r"no study\.sqlite"):
        open_study(tmp_path / "Empty.verbatim")


def test_empty_database_file_is_not_a_study(tmp_path: Path) -> None:
    root = tmp_path / "Zero.verbatim"
    root.mkdir()
    (root / "study.sqlite").write_bytes(b"")
    with pytest.raises(NotAStudyError):
        open_study(root)
    assert (root / "study.sqlite").read_bytes() == b""


# --- concurrency ------------------------------------------------------------------------------


def test_second_store_reads_what_the_first_committed(study: Study) -> None:
    first = study.store
    with Store(study.folder.database) as second:
        assert second.participants() == []
        id_ = first.add_participant(Participant("P1", "Nurses")).new_id("participant")
        assert second.participant(id_) == first.participant(id_)
        with first.write():
            first.add_participant(Participant("P2"))
            # not committed yet: the other connection still sees the old state
            assert [p.code for p in second.participants()] == ["P1"]
        assert [p.code for p in second.participants()] == ["P1", "P2"]
        second.add_participant(Participant("P3"))
        assert [p.code for p in first.participants()] == ["P1", "P2", "P3"]


def test_listeners_are_per_store(study: Study) -> None:
    heard: list[Changes] = []
    study.store.subscribe(heard.append)
    with Store(study.folder.database) as other:
        other.add_participant(Participant("P1"))
    assert heard == []


# --- integrity and persistence ------------------------------------------------------------------


def test_integrity_errors_empty_on_a_healthy_study(study: Study) -> None:
    store = study.store
    pid = store.add_participant(Participant("P1")).new_id("participant")
    iid = store.add_interview(Interview("I", participant_id=pid)).new_id("interview")
    store.add_segments([Segment(iid, 0, 0, 10, "hello")])
    assert store.integrity_errors() == []


def test_integrity_errors_report_a_dangling_reference(study: Study) -> None:
    with plain(study.folder.database) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("INSERT INTO segments (interview_id, position, start_ms, end_ms, text) "
                     "VALUES (404, 0, 0, 1, 'orphan')")
        conn.commit()
    (problem,) = study.store.integrity_errors()
    assert "segments row 1" in problem
    assert "interviews" in problem


def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    with create_study(tmp_path / "Keep", name="Keep me") as s:
        s.store.add_attribute_def(AttributeDef("years", AttributeType.NUMBER))
        pid = s.store.add_participant(Participant("P1", "GPs", (("years", 4),))).new_id(
            "participant")
        iid = s.store.add_interview(Interview("First", participant_id=pid)).new_id("interview")
        s.store.add_segments([Segment(iid, 0, 0, 10, "hello")])
        saved = (s.store.participants(), s.store.interviews(), s.store.segments(iid))
        root = s.folder.root
    with open_study(root) as s:
        assert s.name == "Keep me"
        assert (s.store.participants(), s.store.interviews(), s.store.segments(iid)) == saved
        assert s.store.study_info().created_at is not None
        assert s.store.integrity_errors() == []
