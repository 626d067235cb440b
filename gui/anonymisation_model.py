"""What the anonymisation page shows, read from the store: terms (one row per original,
registered or only detected so far) with their occurrences, and the words the
indirect-identifier walk still has to show.

The terms model is a thin adapter over `collect_terms`, which groups the store's
candidates and decisions by identifier, or by the normal form of the detected text
while no identifier is registered for it. An occurrence's state is its own decision
if there is one, otherwise what the term's rule says (always: replaced, never: kept).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QFont

from gui.format import clock
from study.identifiers import normalise
from study.model import (
    AnonymisationDecision,
    Candidate,
    Category,
    Changes,
    Decision,
    Identifier,
    IdentifierRule,
    Segment,
)
from study.store import Store

Index = QModelIndex | QPersistentModelIndex
TERM_ROLE = Qt.ItemDataRole.UserRole + 40
OCCURRENCE_ROLE = Qt.ItemDataRole.UserRole + 41
CONTEXT_ROLE = Qt.ItemDataRole.UserRole + 42  # (snippet, highlight start, highlight end)
SORT_ROLE = Qt.ItemDataRole.UserRole + 43
WATCHED = frozenset({"identifier", "candidate", "decision", "segment", "interview",
                     "replacement_template", "anonymisation_run"})
CATEGORY_LABELS: dict[str, str] = {
    Category.PERSON.value: "Person", Category.FAMILY.value: "Family member",
    Category.COLLEAGUE.value: "Colleague", Category.PLACE.value: "Place",
    Category.ORGANISATION.value: "Organisation", Category.ADDRESS.value: "Address",
    Category.POSTCODE.value: "Postcode", Category.DATE.value: "Date", Category.AGE.value: "Age",
    Category.EMAIL.value: "Email", Category.PHONE.value: "Phone number",
    Category.NHS_NUMBER.value: "NHS number", Category.NI_NUMBER.value: "National Insurance number",
    Category.ROLE.value: "Role or job", Category.OTHER.value: "Other",
}
RULE_TEXT = {IdentifierRule.ASK: "ask", IdentifierRule.ALWAYS: "always",
             IdentifierRule.NEVER: "never"}
Spot = tuple[int, int, int]  # segment id, start, end (end exclusive)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One place a term occurs: a span of one segment, and what was decided there."""

    segment_id: int
    start: int
    end: int
    text: str
    category: str = Category.OTHER.value
    source: str = ""
    decision: Decision | None = None  # the researcher's own verdict on this occurrence

    @property
    def spot(self) -> Spot:
        return (self.segment_id, self.start, self.end)


@dataclass(frozen=True, slots=True)
class Term:
    """All occurrences of one original: registered (identifier set) or only detected."""

    key: str  # the normal form of the original
    original: str
    category: str
    identifier: Identifier | None = None
    replacement: str = ""
    occurrences: tuple[Occurrence, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()
    held: bool = True  # the study holds the original (not after an apply: the key file does)

    # Counted once when made: the list asks for them for every row it sorts and paints.
    accepted: int = field(default=0, init=False, compare=False)
    rejected: int = field(default=0, init=False, compare=False)
    undecided: int = field(default=0, init=False, compare=False)

    def __post_init__(self) -> None:
        states = Counter(self.state(o) for o in self.occurrences)
        object.__setattr__(self, "accepted", states[Decision.ACCEPT])
        object.__setattr__(self, "rejected", states[Decision.REJECT])
        object.__setattr__(self, "undecided", states[None])

    @property
    def rule(self) -> IdentifierRule:
        return self.identifier.rule if self.identifier is not None else IdentifierRule.ASK

    @property
    def identifier_id(self) -> int | None:
        return self.identifier.id if self.identifier is not None else None

    def state(self, o: Occurrence) -> Decision | None:
        """What will happen to an occurrence: its own decision, else the rule's."""
        if o.decision is not None:
            return o.decision
        rule = self.identifier.rule if self.identifier is not None else IdentifierRule.ASK
        if rule is IdentifierRule.ALWAYS:
            return Decision.ACCEPT
        if rule is IdentifierRule.NEVER:
            return Decision.REJECT
        return None

    def undecided_spots(self) -> list[Spot]:
        return [o.spot for o in self.occurrences if self.state(o) is None]


def _occurrence(c: Candidate, decision: Decision | None) -> Occurrence:
    return Occurrence(c.segment_id, c.start, c.end, c.text, c.category, c.source, decision)


@functools.lru_cache(maxsize=65536)
def _normal(text: str) -> str:
    return normalise(text)


def _in_order(occurrences: list[Occurrence]) -> list[Occurrence]:
    return sorted(occurrences, key=lambda o: (o.segment_id, o.start, o.end))


def collect_terms(identifiers: Sequence[Identifier], originals: dict[int, str],
                  candidates: Sequence[Candidate],
                  decisions: Sequence[AnonymisationDecision],
                  suggest: Any = None) -> list[Term]:
    """Group candidates and decisions into terms, registered ones first by name.

    A candidate belongs to the identifier decided on at its place, or the identifier it
    names, or else to the identifier whose original has the same normal form, or else to
    an unregistered term of that normal form; candidates keep the store's reading order.
    A decision with no candidate at its place (e.g. after detection was run again) still
    counts as an occurrence of its identifier. `suggest(category)` gives the replacement
    an unregistered term would get.
    """
    by_spot = {(d.segment_id, d.start_offset, d.end_offset): d for d in decisions}
    by_id = {i.id: i for i in identifiers if i.id is not None}
    key_of_id = {id_: _normal(originals.get(id_, "")) or f"#{id_}" for id_ in by_id}
    id_of_key = {k: id_ for id_, k in key_of_id.items()}
    grouped: dict[str, list[Occurrence]] = defaultdict(list)
    texts: dict[str, Counter[str]] = defaultdict(Counter)
    categories: dict[str, Counter[str]] = defaultdict(Counter)
    seen: set[Spot] = set()
    unsorted: set[str] = set()
    for c in candidates:
        key = (key_of_id[c.identifier_id] if c.identifier_id in key_of_id
               else _normal(c.text))
        if not key:
            continue
        d = by_spot.get((c.segment_id, c.start, c.end))
        if d is not None and d.identifier_id in key_of_id:
            key = key_of_id[d.identifier_id]
        grouped[key].append(_occurrence(c, d.decision if d is not None else None))
        texts[key][c.text] += 1
        categories[key][c.category] += 1
        seen.add((c.segment_id, c.start, c.end))
    for spot, d in by_spot.items():
        if spot not in seen and d.identifier_id in key_of_id:
            key = key_of_id[d.identifier_id]
            unsorted.add(key)
            grouped[key].append(Occurrence(*spot, originals.get(d.identifier_id, ""),
                                           by_id[d.identifier_id].category, "decision",
                                           d.decision))
    terms: list[Term] = []
    for id_, identifier in by_id.items():
        key = key_of_id[id_]
        found = grouped.pop(key, [])
        occurrences = tuple(_in_order(found) if key in unsorted else found)
        terms.append(Term(key, originals.get(id_) or identifier.replacement,
                          identifier.category, identifier, identifier.replacement,
                          occurrences, identifier.attributes, id_ in originals))
    for key, occurrences in grouped.items():
        if key in id_of_key:
            continue
        category = categories[key].most_common(1)[0][0]
        original = texts[key].most_common(1)[0][0]
        terms.append(Term(key, original, category, None, "", tuple(occurrences)))
    terms.sort(key=lambda t: (t.identifier is None, t.original.casefold()))
    if suggest is None:
        return terms
    # each unregistered term its own suggestion, numbered down the list as it is shown
    return [t if t.identifier is not None else dataclasses.replace(t, replacement=suggest(
        t.category)) for t in terms]


# --- context ---------------------------------------------------------------------------------

_TITLES = frozenset({"mr", "mrs", "ms", "mx", "dr", "prof", "st", "rev", "cllr", "sgt"})
_SENTENCE_END = re.compile(r"[.!?…]+[\"'’”)]*\s+")


def context_of(text: str, start: int, end: int, width: int = 90) -> tuple[str, int, int]:
    """The sentence around text[start:end], cut to about `width` characters each side,
    and where the span lies in it: what the review shows for an occurrence."""
    begin = 0
    for m in _SENTENCE_END.finditer(text, 0, start):
        if not _after_title(text, m.start()):
            begin = m.end()
    m = _SENTENCE_END.search(text, end)
    while m is not None and _after_title(text, m.start()):
        m = _SENTENCE_END.search(text, m.end())
    finish = m.start() + len(m.group().rstrip()) if m else len(text)
    lead, tail = "", ""
    if start - begin > width:
        cut = text.find(" ", start - width, start)
        begin, lead = (cut + 1 if cut >= 0 else start - width), "…"
    if finish - end > width:
        cut = text.rfind(" ", end, end + width)
        finish, tail = (cut if cut > end else end + width), "…"
    snippet = lead + text[begin:finish] + tail
    offset = len(lead) - begin
    return snippet, start + offset, end + offset


def _after_title(text: str, stop: int) -> bool:
    """Whether the full stop at `stop` ends a title such as "Mr." rather than a sentence."""
    j = stop
    while j > 0 and text[j - 1].isalpha():
        j -= 1
    return text[j:stop].casefold() in _TITLES


def time_of(segment: Segment, start: int) -> int:
    """When the word at `start` was said: from the word timings when there are as many
    words as the text has, else the segment's start."""
    words = segment.words
    if words and len(words) == len(segment.text.split()):
        index = len(segment.text[:start].split())
        if segment.text[:start] and not segment.text[:start][-1].isspace():
            index -= 1
        return words[min(max(index, 0), len(words) - 1)].start_ms
    return segment.start_ms


# --- the terms model -------------------------------------------------------------------------

COLUMNS = ("Term", "Category", "Replacement", "Places", "Open", "Done", "Rule")
COLUMN_TIPS = ("The original, as it is most often written", "What kind of identifier",
               "What replaces it (in italics: suggested, given when it is registered)",
               "Places it occurs", "Places still to decide", "Places decided (or ruled)",
               "ask each time, always replace, or never (not an identifier)")
UNDECIDED_COLUMN = 4


class TermsModel(QAbstractTableModel):
    """One row per term. What it read from the store is kept, and a change reads again
    only what it touched: a decision on the term being reviewed (the common case, a key
    press) updates that term alone, so review stays quick on a study of a million words."""

    def __init__(self, store: Store, parent: QObject | None = None, *,
                 load: bool = True) -> None:
        super().__init__(parent)
        self._store = store
        self._rows: list[Term] = []
        self._identifiers: list[Identifier] = []
        self._originals: dict[int, str] = {}
        self._candidates: list[Candidate] = []
        self._decisions: dict[int, AnonymisationDecision] = {}  # by id
        self._spot_key: dict[Spot, str] = {}  # the term each place is shown under
        self._candidate_spots: set[Spot] = set()
        self.hint: int | None = None  # the identifier under review: its decisions change
        if load:
            self.reload()

    def reload(self, changes: Changes | None = None) -> None:
        """Read what `changes` touched (everything when None) and regroup."""
        kinds = changes.kinds() & WATCHED if changes is not None else None
        if kinds == {"decision"} and changes is not None and self._decisions_only(changes):
            return
        store = self._store
        if kinds is None or kinds & {"identifier", "anonymisation_run"}:
            self._identifiers = store.identifiers()
            self._originals = store.originals()
        if kinds is None or kinds & {"candidate", "segment", "interview", "anonymisation_run"}:
            self._candidates = store.candidates()
            self._candidate_spots = {(c.segment_id, c.start, c.end) for c in self._candidates}
        if kinds is None or kinds & {"decision", "segment", "interview", "identifier",
                                     "anonymisation_run"}:
            self._decisions = {d.id: d for d in store.decisions() if d.id is not None}
        given: Counter[str] = Counter()

        def suggest(category: str) -> str:
            given[category] += 1
            return store.suggest_replacement(category, skip=given[category] - 1)

        terms = collect_terms(self._identifiers, self._originals, self._candidates,
                              list(self._decisions.values()), suggest)
        self._spot_key = {o.spot: t.key for t in terms for o in t.occurrences}
        self._set(terms)

    def _set(self, terms: list[Term]) -> None:
        """Update rows in place while the same terms are listed (the list keeps its
        selection and order); reset when terms come or go."""
        new = {t.key: t for t in terms}
        if len(new) == len(self._rows) and all(t.key in new for t in self._rows):
            for row, old in enumerate(self._rows):
                term = new[old.key]
                if term != old:
                    self._rows[row] = term
                    self.dataChanged.emit(self.index(row, 0),
                                          self.index(row, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self._rows = terms
        self.endResetModel()

    def _decisions_only(self, changes: Changes) -> bool:
        """Decisions added and removed at places already shown, all of the identifier
        under review: update those terms in place. False when that is not the case (the
        caller then reads everything)."""
        if changes.ids("decision", "updated"):
            return False
        removed = [self._decisions[i] for i in changes.ids("decision", "removed")
                   if i in self._decisions]
        if len(removed) != len(changes.ids("decision", "removed")):
            return False
        wanted = set(changes.ids("decision", "added"))
        added: list[AnonymisationDecision] = []
        if wanted:
            if self.hint is None:
                return False
            added = [d for d in self._store.decisions(self.hint) if d.id in wanted]
            if len(added) != len(wanted):
                return False
        key_of_id = {i.id: _normal(self._originals.get(i.id, "")) or f"#{i.id}"
                     for i in self._identifiers if i.id is not None}
        touched: set[Spot] = set()
        for d in removed:
            spot = (d.segment_id, d.start_offset, d.end_offset)
            if spot not in self._candidate_spots:
                return False  # a place known only by its decision: it goes
            touched.add(spot)
        for d in added:
            spot = (d.segment_id, d.start_offset, d.end_offset)
            if self._spot_key.get(spot) != key_of_id.get(d.identifier_id):
                return False  # the place moves to another term
            touched.add(spot)
        for d in removed:
            del self._decisions[d.id]  # type: ignore[arg-type]
        for d in added:
            self._decisions[d.id] = d  # type: ignore[index]
        verdict = {(d.segment_id, d.start_offset, d.end_offset): d.decision
                   for d in self._decisions.values()
                   if (d.segment_id, d.start_offset, d.end_offset) in touched}
        keys = {self._spot_key[spot] for spot in touched}
        for row, t in enumerate(self._rows):
            if t.key in keys:
                occurrences = tuple(
                    dataclasses.replace(o, decision=verdict.get(o.spot)) if o.spot in touched
                    else o for o in t.occurrences)
                self._rows[row] = dataclasses.replace(t, occurrences=occurrences)
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        return True

    def terms(self) -> list[Term]:
        return list(self._rows)

    def term(self, row: int) -> Term:
        return self._rows[row]

    def term_by_key(self, key: str) -> Term | None:
        row = self.row_of(key)
        return self._rows[row] if row >= 0 else None

    def row_of(self, key: str) -> int:
        for row, t in enumerate(self._rows):
            if t.key == key:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        t = self._rows[index.row()]
        column = index.column()
        if role == TERM_ROLE:
            return t
        if role == Qt.ItemDataRole.DisplayRole:
            return (t.original, CATEGORY_LABELS.get(t.category, t.category), t.replacement,
                    len(t.occurrences), t.undecided,
                    t.accepted + t.rejected, RULE_TEXT[t.rule] if t.identifier else
                    "not registered")[column]
        if role == SORT_ROLE:
            if column == 0:
                return t.original.casefold()
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            where = "registered" if t.identifier else "detected, not yet registered"
            return (f"{t.original} ({where}): {t.accepted} to replace, {t.rejected} to keep, "
                    f"{t.undecided} undecided")
        if role == Qt.ItemDataRole.ToolTipRole and column == 2 and t.identifier is None:
            return ("Suggested: the term gets this replacement when you first decide on it, "
                    "unless another has taken it by then")
        if role == Qt.ItemDataRole.FontRole and (
                (column == 0 and t.undecided) or (column == 2 and t.identifier is None)):
            font = QFont()
            font.setBold(column == 0)
            font.setItalic(column == 2)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and 3 <= column <= 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class TermsFilter(QSortFilterProxyModel):
    """Terms of one category (or all), and optionally only those with undecided places."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.category: str | None = None
        self.undecided_only = False
        self.setSortRole(SORT_ROLE)

    def set_category(self, category: str | None) -> None:
        self.beginFilterChange()
        self.category = category
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_undecided_only(self, on: bool) -> None:
        self.beginFilterChange()
        self.undecided_only = on
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model = self.sourceModel()
        assert isinstance(model, TermsModel)
        t = model.term(source_row)
        if self.category is not None and t.category != self.category:
            return False
        return not (self.undecided_only and not t.undecided)


# --- the occurrences of one term -------------------------------------------------------------

STATE_TEXT = {Decision.ACCEPT: "replace", Decision.REJECT: "keep", None: "undecided"}
OCCURRENCE_COLUMNS = ("Decision", "Interview", "Time", "In context")


@dataclass(frozen=True, slots=True)
class Place:
    """An occurrence with what the list shows beside it."""

    occurrence: Occurrence
    state: Decision | None
    ruled: bool  # the state comes from the term's rule, not a decision of its own
    interview_id: int
    interview_title: str
    time_ms: int
    context: tuple[str, int, int]


class OccurrencesModel(QAbstractTableModel):
    """The occurrences of the chosen term, in interview order, with their sentences."""

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._rows: list[Place] = []
        self.term: Term | None = None

    def show_term(self, term: Term | None) -> None:
        self.beginResetModel()
        self.term = term
        self._rows = self._places(term) if term is not None else []
        self.endResetModel()

    def update_term(self, term: Term | None) -> None:
        """Refresh in place when the same places are shown, else reset."""
        if term is None or self.term is None or term.key != self.term.key or \
                [o.spot for o in term.occurrences] != [p.occurrence.spot for p in self._rows]:
            self.show_term(term)
            return
        self.term = term
        for row, (place, o) in enumerate(zip(self._rows, term.occurrences, strict=True)):
            state = term.state(o)
            if state != place.state or o != place.occurrence:
                self._rows[row] = Place(o, state, o.decision is None and state is not None,
                                        place.interview_id, place.interview_title,
                                        place.time_ms, place.context)
                self.dataChanged.emit(self.index(row, 0), self.index(row, 3))

    def _places(self, term: Term) -> list[Place]:
        titles: dict[int, str] = {}
        places: list[tuple[tuple[int, int, int], Place]] = []
        for o in term.occurrences:
            try:
                seg = self._store.segment(o.segment_id)
            except LookupError:
                continue
            except Exception as e:  # NotFoundError is a StudyError: the segment went
                from study.errors import StudyError

                if isinstance(e, StudyError):
                    continue
                raise
            if seg.interview_id not in titles:
                titles[seg.interview_id] = self._store.interview(seg.interview_id).title
            state = term.state(o)
            place = Place(o, state, o.decision is None and state is not None,
                          seg.interview_id, titles[seg.interview_id], time_of(seg, o.start),
                          context_of(seg.text, o.start, o.end))
            places.append(((seg.interview_id, seg.position, o.start), place))
        places.sort(key=lambda p: p[0])
        return [p for _, p in places]

    def place(self, row: int) -> Place:
        return self._rows[row]

    def places(self) -> list[Place]:
        return list(self._rows)

    def next_undecided(self, after: int) -> int:
        """The row of the next undecided place after `after`, wrapping; -1 if none."""
        n = len(self._rows)
        for step in range(1, n + 1):
            row = (after + step) % n
            if self._rows[row].state is None:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(OCCURRENCE_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return OCCURRENCE_COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        p = self._rows[index.row()]
        column = index.column()
        if role == OCCURRENCE_ROLE:
            return p
        if role == CONTEXT_ROLE and column == 3:
            return p.context
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return STATE_TEXT[p.state] + (" (rule)" if p.ruled else "")
            if column == 1:
                return p.interview_title
            if column == 2:
                return clock(p.time_ms)
            return p.context[0]
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            return f"Found by {p.occurrence.source or 'the researcher'}"
        return None


# --- the indirect-identifier walk ------------------------------------------------------------

_WORD = re.compile(r"(?<![\w'’])(?:[A-Z][\w'’-]*\w|[A-Z]|\d[\d,.:/-]*\d|\d)(?!\w)")
_CLOSERS = "\"'’”)]"
_OPENERS = "\"“‘(["
PRONOUN = frozenset({"i", "i'm", "i’m", "i've", "i’ve", "i'd", "i’d", "i'll", "i’ll"})


def sentence_initial(text: str, start: int) -> bool:
    """Whether the word at `start` begins the segment or a sentence (after '.', '!', '?'
    and a space), where a capital says nothing; "Mr. Smith" is not a sentence start."""
    i = start - 1
    if i >= 0 and text[i] in _OPENERS:
        return sentence_initial(text, i)
    if i >= 0 and not text[i].isspace():
        return False
    while i >= 0 and text[i].isspace():
        i -= 1
    while i >= 0 and text[i] in _CLOSERS:
        i -= 1
    if i < 0:
        return True
    if text[i] not in ".!?…":
        return False
    return not _after_title(text, i)


@dataclass(frozen=True, slots=True)
class WalkTerm:
    """A capitalised word or number the researcher has not yet judged, with the places it
    occurs (segment id, start, end)."""

    key: str
    text: str
    is_number: bool
    places: tuple[Spot, ...] = field(default=())


def indirect_terms(segments: Iterable[Segment], covered: Iterable[Spot],
                   known: Iterable[str] | Callable[[str], bool]) -> list[WalkTerm]:
    """Every capitalised word not at the start of a sentence and every number, not
    inside a candidate or decided span and not already registered (any rule), grouped by
    normal form in the order they first occur. `known` holds the normal forms of
    registered terms, or tells whether a word is one (by its hash, once the originals
    have gone to the key file)."""
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for seg_id, start, end in covered:
        spans[seg_id].append((start, end))
    registered = known if callable(known) else set(known).__contains__
    skip = set(PRONOUN | _TITLES)
    found: dict[str, list[Spot]] = {}
    texts: dict[str, str] = {}
    seen: set[str] = set()
    for seg in segments:
        assert seg.id is not None
        taken = spans.get(seg.id, ())
        for m in _WORD.finditer(seg.text):
            start, end = m.span()
            word = m.group()
            if not word[0].isdigit() and sentence_initial(seg.text, start):
                continue
            if any(s < end and start < e for s, e in taken):
                continue
            key = _normal(word)
            if not key or key in skip:
                continue
            if key not in found and key not in seen:
                seen.add(key)
                if registered(key):
                    skip.add(key)
                    continue
            found.setdefault(key, []).append((seg.id, start, end))
            texts.setdefault(key, word)
    return [WalkTerm(k, texts[k], texts[k][0].isdigit(), tuple(v)) for k, v in found.items()]
