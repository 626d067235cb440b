"""The study's consistency check: SQLite's own checks plus the app's rules, so a kill,
a disk problem or a bug that left the data half-changed is found before it spreads.

`check_study` reads only (the search-index check is an INSERT that writes nothing).
Errors are data the app cannot rely on (a coding pointing past its text, a gap in a
transcript's order, a half-applied anonymisation); warnings are worth knowing but harm
nothing (a job a crash left 'running', the key file not where it usually is).
`python main.py check STUDY` runs it for users.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from study.errors import StudyDamagedError, StudyError
from study.model import JobState
from study.store import Store
from study.store.checks import CodingAnchors, SegmentFacts, damage_as_study_error

# Text offsets count characters, as Python's len() and SQLite's length() both do.


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: a short kind ("coding", "segment order", ...), a sentence for
    the researcher, and the ids of the records involved."""

    kind: str
    message: str
    ids: tuple[int, ...] = ()
    severity: Severity = Severity.ERROR

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        return f"{self.severity.value}: {self.kind}: {self.message}"


def warning(kind: str, message: str, ids: Iterable[int] = ()) -> Problem:
    return Problem(kind, message, tuple(ids), Severity.WARNING)


def check_study(store: Store, *, key_file: Path | None = None) -> list[Problem]:
    """Every problem found, errors first; an empty list for a healthy study.

    `key_file` is where the identifier key is expected (by default beside the study
    folder, as the apply dialog suggests)."""
    problems: list[Problem] = []
    rules: tuple[Callable[[Store], Iterable[Problem]], ...] = (
        _sqlite_checks, _coding_rules, _segment_rules, _memo_rules, _theme_rules, _job_rules,
        _anonymisation_rules, _media_rules)
    for rule in rules:
        try:
            with _reading(store):  # every rule, so none can let a raw sqlite3 error out
                problems += list(rule(store))
        except StudyDamagedError as e:  # a damaged page met while reading
            problems.append(Problem("integrity", str(e)))
    try:
        problems += list(_key_file_rules(store, key_file))
    except StudyError as e:
        problems.append(warning("key file", f"The key file could not be read: {e}"))
    return sorted(problems, key=lambda p: p.severity is not Severity.ERROR)


def _reading(store: Store) -> AbstractContextManager[None]:
    return damage_as_study_error(store.path)


# --- SQLite's own checks ------------------------------------------------------------------------


def _sqlite_checks(store: Store) -> Iterator[Problem]:
    with _reading(store):
        for message in store.integrity_errors():
            kind = "foreign key" if "points at a missing" in message else "integrity"
            yield Problem(kind, message)
        for message in store.search_index_errors():
            yield Problem("search index", f"{message}; searching may miss or misplace hits.")


# --- codings ------------------------------------------------------------------------------------


def _coding_rules(store: Store) -> Iterator[Problem]:
    with _reading(store):
        for c in store.coding_anchors():
            problem = _coding_fault(c)
            if problem is not None:
                yield problem


def _coding_fault(c: CodingAnchors) -> Problem | None:
    def fault(message: str) -> Problem:
        return Problem("coding", f"Coding {c.coding_id} {message}.", (c.coding_id,))

    for name, end in (("start", c.start), ("end", c.end)):
        if end.interview_id is None or end.position is None or end.length is None:
            return fault(f"points at segment {end.segment_id} as its {name}, which does not "
                         "exist")
        if end.interview_id != c.interview_id:
            return fault(f"belongs to interview {c.interview_id} but its {name} segment "
                         f"{end.segment_id} is in interview {end.interview_id}")
        if not 0 <= end.offset <= end.length:
            return fault(f"{name}s at character {end.offset} of segment {end.segment_id}, "
                         f"whose text has {end.length} characters")
    assert c.start.position is not None and c.end.position is not None
    start, end = (c.start.position, c.start.offset), (c.end.position, c.end.offset)
    if end < start:
        return fault("ends before it starts")
    if end == start:  # harmless, but the store never makes one on purpose
        return warning("coding", f"Coding {c.coding_id} covers no text.", (c.coding_id,))
    return None


# --- segments -----------------------------------------------------------------------------------


def _segment_rules(store: Store) -> Iterator[Problem]:
    with _reading(store):
        interview: int | None = None
        seen: list[SegmentFacts] = []
        for s in store.segment_facts():
            if s.interview_id != interview:
                yield from _position_faults(seen)
                interview, seen = s.interview_id, []
            seen.append(s)
            yield from _segment_faults(s)
        yield from _position_faults(seen)


def _position_faults(segments: list[SegmentFacts]) -> Iterator[Problem]:
    """Positions must run 0, 1, ..., n-1: the transcript's order and the codings' order
    both rely on it."""
    if not segments:
        return
    positions = [s.position for s in segments]
    if positions == list(range(len(segments))):
        return
    interview = segments[0].interview_id
    duplicates = sorted({p for p in positions if positions.count(p) > 1})
    missing = sorted(set(range(len(segments))) - set(positions))
    parts = []
    if duplicates:
        parts.append(f"position{'s' if len(duplicates) > 1 else ''} "
                     f"{_listed(duplicates)} used twice")
    if missing:
        parts.append(f"position{'s' if len(missing) > 1 else ''} {_listed(missing)} missing")
    if not parts:
        parts.append("positions out of sequence")
    yield Problem("segment order",
                  f"Interview {interview}'s {len(segments)} segments are not numbered "
                  f"0 to {len(segments) - 1} ({'; '.join(parts)}).",
                  (interview, *[s.id for s in segments if positions.count(s.position) > 1]))


def _listed(values: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _segment_faults(s: SegmentFacts) -> Iterator[Problem]:
    if s.speaker_id is not None:
        if s.speaker_interview_id is None:
            yield Problem("speaker", f"Segment {s.id} names speaker {s.speaker_id}, who does "
                          "not exist.", (s.id, s.speaker_id))
        elif s.speaker_interview_id != s.interview_id:
            yield Problem("speaker", f"Segment {s.id} of interview {s.interview_id} names "
                          f"speaker {s.speaker_id} of interview {s.speaker_interview_id}.",
                          (s.id, s.speaker_id))
    words = _parsed(s.words)
    if not isinstance(words, list) or not all(_is_word(w) for w in words):
        yield Problem("words", f"Segment {s.id}'s word timings cannot be read.", (s.id,))
    else:
        outside = [w for w in words if w[1] > w[2] or w[1] < s.start_ms or w[2] > s.end_ms]
        if outside:
            w = outside[0]  # its text is left out: a word may be a name
            yield warning("words", f"Segment {s.id} ({s.start_ms}-{s.end_ms} ms) has "
                          f"{len(outside)} word timing{'s' if len(outside) > 1 else ''} "
                          f"outside it (the first at {w[1]}-{w[2]} ms); playback may "
                          "highlight the wrong word.", (s.id,))
    flags = _parsed(s.flags)
    if not isinstance(flags, list) or not all(_is_flag(f) for f in flags):
        yield Problem("flags", f"Segment {s.id}'s flags cannot be read.", (s.id,))


_NOT_JSON = object()


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return _NOT_JSON


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_word(w: object) -> bool:
    """[text, start ms, end ms, probability], as study/store/interviews.py writes it."""
    return (isinstance(w, list) and len(w) == 4 and isinstance(w[0], str) and _is_int(w[1])
            and _is_int(w[2]) and isinstance(w[3], int | float) and not isinstance(w[3], bool))


def _is_flag(f: object) -> bool:
    """[kind, start ms, end ms, note]."""
    return (isinstance(f, list) and len(f) == 4 and isinstance(f[0], str) and _is_int(f[1])
            and _is_int(f[2]) and isinstance(f[3], str))


# --- memos, themes, jobs ------------------------------------------------------------------------


def _media_rules(store: Store) -> Iterator[Problem]:
    """Every interview's audio is in the study's media folder."""
    media = store.path.parent / "media"
    for interview_id, filename in store.media_files_in_use():
        if not (media / filename).is_file():
            yield Problem("media", f"Interview {interview_id}'s audio media/{filename} is "
                          "missing from the study folder.", (interview_id,))


def _memo_rules(store: Store) -> Iterator[Problem]:
    with _reading(store):
        for memo_id, target, target_id in store.memos_without_target():
            yield Problem("memo", f"Memo {memo_id} is on {target} {target_id}, which does "
                          "not exist.", (memo_id,))


def _theme_rules(store: Store) -> Iterator[Problem]:
    with _reading(store):
        for theme_id, code_id in store.theme_members_missing():
            yield Problem("theme", f"Theme {theme_id} lists code {code_id}, but the theme or "
                          "the code does not exist.", (theme_id, code_id))


def _job_rules(store: Store) -> Iterator[Problem]:
    with _reading(store):
        for job in store.jobs(JobState.RUNNING):
            assert job.id is not None
            yield warning("job", f"Job {job.id} ({job.kind}) is marked running: either it is "
                          "running in Verbatim now, or a crash cut it off (Verbatim offers to "
                          "resume it when the study is next opened).", (job.id,))


# --- anonymisation ------------------------------------------------------------------------------


def _anonymisation_rules(store: Store) -> Iterator[Problem]:
    """An apply is one transaction, so these mean damage or a bug: after it, the study
    must hold no original, candidate or decision from before it."""
    with _reading(store):
        left = store.anonymisation_leftovers()
    if left is None:
        return
    when = left.applied_at
    if left.originals:
        yield Problem("anonymisation", f"The anonymisation applied {when} is half-applied: "
                      f"the study still holds the real {_count(left.originals, 'identifier')} "
                      "it should have moved to the key file.", left.originals)
    if left.candidates:
        yield Problem("anonymisation", f"The anonymisation applied {when} is half-applied: "
                      f"{_count(left.candidates, 'detection candidate')} from before it "
                      "remain.", left.candidates)
    if left.decisions:
        yield Problem("anonymisation", f"The anonymisation applied {when} is half-applied: "
                      f"{_count(left.decisions, 'decision')} from before it remain.",
                      left.decisions)
    if not left.apply_audited:
        yield warning("anonymisation", f"The anonymisation applied {when} has no entry in "
                      "the audit log.")


def _count(ids: tuple[int, ...], noun: str) -> str:
    return f"{len(ids)} {noun}{'s' if len(ids) != 1 else ''} ({_listed(list(ids))})"


def _key_file_rules(store: Store, key_file: Path | None) -> Iterator[Problem]:
    """Not an error: the researcher may keep the key elsewhere, as the guidance says. But
    without it the anonymisation cannot be reversed, so say where it was looked for."""
    with _reading(store):
        active = store.active_anonymisation_keys()
    if not active:
        return
    if key_file is None:
        from study.folder import StudyFolder

        key_file = StudyFolder(store.path.parent).key_file
    if not key_file.exists():
        yield warning("key file", f"The study is anonymised but its key file is not at "
                      f"{key_file}. If you keep it elsewhere, all is well; without it the "
                      "anonymisation cannot be reversed.")
        return
    from study.store.key_file import KeyFile

    if KeyFile.is_sealed(key_file):
        return  # its passphrase is needed to look inside
    with KeyFile.open(key_file) as key:
        if key.salt != store.salt():
            yield warning("key file", f"{key_file} is the key file of another study.")
            return
        missing = [applied for key_id, applied in active if not key.has_run(key_id)]
    if missing:
        yield warning("key file", f"The key file {key_file} does not hold the anonymisation "
                      f"applied {missing[0]}; keep the key file written then.")


def error_count(problems: Iterable[Problem]) -> int:
    return sum(1 for p in problems if p.is_error)


__all__ = ["Problem", "Severity", "check_study", "error_count"]
