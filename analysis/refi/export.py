"""Export a study as a REFI-QDA project (.qdpx) that NVivo, ATLAS.ti, MAXQDA and
QualCoder open.

What becomes what:
- the researcher: one User, the creator of every source and coding;
- codes: the CodeBook, nested, with colours and definitions (Description);
- participants: Cases named by study code, notes as Description, with VariableValues for
  their group (a Text variable "Group") and each typed attribute; a choice attribute is
  a Text variable whose Description lists "Choices: a | b | c";
- interviews with a transcript: TextSources whose plain text is in sources/<guid>.txt;
  codings are PlainTextSelections (character offsets, end exclusive) carrying a Coding;
- with include_media, each interview's audio: an AudioSource with the file in sources/
  and a Transcript that shares the text file, with SyncPoints at the start and end of
  every segment (milliseconds), so the other program can play each line;
- memos: Notes, referenced from what they are about (the project, a code, a source, a
  coding, or a selection for a memo on part of a segment); a memo on a theme is a Note
  with a Link to the theme's Set; the journal: Notes named "Journal: <phase>";
- themes: Sets of their member codes, the definition as Description.

The plain text of a source is one line per segment, "Speaker: text" when the segment
has a speaker and just the text when not, lines joined by "\\n". This is what other
programs show as a transcript and what MAXQDA and ATLAS.ti recognise as speakers; the
words and offsets of each segment are exactly those Verbatim shows, shifted by the
label before them, and the importer maps them back to segments and speakers.

Not carried (REFI-QDA has no place for them): interview dates, status and language,
theme status and map positions, word timings and flags, and segment times when the
audio is not included. Everything written passes the leak check first: an export that
would contain an original identifier is refused, and no file is left behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from analysis.leak_check import LeakChecker
from analysis.refi.qde_read import PROJECT_NS
from analysis.refi.qde_write import (
    ORIGIN,
    Builder,
    code_tree,
    guid_maker,
    write_archive,
    write_code_elements,
    xml_bytes,
    xml_datetime,
    xml_decimal,
)
from analysis.refi.safe_archive import ExchangeError
from study.folder import Study
from study.model import (
    AttributeDef,
    AttributeType,
    Code,
    Coding,
    Interview,
    Memo,
    MemoTarget,
    Participant,
    Segment,
    Theme,
)
from study.store import Store

GROUP_VARIABLE = "Group"
CHOICES_PREFIX = "Choices: "
CHOICES_SEPARATOR = " | "
JOURNAL_PREFIX = "Journal: "
DEFAULT_USER = "Verbatim"


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What an export wrote (counts by kind) and where; warnings the researcher should
    read, e.g. that recordings are not anonymised."""

    counts: dict[str, int]
    path: Path
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SourceText:
    """An interview's transcript as the exported plain text, and where each segment's
    line and words begin in it, so a (segment, offset) anchor becomes a position."""

    text: str
    segment_ids: tuple[int, ...]
    line_starts: tuple[int, ...]
    text_starts: tuple[int, ...]
    lengths: tuple[int, ...]

    def position(self, segment_id: int, offset: int) -> int:
        n = self.segment_ids.index(segment_id)
        return self.text_starts[n] + max(0, min(offset, self.lengths[n]))


def source_text(segments: Sequence[Segment], labels: dict[int, str]) -> SourceText:
    """One line per segment, "Label: text" when the segment has a speaker."""
    lines, line_starts, text_starts = [], [], []
    pos = 0
    for seg in segments:
        label = labels.get(seg.speaker_id) if seg.speaker_id is not None else None
        prefix = f"{label}: " if label else ""
        line_starts.append(pos)
        text_starts.append(pos + len(prefix))
        lines.append(prefix + seg.text)
        pos += len(lines[-1]) + 1
    return SourceText("\n".join(lines), tuple(s.id or 0 for s in segments), tuple(line_starts),
                      tuple(text_starts), tuple(len(s.text) for s in segments))


def code_places(codes: Sequence[Code]) -> dict[int, str]:
    """'code 4 of 12 in the codebook', counting down the tree as the codebook shows it.

    Leak-check locations name objects by their place, never by their own text, so a
    refusal never repeats the identifier it found."""
    tree = code_tree(codes)
    order: list[int] = []

    def walk(parent: int | None) -> None:
        for c in tree.get(parent, []):
            order.append(c.id or 0)
            walk(c.id)
    walk(None)
    return {id_: f"code {n} of {len(order)} in the codebook" for n, id_ in enumerate(order, 1)}


def code_parts(codes: Sequence[Code]) -> list[tuple[str, str]]:
    """The texts of the codebook for the leak check, each with its place."""
    places = code_places(codes)
    parts = []
    for c in sorted(codes, key=lambda c: places[c.id or 0]):
        parts.append((f"Name of {places[c.id or 0]}", c.name))
        if c.definition:
            parts.append((f"Definition of {places[c.id or 0]}", c.definition))
    return parts


def theme_parts(themes: Sequence[Theme]) -> list[tuple[str, str]]:
    parts = []
    for n, t in enumerate(themes, 1):
        parts.append((f"Name of theme {n}", t.name))
        if t.definition:
            parts.append((f"Definition of theme {n}", t.definition))
    return parts


def ensure_clean(store: Store, path: Path, parts: Iterable[tuple[str, str]]) -> None:
    """Refuse the export if any text, or the file's name, would carry an original
    identifier (raises LeakError, naming the place) before anything is written."""
    LeakChecker.for_store(store).ensure_clean([("file name", path.name), *parts])


def _is_whole(values: Iterable[object]) -> bool:
    return all(float(v).is_integer() for v in values if isinstance(v, int | float))


def _value_element(b: Builder, parent: etree._Element, variable: str, kind: str,
                   value: object) -> str:
    """Write one VariableValue; returns the text written, for the leak check."""
    holder = b.add(parent, "VariableValue")
    b.add(holder, "VariableRef", targetGUID=variable)
    if kind == "Boolean":
        text = "true" if value else "false"
    elif kind == "Integer":
        text = str(int(float(value)))  # type: ignore[arg-type]
    elif kind == "Float":
        text = xml_decimal(float(value))  # type: ignore[arg-type]
    elif kind == "Date":
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
    else:
        text = str(value)
    b.add(holder, f"{kind}Value" if kind != "Text" else "TextValue", text)
    return text


def _variable_kind(attr: AttributeDef, participants: Sequence[Participant]) -> str:
    match attr.type:
        case AttributeType.NUMBER:
            whole = _is_whole(p.attribute(attr.name) for p in participants)
            return "Integer" if whole else "Float"
        case AttributeType.BOOLEAN:
            return "Boolean"
        case AttributeType.DATE:
            return "Date"
        case _:
            return "Text"


class _Export:
    """One export in progress: the XML, the files beside it, and every text written."""

    def __init__(self, study: Study, include_media: bool, user_name: str) -> None:
        self.study = study
        self.store = study.store
        self.include_media = include_media
        self.user_name = user_name.strip() or DEFAULT_USER
        self.guid = guid_maker(self.store.salt())
        self.user = self.guid("user")
        self.b = Builder(PROJECT_NS)
        self.parts: list[tuple[str, str]] = []
        self.members: list[tuple[str, bytes | Path]] = []
        self.counts: dict[str, int] = {}
        self.warnings: list[str] = []
        memos = self.store.memos()
        self.memos_on: dict[tuple[MemoTarget, int | None], list[Memo]] = {}
        for m in memos:
            self.memos_on.setdefault((m.target, m.target_id), []).append(m)
        self.placed: set[int] = set()  # memos some element refers to
        self.codes_of = {p.id: p.code for p in self.store.participants() if p.id is not None}
        self.places: dict[tuple[MemoTarget, int | None], str] = {
            (MemoTarget.STUDY, None): "the study"}
        for n, t in enumerate(self.store.themes(), 1):
            self.places[(MemoTarget.THEME, t.id)] = f"theme {n}"

    def note_refs(self, el: etree._Element, target: MemoTarget, target_id: int | None) -> None:
        for m in self.memos_on.get((target, target_id), []):
            assert m.id is not None
            self.b.add(el, "NoteRef", targetGUID=self.guid(f"memo:{m.id}"))
            self.placed.add(m.id)

    def count(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    # --- the parts of the project, in the schema's order ---------------------------------------

    def build(self) -> etree._Element:
        info = self.store.study_info()
        self.parts.append(("Study name", info.name))
        root = self.b.root(
            "Project", name=info.name, origin=ORIGIN, creatingUserGUID=self.user,
            creationDateTime=xml_datetime(info.created_at), modifyingUserGUID=self.user,
            modifiedDateTime=xml_datetime(dt.datetime.now(dt.UTC)))
        users = self.b.add(root, "Users")
        self.b.add(users, "User", guid=self.user, name=self.user_name)
        self.parts.append(("User name", self.user_name))
        self.codebook(root)
        self.cases(root)
        self.sources(root)
        self.notes(root)
        self.sets(root)
        if info.description:
            self.b.add(root, "Description", info.description)
            self.parts.append(("Study description", info.description))
        self.note_refs(root, MemoTarget.STUDY, None)
        return root

    def codebook(self, root: etree._Element) -> None:
        codes = self.store.codes()
        if not codes:
            return
        note_refs: dict[int, list[str]] = {}
        for c in codes:
            assert c.id is not None
            for m in self.memos_on.get((MemoTarget.CODE, c.id), []):
                note_refs.setdefault(c.id, []).append(self.guid(f"memo:{m.id}"))
                self.placed.add(m.id or 0)
        self.parts += code_parts(codes)
        self.places.update({(MemoTarget.CODE, id_): place
                            for id_, place in code_places(codes).items()})
        holder = self.b.add(self.b.add(root, "CodeBook"), "Codes")
        self.count("codes", write_code_elements(self.b, holder, code_tree(codes), self.guid,
                                        note_refs=note_refs))

    def cases(self, root: etree._Element) -> None:
        participants = self.store.participants()
        if not participants:
            return
        defs = self.store.attribute_defs()
        kinds = {a.name: _variable_kind(a, participants) for a in defs}
        variables = self.b.add(root, "Variables")
        has_group = any(p.group for p in participants)
        if has_group:
            self.b.add(variables, "Variable", guid=self.guid("variable:group"),
                       name=GROUP_VARIABLE, typeOfVariable="Text")
        for n, a in enumerate(defs, 1):
            el = self.b.add(variables, "Variable", guid=self.guid(f"variable:{a.name}"),
                            name=a.name, typeOfVariable=kinds[a.name])
            self.parts.append((f"Name of attribute {n}", a.name))
            if a.type is AttributeType.CHOICE and a.choices:
                listed = CHOICES_PREFIX + CHOICES_SEPARATOR.join(a.choices)
                self.b.add(el, "Description", listed)
                self.parts.append((f"Choices of attribute {n}", listed))
            self.count("attributes")
        if not has_group and not defs:
            root.remove(variables)
        sources = self.interview_sources()
        cases = self.b.add(root, "Cases")
        order = {a.name: n for n, a in enumerate(defs, 1)}
        for n, p in enumerate(participants, 1):
            assert p.id is not None
            el = self.b.add(cases, "Case", guid=self.guid(f"participant:{p.id}"), name=p.code)
            place = f"participant {n} of {len(participants)}"
            self.parts.append((f"Study code of {place}", p.code))
            if p.notes:
                self.b.add(el, "Description", p.notes)
                self.parts.append((f"Notes on {place}", p.notes))
            if p.group:
                self.parts.append((f"Group of {place}", _value_element(
                    self.b, el, self.guid("variable:group"), "Text", p.group)))
            for name, value in p.attributes:
                if value is None or value == "":
                    continue
                text = _value_element(self.b, el, self.guid(f"variable:{name}"), kinds[name],
                                      value)
                self.parts.append((f"Attribute {order[name]} of {place}", text))
            for source in sources.get(p.id, []):
                self.b.add(el, "SourceRef", targetGUID=source)
            self.count("participants")

    def interview_place(self, n: int, interview: Interview) -> str:
        """'interview 3 (MHCC-2)': its place in the interviews list and its participant's
        study code, which is pseudonymous by design; never its title, which may not be."""
        code = self.codes_of.get(interview.participant_id or 0)
        return f"interview {n}" + (f" ({code})" if code else "")

    def interview_sources(self) -> dict[int, list[str]]:
        """The GUIDs of each participant's exported sources, for their Case."""
        by_participant: dict[int, list[str]] = {}
        for i in self.store.interviews():
            if i.participant_id is None or i.id is None:
                continue
            if self.store.segment_count(i.id):
                by_participant.setdefault(i.participant_id, []).append(
                    self.guid(f"source:{i.id}"))
            if self.include_media and i.media_id is not None:
                by_participant.setdefault(i.participant_id, []).append(
                    self.guid(f"audio:{i.id}"))
        return by_participant

    def sources(self, root: etree._Element) -> None:
        holder = self.b.holder(root, "Sources")
        skipped = 0
        for n, interview in enumerate(self.store.interviews(), 1):
            assert interview.id is not None
            segments = self.store.segments(interview.id)
            has_audio = self.include_media and interview.media_id is not None
            if not segments and not has_audio:
                skipped += 1
                continue
            place = self.interview_place(n, interview)
            self.places[(MemoTarget.INTERVIEW, interview.id)] = place
            for seg in segments:
                self.places[(MemoTarget.SEGMENT, seg.id)] = place
            for c in self.store.codings(interview_id=interview.id):
                self.places[(MemoTarget.CODING, c.id)] = f"a coding in {place}"
            self.parts.append((f"Title of {place}", interview.title))
            labels = {s.id: s.label for s in self.store.speakers(interview.id)
                      if s.id is not None}
            text = source_text(segments, labels) if segments else None
            text_path = None
            if text is not None:
                text_path = self.text_source(holder(), interview.id, interview.title, text,
                                             segments, place)
            if has_audio:
                assert interview.media_id is not None
                self.audio_source(holder(), interview.id, interview.title,
                                  interview.media_id, text, text_path, segments)
            self.count("interviews")
        if skipped:
            self.warnings.append(
                f"{skipped} interview{'s' if skipped > 1 else ''} without a transcript "
                f"{'were' if skipped > 1 else 'was'} left out (there was nothing to code).")

    def text_source(self, holder: etree._Element, interview_id: int, title: str,
                    text: SourceText, segments: Sequence[Segment], place: str) -> str:
        source_guid = self.guid(f"source:{interview_id}")
        path = f"internal://{source_guid}.txt"
        el = self.b.add(holder, "TextSource", guid=source_guid, name=title,
                        plainTextPath=path, creatingUser=self.user)
        self.parts.append((f"Transcript of {place}", text.text))
        spans: list[tuple[int, int, str, Coding | None, Memo | None]] = []
        for c in self.store.codings(interview_id=interview_id):
            start = text.position(c.start_segment_id, c.start_offset)
            end = text.position(c.end_segment_id, c.end_offset)
            spans.append((start, end, f"selection:coding:{c.id}", c, None))
        for seg in segments:
            for m in self.memos_on.get((MemoTarget.SEGMENT, seg.id), []):
                assert seg.id is not None
                start = text.position(seg.id, m.start_offset or 0)
                end = text.position(seg.id, len(seg.text) if m.end_offset is None
                                    else m.end_offset)
                spans.append((start, end, f"selection:memo:{m.id}", None, m))
        for start, end, key, coding, memo in sorted(spans, key=lambda s: (s[0], s[1], s[2])):
            sel = self.b.add(el, "PlainTextSelection", guid=self.guid(key),
                             startPosition=str(start), endPosition=str(end),
                             creatingUser=self.user)
            if coding is not None:
                assert coding.id is not None
                coded = self.b.add(sel, "Coding", guid=self.guid(f"coding:{coding.id}"),
                                   creatingUser=self.user)
                self.b.add(coded, "CodeRef", targetGUID=self.guid(f"code:{coding.code_id}"))
                self.note_refs(coded, MemoTarget.CODING, coding.id)
                self.count("codings")
            if memo is not None:
                assert memo.id is not None
                self.b.add(sel, "NoteRef", targetGUID=self.guid(f"memo:{memo.id}"))
                self.placed.add(memo.id)
        self.note_refs(el, MemoTarget.INTERVIEW, interview_id)
        self.members.append((f"sources/{source_guid}.txt", text.text.encode("utf-8")))
        return path

    def audio_source(self, holder: etree._Element, interview_id: int, title: str,
                     media_id: int, text: SourceText | None, text_path: str | None,
                     segments: Sequence[Segment]) -> None:
        media = self.store.media(media_id)
        file = self.study.folder.media / media.filename
        if not file.is_file():
            self.warnings.append(f"The audio of “{title}” is missing from the study's media "
                                 "folder and was left out.")
            return
        audio_guid = self.guid(f"audio:{interview_id}")
        name = f"{audio_guid}{Path(media.filename).suffix.lower()}"
        el = self.b.add(holder, "AudioSource", guid=audio_guid, name=title,
                        path=f"internal://{name}", creatingUser=self.user)
        if text is not None and text_path is not None:
            transcript = self.b.add(el, "Transcript", guid=self.guid(f"transcript:{interview_id}"),
                                    name=title, plainTextPath=text_path,
                                    creatingUser=self.user)
            for n, seg in enumerate(segments):
                self.b.add(transcript, "SyncPoint", guid=self.guid(f"sync:{seg.id}:start"),
                           timeStamp=str(seg.start_ms), position=str(text.line_starts[n]))
                self.b.add(transcript, "SyncPoint", guid=self.guid(f"sync:{seg.id}:end"),
                           timeStamp=str(seg.end_ms),
                           position=str(text.text_starts[n] + text.lengths[n]))
        else:
            self.note_refs(el, MemoTarget.INTERVIEW, interview_id)
        self.members.append((f"sources/{name}", file))
        self.count("media")

    def notes(self, root: etree._Element) -> None:
        holder = self.b.holder(root, "Notes")
        links = []
        names = self.target_names()
        for (target, target_id), memos in self.memos_on.items():
            for m in memos:
                assert m.id is not None
                if target is MemoTarget.THEME:
                    links.append((m, target_id))
                elif target is not MemoTarget.STUDY and m.id not in self.placed:
                    continue  # its interview was not exported
                title = names.get((target, target_id), "Memo")
                note = self.b.add(holder(), "Note", guid=self.guid(f"memo:{m.id}"), name=title,
                                  creatingUser=self.user,
                                  creationDateTime=xml_datetime(m.created_at),
                                  modifiedDateTime=xml_datetime(m.updated_at))
                self.b.add(note, "PlainTextContent", m.text)
                where = f"memo on {self.places.get((target, target_id), 'the study')}"
                self.parts += [(f"Title of {where}", title), (f"Text of {where}", m.text)]
                self.count("memos")
        dropped = sum(len(ms) for (t, _), ms in self.memos_on.items()
                      for m in ms if t not in (MemoTarget.STUDY, MemoTarget.THEME)
                      and m.id not in self.placed)
        if dropped:
            self.warnings.append(f"{dropped} memo{'s' if dropped > 1 else ''} on interviews "
                                 "without a transcript were left out.")
        for entry in self.store.journal():
            title = f"{JOURNAL_PREFIX}{entry.phase.value}"
            note = self.b.add(holder(), "Note", guid=self.guid(f"journal:{entry.id}"),
                              name=title, creatingUser=self.user,
                              creationDateTime=xml_datetime(entry.created_at))
            self.b.add(note, "PlainTextContent", entry.text)
            self.parts.append((f"Journal entry of {xml_datetime(entry.created_at)}",
                               entry.text))
            self.count("journal entries")
        if links:
            holder = self.b.add(root, "Links")
            for m, theme_id in links:
                self.b.add(holder, "Link", guid=self.guid(f"link:{m.id}"), name="Memo",
                           direction="OneWay", originGUID=self.guid(f"memo:{m.id}"),
                           targetGUID=self.guid(f"theme:{theme_id}"))

    def target_names(self) -> dict[tuple[MemoTarget, int | None], str]:
        """Note names that say what each memo is about, as the other program lists them."""
        names: dict[tuple[MemoTarget, int | None], str] = {(MemoTarget.STUDY, None):
                                                           "Study memo"}
        for c in self.store.codes():
            names[(MemoTarget.CODE, c.id)] = f"Memo on code {c.name}"
        for t in self.store.themes():
            names[(MemoTarget.THEME, t.id)] = f"Memo on theme {t.name}"
        for i in self.store.interviews():
            names[(MemoTarget.INTERVIEW, i.id)] = f"Memo on {i.title}"
        return names

    def sets(self, root: etree._Element) -> None:
        themes = self.store.themes()
        if not themes:
            return
        self.parts += theme_parts(themes)
        holder = self.b.add(root, "Sets")
        for t in themes:
            el = self.b.add(holder, "Set", guid=self.guid(f"theme:{t.id}"), name=t.name)
            if t.definition:
                self.b.add(el, "Description", t.definition)
            for code_id in t.code_ids:
                self.b.add(el, "MemberCode", targetGUID=self.guid(f"code:{code_id}"))
            self.count("themes")


def export_qdpx(study: Study, path: Path, *, include_media: bool = False,
                user_name: str = "") -> ExportReport:
    """Write the study to `path` as a .qdpx. Raises LeakError if any text
    would carry an original identifier, and ExchangeError if the file cannot be written;
    either way no file is left at `path`."""
    path = Path(path)
    job = _Export(study, include_media, user_name)
    root = job.build()
    ensure_clean(study.store, path, job.parts)
    if include_media and study.store.identifiers() and job.counts.get("media"):
        job.warnings.append("The recordings are exported as they are: anonymisation changes "
                            "transcripts, not audio, so the audio still holds every name.")
    try:
        write_archive(path, [("project.qde", xml_bytes(root)), *job.members])
    except OSError as e:
        raise ExchangeError(f"Could not write {path}: {e.strerror or e}.") from e
    for kind in ("codes", "themes", "participants", "attributes", "interviews", "codings",
                 "memos", "journal entries", "media"):
        job.counts.setdefault(kind, 0)
    study.store.audit("REFI-QDA project exported", path=str(path), with_media=include_media,
                      **{k.replace(" ", "_"): v for k, v in job.counts.items()})
    return ExportReport(dict(job.counts), path, tuple(job.warnings))


__all__ = ["ExportReport", "SourceText", "ensure_clean", "export_qdpx", "source_text"]
