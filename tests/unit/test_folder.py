"""The study folder: layout, path forms, rolling backups, media import, key file."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest

from study.errors import NotAStudyError, StudyError
from study.folder import (
    BACKUPS_KEPT,
    Study,
    StudyFolder,
    backups,
    create_study,
    file_sha256,
    open_study,
    rolling_backup,
    study_path,
)
from study.model import Participant
from study.store import Store

T0 = dt.datetime(2026, 3, 31, 9, 0, 0)


def make_study(tmp_path: Path, name: str = "Ward study") -> Path:
    with create_study(tmp_path / name) as s:
        s.store.add_participant(Participant("MHCC-1", "Nurses"))
        s.store.add_participant(Participant("MHCC-2", "GPs"))
        return s.folder.root


# --- creating ---------------------------------------------------------------------------------


def test_create_study_makes_the_folder_layout(tmp_path: Path) -> None:
    with create_study(tmp_path / "Ward study", name="Ward study 2026") as s:
        root = tmp_path / "Ward study.verbatim"
        assert s.folder.root == root.resolve()
        for sub in ("media", "exports", "backups"):
            assert (root / sub).is_dir()
            assert list((root / sub).iterdir()) == []
        assert (root / "study.sqlite").is_file()
        assert s.name == "Ward study 2026"
        assert s.folder.name == "Ward study"
        assert s.store.audit_log()[0].action == "study created"
        assert s.store.salt() and len(s.store.salt()) == 32


def test_create_study_name_defaults_to_folder_name(tmp_path: Path) -> None:
    with create_study(tmp_path / "Ward study") as s:
        assert s.name == "Ward study"


def test_create_study_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    root = tmp_path / "Busy.verbatim"
    root.mkdir()
    (root / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(StudyError, match="already exists and is not empty"):
        create_study(root)
    assert [p.name for p in root.iterdir()] == ["thesis.docx"]
    assert (root / "thesis.docx").read_bytes() == b"precious"


def test_create_study_refuses_an_existing_study(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    with pytest.raises(StudyError, match="not empty"):
        create_study(root)
    with open_study(root, backup=False) as s:
        assert len(s.store.participants()) == 2


def test_create_study_accepts_an_empty_existing_folder(tmp_path: Path) -> None:
    root = tmp_path / "Ready.verbatim"
    root.mkdir()
    with create_study(root) as s:
        assert s.folder.database.is_file()


# --- paths ------------------------------------------------------------------------------------


def test_study_path_accepts_folder_database_and_bare_name(tmp_path: Path) -> None:
    root = (tmp_path / "Ward study.verbatim").resolve()
    assert study_path(tmp_path / "Ward study.verbatim") == root
    assert study_path(tmp_path / "Ward study.verbatim" / "study.sqlite") == root
    assert study_path(tmp_path / "Ward study") == root
    assert study_path(str(tmp_path / "Ward study")) == root


def test_study_path_keeps_an_existing_folder_without_the_suffix(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert study_path(tmp_path / "plain") == (tmp_path / "plain").resolve()


def test_open_study_by_every_path_form(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    for form in (root, root / "study.sqlite", tmp_path / "Ward study", str(root)):
        with open_study(form, backup=False) as s:
            assert s.folder.root == root
            assert [p.code for p in s.store.participants()] == ["MHCC-1", "MHCC-2"]


def test_key_file_is_beside_the_study_not_inside(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    key = StudyFolder(root).key_file
    assert key.parent == root.parent
    assert key.name == "Ward study.verbatim.key"
    assert root not in key.parents
    # so copying or sharing the study folder never carries the key along
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    assert not any(p.name.endswith(".key") for p in copy.rglob("*"))


def test_open_missing_study(tmp_path: Path) -> None:
    with pytest.raises(NotAStudyError, match="not a Verbatim study"):
        open_study(tmp_path / "Missing")


# --- backups ----------------------------------------------------------------------------------


def test_open_study_makes_a_backup(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    assert backups(StudyFolder(root)) == []
    with open_study(root) as s:
        (made,) = backups(s.folder)
        assert made.parent == root / "backups"
        assert made.name.startswith("study-") and made.suffix == ".sqlite"
    assert not list((root / "backups").glob("*.partial"))


def test_second_open_within_the_hour_makes_no_backup(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    with open_study(root):
        pass
    first = backups(StudyFolder(root))
    assert len(first) == 1
    with open_study(root):
        pass
    assert backups(StudyFolder(root)) == first


def test_open_without_backup(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    with open_study(root, backup=False):
        pass
    assert backups(StudyFolder(root)) == []


def test_open_recreates_missing_subfolders(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    shutil.rmtree(root / "backups")
    shutil.rmtree(root / "exports")
    with open_study(root) as s:
        assert (root / "exports").is_dir()
        assert len(backups(s.folder)) == 1


def test_rolling_backup_at_most_one_an_hour(study: Study) -> None:
    first = rolling_backup(study.store, study.folder, at=T0)
    assert first is not None and first.is_file()
    assert rolling_backup(study.store, study.folder, at=T0 + dt.timedelta(minutes=59)) is None
    later = rolling_backup(study.store, study.folder, at=T0 + dt.timedelta(hours=1))
    assert later is not None and later != first
    assert backups(study.folder) == [later, first]


def test_rolling_backup_keeps_only_the_last_ten(study: Study) -> None:
    made = [rolling_backup(study.store, study.folder, at=T0 + dt.timedelta(hours=h))
            for h in range(BACKUPS_KEPT + 3)]
    assert all(p is not None for p in made)
    kept = backups(study.folder)
    assert BACKUPS_KEPT == 10
    assert len(kept) == 10
    assert kept == sorted(made[3:], reverse=True)  # type: ignore[type-var]
    assert sorted(p.name for p in (study.folder.backups).iterdir()) == sorted(
        p.name for p in kept)


def test_backups_sorted_newest_first_across_days(study: Study) -> None:
    stamps = [dt.datetime(2025, 12, 31, 23, 30), dt.datetime(2026, 1, 1, 1, 0),
              dt.datetime(2026, 1, 10, 8, 0)]
    for at in stamps:
        rolling_backup(study.store, study.folder, at=at)
    names = [p.name for p in backups(study.folder)]
    assert names == ["study-20260110-080000.sqlite", "study-20260101-010000.sqlite",
                     "study-20251231-233000.sqlite"]


def test_a_backup_is_a_valid_study_with_the_same_data(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    with open_study(root) as s:
        expected = s.store.participants()
        (backup,) = backups(s.folder)
        s.store.add_participant(Participant("MHCC-3"))  # after the backup: not in it
    restored = tmp_path / "Restored.verbatim"
    restored.mkdir()
    shutil.copyfile(backup, restored / "study.sqlite")
    with open_study(restored) as r:
        assert r.store.participants() == expected
        assert r.store.integrity_errors() == []
        assert r.name == "Ward study"


def test_backup_taken_while_a_write_is_pending_is_consistent(study: Study,
                                                             tmp_path: Path) -> None:
    study.store.add_participant(Participant("P1"))
    target = tmp_path / "copy.sqlite"
    with Store(study.folder.database) as other, other.write():
        other.add_participant(Participant("P2"))
        study.store.backup_to(target)
    with Store(target) as copy:
        assert [p.code for p in copy.participants()] == ["P1"]


# --- media ------------------------------------------------------------------------------------


def test_import_media_file_copies_by_sha256(study: Study, tmp_path: Path) -> None:
    source = tmp_path / "Interview 1.WAV"
    content = b"RIFF" + bytes(range(256)) * 50
    source.write_bytes(content)
    sha, filename = study.import_media_file(source)
    assert sha == hashlib.sha256(content).hexdigest() == file_sha256(source)
    assert filename == f"{sha}.wav"
    target = study.folder.media / filename
    assert target.read_bytes() == content
    assert source.read_bytes() == content  # the original is left in place
    assert [p.name for p in study.folder.media.iterdir()] == [filename]


def test_import_media_file_dedups_identical_content(study: Study, tmp_path: Path) -> None:
    a = tmp_path / "a.wav"
    b = tmp_path / "renamed copy.Wav"
    other = tmp_path / "other.wav"
    a.write_bytes(b"same audio")
    b.write_bytes(b"same audio")
    other.write_bytes(b"different audio")
    first = study.import_media_file(a)
    stored = study.folder.media / first[1]
    mtime = stored.stat().st_mtime_ns
    assert study.import_media_file(b) == first
    assert stored.stat().st_mtime_ns == mtime  # not copied again
    third = study.import_media_file(other)
    assert third[0] != first[0]
    assert sorted(p.name for p in study.folder.media.iterdir()) == sorted(
        [first[1], third[1]])


def test_import_media_file_recreates_media_folder(study: Study, tmp_path: Path) -> None:
    shutil.rmtree(study.folder.media)
    source = tmp_path / "x.ogg"
    source.write_bytes(b"ogg")
    _, filename = study.import_media_file(source)
    assert (study.folder.media / filename).read_bytes() == b"ogg"
    assert not list(study.folder.media.glob("*.partial"))
