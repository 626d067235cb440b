"""The key file: plain SQLite or sealed with a passphrase, written atomically, read safely."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
from pathlib import Path

import pytest

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
from study.store.key_file import (
    MAGIC,
    KeyFile,
    KeyFileDamagedError,
    PassphraseRequiredError,
    WrongPassphraseError,
)

PASSPHRASE = "correct horse battery staple"


def record(key_id: str = "3f1c2d9e-0000-4000-8000-000000000001") -> AnonymisationRecord:
    before = Segment(1, 0, 0, 900, "Sarah rang.", 2,
                     (Word(" Sarah", 0, 400, 0.91), Word(" rang.", 400, 900, 0.88)),
                     (Flag(FlagKind.NOTE, 0, 400, "check Sarah"),), 11)
    after = Segment(1, 0, 0, 900, "[Name 1] rang.", 2,
                    (Word(" [Name 1]", 0, 400, 1.0), Word(" rang.", 400, 900, 0.88)),
                    (Flag(FlagKind.NOTE, 0, 400, "check [Name 1]"),), 11)
    swap = SpanSwap(0, 5, 0, 8, "Sarah", "[Name 1]", 7)
    return AnonymisationRecord(
        key_id=key_id,
        applied_at=dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC),
        registry=(KeyEntry(Identifier("person", "[Name 1]", "abc", (("gender", "f"),), 7,
                                      IdentifierRule.ALWAYS, 1), "Sarah"),),
        segments=(SegmentChange(before, after, (swap,)),),
        codings=(CodingChange(Coding(3, 1, 11, 0, 11, 5, 21), Coding(3, 1, 11, 0, 11, 8, 21)),),
        fields=(FieldChange("memos", 4, "text", "Sarah's son", "[Name 1]'s son",
                            (SpanSwap(0, 5, 0, 8, "Sarah", "[Name 1]", 7),)),
                FieldChange("interviews", 1, "status", "checked", "anonymised")),
        candidates=(Candidate(11, 0, 5, "Sarah", "person", "registered", 7, 31),),
        decisions=(AnonymisationDecision(7, 11, 0, 5, Decision.ACCEPT,
                                         dt.datetime(2025, 3, 1, 11, 0, tzinfo=dt.UTC), 41),),
        glossary=(GlossaryEntry(5, "Sarah", "the participant's manager"),),
    )


def new_key(path: Path, passphrase: str | None = None) -> KeyFile:
    return KeyFile.create(path, study_name="Carers study", salt="s4lt", passphrase=passphrase)


def test_plain_key_file_is_ordinary_sqlite_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "Carers.verbatim.key"
    with new_key(path) as key:
        key.add_run(record())
        assert key.save() == path
    assert path.read_bytes().startswith(b"SQLite format 3\x00")
    conn = sqlite3.connect(path)  # any SQLite tool reads it: the registry is who is who
    try:
        assert conn.execute("SELECT replacement, original FROM registry").fetchall() == [
            ("[Name 1]", "Sarah")]
    finally:
        conn.close()
    with KeyFile.open(path) as key:
        assert (key.study_name, key.salt, key.sealed) == ("Carers study", "s4lt", False)
        assert key.key_ids() == [record().key_id]
        assert key.has_run(record().key_id) and not key.has_run("other")
        assert key.record(record().key_id) == record()
        assert key.registry() == list(record().registry)


def test_sealed_key_file_round_trips_and_hides_its_contents(tmp_path: Path) -> None:
    path = tmp_path / "k.verbatim.key"
    with new_key(path, PASSPHRASE) as key:
        key.add_run(record())
        key.save()
    data = path.read_bytes()
    assert data.startswith(MAGIC)
    assert b"Sarah" not in data and b"SQLite" not in data
    assert KeyFile.is_sealed(path)
    with KeyFile.open(path, passphrase=PASSPHRASE) as key:
        assert key.sealed
        assert key.record(record().key_id) == record()
        key.set_passphrase(None)  # unseal: saved as plain SQLite from now on
        key.save()
    assert not KeyFile.is_sealed(path)
    with KeyFile.open(path) as key:
        assert key.record(record().key_id) == record()


def test_wrong_or_missing_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "k.verbatim.key"
    with new_key(path, PASSPHRASE) as key:
        key.save()
    with pytest.raises(WrongPassphraseError) as info:
        KeyFile.open(path, passphrase="wrong")
    assert str(info.value) == "The passphrase does not open this key file."
    assert isinstance(info.value, StudyError)
    with pytest.raises(PassphraseRequiredError, match="protected by a passphrase"):
        KeyFile.open(path)


def test_each_save_uses_a_fresh_salt_and_nonce(tmp_path: Path) -> None:
    path = tmp_path / "k.verbatim.key"
    with new_key(path, PASSPHRASE) as key:
        key.save()
        first = path.read_bytes()
        key.save()
        second = path.read_bytes()
    assert first[:len(MAGIC)] == second[:len(MAGIC)]
    assert first[len(MAGIC):len(MAGIC) + 28] != second[len(MAGIC):len(MAGIC) + 28]


@pytest.mark.parametrize("damage", ["truncated", "tail", "flipped", "header-only", "garbage",
                                    "empty"])
def test_damaged_sealed_files_are_refused_clearly(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "k.verbatim.key"
    with new_key(path, PASSPHRASE) as key:
        key.add_run(record())
        key.save()
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[:len(data) // 2]
    elif damage == "tail":
        data = data + b"x"
    elif damage == "flipped":
        data[-40] ^= 0x01
    elif damage == "header-only":
        data = data[:len(MAGIC) + 10]
    elif damage == "garbage":
        data = bytearray(b"not a key file at all" * 50)
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    with pytest.raises(StudyError) as info:
        KeyFile.open(path, passphrase=PASSPHRASE)
    if damage == "flipped":  # authenticated encryption cannot tell tampering from a typo
        assert isinstance(info.value, WrongPassphraseError)
    else:
        assert isinstance(info.value, KeyFileDamagedError)


@pytest.mark.parametrize("cut", [100, 4096, -1])
def test_damaged_plain_files_are_refused_clearly(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "k.verbatim.key"
    with new_key(path) as key:
        key.add_run(record())
        key.save()
    data = path.read_bytes()
    path.write_bytes(data[:cut] if cut > 0 else data[:16] + b"\xff" * (len(data) - 16))
    with pytest.raises(KeyFileDamagedError, match="damaged"):
        KeyFile.open(path)


def test_another_sqlite_database_is_not_a_key_file(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(KeyFileDamagedError):
        KeyFile.open(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no key file"):
        KeyFile.open(tmp_path / "nope.key")
    assert not KeyFile.is_sealed(tmp_path / "nope.key")


def test_saves_are_atomic_and_private(tmp_path: Path) -> None:
    path = tmp_path / "k.verbatim.key"
    path.write_bytes(b"previous")
    with new_key(path) as key:
        key.save()
    assert [p.name for p in tmp_path.iterdir()] == ["k.verbatim.key"]  # no temporary left
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = new_key(tmp_path / "missing-folder" / "k.key")
    with pytest.raises(StudyError, match="could not be written"):
        key.save()
    key.close()


def test_a_run_is_added_once_and_several_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "k.verbatim.key"
    with new_key(path) as key:
        key.add_run(record())
        with pytest.raises(StudyError, match="already holds"):
            key.add_run(record())
        later = record("3f1c2d9e-0000-4000-8000-000000000002")
        key.add_run(later.__class__(**{
            **{f: getattr(later, f) for f in later.__dataclass_fields__},
            "applied_at": dt.datetime(2025, 4, 1, tzinfo=dt.UTC)}))
        key.save()
    with KeyFile.open(path) as key:
        assert len(key.key_ids()) == 2
        with pytest.raises(NotFoundError):
            key.record("unknown")


def test_newer_key_file_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.verbatim.key"
    with new_key(path) as key:
        key.save()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE key_file SET format = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StudyError, match="newer version"):
        KeyFile.open(path)


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="cannot be empty"):
        new_key(tmp_path / "k.key", "")
