"""Kill tests: the app's own operations run in a child process (kill_driver.py) that is
killed with SIGKILL at seeded random points, as a crash or a power cut would stop it.

After every kill the study must open with the app's own open, pass SQLite's integrity
check and the app's consistency check (study.consistency) with no error, have the audio
of every interview in media/, and have lost at most the unit of work in flight: all that
the child reported as COMMITTED is there, and the next unit either wholly or not at all.
An anonymisation is in force completely (no original in any transcript, in the study file,
or missing from the key file) or not at all (the transcripts exactly as before); an export
is a complete, readable file under its name or absent.

The kill point is either a random delay (fault injection drawn from a seeded RNG, not a
synchronisation), the moment the k-th COMMITTED line is read, or a hold point where the
driver waits (see kill_driver.py). Every draw is seeded, so a failure can be replayed:
the iteration's seed is in the assertion message.

Transcription and recording had one kill test each (test_transcription.py,
test_recording.py, one fixed kill point); here they are killed at random points, again
and again on the same study, which is then finished or recovered.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import wave
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import docx
import numpy as np
import pytest

from analysis.exports.tables import codings_csv
from analysis.exports.transcript import export_transcript
from analysis.exports.word import quotes_report
from analysis.refi import export_qdpx, import_qdpx
from gui.recording_dialog import offer_recovery
from study.consistency import check_study
from study.demo import build_demo_study
from study.folder import Study, create_study, open_study
from study.model import JobState, Segment
from study.store import Store
from tests.conftest import FIXTURES
from transcription.audio import decode, import_audio
from transcription.evaluation import word_error_rate
from transcription.job import create_job, run_job
from transcription.options import Quality, TranscriptionOptions
from transcription.wav_writer import recordings_dir, unfinished_recordings

from .conftest import Child, Feeder, PulseServer, silence
from .kill_driver import (
    EXPORTS,
    IDENTIFIERS,
    ApplyState,
    apply_state,
    edits,
    fingerprint,
    whole_word,
)

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DRIVER = "kill_driver.py"
START_TIMEOUT = 60.0
JFK = ("And so my fellow Americans, ask not what your country can do for you, ask what you "
       "can do for your country.")
Start = Callable[..., Child]


# --- running and killing the driver ----------------------------------------------------------


def child_env() -> dict[str, str]:
    """This process's environment (the no-network guard's PYTHONPATH and the isolated
    settings folder included), with the repository importable and warnings as errors."""
    env = dict(os.environ)
    env.update(PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", ""))
                                          if p),
               PYTHONWARNINGS="error", QT_QPA_PLATFORM="offscreen")
    return env


def pause(child: Child, seconds: float) -> None:
    """The fault injection: let the child work on for `seconds` (drawn from a seeded RNG)
    before the kill. Not a synchronisation: nothing waits for the child to reach a point."""
    with suppress(subprocess.TimeoutExpired):
        child.process.wait(timeout=seconds)


def wait_committed(child: Child, k: int) -> None:
    """Read the child's lines up to its k-th COMMITTED one (or DONE)."""
    seen = [0]

    def kth(line: str) -> bool:
        seen[0] += line.startswith("COMMITTED ")
        return seen[0] >= k or line == "DONE"

    if k:
        child.wait_for(kth, timeout=START_TIMEOUT)


@dataclass
class Run:
    """What a driver printed before it died (or finished), and how it ended."""

    child: Child
    killed: bool
    how: str

    @property
    def committed(self) -> list[tuple[int, str]]:
        found = []
        for line in self.child.seen:
            if line.startswith("COMMITTED "):
                _word, n, rest = [*line.split(" ", 2), ""][:3]
                found.append((int(n), rest))
        return found

    @property
    def last(self) -> int:
        """How many units the child reported committed."""
        done = self.committed
        assert [n for n, _ in done] == list(range(1, len(done) + 1)), self.child.seen
        return len(done)

    def payload(self, n: int) -> str:
        return self.committed[n - 1][1]


def drive(children: Start, root: Path, operation: str, seed: int, rng: random.Random, *,
          max_delay: float, max_k: int, sources: Sequence[Path] = (), hold: str | None = None,
          count: int | None = None, finish: bool = False, delay_after: int = 0) -> Run:
    """Start the driver on `root` and kill it with SIGKILL: at the hold point, or right
    after the k-th COMMITTED line (k up to `max_k`), or after a random delay (up to
    `max_delay`) counted from READY or from the j-th COMMITTED line (j up to
    `delay_after`), each drawn from `rng`. With `count` or `finish` it is left to end by
    itself instead."""
    args = [str(root), operation, str(seed), *[a for s in sources for a in ("--source", str(s))]]
    if hold:
        args += ["--hold", hold]
    if count:
        args += ["--count", str(count)]
    child = children(DRIVER, *args, env=child_env())
    child.wait_for(lambda line: line == "READY", timeout=START_TIMEOUT)
    if count or finish:
        code = child.finish(timeout=300)
        assert code == 0 and "DONE" in child.seen, f"exit {code}: {child.stderr()}"
        return Run(child, False, "ran to the end")
    if hold:
        child.wait_for(lambda line: line == f"HOLD {hold}", timeout=START_TIMEOUT)
        how = f"held at {hold}"
    elif rng.random() < 0.5:
        k = rng.randint(1, max_k)
        wait_committed(child, k)
        how = f"right after COMMITTED {k}"
    else:
        j = rng.randint(0, delay_after)
        wait_committed(child, j)
        delay = rng.uniform(0.0, max_delay)
        pause(child, delay)
        how = f"{delay:.3f} s after " + (f"COMMITTED {j}" if j else "READY")
    child.process.kill()  # SIGKILL; a no-op if the child has already ended
    code = child.finish(timeout=60)
    if code == -signal.SIGKILL:
        return Run(child, True, how)
    assert code == 0 and "DONE" in child.seen, f"exit {code} ({how}): {child.stderr()}"
    return Run(child, False, f"finished before the kill ({how})")


@contextmanager
def opened_sound(root: Path, context: str) -> Iterator[Study]:
    """The study as the app opens it after a crash, checked sound, for further checks."""
    with open_study(root) as study:
        store = study.store
        assert store.integrity_errors() == [], context
        errors = [str(p) for p in check_study(store) if p.is_error]
        assert errors == [], context
        missing = [m.original_name for m in (store.media(i.media_id) for i in store.interviews()
                                             if i.media_id is not None)
                   if not (study.folder.media / m.filename).exists()]
        assert missing == [], f"{context}: audio missing from media/: {missing}"
        yield study


def check_command(root: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "check", str(root)],
                          cwd=cwd, env=child_env(), capture_output=True, text=True,
                          timeout=120, check=False)


def assert_check_command_ok(root: Path, cwd: Path) -> str:
    result = check_command(root, cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    last = result.stdout.splitlines()[-1]
    assert last.startswith("OK: "), result.stdout
    return result.stdout


def litter(root: Path) -> list[str]:
    """Files a kill left that the study does not use: hidden temporaries, staging
    folders. Harmless, but reported by the tests that expect them."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def texts(store: Store) -> dict[int, str]:
    return {seg.id: seg.text for i in store.interviews() if i.id is not None
            for seg in store.segments(i.id) if seg.id is not None}


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo study (7 interviews, 102 segments, 29 codings), built once; copied for each
    iteration."""
    folder = tmp_path_factory.mktemp("kill-template")
    build_demo_study(folder / "Demo").close()
    return folder / "Demo.verbatim"


def copy(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


@dataclass(frozen=True)
class References:
    """What each export of the untouched demo study holds, and the study's counts."""

    counts: dict[str, int]
    csv: bytes
    txt: bytes
    word: list[str]


def word_text(path: Path) -> list[str]:
    """The report's paragraphs, the export date left out (a run may cross midnight)."""
    return [re.sub(r"\d{4}-\d\d-\d\d", "DATE", p.text) for p in docx.Document(str(path)).paragraphs]


@pytest.fixture(scope="session")
def references(template: Path, tmp_path_factory: pytest.TempPathFactory) -> References:
    scratch = copy(template, tmp_path_factory.mktemp("kill-refs") / "Refs.verbatim")
    with open_study(scratch, backup=False) as study:
        store, out = study.store, study.folder.exports
        first = store.interviews()[0].id
        assert first is not None
        return References(
            store.table_counts(), codings_csv(store, out / "c.csv").read_bytes(),
            export_transcript(store, first, out / "t.txt", "txt").read_bytes(),
            word_text(quotes_report(store, out / "q.docx")))


@pytest.fixture(scope="session")
def projects(template: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[list[Path], list[dict[str, int]]]:
    """Two .qdpx files to import (the demo with its audio, and ATLAS.ti's sample), and
    what importing each adds to the demo study's counts."""
    folder = tmp_path_factory.mktemp("kill-projects")
    with open_study(template, backup=False) as study:
        export_qdpx(study, folder / "demo.qdpx", include_media=True)
    sample = FIXTURES / "refi" / "atlasti23_sample.qdpx"
    sources = [folder / "demo.qdpx", sample]
    deltas = []
    for n, source in enumerate(sources):
        with open_study(copy(template, folder / f"Scratch{n}.verbatim"), backup=False) as s:
            before = s.store.table_counts()
            import_qdpx(s, source)
            deltas.append({k: v - before[k] for k, v in s.store.table_counts().items()})
    return sources, deltas


# --- edits -----------------------------------------------------------------------------------


def replay_edits(template: Path, scratch: Path, seed: int, steps: int) -> list[str]:
    """The fingerprint of the study after 0, 1, ..., `steps` edits of this seed."""
    with open_study(copy(template, scratch), backup=False) as study:
        found = [fingerprint(study.store)]
        units = edits(study, seed)
        found += [next(units).split()[0] for _ in range(steps)]
    shutil.rmtree(scratch)
    return found


def test_killed_edits_keep_every_committed_edit(children: Start, template: Path,
                                                tmp_path: Path) -> None:
    """Random coding adds and removes, text edits, splits and merges, killed mid-stream:
    the study is exactly as after the last reported edit, or after the one in flight.
    Right after the first kill, `main.py check` reads the study as the kill left it
    (WAL and all) and finds it sound."""
    outcomes = []
    for iteration in range(8):
        seed = 1000 + iteration
        rng = random.Random(seed)
        root = copy(template, tmp_path / f"Edits{iteration}.verbatim")
        run = drive(children, root, "edits", seed, rng, max_delay=1.5, max_k=120)
        context = f"edits seed {seed}, killed {run.how}"
        assert run.killed, context
        n = run.last
        expected = replay_edits(template, tmp_path / "replay.verbatim", seed, n + 1)
        if n:
            assert run.payload(n).split()[0] == expected[n], f"{context}: replay differs"
        if iteration == 0:
            assert (root / "study.sqlite-wal").exists()  # as the kill left it
            assert_check_command_ok(root, tmp_path)
        with opened_sound(root, context) as study:
            now = fingerprint(study.store)
        assert now in (expected[n], expected[n + 1]), (
            f"{context}: the study matches neither edit {n} (the last reported) nor "
            f"edit {n + 1} (in flight)")
        outcomes.append((seed, n, "in flight kept" if now == expected[n + 1] else "last"))
    print("edits:", outcomes)


# --- anonymisation ---------------------------------------------------------------------------

ORIGINAL_BYTES = tuple(term.encode() for term, _ in IDENTIFIERS if len(term) > 3)


def check_anonymisation(root: Path, state: ApplyState, pristine: dict[int, str],
                        context: str) -> None:
    with opened_sound(root, context) as study:
        store = study.store
        assert apply_state(store) == state, context
        now = texts(store)
        problems = check_study(store)
        if state.active:  # wholly applied
            assert store.originals() == {}, context
            leaks = [(seg, term) for seg, text in now.items() for term, _ in IDENTIFIERS
                     if whole_word(term).search(text)]
            assert leaks == [], f"{context}: originals in the transcripts"
            assert [str(p) for p in problems if p.kind == "key file"] == [], context
            assert set(now) == set(pristine) and now != pristine, context
        else:  # not at all: the transcripts as before, any key file left behind unused
            assert now == pristine, f"{context}: transcripts differ from before the apply"
            registered = sorted(t for t, _ in IDENTIFIERS[:state.registered])
            assert sorted(store.originals().values()) == registered, context
            assert [str(p) for p in problems if p.kind in ("key file", "anonymisation")] == []
    if state.active:  # the app closed it (WAL checkpointed): no original in its bytes
        held = (root / "study.sqlite").read_bytes()
        assert [t for t in ORIGINAL_BYTES if t in held] == [], f"{context}: in the file"


def test_killed_anonymisation_is_all_or_nothing(children: Start, template: Path,
                                                tmp_path: Path) -> None:
    """Register, detect, apply, reverse, apply... on one study, killed again and again
    (at random, after the key file is written but before the transaction, and after the
    commit but before the freed pages are purged); each run carries on from where the
    last kill left it, with whatever key file it left. Then an apply and a reverse run
    to the end and the transcripts are exactly the demo's again."""
    root = copy(template, tmp_path / "Apply.verbatim")
    with open_study(template, backup=False) as study:
        pristine = texts(study.store)
    state = ApplyState(0, False, 0, 0)
    holds = {3: "key-written", 6: "before-vacuum"}
    outcomes = []
    for iteration in range(8):
        seed = 2000 + iteration
        rng = random.Random(seed)
        run = drive(children, root, "apply", seed, rng, max_delay=0.5, max_k=8,
                    hold=holds.get(iteration))
        context = f"apply seed {seed}, killed {run.how}"
        assert run.killed, context
        last = ApplyState.parse(run.payload(run.last)) if run.last else state
        with open_study(root, backup=False) as study:
            now = apply_state(study.store)
        assert now in (last, last.after()), f"{context}: {now} is neither {last} nor after"
        if holds.get(iteration) == "key-written":  # the key file is saved, nothing else
            assert now == last, context
        elif holds.get(iteration) == "before-vacuum":  # committed, not yet reported
            assert now == last.after(), context
        check_anonymisation(root, now, pristine, context)
        outcomes.append((seed, run.last, last.next_step(), "done" if now != last else "not"))
        state = now
    steps, s = 0, state  # then one whole apply and reverse, uninterrupted
    while not (s.applied > state.applied and not s.active):
        s, steps = s.after(), steps + 1
    drive(children, root, "apply", 0, random.Random(0), max_delay=0, max_k=0, count=steps)
    check_anonymisation(root, s, pristine, "after the last, uninterrupted cycle")
    assert_check_command_ok(root, tmp_path)
    print("apply (seed, units reported, step in flight, its outcome):", outcomes)


# --- imports ---------------------------------------------------------------------------------


def test_killed_transcript_imports_are_whole_or_absent(children: Start, template: Path,
                                                       tmp_path: Path,
                                                       fixtures_dir: Path) -> None:
    folder = fixtures_dir / "transcripts"
    sources = [folder / n for n in ("qualcoder_transcript.txt", "sonnet001.txt",
                                    "qualcoder_ID1.docx", "sonnet001.srt", "sonnet001.vtt")]
    with open_study(template, backup=False) as study:
        known = {i.id for i in study.store.interviews()}
    sizes: dict[str, int] = {}
    outcomes = []
    for iteration in range(8):
        seed = 3000 + iteration
        rng = random.Random(seed)
        root = copy(template, tmp_path / f"Import{iteration}.verbatim")
        run = drive(children, root, "import-transcript", seed, rng, max_delay=0.4, max_k=12,
                    sources=sources)
        context = f"import-transcript seed {seed}, killed {run.how}"
        assert run.killed, context
        for _n, payload in run.committed:
            _id, count, name = payload.split(" ", 2)
            assert sizes.setdefault(name, int(count)) == int(count), context
        with opened_sound(root, context) as study:
            store = study.store
            new = [i for i in store.interviews() if i.id not in known]
            assert len(new) in (run.last, run.last + 1), context
            reported = {int(p.split()[0]) for _, p in run.committed}
            assert reported <= {i.id for i in new}, context
            for j, interview in enumerate(new):
                source = sources[j % len(sources)]
                assert interview.id is not None and interview.title == source.stem, context
                count = store.segment_count(interview.id)
                assert count > 0 and sizes.setdefault(source.name, count) == count, (
                    f"{context}: {source.name} imported with {count} segments")
        outcomes.append((seed, run.last, len(new)))
    print("import-transcript (seed, reported, interviews found):", outcomes)


def test_killed_project_imports_are_whole_or_absent(
        children: Start, template: Path, tmp_path: Path,
        projects: tuple[list[Path], list[dict[str, int]]]) -> None:
    sources, deltas = projects
    with open_study(template, backup=False) as study:
        base = study.store.table_counts()

    def after(m: int) -> dict[str, int]:
        return {k: v + sum(deltas[j % len(deltas)][k] for j in range(m))
                for k, v in base.items()}

    outcomes, left = [], []
    for iteration in range(8):
        seed = 4000 + iteration
        rng = random.Random(seed)
        root = copy(template, tmp_path / f"Project{iteration}.verbatim")
        run = drive(children, root, "import-qdpx", seed, rng, max_delay=0.5, max_k=8,
                    sources=sources)
        context = f"import-qdpx seed {seed}, killed {run.how}"
        assert run.killed, context
        with opened_sound(root, context) as study:
            counts = study.store.table_counts()
        assert counts in (after(run.last), after(run.last + 1)), (
            f"{context}: {counts} is neither {run.last} nor {run.last + 1} imports")
        outcomes.append((seed, run.last, "in flight kept" if counts == after(run.last + 1)
                         else "last"))
        left += litter(root)
    print("import-qdpx (seed, reported, outcome):", outcomes, "left behind:", left)


def test_a_project_import_killed_after_its_commit_keeps_its_audio(
        children: Start, tmp_path: Path,
        projects: tuple[list[Path], list[dict[str, int]]]) -> None:
    sources, _ = projects
    create_study(tmp_path / "Fresh").close()  # no audio yet: the import must bring it
    root = tmp_path / "Fresh.verbatim"
    run = drive(children, root, "import-qdpx", 1, random.Random(1), max_delay=0, max_k=0,
                sources=sources[:1], hold="move-media")
    assert run.killed
    with opened_sound(root, "import-qdpx killed between commit and moving the audio"):
        pass


# --- exports ---------------------------------------------------------------------------------


def check_export(path: Path, kind: str, references: References, scratch: Path) -> None:
    """A file under an export's final name is complete: its own reader opens it and it
    holds what a full export of the (unchanged) study holds."""
    if kind == "csv":
        assert path.read_bytes() == references.csv
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert len(rows) == references.counts["codings"] + 1
    elif kind == "txt":
        assert path.read_bytes() == references.txt
    elif kind == "word":
        assert word_text(path) == references.word
    else:
        with zipfile.ZipFile(path) as zf:
            assert zf.testzip() is None and "project.qde" in zf.namelist()
        with create_study(scratch) as study:
            import_qdpx(study, path)
            assert study.store.table_counts() == references.counts
        shutil.rmtree(study.folder.root)


def test_killed_exports_leave_a_complete_file_or_none(children: Start, template: Path,
                                                      tmp_path: Path,
                                                      references: References) -> None:
    outcomes, left = [], []
    for iteration in range(8):
        seed = 5000 + iteration
        rng = random.Random(seed)
        root = copy(template, tmp_path / f"Export{iteration}.verbatim")
        run = drive(children, root, "export", seed, rng, max_delay=2.5, max_k=10)
        context = f"export seed {seed}, killed {run.how}"
        assert run.killed, context
        written = {p.split()[1] for _, p in run.committed}
        exports = root / "exports"
        present = sorted(p.name for p in exports.iterdir() if not p.name.startswith("."))
        assert set(present) <= {name for _, name in EXPORTS}, f"{context}: {present}"
        assert written <= set(present), f"{context}: a reported export is gone"
        for kind, name in EXPORTS:
            if (exports / name).exists():
                try:
                    check_export(exports / name, kind, references, tmp_path / "Read")
                except Exception as e:
                    raise AssertionError(f"{context}: {name} is not a complete export: "
                                         f"{e!r}") from e
        with opened_sound(root, context):
            pass
        left += [f"exports/{p.name}" for p in exports.iterdir() if p.name.startswith(".")]
        outcomes.append((seed, run.last, present))
    print("export (seed, reported, files):", outcomes, "left behind:", left)


# --- transcription ---------------------------------------------------------------------------


@pytest.fixture
def jfk_twice(tmp_path: Path, fixtures_dir: Path) -> Path:
    """jfk.flac twice with pauses, 23.5 s: four 6 s windows, none cutting a speech span."""
    speech = decode(fixtures_dir / "audio" / "jfk.flac")
    samples = np.concatenate([np.zeros(8_000, np.float32), speech,
                              np.zeros(16_000, np.float32), speech])
    path = tmp_path / "jfk-twice.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_transcription_killed_again_and_again_resumes_to_the_end(
        children: Start, tmp_path: Path, jfk_twice: Path) -> None:
    """Import, transcribe in 6 s windows, killed at random points (during the import, the
    decoding, the speech map, the model load or a window), resumed each time on the same
    study; every window reported saved is kept as it was, and the last run finishes."""
    create_study(tmp_path / "Transcribe").close()
    root = tmp_path / "Transcribe.verbatim"
    audio = [jfk_twice]
    kept: list[Segment] = []
    saved_ms = 0
    reported = False
    outcomes = []
    for iteration in range(4):
        seed = 6000 + iteration
        rng = random.Random(seed)
        run = drive(children, root, "transcribe", seed, rng, max_delay=2.0, max_k=3,
                    delay_after=1, sources=audio)
        context = f"transcribe seed {seed}, killed {run.how}"
        reported = reported or bool(run.committed)
        saved_ms = max([saved_ms] + [int(p.split()[1]) for _, p in run.committed
                                     if p.startswith("saved ")])
        if iteration == 0 and run.killed:  # as the kill left it: a job may be 'running'
            assert_check_command_ok(root, tmp_path)
        with opened_sound(root, context) as study:
            store = study.store
            interviews = store.interviews()
            assert interviews or not reported, context
            jobs = store.jobs()
            if not jobs:
                outcomes.append((seed, run.how, "no job yet"))
                continue
            (job,) = jobs
            assert job.state is not JobState.RUNNING, context  # marked interrupted on open
            assert job.done_ms >= saved_ms, context
            segments = store.segments(job.interview_id)  # type: ignore[arg-type]
            assert all(s.end_ms <= job.done_ms + 500 for s in segments), context
            starts = [s.start_ms for s in segments]
            assert starts == sorted(set(starts)), context
            assert segments[:len(kept)] == kept, f"{context}: saved windows changed"
            kept = segments
            outcomes.append((seed, run.how, f"{job.state.value} at {job.done_ms} ms"))
    drive(children, root, "transcribe", 0, random.Random(0), max_delay=0, max_k=0,
          sources=audio, finish=True)
    with opened_sound(root, "after the uninterrupted run") as study:
        (job,) = study.store.jobs()
        assert job.state is JobState.DONE
        full = study.store.segments(job.interview_id)  # type: ignore[arg-type]
        assert full[:len(kept)] == kept
        assert word_error_rate(f"{JFK} {JFK}", " ".join(s.text for s in full)) < 0.3
    print("transcribe (seed, kill, state found):", outcomes)


def test_speech_longer_than_a_window_is_transcribed_once(study: Study,
                                                         fixtures_dir: Path) -> None:
    """Found by the kill test with 3 s windows: jfk.flac's last 6 s of unbroken speech."""
    interview_id, _ = import_audio(study, fixtures_dir / "audio" / "jfk.flac")
    job_id = create_job(study, interview_id, TranscriptionOptions(
        quality=Quality.FAST, threads=2, window_ms=3_000))
    assert run_job(study.folder.root, job_id, progress=lambda p: None) is JobState.DONE
    segments = study.store.segments(interview_id)
    assert len({s.start_ms for s in segments}) == len(segments), [
        (s.start_ms, s.end_ms, s.text) for s in segments]


# --- recording -------------------------------------------------------------------------------


def test_recordings_killed_at_random_points_are_recovered(
        pulse: PulseServer, feeders: Callable[..., Feeder], children: Start, study: Study,
        speech: tuple[bytes, str]) -> None:
    """record_until_killed.py (see test_recording.py), killed before its first sync or
    after a random number of them plus a random delay, three times on one study; each
    leftover is recovered as an interview holding at least the synced audio."""
    rng = random.Random(7003)
    started = False
    outcomes = []
    for take in range(3):
        child = children("record_until_killed.py", str(study.folder.root), f"Take {take}",
                         env=pulse.env())
        line = child.wait_for(lambda line: line.startswith(("path ", "error ")), timeout=60)
        assert line.startswith("path "), line
        path = Path(line.removeprefix("path "))
        assert path.parent == recordings_dir(study.folder)
        if not started:
            feeders(pulse.fifo, speech[0] + silence(0.3), loop=True)
            started = True
        syncs = rng.randint(0, 2)
        for _ in range(syncs):
            child.wait_for(lambda line: line.startswith("synced "), timeout=30)
        delay = rng.uniform(0.0, 1.5)
        pause(child, delay)
        child.process.kill()
        assert child.finish() == -signal.SIGKILL, child.stderr()
        synced = max([0] + [int(s.split()[1]) for s in child.seen if s.startswith("synced ")])
        new_ids = offer_recovery(study, None, ask=lambda _title, _question: True)
        context = f"take {take}: {syncs} syncs then {delay:.3f} s, {synced} ms synced"
        if synced:
            assert len(new_ids) == 1, context
            duration = study.store.interview(new_ids[0]).duration_ms
            assert duration is not None and duration >= synced, context
        assert len(new_ids) <= 1, context
        assert unfinished_recordings(study.folder) == [], context
        assert study.store.integrity_errors() == [], context
        assert [str(p) for p in check_study(study.store) if p.is_error] == [], context
        outcomes.append((take, synced, len(new_ids)))
    with opened_sound(study.folder.root, "after the recoveries"):
        pass
    print("recording (take, ms synced, interviews recovered):", outcomes)
