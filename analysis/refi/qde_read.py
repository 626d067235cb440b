"""REFI-QDA project (.qde) and codebook (.qdc) XML, read into plain frozen dataclasses.

Reading is lenient because real files deviate from the schema: elements are matched by
local name whatever their namespace (some tools write none, some the project namespace
in a codebook), GUIDs are compared without braces or case, a missing colour or name is
no error, and a missing GUID gets a stand-in. Nothing here touches the study: the
importer decides what becomes what, and says what it left out.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"


@dataclass(frozen=True, slots=True)
class TextRef:
    """Where a text lives: inline, or a path such as internal://<guid>.txt."""

    content: str | None = None
    path: str | None = None


@dataclass(frozen=True, slots=True)
class QCode:
    guid: str
    name: str
    colour: str | None = None
    description: str = ""
    codable: bool = True
    note_refs: tuple[str, ...] = ()
    children: tuple[QCode, ...] = ()


@dataclass(frozen=True, slots=True)
class QVariable:
    guid: str
    name: str
    kind: str  # Text, Boolean, Integer, Float, Date, DateTime
    description: str = ""


@dataclass(frozen=True, slots=True)
class QValue:
    """A case's value of one variable, as the text of its typed element."""

    variable: str
    kind: str  # the element's local name, e.g. IntegerValue
    text: str


@dataclass(frozen=True, slots=True)
class QCase:
    guid: str
    name: str
    description: str = ""
    values: tuple[QValue, ...] = ()
    source_refs: tuple[str, ...] = ()
    code_refs: int = 0
    selection_refs: int = 0


@dataclass(frozen=True, slots=True)
class QCoding:
    guid: str
    code: str
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QSelection:
    """A span of a text source's plain text, in characters, end exclusive."""

    guid: str
    start: int
    end: int
    codings: tuple[QCoding, ...] = ()
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QSyncPoint:
    guid: str
    position: int | None
    time_ms: int | None


@dataclass(frozen=True, slots=True)
class QTranscriptSelection:
    guid: str
    from_sync: str | None
    to_sync: str | None
    codings: tuple[QCoding, ...] = ()
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QTranscript:
    guid: str
    name: str
    text: TextRef
    sync_points: tuple[QSyncPoint, ...] = ()
    selections: tuple[QTranscriptSelection, ...] = ()
    note_refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QTextSource:
    guid: str
    name: str
    text: TextRef
    description: str = ""
    selections: tuple[QSelection, ...] = ()
    codings: tuple[QCoding, ...] = ()  # codes on the whole document
    note_refs: tuple[str, ...] = ()
    variable_values: int = 0


@dataclass(frozen=True, slots=True)
class QAudioSource:
    guid: str
    name: str
    path: str | None
    description: str = ""
    transcripts: tuple[QTranscript, ...] = ()
    note_refs: tuple[str, ...] = ()
    timed_codings: int = 0  # AudioSelection codings and whole-file codings


@dataclass(frozen=True, slots=True)
class QNote:
    guid: str
    name: str
    text: TextRef
    description: str = ""
    created: dt.datetime | None = None
    modified: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class QLink:
    guid: str
    name: str
    origin: str | None
    target: str | None


@dataclass(frozen=True, slots=True)
class QSet:
    guid: str
    name: str
    description: str = ""
    member_codes: tuple[str, ...] = ()
    member_sources: int = 0
    member_notes: int = 0


@dataclass(frozen=True, slots=True)
class QProject:
    """Everything of a project file that Verbatim can use, and a note of what it cannot."""

    name: str
    origin: str = ""
    description: str = ""
    users: tuple[str, ...] = ()
    codes: tuple[QCode, ...] = ()
    variables: tuple[QVariable, ...] = ()
    cases: tuple[QCase, ...] = ()
    text_sources: tuple[QTextSource, ...] = ()
    audio_sources: tuple[QAudioSource, ...] = ()
    notes: tuple[QNote, ...] = ()
    links: tuple[QLink, ...] = ()
    sets: tuple[QSet, ...] = ()
    note_refs: tuple[str, ...] = ()
    unsupported: tuple[str, ...] = ()  # sentences for the import report
    warnings: tuple[str, ...] = field(default=())


# --- small helpers ----------------------------------------------------------------------------


def local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def kids(el: etree._Element, name: str) -> Iterator[etree._Element]:
    return (c for c in el if local(c) == name)


def kid(el: etree._Element, name: str) -> etree._Element | None:
    return next(kids(el, name), None)


def grandkids(el: etree._Element, holder: str, name: str) -> Iterator[etree._Element]:
    """The `name` children of el's `holder` child, if it has one (e.g. Users/User)."""
    for h in kids(el, holder):
        yield from kids(h, name)


def kid_text(el: etree._Element, name: str) -> str:
    found = kid(el, name)
    return (found.text or "") if found is not None else ""


def norm_guid(value: str | None) -> str:
    """GUIDs compared as tools write them differently: braces, upper or lower case."""
    return (value or "").strip().strip("{}").strip().lower()


class _Guids:
    """Hands out a stand-in for each element that lacks its GUID, so it can still be read."""

    def __init__(self) -> None:
        self._n = itertools.count(1)
        self.missing = 0

    def of(self, el: etree._Element) -> str:
        value = norm_guid(el.get("guid"))
        if value:
            return value
        self.missing += 1
        return f"missing-guid-{next(self._n)}"


def refs(el: etree._Element, name: str, attr: str = "targetGUID") -> tuple[str, ...]:
    return tuple(norm_guid(r.get(attr)) for r in kids(el, name) if r.get(attr))


# Largest position or time (ms) taken as a number: beyond it (2**53, about 285,000 years
# of audio) a value is damage, and read as missing rather than overflow SQLite's integers.
_LARGEST = 2**53


def to_int(value: str | None) -> int | None:
    """An integer attribute, or None when it is absent, not a number or absurdly large."""
    if value is None or not value.strip() or len(value) > 40:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and abs(number) <= _LARGEST else None


def to_datetime(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _text_ref(el: etree._Element) -> TextRef:
    content = kid(el, "PlainTextContent")
    return TextRef(content=(content.text or "") if content is not None else None,
                   path=el.get("plainTextPath") or None)


# --- codes and sets (shared with the codebook) ------------------------------------------------


def _code(el: etree._Element, guids: _Guids) -> QCode:
    codable = (el.get("isCodable") or "true").strip().lower() not in {"false", "0"}
    return QCode(
        guid=guids.of(el), name=(el.get("name") or "").strip(), colour=el.get("color"),
        description=kid_text(el, "Description"), codable=codable,
        note_refs=refs(el, "NoteRef"),
        children=tuple(_code(c, guids) for c in kids(el, "Code")),
    )


def _codes(book: etree._Element | None, guids: _Guids) -> tuple[QCode, ...]:
    if book is None:
        return ()
    holder = kid(book, "Codes")
    return tuple(_code(c, guids) for c in kids(holder, "Code")) if holder is not None else ()


def _sets(holder: etree._Element | None, guids: _Guids) -> tuple[QSet, ...]:
    if holder is None:
        return ()
    found = []
    for s in kids(holder, "Set"):
        members = tuple(norm_guid(m.get("targetGUID") or m.get("guid"))
                        for m in kids(s, "MemberCode") if m.get("targetGUID") or m.get("guid"))
        found.append(QSet(guids.of(s), (s.get("name") or "").strip(),
                          kid_text(s, "Description"), members,
                          sum(1 for _ in kids(s, "MemberSource")),
                          sum(1 for _ in kids(s, "MemberNote"))))
    return tuple(found)


def read_codebook(root: etree._Element) -> tuple[tuple[QCode, ...], tuple[QSet, ...]]:
    """The codes and sets of a .qdc (a CodeBook root), or of a project's codebook."""
    guids = _Guids()
    if local(root) == "Project":
        return _codes(kid(root, "CodeBook"), guids), _sets(kid(root, "Sets"), guids)
    if local(root) != "CodeBook":
        raise ValueError(f"the root element is {local(root) or 'missing'}, not CodeBook")
    return _codes(root, guids), _sets(kid(root, "Sets"), guids)


# --- the project ------------------------------------------------------------------------------


def _codings(el: etree._Element) -> tuple[QCoding, ...]:
    found = []
    for c in kids(el, "Coding"):
        ref = kid(c, "CodeRef")
        code = norm_guid(ref.get("targetGUID")) if ref is not None else ""
        found.append(QCoding(norm_guid(c.get("guid")), code, refs(c, "NoteRef")))
    return tuple(found)


def _text_source(el: etree._Element, guids: _Guids, warnings: list[str]) -> QTextSource:
    name = (el.get("name") or "").strip()
    selections = []
    for s in kids(el, "PlainTextSelection"):
        start, end = to_int(s.get("startPosition")), to_int(s.get("endPosition"))
        if start is None or end is None:
            warnings.append(f"A selection in “{name}” has no readable start or end; "
                            "its codings were left out.")
            continue
        selections.append(QSelection(guids.of(s), start, end, _codings(s), refs(s, "NoteRef")))
    return QTextSource(
        guid=guids.of(el), name=name, text=_text_ref(el),
        description=kid_text(el, "Description"), selections=tuple(selections),
        codings=_codings(el), note_refs=refs(el, "NoteRef"),
        variable_values=sum(1 for _ in kids(el, "VariableValue")),
    )


def _transcript(el: etree._Element, guids: _Guids) -> QTranscript:
    points = tuple(QSyncPoint(guids.of(p), to_int(p.get("position")), to_int(p.get("timeStamp")))
                   for p in kids(el, "SyncPoint"))
    selections = tuple(
        QTranscriptSelection(guids.of(s), norm_guid(s.get("fromSyncPoint")) or None,
                             norm_guid(s.get("toSyncPoint")) or None, _codings(s),
                             refs(s, "NoteRef"))
        for s in kids(el, "TranscriptSelection"))
    return QTranscript(guids.of(el), (el.get("name") or "").strip(), _text_ref(el), points,
                       selections, refs(el, "NoteRef"))


def _audio_source(el: etree._Element, guids: _Guids) -> QAudioSource:
    timed = sum(len(_codings(s)) for s in kids(el, "AudioSelection")) + len(_codings(el))
    return QAudioSource(
        guid=guids.of(el), name=(el.get("name") or "").strip(),
        path=el.get("path") or el.get("currentPath") or None,
        description=kid_text(el, "Description"),
        transcripts=tuple(_transcript(t, guids) for t in kids(el, "Transcript")),
        note_refs=refs(el, "NoteRef"), timed_codings=timed,
    )


def _case(el: etree._Element, guids: _Guids) -> QCase:
    values = []
    for v in kids(el, "VariableValue"):
        ref = kid(v, "VariableRef")
        typed = next((c for c in v if local(c).endswith("Value")), None)
        if ref is None or typed is None:
            continue
        values.append(QValue(norm_guid(ref.get("targetGUID")), local(typed),
                             (typed.text or "").strip()))
    return QCase(guids.of(el), (el.get("name") or "").strip(), kid_text(el, "Description"),
                 tuple(values), refs(el, "SourceRef"), sum(1 for _ in kids(el, "CodeRef")),
                 sum(1 for _ in kids(el, "SelectionRef")))


def _named(elements: list[etree._Element]) -> str:
    names = [e.get("name") or "unnamed" for e in elements[:3]]
    more = f" and {len(elements) - 3} more" if len(elements) > 3 else ""
    return ", ".join(f"“{n}”" for n in names) + more


def read_project(root: etree._Element) -> QProject:
    """Read a parsed project.qde; raises ValueError when the root is not a Project."""
    if local(root) != "Project":
        raise ValueError(f"the root element is {local(root) or 'missing'}, not Project")
    guids = _Guids()
    warnings: list[str] = []
    unsupported: list[str] = []
    users = tuple((u.get("name") or "").strip()
                  for u in grandkids(root, "Users", "User"))
    variables = tuple(
        QVariable(guids.of(v), (v.get("name") or "").strip(),
                  (v.get("typeOfVariable") or "Text").strip(), kid_text(v, "Description"))
        for v in grandkids(root, "Variables", "Variable"))
    cases = tuple(_case(c, guids) for c in grandkids(root, "Cases", "Case"))
    sources = kid(root, "Sources")
    texts: list[QTextSource] = []
    audio: list[QAudioSource] = []
    other: dict[str, list[etree._Element]] = {}
    for s in sources if sources is not None else ():
        kind = local(s)
        if kind == "TextSource":
            texts.append(_text_source(s, guids, warnings))
        elif kind == "AudioSource":
            audio.append(_audio_source(s, guids))
        elif kind:
            other.setdefault(kind, []).append(s)
    labels = {"PictureSource": "picture", "PDFSource": "PDF", "VideoSource": "video"}
    for kind, elements in other.items():
        label = labels.get(kind, kind)
        unsupported.append(f"{len(elements)} {label} source{'s' if len(elements) > 1 else ''} "
                           f"({_named(elements)}) with their codings: Verbatim holds "
                           "interview transcripts and audio only.")
    notes = tuple(
        QNote(guids.of(n), (n.get("name") or "").strip(), _text_ref(n),
              kid_text(n, "Description"), to_datetime(n.get("creationDateTime")),
              to_datetime(n.get("modifiedDateTime")))
        for n in grandkids(root, "Notes", "Note"))
    links = tuple(
        QLink(guids.of(link), (link.get("name") or "").strip(),
              norm_guid(link.get("originGUID")) or None,
              norm_guid(link.get("targetGUID")) or None)
        for link in grandkids(root, "Links", "Link"))
    graphs = list(grandkids(root, "Graphs", "Graph"))
    if graphs:
        unsupported.append(f"{len(graphs)} graph{'s' if len(graphs) > 1 else ''} "
                           f"({_named(graphs)}): Verbatim draws its own thematic map.")
    codes, sets = _codes(kid(root, "CodeBook"), guids), _sets(kid(root, "Sets"), guids)
    if guids.missing:
        warnings.append(f"{guids.missing} element{'s' if guids.missing > 1 else ''} had no "
                        "GUID; each was given one so it could still be imported.")
    return QProject(
        name=(root.get("name") or "").strip(), origin=(root.get("origin") or "").strip(),
        description=kid_text(root, "Description"), users=users,
        codes=codes, variables=variables, cases=cases,
        text_sources=tuple(texts), audio_sources=tuple(audio), notes=notes, links=links,
        sets=sets, note_refs=refs(root, "NoteRef"),
        unsupported=tuple(unsupported), warnings=tuple(warnings),
    )


__all__ = [
    "CODEBOOK_NS", "PROJECT_NS", "QAudioSource", "QCase", "QCode", "QCoding", "QLink", "QNote",
    "QProject", "QSelection", "QSet", "QSyncPoint", "QTextSource", "QTranscript",
    "QTranscriptSelection", "QValue", "QVariable", "TextRef", "norm_guid", "read_codebook",
    "read_project",
]
