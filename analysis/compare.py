"""Group comparison: which codes or themes each group raised, and in whose words.

The unit is the participant, the unit a qualitative report speaks of ("4 of 5 MHCC
practitioners"). For each row (a code or a theme) and each group of a participant
attribute (e.g. agency):

- n: participants of the group heard in at least one interview that passes the status
  filter (as the interviewee, or as a speaker linked to them);
- k: of those, participants with at least one coding in their own speech;
- references: codings in their speech (a coding counts once, however many segments it
  spans); words: the words coded in their speech.

The speaker rule: a coded portion (the part of a coding in one segment) is the
participant's own speech unless its speaker is the interviewer (or include_interviewer
is set); it belongs to the speaker's participant when the speaker is linked to one, else
to the interview's participant. A portion belonging to nobody is left out, with a
warning naming the interview.

A theme's codes are its member codes, with their sub-codes when include_subcodes; a
code row likewise takes in its sub-codes. Everything is computed from the store on each
call (small queries for people and codebook, one over the codings): nothing is cached
that could go stale.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from study.model import AttributeType, Code, Coding, InterviewStatus, SpeakerRole
from study.store import CodedPortion, Store
from study.store.queries import NOT_SET

RowKind = Literal["code", "theme"]
RowKey = tuple[str, int, str]  # (kind, id, label)
ParticipantKey = tuple[int, str, str]  # (id, code, group)

_INTERVIEWER = SpeakerRole.INTERVIEWER
PATH_SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Group:
    """One column: the participants with this attribute value who count in n."""

    name: str
    participant_ids: tuple[int, ...]

    @property
    def n(self) -> int:
        return len(self.participant_ids)


@dataclass(frozen=True, slots=True)
class Cell:
    """One row in one group; participant_ids are the k who raised it, by study code."""

    k: int
    n: int
    percent: float
    references: int
    words: int
    participant_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Row:
    kind: RowKind
    id: int
    label: str
    cells: tuple[Cell, ...]  # one per Comparison.groups, in that order
    total: Cell  # all groups together


@dataclass(frozen=True, slots=True)
class Comparison:
    attribute: str
    groups: tuple[Group, ...]
    rows: tuple[Row, ...]
    include_interviewer: bool
    statuses: frozenset[InterviewStatus] | None
    small_n: int
    warnings: tuple[str, ...]
    row_kind: RowKind = "theme"
    include_subcodes: bool = True

    def small_groups(self) -> tuple[Group, ...]:
        """Groups too small for percentages to mean much (fewer than small_n)."""
        return tuple(g for g in self.groups if g.n < self.small_n)


@dataclass(frozen=True, slots=True)
class PresenceMatrix:
    """References per participant (rows of counts) per code or theme (columns)."""

    participants: tuple[ParticipantKey, ...]
    rows: tuple[RowKey, ...]
    counts: tuple[tuple[int, ...], ...]  # counts[participant][row]
    attribute: str = "group"


@dataclass(frozen=True, slots=True)
class Cooccurrence:
    """counts[i][j]: places where a coding of code i overlaps a coding of code j;
    counts[i][i]: the codings of code i (both in counting speech only)."""

    codes: tuple[tuple[int, str], ...]
    counts: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class Quote:
    """A coding as said by one participant: the words of it in their speech.

    start_ms and speaker_label are those of the first segment of that speech, so the
    attribution "(MHCC-3, 00:12:31)" points at the participant's words, not at the
    interviewer's question a coding may begin with.
    """

    coding: Coding
    participant_id: int
    participant_code: str
    group: str
    interview_id: int
    interview_title: str
    start_ms: int
    speaker_label: str
    text: str


# --- shared helpers ---------------------------------------------------------------------------


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort "MHCC-2" before "MHCC-10", ignoring case."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold())
                 for part in re.split(r"(\d+)", text) if part)


def _statuses(statuses: Collection[InterviewStatus] | None) -> frozenset[InterviewStatus] | None:
    return None if statuses is None else frozenset(InterviewStatus(s) for s in statuses)


def _owner(p: CodedPortion, include_interviewer: bool) -> int | None:
    """The participant whose own speech this portion is, or None if it does not count."""
    if p.speaker_role is _INTERVIEWER and not include_interviewer:
        return None
    return p.speaker_participant_id if p.speaker_participant_id is not None \
        else p.interview_participant_id


def _codebook(codes: Sequence[Code]) -> tuple[list[Code], dict[int, str], dict[int, list[int]]]:
    """Codes in codebook order (parents before their children, depth first), each code's
    label (its path), and each code's subtree ids."""
    children: dict[int | None, list[Code]] = {}
    known = {c.id for c in codes}
    for c in codes:  # store.codes() is already in position, name order
        parent = c.parent_id if c.parent_id in known else None
        children.setdefault(parent, []).append(c)
    ordered: list[Code] = []
    labels: dict[int, str] = {}
    subtree: dict[int, list[int]] = {}

    def walk(parent: int | None, path: str) -> list[int]:
        below: list[int] = []
        for c in children.get(parent, []):
            assert c.id is not None
            ordered.append(c)
            labels[c.id] = f"{path}{PATH_SEPARATOR}{c.name}" if path else c.name
            ids = [c.id, *walk(c.id, labels[c.id])]
            subtree[c.id] = ids
            below += ids
        return below

    walk(None, "")
    return ordered, labels, subtree


@dataclass(frozen=True, slots=True)
class _RowSpec:
    kind: RowKind
    id: int
    label: str
    code_ids: tuple[int, ...]


def _row_specs(store: Store, rows: str, include_subcodes: bool) -> list[_RowSpec]:
    kind = _row_kind(rows)
    ordered, labels, subtree = _codebook(store.codes())

    def expand(ids: Iterable[int]) -> tuple[int, ...]:
        found = (cid for i in ids for cid in (subtree.get(i, [i]) if include_subcodes else [i]))
        return tuple(dict.fromkeys(found))

    if kind == "code":
        return [_RowSpec("code", c.id, labels[c.id], expand([c.id]))
                for c in ordered if c.id is not None]
    return [_RowSpec("theme", t.id, t.name, expand(t.code_ids))
            for t in store.themes() if t.id is not None]


def _row_kind(rows: str) -> RowKind:
    if rows in ("theme", "themes"):
        return "theme"
    if rows in ("code", "codes"):
        return "code"
    raise ValueError(f"rows must be 'themes' or 'codes', not {rows!r}")


@dataclass(frozen=True, slots=True)
class _People:
    """Who counts under the filter, and in which group, in column order."""

    groups: tuple[Group, ...]
    group_of: dict[int, str]  # participant id -> group name, for participants in n
    code_of: dict[int, str]  # participant id -> study code, for every participant
    rank: dict[int, int]  # participant id -> place in study-code order
    warnings: tuple[str, ...]


def _people(store: Store, by: str, statuses: frozenset[InterviewStatus] | None) -> _People:
    values = store.participant_attribute_values(by)
    heard = store.interviews_by_participant(statuses=statuses)
    code_of = {p.id: p.code for p in store.participants() if p.id is not None}
    rank = {pid: n for n, pid in enumerate(sorted(code_of, key=lambda i: natural_key(code_of[i])))}
    members: dict[str, list[int]] = {}
    for pid in heard:
        members.setdefault(values.get(pid, NOT_SET), []).append(pid)
    order = _group_order(store, by, members)
    groups = tuple(Group(name, tuple(sorted(members[name], key=rank.__getitem__)))
                   for name in order)
    warnings = [f'The interview "{i.title}" has no participant: its speech not linked to a '
                "participant is left out."
                for i in store.interviews()
                if i.participant_id is None and (statuses is None or i.status in statuses)]
    if not groups:
        warnings.insert(0, "No participant has an interview that passes the filter.")
    group_of = {pid: g.name for g in groups for pid in g.participant_ids}
    return _People(groups, group_of, code_of, rank, tuple(warnings))


def _group_order(store: Store, by: str, members: dict[str, list[int]]) -> list[str]:
    """A choice attribute's groups in the order of its choices; others in natural order
    (so years in post read 2, 5, 12); "(not set)" last."""
    choices: tuple[str, ...] = ()
    if by != "group":
        for attr in store.attribute_defs():
            if attr.name == by and attr.type is AttributeType.CHOICE:
                choices = attr.choices
    rank = {c: n for n, c in enumerate(choices)}
    return sorted(members, key=lambda g: (g == NOT_SET, rank.get(g, len(rank)), natural_key(g)))


def _tally(portions: Iterable[CodedPortion], include_interviewer: bool,
           counted: Collection[int]) -> dict[int, dict[int, tuple[set[int], list[int]]]]:
    """code id -> participant id -> (coding ids, [words]) over counting speech."""
    tally: dict[int, dict[int, tuple[set[int], list[int]]]] = {}
    for p in portions:
        if p.speaker_role is _INTERVIEWER and not include_interviewer:
            continue
        pid = p.speaker_participant_id
        if pid is None:
            pid = p.interview_participant_id
        if pid is None or pid not in counted:
            continue
        by_pid = tally.get(p.code_id)
        if by_pid is None:
            by_pid = tally[p.code_id] = {}
        entry = by_pid.get(pid)
        if entry is None:
            entry = by_pid[pid] = (set(), [0])
        entry[0].add(p.coding_id)
        entry[1][0] += p.words
    return tally


# --- the comparison ---------------------------------------------------------------------------


def compare(store: Store, *, by: str = "group", rows: str = "themes",
            include_interviewer: bool = False,
            statuses: Collection[InterviewStatus] | None = None,
            include_subcodes: bool = True, small_n: int = 5) -> Comparison:
    """The rows-by-groups matrix of k of n, percentages, references and words."""
    chosen = _statuses(statuses)
    specs = _row_specs(store, rows, include_subcodes)
    people = _people(store, by, chosen)
    tally = _tally(store.coded_portions(statuses=chosen), include_interviewer, people.group_of)
    names = [g.name for g in people.groups]
    index = {name: n for n, name in enumerate(names)}
    # Per code, per group: who raised it, which codings, how many words (codes are few);
    # and the code's codings over all groups, since a coding that runs across two voices
    # counts in each one's group but once in the total.
    per_code: dict[int, tuple[list[tuple[set[int], set[int], int]], int]] = {}
    for code_id, by_pid in tally.items():
        columns: list[tuple[set[int], set[int], int]] = [(set(), set(), 0) for _ in names]
        for pid, (codings, words) in by_pid.items():
            g = index[people.group_of[pid]]
            raised, refs, total = columns[g]
            raised.add(pid)
            refs |= codings
            columns[g] = (raised, refs, total + words[0])
        per_code[code_id] = (columns, len(set().union(*(refs for _, refs, _ in columns))))
    rank = people.rank
    total_n = sum(g.n for g in people.groups)
    built = []
    for spec in specs:
        cells = []
        for g, group in enumerate(people.groups):
            raised: set[int] = set()
            refs = words = 0
            for code_id in spec.code_ids:
                found = per_code.get(code_id)
                if found is not None:
                    raised |= found[0][g][0]
                    refs += len(found[0][g][1])  # a coding has one code: no double counting
                    words += found[0][g][2]
            cells.append(_cell(raised, group.n, refs, words, rank))
        total = _cell(set().union(*(cell.participant_ids for cell in cells)), total_n,
                      sum(per_code[c][1] for c in spec.code_ids if c in per_code),
                      sum(cell.words for cell in cells), rank)
        built.append(Row(spec.kind, spec.id, spec.label, tuple(cells), total))
    warnings = [f"{g.name} has {g.n} participant{'s' if g.n != 1 else ''}: read its "
                "percentages with care" for g in people.groups if g.n < small_n]
    return Comparison(by, people.groups, tuple(built), include_interviewer, chosen, small_n,
                      (*warnings, *people.warnings), _row_kind(rows), include_subcodes)


def _cell(raised: set[int], n: int, references: int, words: int,
          rank: dict[int, int]) -> Cell:
    k = len(raised)
    return Cell(k, n, 100.0 * k / n if n else 0.0, references, words,
                tuple(sorted(raised, key=rank.__getitem__)))


def to_rows(comparison: Comparison) -> list[list[str]]:
    """The comparison as table rows for CSV, header first: per group (then all groups
    together) k, n, %, references and words."""
    header = ["Theme" if comparison.row_kind == "theme" else "Code"]
    for name in [g.name for g in comparison.groups] + ["All"]:
        header += [f"{name} k", f"{name} n", f"{name} %", f"{name} references",
                   f"{name} words"]
    table = [header]
    for row in comparison.rows:
        line = [row.label]
        for cell in (*row.cells, row.total):
            line += [str(cell.k), str(cell.n), f"{cell.percent:.1f}", str(cell.references),
                     str(cell.words)]
        table.append(line)
    return table


# --- participants by rows, and codes by codes -------------------------------------------------


def presence_matrix(store: Store, *, rows: str = "themes", by: str = "group",
                    include_interviewer: bool = False,
                    statuses: Collection[InterviewStatus] | None = None,
                    include_subcodes: bool = True) -> PresenceMatrix:
    """References per participant per row: who raised what, participants ordered by
    group (as the comparison's columns) then study code."""
    chosen = _statuses(statuses)
    specs = _row_specs(store, rows, include_subcodes)
    people = _people(store, by, chosen)
    tally = _tally(store.coded_portions(statuses=chosen), include_interviewer, people.group_of)
    participants = tuple((pid, people.code_of[pid], g.name)
                         for g in people.groups for pid in g.participant_ids)
    counts = tuple(
        tuple(sum(len(tally[c][pid][0]) for c in spec.code_ids
                  if c in tally and pid in tally[c]) for spec in specs)
        for pid, _, _ in participants)
    return PresenceMatrix(participants, tuple((s.kind, s.id, s.label) for s in specs), counts,
                          by)


def cooccurrence(store: Store, *, statuses: Collection[InterviewStatus] | None = None,
                 include_interviewer: bool = False) -> Cooccurrence:
    """How often codings of two codes overlap in the text, over counting speech, every
    code in codebook order. A pair of codings counts once however long they overlap."""
    ordered, labels, _ = _codebook(store.codes())
    index = {c.id: n for n, c in enumerate(ordered)}
    by_segment: dict[int, list[tuple[int, int, int, int]]] = {}
    own: dict[int, set[int]] = {}
    for p in store.coded_portions(statuses=_statuses(statuses)):
        if _owner(p, include_interviewer) is None or p.end <= p.start:
            continue
        own.setdefault(p.code_id, set()).add(p.coding_id)
        by_segment.setdefault(p.segment_id, []).append((p.start, p.end, p.code_id, p.coding_id))
    pairs: set[tuple[int, int, int, int]] = set()  # (coding a, coding b, code a, code b), a < b
    for spans in by_segment.values():
        if len(spans) < 2:
            continue
        spans.sort()
        for n, (start, end, code, coding) in enumerate(spans):
            for other_start, other_end, other_code, other in spans[n + 1:]:
                if other_start >= end:
                    break
                if other_code != code and other_end > start:
                    pairs.add((coding, other, code, other_code) if coding < other
                              else (other, coding, other_code, code))
    size = len(ordered)
    counts = [[0] * size for _ in range(size)]
    for code_id, codings in own.items():
        if code_id in index:
            counts[index[code_id]][index[code_id]] = len(codings)
    for _, _, a, b in pairs:
        if a in index and b in index:
            counts[index[a]][index[b]] += 1
            counts[index[b]][index[a]] += 1
    return Cooccurrence(tuple((c.id, labels[c.id]) for c in ordered if c.id is not None),
                        tuple(tuple(r) for r in counts))


# --- the quotes behind a cell -----------------------------------------------------------------


def quotes(store: Store, *, kind: str, row_id: int, group: str | None, by: str = "group",
           include_interviewer: bool = False,
           statuses: Collection[InterviewStatus] | None = None,
           include_subcodes: bool = True) -> list[Quote]:
    """The quotes behind one cell (group None: the row's total), in participant then
    time order: each coding once per participant who said part of it, with only that
    participant's words."""
    chosen = _statuses(statuses)
    row_kind = _row_kind(kind)
    spec = next((s for s in _row_specs(store, row_kind, include_subcodes) if s.id == row_id),
                None)
    if spec is None:
        return []
    people = _people(store, by, chosen)
    refs = {r.coding.id: r for r in store.coding_refs(code_ids=spec.code_ids)}
    dates = {i.id: (i.date or dt.date.max, i.id) for i in store.interviews()}
    said: dict[tuple[int, int], list[CodedPortion]] = {}
    for p in store.coded_portions(statuses=chosen, code_ids=spec.code_ids, with_text=True):
        pid = _owner(p, include_interviewer)
        if pid is None or pid not in people.group_of:
            continue
        if group is not None and people.group_of[pid] != group:
            continue
        said.setdefault((p.coding_id, pid), []).append(p)
    found = []
    for (coding_id, pid), parts in said.items():
        ref = refs.get(coding_id)
        if ref is None:  # changed between the two queries
            continue
        parts.sort(key=lambda p: (p.position, p.segment_id))
        first = parts[0]
        found.append(((people.rank[pid], dates.get(first.interview_id),
                       first.position, first.start, coding_id),
                      Quote(ref.coding, pid, people.code_of[pid], people.group_of[pid],
                            first.interview_id, ref.interview_title, first.start_ms,
                            first.speaker_label, " ".join(p.text for p in parts if p.text))))
    found.sort(key=lambda pair: pair[0])
    return [q for _, q in found]


__all__ = ["Cell", "Comparison", "Cooccurrence", "Group", "PresenceMatrix", "Quote", "Row",
           "compare", "cooccurrence", "natural_key", "presence_matrix", "quotes", "to_rows"]
