"""`python main.py check STUDY` as a user runs it: a real process, its output and its
exit code (0 sound, 1 problems or damage, 2 not a study), and the study left as it was.
Last, the whole workflow (import, transcribe, code, anonymise, export) run offline under
the no-network guard of tests/conftest.py, and the study it leaves checked sound."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from docx import Document

from analysis.anonymise.apply import apply_anonymisation
from analysis.anonymise.detect import detect_study
from analysis.exports.tables import codings_csv
from analysis.exports.transcript import export_transcript
from analysis.exports.word import quotes_report
from analysis.refi import export_qdpx
from study.folder import create_study, open_study
from study.model import (
    Code,
    Coding,
    IdentifierRule,
    Interview,
    InterviewStatus,
    Job,
    JobState,
    Participant,
    Segment,
)
from tests.conftest import NetworkGuard

ROOT = Path(__file__).resolve().parents[2]


def check(study: Path | str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VERBATIM_CONFIG_DIR": str(tmp_path / "config"),
           "PYTHONWARNINGS": "error"}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(study)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def make_study(tmp_path: Path) -> Path:
    with create_study(tmp_path / "Checked", name="Checked") as s:
        store = s.store
        pid = store.add_participant(Participant("P1")).new_id("participant")
        iid = store.add_interview(Interview("First", pid)).new_id("interview")
        seg = store.add_segments([Segment(iid, 0, 0, 1000, "Hello there."),
                                  Segment(iid, 1, 1000, 2000, "Hello again.")]).ids("segment")
        code = store.add_code(Code("Greeting")).new_id("code")
        store.add_coding(Coding(code, iid, seg[0], 0, seg[1], 5))
        store.add_job(Job("transcribe", iid, JobState.RUNNING))
        return s.folder.root


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_a_sound_study_is_ok_and_left_untouched(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    before = files(root)
    result = check(root, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.splitlines()[-1]
    assert last == ("OK: Checked: 1 participant, 1 interview, 2 segments, 1 code, 1 coding, "
                    "0 themes, 0 memos (1 warning).")
    assert "warning: job: Job 1 (transcribe) is marked running" in result.stdout
    assert result.stderr == ""
    assert files(root) == before  # no backup made, the running job not touched
    with open_study(root, backup=False, recover_jobs=False) as s:
        assert [j.state for j in s.store.jobs()] == [JobState.RUNNING]


def test_problems_are_listed_with_exit_code_1(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    with closing(sqlite3.connect(root / "study.sqlite", isolation_level=None)) as conn:
        conn.execute("UPDATE codings SET end_offset = 99")
        conn.execute("UPDATE segments SET position = 4 WHERE position = 1")
    result = check(root, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("error: coding: Coding 1 ") for line in lines)
    assert any(line.startswith("error: segment order: ") for line in lines)
    assert lines[-1] == "2 problems found in Checked."
    assert "OK" not in result.stdout


def test_a_truncated_study_is_damaged_with_exit_code_1(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    open_study(root).close()  # a rolling backup to point at
    db = root / "study.sqlite"
    db.write_bytes(db.read_bytes()[:-1000])
    result = check(root, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"DAMAGED: {db}: it is truncated")
    assert "Help > Restore from backup" in result.stdout


def test_a_wrong_header_is_damaged_with_exit_code_1(tmp_path: Path) -> None:
    root = make_study(tmp_path)
    db = root / "study.sqlite"
    db.write_bytes(b"Not a database at all" + db.read_bytes()[21:])
    result = check(root, tmp_path)
    assert result.returncode == 1
    assert "does not start with SQLite's header" in result.stdout


def test_a_folder_that_is_not_a_study_gives_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "Plain").mkdir()
    result = check(tmp_path / "Plain", tmp_path)
    assert result.returncode == 2
    assert "is not a Verbatim study" in result.stderr and result.stdout == ""
    assert check(tmp_path / "Nowhere.verbatim", tmp_path).returncode == 2


def test_a_missing_argument_gives_exit_code_2(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), "check"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "usage: verbatim check" in result.stderr


@pytest.mark.slow
def test_the_whole_workflow_runs_offline_and_checks_sound(
        tmp_path: Path, fixtures_dir: Path, no_network: NetworkGuard) -> None:
    """Import and transcription in a child process (`main.py transcribe`, guarded through
    the sitecustomize the fixture puts on PYTHONPATH), the rest in this one."""
    with create_study(tmp_path / "Offline", name="Offline") as s:
        root = s.folder.root
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "transcribe", str(root),
         str(fixtures_dir / "audio" / "jfk.flac"), "--fast", "--threads", "2"],
        capture_output=True, text=True, timeout=300, check=False, env=env)
    assert result.returncode == 0, result.stderr
    with open_study(root) as study:
        store, folder = study.store, study.folder
        (interview,) = store.interviews()
        assert interview.id is not None and interview.status is InterviewStatus.TRANSCRIBED
        segments = store.segments(interview.id)
        first = segments[0]
        assert first.id is not None and first.words
        speaker = store.add_participant(Participant("P1")).new_id("participant")
        store.update_interview(dataclasses.replace(interview, participant_id=speaker))
        code = store.add_code(Code("Civic duty")).new_id("code")
        store.add_coding(Coding(code, interview.id, first.id, 0, first.id, len(first.text)))
        store.register_identifier("country", "place", rule=IdentifierRule.ALWAYS)
        found = [c for c in detect_study(store) if c.text.lower() == "country"]  # with spaCy
        assert len(found) == 2  # "ask not what your country can do for you … your country"
        store.replace_candidates(found)
        applied = apply_anonymisation(store, folder)
        assert applied.replaced == len(found)
        text = export_transcript(store, interview.id, folder.exports / "jfk.txt", "txt"
                                 ).read_text(encoding="utf-8")
        assert "[Place 1]" in text and "country" not in text.lower()
        assert "Civic duty" in codings_csv(store, folder.exports / "codings.csv"
                                           ).read_text(encoding="utf-8")
        report = quotes_report(store, folder.exports / "quotes.docx", include_charts=False)
        quoted = "\n".join(p.text for p in Document(str(report)).paragraphs)
        assert "[Place 1]" in quoted and "country" not in quoted.lower()
        export_qdpx(study, folder.exports / "offline.qdpx")
        with zipfile.ZipFile(folder.exports / "offline.qdpx") as project:  # .qde and texts
            written = "\n".join(project.read(name).decode("utf-8")
                                for name in project.namelist() if name.endswith((".qde", ".txt")))
        assert "Civic duty" in written and "[Place 1]" in written
        assert "country" not in written.lower()
    checked = check(root, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1].startswith("OK: Offline: 1 participant, "
                                                      "1 interview")
    assert no_network.attempts() == []
