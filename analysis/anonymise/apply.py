"""Applying anonymisation: the reviewed identifiers replaced throughout the study at once,
the originals moved to the key file, and the same undone from the key file.

Order matters for never losing data: the whole change is worked out first (an
AnonymisationRecord: every changed segment, coding and text, before and after), the key
file is written and flushed (atomically), and only then does one store transaction
write the "after" side. If that transaction fails the new key file is removed (or the
previous one put back), and the study is as it was. After the commit the study file is
vacuumed and its WAL emptied, so freed pages holding originals are gone; backups taken
before the apply still hold originals, so they are listed for the researcher to purge.

What is replaced, per occurrence: candidates the researcher accepted, and candidates of
identifiers whose rule is "always" unless rejected there; never an identifier whose rule
is "never". Accepted decisions on spans detection did not propose count too. Memos,
journal entries, interview titles and every other stored text (see
study.store.anonymity.TEXT_COLUMNS) have the same identifiers replaced wherever they
occur as whole words, by the leak checker's matching (case, spacing and possessives do
not matter: "Sarah's" becomes "[Name 3]'s").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.leak_check import LeakChecker
from study.errors import StudyError, ValidationError
from study.folder import StudyFolder
from study.identifiers import normalise
from study.model import (
    Changes,
    Coding,
    Decision,
    Identifier,
    IdentifierRule,
    InterviewStatus,
    Segment,
    Word,
)
from study.store import Store
from study.store.anonymity import (
    EARLIER_STATUSES,
    AnonymisationRecord,
    CodingChange,
    FieldChange,
    GlossaryEntry,
    ReverseResult,
    SegmentChange,
    SpanSwap,
    map_offset,
)
from study.store.key_file import KeyFile, write_atomic

ProgressCallback = Callable[[str, float], None]  # (what is happening, fraction done 0..1)

_POSSESSIVE = re.compile(r"['’][sS]$")
_BACKUP_STAMP = re.compile(r"(\d{8}-\d{6})")
_CODINGS_BATCH = 4000  # segment ids per query: SQLite limits bound parameters


# --- the plan --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedReplacement:
    """One occurrence to replace: segment text[start:end] (== text) by `replacement`."""

    segment_id: int
    start: int
    end: int
    text: str
    identifier_id: int
    replacement: str
    category: str


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """What the researcher is told before applying.

    undecided: candidates nobody decided on that will stay as they are (the GUI warns);
    unregistered: those of them with no identifier, so nothing could replace them;
    stale: candidates whose text no longer matches the transcript (run detection again);
    overlapping: spans left out because a longer one in the same place is replaced.
    """

    replacements: int
    segments: int
    interviews: int
    by_category: tuple[tuple[str, int], ...]
    undecided: int = 0
    unregistered: int = 0
    stale: int = 0
    overlapping: int = 0


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """The occurrences to replace, grouped by segment (reading order), each group left
    to right; and the identifiers replaced in other stored text too."""

    segments: tuple[tuple[int, tuple[PlannedReplacement, ...]], ...]
    summary: PlanSummary
    identifier_ids: tuple[int, ...] = ()

    @property
    def segment_ids(self) -> tuple[int, ...]:
        return tuple(s for s, _ in self.segments)

    def replacements(self) -> Iterator[PlannedReplacement]:
        for _, planned in self.segments:
            yield from planned

    def for_segment(self, segment_id: int) -> tuple[PlannedReplacement, ...]:
        return dict(self.segments).get(segment_id, ())


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What an apply did. `backups_with_originals` were taken before it and still hold
    the originals: offer purge_backups_before(folder, applied_at) after asking."""

    key_id: str
    key_file: Path
    applied_at: dt.datetime  # local time, as backups are named
    replaced: int
    segments: int
    fields: int
    moved_originals: int
    timings_dropped: int  # segments whose word timings could not be matched to the text
    changes: Changes
    backups_with_originals: tuple[Path, ...]
    compacted: bool  # False if another connection kept VACUUM from running: run it later
    seconds: float


def _trim_possessive(text: str, start: int, end: int) -> int:
    """A span ending in a possessive ("Sarah's") keeps the 's outside the replacement."""
    piece = text[start:end]
    if _POSSESSIVE.search(piece) and normalise(piece[:-2]) == normalise(piece):
        return end - 2
    return end


def plan_apply(store: Store) -> ApplyPlan:
    """Which occurrences an apply would replace now, and what is left undecided."""
    idents = {i.id: i for i in store.identifiers()}
    decisions = {(d.segment_id, d.start_offset, d.end_offset): d for d in store.decisions()}
    chosen: list[tuple[tuple[int, int, int], Identifier, str | None]] = []
    undecided = unregistered = 0
    proposed: set[tuple[int, int, int]] = set()
    for c in store.candidates():
        spot = (c.segment_id, c.start, c.end)
        proposed.add(spot)
        d = decisions.get(spot)
        ident = idents.get(d.identifier_id if d is not None else c.identifier_id)
        if ident is None:
            undecided += 1
            unregistered += 1
        elif ident.rule is IdentifierRule.NEVER:
            continue
        elif d is not None:
            if d.decision is Decision.ACCEPT:
                chosen.append((spot, ident, c.text))
        elif ident.rule is IdentifierRule.ALWAYS:
            chosen.append((spot, ident, c.text))
        else:
            undecided += 1
    for spot, d in decisions.items():  # the researcher's own selections
        ident = idents.get(d.identifier_id)
        if (spot not in proposed and d.decision is Decision.ACCEPT and ident is not None
                and ident.rule is not IdentifierRule.NEVER):
            chosen.append((spot, ident, None))
    places = store.segment_places(spot[0] for spot, _, _ in chosen)
    stale = overlapping = 0
    by_segment: dict[int, list[PlannedReplacement]] = {}
    for (seg_id, start, end), ident, text in chosen:
        place = places.get(seg_id)
        if place is None or not 0 <= start < end <= len(place[2]) or (
                text is not None and place[2][start:end] != text):
            stale += 1
            continue
        seg_text = place[2]
        end = _trim_possessive(seg_text, start, end)
        assert ident.id is not None
        by_segment.setdefault(seg_id, []).append(PlannedReplacement(
            seg_id, start, end, seg_text[start:end], ident.id, ident.replacement,
            ident.category))
    groups: list[tuple[int, tuple[PlannedReplacement, ...]]] = []
    for seg_id, planned in by_segment.items():
        kept: list[PlannedReplacement] = []
        for p in sorted(planned, key=lambda p: (p.start, -(p.end - p.start))):
            if kept and p.start < kept[-1].end:
                overlapping += 1
                continue
            kept.append(p)
        groups.append((seg_id, tuple(kept)))
    groups.sort(key=lambda g: places[g[0]][:2])
    flat = [p for _, ps in groups for p in ps]
    used = {p.identifier_id for p in flat} | {
        i for i, ident in idents.items()
        if i is not None and ident.rule is IdentifierRule.ALWAYS}
    summary = PlanSummary(
        replacements=len(flat), segments=len(groups),
        interviews=len({places[s][0] for s, _ in groups}),
        by_category=tuple(sorted(Counter(p.category for p in flat).items())),
        undecided=undecided, unregistered=unregistered, stale=stale, overlapping=overlapping)
    return ApplyPlan(tuple(groups), summary, tuple(sorted(used)))


# --- rewriting text, words and codings -------------------------------------------------------


def rewrite_text(text: str, planned: Sequence[PlannedReplacement]) -> tuple[str, tuple[SpanSwap,
                                                                                          ...]]:
    """The text with each planned span replaced (right to left, so offsets to the left
    stay valid), and the swaps left to right with their offsets before and after."""
    ordered = sorted(planned, key=lambda p: p.start)
    for p in reversed(ordered):
        text = text[:p.start] + p.replacement + text[p.end:]
    swaps: list[SpanSwap] = []
    shift = 0
    for p in ordered:
        start = p.start + shift
        swaps.append(SpanSwap(p.start, p.end, start, start + len(p.replacement), p.text,
                              p.replacement, p.identifier_id))
        shift += len(p.replacement) - (p.end - p.start)
    return text, tuple(swaps)


def word_spans(text: str, words: Sequence[Word]) -> list[tuple[int, int]] | None:
    """Where each word lies in the text, in order; None if they do not match it (the
    text was edited and the timings kept), so nothing is guessed."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    lower = text.lower()
    for w in words:
        token = w.text.strip()
        if not token:
            spans.append((cursor, cursor))
            continue
        at = text.find(token, cursor)
        if at < 0 and len(lower) == len(text) and len(token.lower()) == len(token):
            at = lower.find(token.lower(), cursor)  # a case edit kept the timings
        if at < 0 or re.search(r"\w", text[cursor:at]):
            return None
        spans.append((at, at + len(token)))
        cursor = at + len(token)
    return spans


def rebuild_words(before: str, after: str, words: Sequence[Word],
                  swaps: Sequence[SpanSwap]) -> tuple[Word, ...] | None:
    """Word timings for the rewritten text: words overlapping a replaced span collapse
    into one word holding the replacement (the first word's start, the last word's end,
    probability 1.0); the others are kept as they were. None if the words do not match
    the text."""
    spans = word_spans(before, words)
    if spans is None:
        return None
    out: list[Word] = []
    group: list[tuple[Word, tuple[int, int]]] = []
    last_swap = -1

    def flush() -> None:
        if not group:
            return
        (first, (start, _)), (last, (_, end)) = group[0], group[-1]
        lead = first.text[:len(first.text) - len(first.text.lstrip())]
        trail = last.text[len(last.text.rstrip()):]
        text = after[map_offset(swaps, start, end=False):map_offset(swaps, end, end=True)]
        out.append(Word(f"{lead}{text}{trail}", first.start_ms, last.end_ms, 1.0))
        group.clear()

    for word, (start, end) in zip(words, spans, strict=True):
        hits = [n for n, sw in enumerate(swaps)
                if (start < sw.before_end and sw.before_start < end)
                or (start == end and sw.before_start < start < sw.before_end)]
        if not hits:
            flush()
            out.append(word)
            continue
        if not group or min(hits) > last_swap:
            flush()
        group.append((word, (start, end)))
        last_swap = max(hits)
    flush()
    return tuple(out)


def remap_coding(c: Coding, swaps: Mapping[int, Sequence[SpanSwap]]) -> Coding:
    """A coding's offsets in the rewritten segments: shifted by the length changes, an
    edge inside a replaced span moved to the replacement's edge."""
    start, end = c.start_offset, c.end_offset
    if c.start_segment_id in swaps:
        start = map_offset(swaps[c.start_segment_id], start, end=False)
    if c.end_segment_id in swaps:
        end = map_offset(swaps[c.end_segment_id], end, end=True)
    return dataclasses.replace(c, start_offset=start, end_offset=end)


def replace_terms(checker: LeakChecker, text: str) -> tuple[str, tuple[SpanSwap, ...]]:
    """Free text (a memo, a title) with every identifier the checker knows replaced as a
    whole word, a possessive kept after the replacement."""
    leaks = checker.find(text)
    if not leaks:
        return text, ()
    pieces: list[str] = []
    swaps: list[SpanSwap] = []
    cursor = shift = 0
    for leak in leaks:
        end = _trim_possessive(text, leak.start, leak.end)
        pieces += [text[cursor:leak.start], leak.replacement]
        start = leak.start + shift
        swaps.append(SpanSwap(leak.start, end, start, start + len(leak.replacement),
                              text[leak.start:end], leak.replacement, leak.identifier_id))
        shift += len(leak.replacement) - (end - leak.start)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), tuple(swaps)


def _replace_in_json(checker: LeakChecker, text: str) -> tuple[str, tuple[SpanSwap, ...]]:
    """JSON (audit details, job parameters): its string values rewritten, still JSON."""
    try:
        value = json.loads(text)
    except ValueError:
        return replace_terms(checker, text)
    swaps: list[SpanSwap] = []

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            new, found = replace_terms(checker, v)
            swaps.extend(found)
            return new
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    new = walk(value)
    return (json.dumps(new), tuple(swaps)) if swaps else (text, ())


def _replace_notes(checker: LeakChecker, seg: Segment) -> Segment:
    flags = tuple(dataclasses.replace(f, note=replace_terms(checker, f.note)[0])
                  for f in seg.flags)
    return dataclasses.replace(seg, flags=flags)


def prepare_record(store: Store, plan: ApplyPlan, *, key_id: str | None = None,
                   progress: ProgressCallback | None = None
                   ) -> tuple[AnonymisationRecord, int]:
    """Work out everything an apply changes, before and after, without writing; returns
    the record and how many segments lost their word timings (words not matching text)."""
    report = progress or (lambda _stage, _fraction: None)
    segments = store.segments_by_id(plan.segment_ids)
    for p in plan.replacements():
        seg = segments.get(p.segment_id)
        if seg is None or seg.text[p.start:p.end] != p.text:
            raise ValidationError("The transcripts have changed since the anonymisation was "
                                  "reviewed; review it again before applying.")
    wanted = set(plan.identifier_ids)
    checker = LeakChecker(store.salt(), {i.original_hash: i for i in store.identifiers()
                                         if i.id in wanted})
    changes: dict[int, SegmentChange] = {}
    dropped = 0
    for n, (seg_id, planned) in enumerate(plan.segments):
        seg = segments[seg_id]
        text, swaps = rewrite_text(seg.text, planned)
        words = rebuild_words(seg.text, text, seg.words, swaps) if seg.words else ()
        if words is None:
            words, dropped = (), dropped + 1
        after = _replace_notes(checker, dataclasses.replace(seg, text=text, words=words))
        changes[seg_id] = SegmentChange(seg, after, swaps)
        if n % 200 == 0:
            report("Working out the replacements", 0.5 * n / max(1, len(plan.segments)))
    flagged = [i for i in store.flagged_segment_ids() if i not in changes]
    for seg in store.segments_by_id(flagged).values():
        after = _replace_notes(checker, seg)
        if after.flags != seg.flags:
            assert seg.id is not None
            changes[seg.id] = SegmentChange(seg, after, ())
    report("Remapping codings", 0.5)
    swaps_by_segment = {i: c.swaps for i, c in changes.items() if c.swaps}
    codings: list[CodingChange] = []
    ids = list(swaps_by_segment)
    seen: set[int | None] = set()
    for at in range(0, len(ids), _CODINGS_BATCH):
        for c in store.codings_touching(ids[at:at + _CODINGS_BATCH]):
            if c.id in seen:
                continue
            seen.add(c.id)
            moved = remap_coding(c, swaps_by_segment)
            if moved != c:
                codings.append(CodingChange(c, moved))
    report("Checking memos, titles and notes", 0.6)
    fields: list[FieldChange] = []
    for f in store.text_fields():
        new, swaps = (_replace_in_json if f.is_json else replace_terms)(checker, f.value)
        if new != f.value:
            fields.append(FieldChange(f.table, f.row_id, f.column, f.value, new, swaps))
    for interview in store.interviews():
        assert interview.id is not None
        if interview.status in EARLIER_STATUSES and store.segment_count(interview.id):
            fields.append(FieldChange("interviews", interview.id, "status",
                                      interview.status.value,
                                      InterviewStatus.ANONYMISED.value))
    glossary = tuple(g for g in store.glossary_entries() if checker.find(g.term))
    record = AnonymisationRecord(
        key_id=key_id or str(uuid.uuid4()),
        applied_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        registry=tuple(store.key_entries()),
        segments=tuple(changes.values()),
        codings=tuple(codings),
        fields=tuple(fields),
        candidates=tuple(store.candidates()),
        decisions=tuple(store.decisions()),
        glossary=tuple(GlossaryEntry(g.id, g.term, g.note) for g in glossary),
    )
    return record, dropped


# --- apply and reverse -----------------------------------------------------------------------


def apply_anonymisation(store: Store, folder: StudyFolder, *, passphrase: str | None = None,
                        plan: ApplyPlan | None = None,
                        progress: ProgressCallback | None = None,
                        key_path: Path | None = None) -> ApplyResult:
    """Apply the plan (a fresh one if none is given): key file first, then one
    transaction, then VACUUM. `key_path` defaults to folder.key_file; an existing key
    file there gets this apply added (its passphrase is needed to open it)."""
    started = time.perf_counter()
    applied_local = dt.datetime.now().replace(microsecond=0)
    report = progress or (lambda _stage, _fraction: None)
    report("Planning", 0.0)
    plan = plan or plan_apply(store)
    if not plan.summary.replacements and not store.originals():
        raise ValidationError("There is nothing to anonymise: no occurrence is marked for "
                              "replacement and no identifier is waiting to be moved.")
    record, dropped = prepare_record(store, plan, progress=report)
    with_originals = tuple(backups_holding_originals(folder))
    target = Path(key_path) if key_path is not None else folder.key_file
    report("Writing the key file", 0.7)
    previous = _write_key(store, target, record, passphrase)
    report("Replacing identifiers", 0.8)
    try:
        changes = store.apply_replacements(record)
    except BaseException:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            write_atomic(target, previous)
        raise
    report("Clearing freed space", 0.9)
    compacted = store.purge_freed_pages()
    report("Done", 1.0)
    return ApplyResult(
        key_id=record.key_id, key_file=target, applied_at=applied_local,
        replaced=record.replaced, segments=sum(1 for s in record.segments if s.swaps),
        fields=len(record.fields), moved_originals=len(record.registry),
        timings_dropped=dropped, changes=changes, backups_with_originals=with_originals,
        compacted=compacted, seconds=time.perf_counter() - started)


def _write_key(store: Store, target: Path, record: AnonymisationRecord,
               passphrase: str | None) -> bytes | None:
    """Add the record to the key file at `target` (made if missing) and save it; returns
    the file's previous bytes, to put back if the apply fails."""
    previous = target.read_bytes() if target.exists() else None
    if previous is not None:
        key = KeyFile.open(target, passphrase=passphrase)
        if key.salt != store.salt():
            key.close()
            raise StudyError(f"{target.name} is the key file of another study; choose "
                             "another place for this study's key.")
        if passphrase and not key.sealed:
            key.set_passphrase(passphrase)
    else:
        key = KeyFile.create(target, study_name=store.study_info().name, salt=store.salt(),
                             passphrase=passphrase or None)
    with key:
        key.add_run(record)
        key.save()
    return previous


def reverse_anonymisation(store: Store, folder: StudyFolder, *,
                          passphrase: str | None = None,
                          key_path: Path | None = None) -> ReverseResult:
    """Undo every apply in force, newest first, in one transaction, from the key file.
    `not_found` counts replacements that could not be put back (text edited since)."""
    runs = [r for r in store.anonymisation_runs() if r.active]
    if not runs:
        raise ValidationError("The study is not anonymised, so there is nothing to reverse.")
    target = Path(key_path) if key_path is not None else folder.key_file
    with KeyFile.open(target, passphrase=passphrase) as key:
        if key.salt != store.salt():
            raise StudyError(f"{target.name} is the key file of another study.")
        missing = [r for r in runs if not key.has_run(r.key_id)]
        if missing:
            when = missing[-1].applied_at.astimezone().strftime("%d %b %Y %H:%M")
            raise StudyError(f"{target.name} does not hold the anonymisation applied on "
                             f"{when}; open the key file written then.")
        records = [key.record(r.key_id) for r in reversed(runs)]
    results: list[ReverseResult] = []
    with store.write():
        for record in records:
            results.append(store.reverse_replacements(record))
    merged = Changes()
    for r in results:
        merged = merged | r
    return ReverseResult(merged.added, merged.updated, merged.removed,
                         sum(r.restored for r in results), sum(r.not_found for r in results),
                         tuple(k for r in results for k in r.key_ids))


# --- backups that still hold originals -------------------------------------------------------


def _backup_time(path: Path) -> dt.datetime | None:
    m = _BACKUP_STAMP.search(path.name)
    if m is None:
        return None
    try:
        return dt.datetime.strptime(m.group(1), "%Y%m%d-%H%M%S")
    except ValueError:
        return None


def backups_holding_originals(folder: StudyFolder,
                              before: dt.datetime | None = None) -> list[Path]:
    """The study's backups (rolling, before-migration, partial copies), oldest first,
    taken before `before` (local time; all of them when None)."""
    if not folder.backups.exists():
        return []
    limit = _local(before) if before is not None else None
    found = []
    for path in folder.backups.iterdir():
        if not path.is_file() or path.suffix not in {".sqlite", ".partial"}:
            continue
        stamp = _backup_time(path)
        if stamp is None or limit is None or stamp <= limit:
            found.append(path)
    return sorted(found, key=lambda p: (_backup_time(p) or dt.datetime.min, p.name))


def purge_backups_before(folder: StudyFolder, when: dt.datetime) -> list[Path]:
    """Delete the backups taken up to `when` (e.g. ApplyResult.applied_at): they hold the
    originals. Ask the researcher first. Returns what was deleted."""
    removed = []
    for path in backups_holding_originals(folder, when):
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise StudyError(f"Could not delete the backup {path.name}: {e.strerror}.") from e
        removed.append(path)
    return removed


def _local(when: dt.datetime) -> dt.datetime:
    """Backups are named in local time: compare in it."""
    return when.astimezone().replace(tzinfo=None) if when.tzinfo is not None else when


__all__ = [
    "ApplyPlan",
    "ApplyResult",
    "PlanSummary",
    "PlannedReplacement",
    "ProgressCallback",
    "apply_anonymisation",
    "backups_holding_originals",
    "plan_apply",
    "prepare_record",
    "purge_backups_before",
    "rebuild_words",
    "remap_coding",
    "replace_terms",
    "reverse_anonymisation",
    "rewrite_text",
    "word_spans",
]
