"""Fuzzing the study file: a damaged study.sqlite (or -wal) is refused or reported, never
a crash, and never quietly passed off as sound.

A small study much like the demo (participants, interviews with speakers and segments,
codes, codings, themes, memos, the journal, registered identifiers, the search index)
is made once; Hypothesis then damages copies of its database at random places: bytes
flipped or overwritten, the header's fields set to odd values, whole pages zeroed,
filled with junk or copied from elsewhere, the file cut short or grown. A second copy
keeps recent work in its -wal file, which is damaged (header, frame headers, pages),
cut short, swapped for another study's or left out.

The property, for every damaged study: open_study (as the app opens: with its rolling
backup and job recovery; and as `verbatim check` opens: with neither) either raises a
StudyError subclass, having written nothing (the database and -wal byte for byte as they
were, no backup of the damaged file left behind), or opens the study; then
check_study and SQLite's integrity check report problems or none, without raising
anything but a StudyError. And a study SQLite itself finds damaged is never opened
and then declared healthy: either the open refuses it or check_study reports an error.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from study.consistency import check_study
from study.errors import StudyError
from study.folder import Study, create_study, open_study
from study.model import (
    AnalysisPhase,
    AttributeDef,
    AttributeType,
    Code,
    Coding,
    Interview,
    InterviewStatus,
    Job,
    JobState,
    JournalEntry,
    Memo,
    MemoTarget,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Theme,
)
from study.store.checks import damage_as_study_error
from tests.fuzzing import fuzz

DATABASE = "study.sqlite"



# --- the study to damage ---------------------------------------------------------------------

SAYINGS = ["I have worked on the ward for twelve years, give or take.",
           "Zoë from the night shift said the handover is the hardest part.",
           "Honestly? The rota. Always the rota. 😅",
           "We talk in the corridor, because the office is never free.",
           "مرحبا — some of the families speak Arabic, and we have no interpreter.",
           "When the manager changed, everything changed with her."]


def fill(study: Study, n: int) -> None:
    """Two interviews' worth of work, numbered `n` so a second call adds different rows."""
    store = study.store
    if not store.attribute_defs():
        store.add_attribute_def(AttributeDef("Role"))
        store.add_attribute_def(AttributeDef("Years", AttributeType.NUMBER))
    with store.write():
        parent = store.add_code(Code(f"Workload {n}", definition="Time and staffing")
                                ).new_id("code")
        child = store.add_code(Code(f"Rota {n}", parent, colour="#e15759")).new_id("code")
        for p in range(2):
            code = f"P-{n}{p} Łódź"
            pid = store.add_participant(Participant(
                code, "Nurses" if p else "Doctors", (("Role", "Sister"), ("Years", 12 + p)))
            ).new_id("participant")
            iid = store.add_interview(Interview(f"Interview {code}", pid, duration_ms=60_000,
                                                status=InterviewStatus.TRANSCRIBED)
                                      ).new_id("interview")
            interviewer = store.add_speaker(Speaker(iid, "Interviewer",
                                                    SpeakerRole.INTERVIEWER)).new_id("speaker")
            them = store.add_speaker(Speaker(iid, code, SpeakerRole.PARTICIPANT, pid)
                                     ).new_id("speaker")
            ids = store.add_segments(
                Segment(iid, k, k * 1000, k * 1000 + 900, SAYINGS[k % len(SAYINGS)] * 3,
                        interviewer if k % 2 == 0 else them)
                for k in range(40)).ids("segment")
            for k in range(0, 40, 4):
                store.add_coding(Coding(child if k % 8 else parent, iid, ids[k], 0,
                                        ids[k + 1], 10))
            store.add_memo(Memo(MemoTarget.SEGMENT, f"Memo {n}{p} on a line", ids[3], 2, 9))
            store.add_memo(Memo(MemoTarget.INTERVIEW, "Quiet room, good audio.", iid))
        store.add_theme(Theme(f"Stretched thin {n}", "Too few people", code_ids=(parent, child)))
        store.add_journal_entry(JournalEntry(f"Entry {n}: first pass done.",
                                             AnalysisPhase.GENERATING_CODES))
        store.add_job(Job("transcribe", iid, JobState.DONE))
    store.register_identifier(f"Zoë Brontë {n}", "person")


@dataclass(frozen=True)
class Originals:
    """The files of a sound study: one closed (no -wal), one with recent work in -wal."""

    closed: bytes
    with_wal: bytes
    wal: bytes
    other_wal: bytes  # another study's -wal, with other salts


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Originals:
    folder = tmp_path_factory.mktemp("originals")
    with create_study(folder / "Ward", name="Ward study") as study:
        fill(study, 0)
    closed = study.folder.database.read_bytes()
    # Recent work stays in the -wal until the last connection closes: copy both while open.
    with open_study(study.folder.root, backup=False) as again:
        fill(again, 1)
        with_wal = again.folder.database.read_bytes()
        wal = again.folder.database.with_name(DATABASE + "-wal").read_bytes()
    with create_study(folder / "Other", name="Other") as other:
        fill(other, 2)
    with open_study(other.folder.root, backup=False) as reopened:
        fill(reopened, 3)
        other_wal = reopened.folder.database.with_name(DATABASE + "-wal").read_bytes()
    assert wal and other_wal and len(closed) > 20 * 4096
    return Originals(closed, with_wal, wal, other_wal)


# --- damage --------------------------------------------------------------------------------------

PAGE = 4096
# Fields of SQLite's 100-byte header (offset, length), see sqlite.org/fileformat.html.
HEADER_FIELDS = [(16, 2), (18, 1), (19, 1), (20, 1), (21, 1), (22, 1), (23, 1), (24, 4),
                 (28, 4), (32, 4), (36, 4), (40, 4), (44, 4), (48, 4), (52, 4), (56, 4),
                 (60, 4), (64, 4), (68, 4), (92, 4), (96, 4)]
ODD_VALUES = [0, 1, 2, 3, 4, 5, 255, 256, 512, 1024, 65535, 65536, 2**31 - 1, 2**31,
              2**32 - 1, 7, 100, 4096]
# The -wal: a 32-byte header, then frames of a 24-byte header and one page.
WAL_HEADER, FRAME_HEADER = 32, 24


@st.composite
def damaged_bytes(draw: st.DrawFn, data: bytes, *, page: int = PAGE,
                  header: int = 100, max_ops: int = 3) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, max_ops))):
        n = len(buf)
        pages = max(1, n // page)
        op = draw(st.sampled_from(["flip", "byte", "header field", "page zero", "page junk",
                                   "page copy", "run", "truncate", "truncate page", "grow"]))
        if op == "flip" and n:
            at = draw(st.one_of(st.integers(0, min(n, header) - 1), st.integers(0, n - 1)))
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte" and n:
            at = draw(st.one_of(st.integers(0, min(n, header) - 1), st.integers(0, n - 1)))
            buf[at] = draw(st.integers(0, 255))
        elif op == "header field" and n >= 100:
            at, size = draw(st.sampled_from(HEADER_FIELDS))
            value = draw(st.one_of(st.sampled_from(ODD_VALUES), st.integers(0, 2**(8 * size) - 1)))
            buf[at:at + size] = (value % 2**(8 * size)).to_bytes(size, "big")
        elif op.startswith("page") and n >= page:
            k = draw(st.integers(0, pages - 1))
            if op == "page zero":
                fill_with = bytes(page)
            elif op == "page junk":
                fill_with = draw(st.binary(min_size=page, max_size=page))
            else:
                src = draw(st.integers(0, pages - 1))
                fill_with = bytes(buf[src * page:(src + 1) * page])
            start = draw(st.sampled_from([0, 0, 8, 100, page // 2]))  # keep a page header?
            buf[k * page + start:(k + 1) * page] = fill_with[start:]
        elif op == "run" and n:
            at = draw(st.integers(0, n - 1))
            buf[at:at + draw(st.integers(1, 64))] = draw(st.binary(min_size=1, max_size=64))
        elif op == "truncate":
            del buf[draw(st.integers(0, n)):]
        elif op == "truncate page":
            del buf[draw(st.integers(0, pages)) * page:]
        elif op == "grow":
            buf += draw(st.sampled_from([bytes(page), b"\xff" * page, bytes(17)]))
    return bytes(buf)


@st.composite
def damaged_wal(draw: st.DrawFn, wal: bytes, other: bytes) -> bytes | None:
    """The -wal damaged where SQLite reads it: its header, frame headers, page images; or
    cut short, swapped for another study's, or gone (None)."""
    kind = draw(st.sampled_from(["bytes", "bytes", "header", "frame", "truncate", "other",
                                 "missing", "empty"]))
    if kind == "missing":
        return None
    if kind == "empty":
        return b""
    if kind == "other":
        return other
    buf = bytearray(wal)
    frames = max(1, (len(buf) - WAL_HEADER) // (FRAME_HEADER + PAGE))
    if kind == "truncate":
        return bytes(buf[:draw(st.integers(0, len(buf) - 1))])
    if kind == "header":
        at = draw(st.integers(0, WAL_HEADER - 1))
        buf[at] = draw(st.integers(0, 255))
        return bytes(buf)
    if kind == "frame":
        k = draw(st.integers(0, frames - 1))
        at = WAL_HEADER + k * (FRAME_HEADER + PAGE) + draw(st.integers(0, FRAME_HEADER - 1))
        buf[at] = draw(st.integers(0, 255))
        return bytes(buf)
    return draw(damaged_bytes(bytes(buf), header=WAL_HEADER))


@dataclass(frozen=True)
class Damaged:
    database: bytes
    wal: bytes | None
    shm: bytes | None


@st.composite
def damaged_study(draw: st.DrawFn, originals: Originals) -> Damaged:
    if draw(st.booleans()):
        database = draw(damaged_bytes(originals.closed))
        shm = None
        wal = None
        if draw(st.integers(0, 4)) == 0:  # a -wal that does not belong to this file
            wal = draw(st.sampled_from([originals.other_wal, originals.wal[:5000],
                                        b"\x00" * 1000]))
    else:
        database = originals.with_wal
        if draw(st.booleans()):
            database = draw(damaged_bytes(database))
        wal = draw(damaged_wal(originals.wal, originals.other_wal))
        shm = draw(st.sampled_from([None, None, None, bytes(32768),
                                    b"\xff" * 32768, b"junk"]))
    if database == originals.closed or (database == originals.with_wal
                                        and wal == originals.wal and shm is None):
        database = database[:-1]  # at least one change
    return Damaged(database, wal, shm)


# --- the property ------------------------------------------------------------------------------


@contextmanager
def placed(damaged: Damaged) -> Iterator[Path]:
    """A study folder holding the damaged files, as a researcher's disk would."""
    with tempfile.TemporaryDirectory(prefix="damaged-") as tmp:
        root = Path(tmp) / "Ward.verbatim"
        for sub in ("media", "exports", "backups"):
            (root / sub).mkdir(parents=True)
        write(root, damaged)
        yield root


def write(root: Path, damaged: Damaged) -> None:
    (root / DATABASE).write_bytes(damaged.database)
    for suffix, data in (("-wal", damaged.wal), ("-shm", damaged.shm)):
        if data is not None:
            (root / (DATABASE + suffix)).write_bytes(data)


def files(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in
            (DATABASE, DATABASE + "-wal") if (root / name).exists()}


def sqlite_finds_damage(damaged: Damaged) -> bool:
    """SQLite's own verdict, on a scratch copy: does PRAGMA integrity_check fail?"""
    with tempfile.TemporaryDirectory(prefix="verdict-") as tmp:
        write(Path(tmp), damaged)
        try:
            with closing(sqlite3.connect(Path(tmp) / DATABASE)) as conn:
                return conn.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
        except (sqlite3.DatabaseError, UnicodeDecodeError):  # SQLite quotes damaged bytes
            return True


def opens_or_refuses(root: Path, *, as_app: bool) -> Study | None:
    """The opened study, or None when open_study refused it having changed nothing."""
    before = files(root)
    try:
        study = open_study(root, backup=as_app, recover_jobs=as_app)
    except StudyError as e:
        assert str(e).strip()
        after = files(root)
        assert after == before, f"refused ({e}) but the files changed"
        assert not list((root / "backups").glob("study-*")), "a damaged copy poses as a backup"
        return None
    return study


def report(study: Study) -> list[str]:
    """check_study's errors and SQLite's integrity check, as the app would show them."""
    errors = [str(p) for p in check_study(study.store) if p.is_error]
    with damage_as_study_error(study.folder.database):
        errors += study.store.integrity_errors()
    return errors


def check(damaged: Damaged, *, as_app: bool) -> None:
    damage = sqlite_finds_damage(damaged)
    with placed(damaged) as root:
        study = opens_or_refuses(root, as_app=as_app)
        if study is None:
            return
        with study:
            try:
                errors = report(study)
            except StudyError as e:  # integrity_check itself gave up on the file
                errors = [str(e)]
        if damage:
            assert errors, "SQLite finds this study damaged, but it opened and checked sound"


@fuzz(300, shrink=False)
@given(data=st.data(), as_app=st.booleans())
def test_a_damaged_study_file_is_refused_or_reported(originals: Originals, data: st.DataObject,
                                                     as_app: bool) -> None:
    check(data.draw(damaged_study(originals)), as_app=as_app)


# --- bugs the fuzzer found -----------------------------------------------------------------------


def schema_damaged(database: bytes, replacement: bytes,
                   original: bytes = b"CHECK (end_ms >= start_ms)") -> bytes:
    """The study file with part of the segments table's CREATE statement (in
    sqlite_master, as SQLite keeps it) overwritten, byte for byte."""
    assert database.count(original) == 1
    assert len(replacement) == len(original)
    return database.replace(original, replacement)


def test_a_damaged_byte_in_the_schema_is_refused(originals: Originals) -> None:
    damaged = Damaged(schema_damaged(originals.closed, b"flags TEXT NOT NULL DEFAULT '[]'\x9e",
                                     b"flags TEXT NOT NULL DEFAULT '[]',"), None, None)
    with placed(damaged) as root, pytest.raises(StudyError):
        open_study(root, backup=False, recover_jobs=False)


@pytest.mark.parametrize("damage", ["schema", "cut in half"])
def test_a_refused_open_leaves_the_wal_and_the_damaged_file_alone(
        originals: Originals, damage: str) -> None:
    database = (schema_damaged(originals.with_wal, b"CHEKK (end_ms >= start_ms)")
                if damage == "schema" else originals.with_wal[:len(originals.with_wal) // 2])
    with placed(Damaged(database, originals.wal, None)) as root:
        before = files(root)
        with pytest.raises(StudyError):
            open_study(root, backup=False, recover_jobs=False)
        assert files(root) == before


def page_zeroed(database: bytes, table: str) -> bytes:
    """The study file with the root page of `table` overwritten with zeros."""
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / DATABASE
        scratch.write_bytes(database)
        with closing(sqlite3.connect(scratch)) as conn:
            (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                                   (table,)).fetchone()
    return database[:(root - 1) * PAGE] + bytes(PAGE) + database[root * PAGE:]


def test_check_study_reports_a_damaged_interviews_page(originals: Originals) -> None:
    with placed(Damaged(page_zeroed(originals.closed, "interviews"), None, None)) as root, \
            open_study(root, backup=False, recover_jobs=False) as study:
        assert any(p.is_error for p in check_study(study.store))


@pytest.mark.parametrize("version", [-4, -2**31])
def test_a_negative_schema_version_is_refused(originals: Originals,
                                                          version: int) -> None:
    database = (originals.closed[:60] + version.to_bytes(4, "big", signed=True)
                + originals.closed[64:])
    with placed(Damaged(database, None, None)) as root, pytest.raises(StudyError):
        open_study(root, backup=False, recover_jobs=False)
