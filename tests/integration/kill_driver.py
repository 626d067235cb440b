"""Run one of the app's own operations on a study until killed, for the kill tests.

Usage: python kill_driver.py STUDY OPERATION SEED [--count N] [--source PATH]...
                             [--hold POINT] [--window-ms MS]

OPERATION is one of:
  edits              random coding adds and removes, segment text edits, splits and merges
                     through the store, one transaction each (random.Random(SEED) chooses)
  apply              register the demo's identifiers, detect them, then apply and reverse
                     the anonymisation over and over (each step chosen from the study's
                     state, so a study a kill left half-way carries on from there)
  import-transcript  import the --source transcripts (txt, docx, srt, vtt), in turn,
                     as new interviews
  import-qdpx        import the --source .qdpx projects, in turn
  export             write a Word quotes report, the codings CSV, a .qdpx and a transcript
                     txt into exports/, in turn, always under the same names
  transcribe         import --source audio (unless the study has an interview already) and
                     transcribe it, resuming the job a kill left, in windows of
                     --window-ms (6 s by default)

It prints `READY` once the study is open, then `COMMITTED <n> ...` (flushed) after each
committed unit of work, numbered from 1, so the test knows what must survive a kill, and
`DONE` if the operation ends by itself (--count units done, or a transcription finished).
Without --count the loop operations never end: the test kills the process with SIGKILL,
as a crash or a power cut would.

--hold POINT stops at a chosen point inside an operation, prints `HOLD <POINT>` and waits
for a line on stdin, so the test can kill exactly there: key-written (apply: the key file
is saved, the study transaction not yet begun), before-vacuum (apply: committed, freed
pages not yet purged), move-media (import-qdpx: committed, audio not yet moved into
media/).

The step functions are importable too, so the test can replay an edits run to learn the
state after any number of steps.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from study.errors import ValidationError
from study.folder import Study, open_study
from study.model import Candidate, Coding, IdentifierRule, JobState
from study.store import Store

# --- shared with the test --------------------------------------------------------------------

# Names and places in the demo transcripts (resources/demo/transcripts), with categories.
IDENTIFIERS: tuple[tuple[str, str], ...] = (
    ("Gemma", "person"), ("Sarah", "person"), ("Dev", "person"), ("Harrowfield", "place"),
    ("Kestrel House", "organisation"))
EXPORTS: tuple[tuple[str, str], ...] = (
    ("word", "quotes.docx"), ("csv", "codings.csv"), ("qdpx", "project.qdpx"),
    ("txt", "transcript.txt"))
WINDOW_MS = 6_000  # jfk.flac's speech in two windows, no span cut (see test_kill.py)
WORDS = ("really", "honestly", "then", "we", "agreed", "the", "plan", "again", "together")


def emit(line: str) -> None:
    print(line, flush=True)


def hold(point: str) -> None:
    """Stop here until the test kills the process (or sends a line to carry on)."""
    emit(f"HOLD {point}")
    sys.stdin.readline()


def fingerprint(store: Store) -> str:
    """A digest of every segment and coding: equal digests, equal transcripts and codings."""
    h = hashlib.sha256()
    for interview in store.interviews():
        assert interview.id is not None
        for s in store.segments(interview.id):
            h.update(repr((s.id, s.interview_id, s.position, s.start_ms, s.end_ms, s.text,
                           s.speaker_id, s.words)).encode())
    for c in store.codings():
        h.update(repr((c.id, c.code_id, c.interview_id, c.start_segment_id, c.start_offset,
                       c.end_segment_id, c.end_offset)).encode())
    return h.hexdigest()[:20]


def whole_word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)")


# --- edits -----------------------------------------------------------------------------------


def _segments(store: Store) -> list[list[Any]]:
    """Per interview with a transcript, its segments in order."""
    found = []
    for interview in store.interviews():
        assert interview.id is not None
        segments = store.segments(interview.id)
        if segments:
            found.append(segments)
    return found


def _word_starts(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"\S+", text)]


def edit_step(store: Store, rng: random.Random) -> str:
    """One random edit, committed in its own transaction; returns what it did. Choices
    depend only on `rng` and the study, so the same seed on the same study replays it."""
    while True:
        kind = rng.choice(("add", "add", "remove", "text", "split", "merge"))
        transcripts = _segments(store)
        segments = rng.choice(transcripts)
        try:
            if kind == "add":
                codes = [c.id for c in store.codes()]
                first = rng.randrange(len(segments))
                last = min(len(segments) - 1, first + rng.choice((0, 0, 0, 1, 2)))
                a, b = segments[first], segments[last]
                start = rng.randrange(len(a.text))
                end = (rng.randint(start + 1, len(a.text)) if a.id == b.id
                       else rng.randint(1, len(b.text)))
                new = store.add_coding(Coding(rng.choice(codes), a.interview_id, a.id, start,
                                              b.id, end)).new_id("coding")
                return f"add coding {new}"
            if kind == "remove":
                codings = store.codings()
                if not codings:
                    continue
                gone = rng.choice(codings).id
                assert gone is not None
                store.delete_coding(gone)
                return f"remove coding {gone}"
            if kind == "text":
                seg = rng.choice(segments)
                starts = _word_starts(seg.text)
                at = rng.choice(starts)
                if len(starts) > 3 and rng.random() < 0.4:  # delete a word
                    end = re.match(r"\S+\s*", seg.text[at:])
                    assert end is not None
                    text = seg.text[:at] + seg.text[at + end.end():]
                else:  # insert one
                    text = f"{seg.text[:at]}{rng.choice(WORDS)} {seg.text[at:]}"
                store.edit_segment_text(seg.id, text.strip() or "Mm.")
                return f"edit segment {seg.id}"
            if kind == "split":
                seg = rng.choice(segments)
                starts = _word_starts(seg.text)[1:]
                if not starts:
                    continue
                store.split_segment(seg.id, rng.choice(starts))
                return f"split segment {seg.id}"
            if len(segments) < 2:
                continue
            n = rng.randrange(len(segments) - 1)
            store.merge_segments(segments[n].id, segments[n + 1].id)
            return f"merge segments {segments[n].id} {segments[n + 1].id}"
        except ValidationError:
            continue  # e.g. a coding ending before it starts: nothing was written


def edits(study: Study, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    while True:
        what = edit_step(study.store, rng)
        yield f"{fingerprint(study.store)} {what}"


# --- anonymisation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplyState:
    """Where the register-detect-apply-reverse cycle is: counters that only ever grow
    (identifiers registered, runs applied, runs reversed) and whether candidates wait."""

    registered: int
    detected: bool
    applied: int
    reversed: int

    def __str__(self) -> str:
        return (f"registered={self.registered} detected={int(self.detected)} "
                f"applied={self.applied} reversed={self.reversed}")

    @classmethod
    def parse(cls, text: str) -> ApplyState:
        values = dict(part.split("=") for part in text.split() if "=" in part)
        return cls(int(values["registered"]), values["detected"] == "1",
                   int(values["applied"]), int(values["reversed"]))

    @property
    def active(self) -> bool:
        return self.applied > self.reversed

    def next_step(self) -> str:
        if self.registered < len(IDENTIFIERS):
            return "register"
        if self.active:
            return "reverse"
        return "apply" if self.detected else "detect"

    def after(self) -> ApplyState:
        """The state once the next step is committed."""
        step = self.next_step()
        if step == "register":
            return ApplyState(self.registered + 1, self.detected, self.applied, self.reversed)
        if step == "detect":
            return ApplyState(self.registered, True, self.applied, self.reversed)
        if step == "apply":
            return ApplyState(self.registered, False, self.applied + 1, self.reversed)
        return ApplyState(self.registered, True, self.applied, self.reversed + 1)


def apply_state(store: Store) -> ApplyState:
    runs = store.anonymisation_runs()
    return ApplyState(len(store.identifiers()), bool(store.candidates()), len(runs),
                      sum(1 for r in runs if not r.active))


def detect(store: Store) -> None:
    """What detection proposes for the registered identifiers: every whole-word use."""
    ids = {i.id: i for i in store.identifiers()}
    originals = store.originals()
    found: list[Candidate] = []
    for segments in _segments(store):
        for seg in segments:
            for ident_id, original in originals.items():
                ident = ids[ident_id]
                found += [Candidate(seg.id, m.start(), m.end(), m.group(), ident.category,
                                    "registered", ident_id)
                          for m in whole_word(original).finditer(seg.text)]
    store.replace_candidates(found)


def anonymisation(study: Study, seed: int, hold_at: str | None) -> Iterator[str]:
    from analysis.anonymise import apply as applying
    from analysis.anonymise.apply import apply_anonymisation, reverse_anonymisation

    if hold_at == "key-written":
        real_write_key = applying._write_key

        def write_key_then_hold(*args: Any, **kwargs: Any) -> bytes | None:
            previous = real_write_key(*args, **kwargs)
            hold(hold_at)
            return previous

        applying._write_key = write_key_then_hold  # type: ignore[assignment]
    elif hold_at == "before-vacuum":
        real_purge = Store.purge_freed_pages

        def hold_then_purge(self: Store) -> bool:
            hold("before-vacuum")
            return real_purge(self)

        Store.purge_freed_pages = hold_then_purge  # type: ignore[method-assign]
    store, folder = study.store, study.folder
    while True:
        state = apply_state(store)
        step = state.next_step()
        if step == "register":
            term, category = IDENTIFIERS[state.registered]
            store.register_identifier(term, category, rule=IdentifierRule.ALWAYS)
        elif step == "detect":
            detect(store)
        elif step == "apply":
            apply_anonymisation(store, folder)
        else:
            reverse_anonymisation(store, folder)
        yield f"{step} {apply_state(store)}"


# --- imports ---------------------------------------------------------------------------------


def import_transcripts(study: Study, sources: list[Path]) -> Iterator[str]:
    from transcription.transcript_import import import_transcript

    n = 0
    while True:
        source = sources[n % len(sources)]
        interview_id, count = import_transcript(study, source)
        n += 1
        yield f"{interview_id} {count} {source.name}"


def import_projects(study: Study, sources: list[Path], hold_at: str | None) -> Iterator[str]:
    from analysis.refi import import_ as importing
    from analysis.refi import import_qdpx

    if hold_at == "move-media":
        real_move = importing._move_media

        def hold_then_move(*args: Any) -> None:
            hold("move-media")
            real_move(*args)

        importing._move_media = hold_then_move  # type: ignore[assignment]
    n = 0
    while True:
        source = sources[n % len(sources)]
        report = import_qdpx(study, source)
        n += 1
        yield f"{source.name} {json.dumps(report.imported, sort_keys=True)}"


# --- exports ---------------------------------------------------------------------------------


def exports(study: Study) -> Iterator[str]:
    from analysis.exports.tables import codings_csv
    from analysis.exports.transcript import export_transcript
    from analysis.exports.word import quotes_report
    from analysis.refi import export_qdpx

    store, target = study.store, study.folder.exports
    first = store.interviews()[0].id
    assert first is not None
    writers: dict[str, Callable[[Path], object]] = {
        "word": lambda path: quotes_report(store, path),
        "csv": lambda path: codings_csv(store, path),
        "qdpx": lambda path: export_qdpx(study, path),
        "txt": lambda path: export_transcript(store, first, path, "txt"),
    }
    n = 0
    while True:
        kind, name = EXPORTS[n % len(EXPORTS)]
        writers[kind](target / name)
        n += 1
        yield f"{kind} {name}"


# --- transcription ---------------------------------------------------------------------------


def transcribe(study: Study, sources: list[Path], window_ms: int = WINDOW_MS
               ) -> Iterator[str]:
    """Import and create the job (first run), or resume the job a kill left; then run it
    in this process, yielding after each committed window. Ends when the job is done."""
    import queue
    import threading

    from transcription.audio import import_audio
    from transcription.job import SAVED, create_job, run_job
    from transcription.options import Quality, TranscriptionOptions

    store = study.store
    interviews = store.interviews()
    if interviews:
        interview_id = interviews[0].id
        assert interview_id is not None
    else:
        interview_id, _media = import_audio(study, sources[0])
        yield f"imported {interview_id}"
    jobs = [j for j in store.jobs() if j.interview_id == interview_id]
    if jobs and jobs[-1].state is JobState.DONE:
        return
    job_id = create_job(study, interview_id, TranscriptionOptions(
        quality=Quality.FAST, threads=2, window_ms=window_ms))
    root = study.folder.root
    study.close()  # run_job opens its own connection, as the worker does
    # run_job reports through a callback: a thread turns its reports into this generator's
    # items, so each window is announced as soon as it is committed.
    saved: queue.Queue[str | BaseException | None] = queue.Queue()

    def progress(p: Any) -> None:
        if p.message.startswith(SAVED):
            saved.put(f"saved {p.done_ms}")

    def run() -> None:
        try:
            state = run_job(root, job_id, progress=progress)
            saved.put(f"finished {state.value}")
            saved.put(None)
        except BaseException as e:  # re-raised below, in the main thread
            saved.put(e)

    threading.Thread(target=run, name="transcription", daemon=True).start()
    while (item := saved.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kill_driver.py")
    parser.add_argument("study", type=Path)
    parser.add_argument("operation", choices=("edits", "apply", "import-transcript",
                                              "import-qdpx", "export", "transcribe"))
    parser.add_argument("seed", type=int)
    parser.add_argument("--count", type=int, default=0, help="stop after this many units")
    parser.add_argument("--source", type=Path, action="append", default=[])
    parser.add_argument("--hold", choices=("key-written", "before-vacuum", "move-media"))
    parser.add_argument("--window-ms", type=int, default=WINDOW_MS)
    args = parser.parse_args(argv)
    study = open_study(args.study)  # the app's own open: a backup, crashed jobs marked
    units: Iterator[str] = {
        "edits": lambda: edits(study, args.seed),
        "apply": lambda: anonymisation(study, args.seed, args.hold),
        "import-transcript": lambda: import_transcripts(study, args.source),
        "import-qdpx": lambda: import_projects(study, args.source, args.hold),
        "export": lambda: exports(study),
        "transcribe": lambda: transcribe(study, args.source, args.window_ms),
    }[args.operation]()
    emit("READY")
    for n, what in enumerate(units, 1):
        emit(f"COMMITTED {n} {what}")
        if n == args.count:
            break
    study.close()
    emit("DONE")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
