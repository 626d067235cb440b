"""Import a REFI-QDA project (.qdpx) into a study, possibly one that already has work.

Everything comes in as new objects: a code, participant, theme or interview whose name
is taken gets " (imported)" added (then " (imported 2)" ...), so nothing the researcher
already has is changed or merged by guesswork; they can merge codes afterwards with the
codebook's own merge, which keeps codings and memos. Attribute definitions are the one
exception: an attribute of the same name and type is reused, so "Role" stays one column.

What becomes what (the reverse of export.py): Codes -> codes (nested, colour, Description
as definition; a missing colour gets the default); Variables -> attributes ("Group" ->
the participant's group; Integer/Float -> number, Boolean, Date, Text, DateTime as text;
a Text variable described "Choices: a | b" -> a choice); Cases -> participants, linked to
the interviews of their SourceRefs; TextSources -> interviews, one segment per non-empty
line, "Label: text" lines giving speakers when labels recur (a Verbatim export always);
PlainTextSelections -> codings on the same words; AudioSources -> the recording (copied
from the archive only) with its Transcript's SyncPoints giving segment times; Notes ->
memos on what refers to them (a NoteRef or a Link), unreferenced notes named "Journal..."
-> journal entries, other notes -> study memos; Sets of codes -> candidate themes.

Known vendor deviations are accepted: a .qde not named project.qde or inside a folder,
missing colours and names, GUIDs in braces or upper case, duplicated or missing GUIDs,
text files that are not UTF-8. What cannot be carried (pictures, PDFs, video, graphs,
time-based codings, users, codes on whole cases...) is listed in the report.

Safety: the archive is checked by SafeArchive and the XML parsed by parse_untrusted_xml
before anything is written. All texts and audio are read out of the archive first (audio
into a staging folder inside the study), then the study is written in ONE store
transaction, and only after it commits is the audio moved into media/. A refusal or
failure at any point leaves the study and its media folder as they were.
"""

from __future__ import annotations

import bisect
import codecs
import re
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from analysis.refi.export import CHOICES_PREFIX, CHOICES_SEPARATOR, GROUP_VARIABLE
from analysis.refi.qde_read import (
    QAudioSource,
    QCode,
    QCoding,
    QProject,
    QSet,
    QSyncPoint,
    QTextSource,
    QTranscript,
    QVariable,
    TextRef,
    read_project,
)
from analysis.refi.safe_archive import (
    DEFAULT_LIMITS,
    ExchangeError,
    Limits,
    SafeArchive,
    parse_untrusted_xml,
)
from study.errors import StudyError, ValidationError
from study.folder import Study
from study.model import (
    AnalysisPhase,
    AttributeDef,
    AttributeType,
    Code,
    Coding,
    Interview,
    InterviewStatus,
    JournalEntry,
    Media,
    Memo,
    MemoTarget,
    Participant,
    Segment,
    Speaker,
    SpeakerRole,
    Theme,
)
from study.store import Store
from study.store.participants import encode_value

DEFAULT_COLOUR = "#4e79a7"
IMPORTED = " (imported)"
_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_LINE = re.compile(r"[^\r\n\u2028\u2029]+")
# A speaker label at the start of a line: short, no colon in it, then ": " (or ":" at the end).
_LABEL = re.compile(r"^(?P<label>[^\s:\[\](){}][^:]{0,39}?)[ \t]*:(?:[ \t]|$)")
_INTERVIEWER = re.compile(r"^(?:interviewer|int|iv|i|moderator|facilitator|researcher)"
                          r"(?:\s*\d{1,3})?$", re.IGNORECASE)
_INTERVIEWEE = re.compile(r"^(?:interviewee|participant|respondent|r|p)$", re.IGNORECASE)
_DOCUMENT_SUFFIX = re.compile(r"\.(?:txt|text|docx?|rtf|odt|pdf|html?)$", re.IGNORECASE)
_MEDIA_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import added, by kind, and each thing it left out, in plain sentences."""

    imported: dict[str, int]
    skipped: list[str]


class Skips:
    """The report's list of what was left out, each sentence once."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        if line not in self.lines:
            self.lines.append(line)

    def count(self, n: int, one: str, many: str, why: str) -> None:
        if n:
            self.add(f"{n} {one if n == 1 else many}: {why}")


def unique(name: str, taken: set[str], suffix: str = IMPORTED) -> str:
    """`name`, or with " (imported)", " (imported 2)"... if taken (any case); the result
    is added to `taken`."""
    candidate, n = name, 1
    while candidate.casefold() in taken:
        candidate = f"{name}{suffix}" if n == 1 else f"{name}{suffix[:-1]} {n})"
        n += 1
    taken.add(candidate.casefold())
    return candidate


def colour(value: str | None) -> str:
    """A code colour as Verbatim keeps it (#rrggbb); #rgb is widened, anything else is
    the default colour."""
    m = _COLOUR.match((value or "").strip())
    if not m:
        return DEFAULT_COLOUR
    digits = m.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return f"#{digits.lower()}"


# --- plain text back to segments --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Line:
    """One segment-to-be: where its line and its words start in the source text."""

    line_start: int
    text_start: int
    text: str
    label: str | None

    @property
    def text_end(self) -> int:
        return self.text_start + len(self.text)


def split_lines(text: str) -> list[Line]:
    """The non-blank lines of a plain text, with speaker labels where the text uses them:
    a label counts when it starts at least two lines, or when most lines have one (so a
    once-only "Note: ..." in a document without speakers stays text)."""
    raw = [(m.start(), m.group()) for m in _LINE.finditer(text) if m.group().strip()]
    found = [(start, line, _LABEL.match(line)) for start, line in raw]
    counts = Counter(m.group("label") for _, _, m in found if m)
    labelled = sum(counts.values())
    most = labelled * 2 > len(found)
    lines = []
    for start, line, m in found:
        if m and (most or counts[m.group("label")] >= 2):
            lines.append(Line(start, start + m.end(), line[m.end():], m.group("label").strip()))
        else:
            lines.append(Line(start, start, line, None))
    return lines


def anchor_span(lines: Sequence[Line], start: int, end: int
                ) -> tuple[int, int, int, int] | None:
    """A character span of the source text as (first line, offset, last line, offset),
    end exclusive, reduced to the words it covers; None when it covers none."""
    first = next((n for n, ln in enumerate(lines) if ln.text_end > start), None)
    last = next((n for n in range(len(lines) - 1, -1, -1) if lines[n].text_start < end), None)
    if first is None or last is None or first > last:
        return None
    a = max(0, start - lines[first].text_start)
    b = min(len(lines[last].text), end - lines[last].text_start)
    if first == last and b <= a:
        return None
    return first, a, last, b


def time_at(points: Sequence[tuple[int, int]]) -> Callable[[int], int]:
    """Milliseconds at a text position, interpolated between (position, ms) sync points."""
    positions = [p for p, _ in points]

    def at(position: int) -> int:
        if not points:
            return 0
        n = bisect.bisect_right(positions, position)
        if n == 0:
            return points[0][1]
        if n == len(points):
            return points[-1][1]
        (p0, t0), (p1, t1) = points[n - 1], points[n]
        if p1 == p0:
            return t0
        return round(t0 + (t1 - t0) * (position - p0) / (p1 - p0))
    return at


def speaker_role(label: str, participant_code: str | None) -> SpeakerRole:
    if _INTERVIEWER.match(label):
        return SpeakerRole.INTERVIEWER
    if participant_code and (label.casefold() == participant_code.casefold()
                             or _INTERVIEWEE.match(label)):
        return SpeakerRole.PARTICIPANT
    return SpeakerRole.OTHER


# --- reading what the XML points to out of the archive ----------------------------------------


@dataclass(frozen=True, slots=True)
class StagedMedia:
    """An audio file read out of the archive into the staging folder, not yet in media/."""

    path: Path
    sha256: str
    filename: str
    original_name: str
    duration_ms: int
    channels: int
    sample_rate: int


def _decode(data: bytes, what: str, skips: Skips) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        skips.add(f"{what} is not UTF-8 as REFI-QDA requires; it was read as Windows-1252, "
                  "so check its accented characters and that its codings sit on the right "
                  "words.")
        return data.decode("cp1252", errors="replace")


def _probe(path: Path) -> tuple[int, int, int] | None:
    """(duration ms, channels, sample rate) from the container, or None if not audio."""
    try:
        import av  # imported here: PyAV is heavy and only audio in an archive needs it

        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                ms = int(stream.duration * stream.time_base * 1000)
            else:
                ms = int((container.duration or 0) / 1000)
            cc = stream.codec_context
            return ms, int(cc.channels or 1), int(cc.sample_rate or 16000)
    except Exception:  # anything PyAV cannot open is simply not usable audio
        return None


class _Loader:
    """Reads the texts and audio the project refers to, from the archive only."""

    def __init__(self, archive: SafeArchive, base: str, staging: Path, skips: Skips) -> None:
        self.archive = archive
        self.base = base  # the folder of the .qde inside the archive ("" at the top)
        self.staging = staging
        self.skips = skips
        self._texts: dict[str, str | None] = {}
        self._media: dict[str, StagedMedia | None] = {}
        self._by_basename: dict[str, list[str]] = {}
        for name in archive.names():
            self._by_basename.setdefault(name.rsplit("/", 1)[-1].casefold(), []).append(name)

    def member(self, path: str) -> str | None:
        """The archive member an internal:// path names; other schemes (relative://,
        absolute://, file:) point outside the archive and are never read."""
        scheme, sep, rest = path.partition("://")
        if not sep or scheme.lower() != "internal":
            return None
        rest = rest.lstrip("/")
        for candidate in (f"{self.base}sources/{rest}", f"sources/{rest}", rest):
            found = self.archive.find(candidate)
            if found:
                return found
        same = self._by_basename.get(rest.rsplit("/", 1)[-1].casefold(), [])
        return same[0] if len(same) == 1 else None

    def text(self, ref: TextRef, what: str) -> str | None:
        if ref.content is not None and not ref.path:
            return ref.content
        if not ref.path:
            return ref.content
        key = ref.path.strip()
        if key not in self._texts:
            name = self.member(key)
            if name is None:
                self._texts[key] = None
            else:
                self._texts[key] = _decode(self.archive.read_bytes(name), f"The text of {what}",
                                           self.skips)
        found = self._texts[key]
        return found if found is not None else ref.content

    def preload(self, project: QProject) -> None:
        """Read every text and stage every recording the project refers to, before the
        study is written: a refusal here changes nothing, and the write transaction
        never waits on the archive."""
        for ts in project.text_sources:
            self.text(ts.text, f"“{ts.name}”")
        for n, audio in enumerate(project.audio_sources):
            for tr in audio.transcripts:
                self.text(tr.text, f"“{audio.name}”")
            # named by position, not by GUID count: sources may share a GUID
            self._media[audio.guid] = self._stage(audio, n)
        for note in project.notes:
            self.text(note.text, f"the note “{note.name}”")

    def media(self, source: QAudioSource) -> StagedMedia | None:
        """The staged recording of an audio source (preload first), or None."""
        return self._media.get(source.guid)

    def _stage(self, source: QAudioSource, n: int) -> StagedMedia | None:
        label = f"The audio “{source.name or 'unnamed'}”"
        if not source.path:
            return None
        name = self.member(source.path)
        if name is None:
            self.skips.add(f"{label} ({source.path}) is not inside the archive, so it was not "
                           "imported; import the recording separately.")
            return None
        suffix = Path(name).suffix.lower()
        suffix = suffix if _MEDIA_SUFFIX.match(suffix) else ""
        target = self.staging / f"audio-{n}{suffix}"
        sha = self.archive.extract_to(name, target)
        probed = _probe(target)
        if probed is None:
            self.skips.add(f"{label} could not be read as audio and was left out.")
            target.unlink(missing_ok=True)
            return None
        original = source.name if Path(source.name).suffix else f"{source.name}{suffix}"
        return StagedMedia(target, sha, f"{sha}{suffix}", original, *probed)


# --- writing into the study -------------------------------------------------------------------


def write_codes(store: Store, codes: Sequence[QCode], skips: Skips) -> dict[str, int]:
    """Add the codes, nested as given, after the study's own; returns GUID -> code id."""
    ids: dict[str, int] = {}
    duplicates = 0

    def add(level: Sequence[QCode], parent: int | None, taken: set[str], base: int) -> None:
        nonlocal duplicates
        for n, q in enumerate(level):
            name = unique(" ".join(q.name.split()) or "Unnamed code", taken)
            cid = store.add_code(Code(name, parent, q.description, colour(q.colour),
                                      base + n)).new_id("code")
            if q.guid in ids:
                duplicates += 1
            else:
                ids[q.guid] = cid
            add(q.children, cid, set(), 0)

    top = [c for c in store.codes() if c.parent_id is None]
    add(codes, None, {c.name.casefold() for c in top}, len(top))
    skips.count(duplicates, "code shares its GUID with another code",
                "codes share their GUIDs with other codes",
                "each was imported, but codings name the first one.")
    return ids


def write_sets(store: Store, sets: Sequence[QSet], code_ids: dict[str, int],
               skips: Skips) -> dict[str, int]:
    """Sets of codes become candidate themes; returns GUID -> theme id."""
    ids: dict[str, int] = {}
    existing = store.themes()
    taken = {t.name.casefold() for t in existing}
    unknown = documents = 0
    for n, s in enumerate(sets, len(existing) + 1):
        members = tuple(dict.fromkeys(code_ids[g] for g in s.member_codes if g in code_ids))
        unknown += sum(1 for g in s.member_codes if g not in code_ids)
        documents += s.member_sources + s.member_notes
        if not members and not s.member_codes and (s.member_sources or s.member_notes):
            skips.add(f"The set “{s.name}” groups documents or notes, not codes; Verbatim's "
                      "themes are sets of codes, so it was left out.")
            continue
        name = unique(s.name or "Unnamed set", taken)
        ids[s.guid] = store.add_theme(Theme(name, s.description, code_ids=members,
                                            position=n)).new_id("theme")
    skips.count(unknown, "set member names a code", "set members name codes",
                "those codes are not in the project, so the members were left out.")
    skips.count(documents, "document or note in a set", "documents and notes in sets",
                "themes hold codes only.")
    return ids


@dataclass
class _Targets:
    """What each GUID of the project became, for notes and links to find their target."""

    codes: dict[str, int] = field(default_factory=dict)
    themes: dict[str, int] = field(default_factory=dict)
    interviews: dict[str, int] = field(default_factory=dict)
    codings: dict[str, int] = field(default_factory=dict)
    spans: dict[str, tuple[int, int | None, int | None]] = field(default_factory=dict)
    notes: dict[str, tuple[MemoTarget, int | None, int | None, int | None]] = field(
        default_factory=dict)

    def note(self, refs: Iterable[str], target: MemoTarget, target_id: int | None,
             start: int | None = None, end: int | None = None) -> None:
        for ref in refs:
            self.notes.setdefault(ref, (target, target_id, start, end))

    def of(self, guid: str | None) -> tuple[MemoTarget, int | None, int | None, int | None] | None:
        if guid is None:
            return None
        for table, kind in ((self.codes, MemoTarget.CODE), (self.themes, MemoTarget.THEME),
                            (self.interviews, MemoTarget.INTERVIEW),
                            (self.codings, MemoTarget.CODING)):
            if guid in table:
                return kind, table[guid], None, None
        if guid in self.spans:
            segment, start, end = self.spans[guid]
            return MemoTarget.SEGMENT, segment, start, end
        return None


class _Writer:
    """Writes one project into the study; runs inside the caller's store transaction."""

    def __init__(self, study: Study, project: QProject, loader: _Loader, skips: Skips) -> None:
        self.study = study
        self.store = study.store
        self.project = project
        self.loader = loader
        self.skips = skips
        self.counts: Counter[str] = Counter()
        self.targets = _Targets()
        self.staged: list[StagedMedia] = []
        self.participant_of_source: dict[str, int] = {}
        self.participant_codes: dict[int, str] = {}

    def write(self) -> None:
        p = self.project
        if p.users:
            names = ", ".join(f"“{u}”" for u in p.users[:3] if u)
            self.skips.count(len(p.users), "user", "users",
                             f"Verbatim does not record who coded what ({names}).".replace(
                                 " ().", "."))
        info = self.store.study_info()
        if p.description.strip() and not info.description.strip():
            # Only an empty description is filled: a study's own is never overwritten.
            self.store.update_study_info(info.name, p.description)
        attributes, group = self.attributes(p.variables)
        self.participants(attributes, group)
        before = len(self.store.codes())
        self.targets.codes = write_codes(self.store, p.codes, self.skips)
        self.counts["codes"] = len(self.store.codes()) - before
        self.targets.themes = write_sets(self.store, p.sets, self.targets.codes, self.skips)
        self.counts["themes"] = len(self.targets.themes)
        for c in p.codes:
            self._code_notes(c)
        self.sources()
        self.notes()
        for line in (*p.unsupported, *p.warnings):
            self.skips.add(line)

    def _code_notes(self, c: QCode) -> None:
        if c.guid in self.targets.codes:
            self.targets.note(c.note_refs, MemoTarget.CODE, self.targets.codes[c.guid])
        for child in c.children:
            self._code_notes(child)

    # --- variables and cases --------------------------------------------------------------

    def attributes(self, variables: Sequence[QVariable]
                   ) -> tuple[dict[str, AttributeDef], str | None]:
        """Attribute definitions for the variables (reusing a same-named one of the same
        type); returns variable GUID -> definition, and the GUID of the group variable."""
        group = next((v.guid for v in variables if v.name.casefold() == GROUP_VARIABLE.casefold()
                      and v.kind in ("Text", "")), None)
        existing = {a.name.casefold(): a for a in self.store.attribute_defs()}
        taken = set(existing) | {"code", "group", "notes"}
        values: dict[str, list[str]] = {}
        for case in self.project.cases:
            for v in case.values:
                values.setdefault(v.variable, []).append(v.text)
        defs: dict[str, AttributeDef] = {}
        for v in variables:
            if v.guid == group:
                continue
            wanted = _attribute_def(v, values.get(v.guid, []))
            name = " ".join(v.name.split()) or "Variable"
            same = existing.get(name.casefold())
            if same is not None and same.type is wanted.type and (
                    same.type is not AttributeType.CHOICE
                    or set(values.get(v.guid, [])) <= set(same.choices)):
                defs[v.guid] = same
                continue
            name = unique(name, taken)
            attr = AttributeDef(name, wanted.type, wanted.choices)
            self.store.add_attribute_def(attr)
            defs[v.guid] = attr
            self.counts["attributes"] += 1
        return defs, group

    def participants(self, defs: dict[str, AttributeDef], group: str | None) -> None:
        taken = {p.code.casefold() for p in self.store.participants()}
        dropped: list[str] = []
        code_refs = selection_refs = 0
        for n, case in enumerate(self.project.cases, 1):
            code = unique(" ".join(case.name.split()) or f"Case {n}", taken)
            group_name = ""
            attrs: list[tuple[str, str]] = []
            for v in case.values:
                if v.variable == group:
                    group_name = v.text
                    continue
                attr = defs.get(v.variable)
                if attr is None or not v.text:
                    continue
                value = _value(attr, v.text)
                if value is None:
                    dropped.append(f"{attr.name} of {code} ({v.text!r})")
                else:
                    attrs.append((attr.name, value))
            pid = self.store.add_participant(Participant(
                code, group_name, tuple(dict(attrs).items()), case.description,
            )).new_id("participant")
            self.participant_codes[pid] = code
            for ref in case.source_refs:
                self.participant_of_source.setdefault(ref, pid)
            code_refs += case.code_refs
            selection_refs += case.selection_refs
            self.counts["participants"] += 1
        if dropped:
            self.skips.add(f"{len(dropped)} attribute value{'s' if len(dropped) > 1 else ''} "
                           f"did not fit the attribute's type: {'; '.join(dropped[:5])}"
                           f"{' ...' if len(dropped) > 5 else ''}.")
        self.skips.count(code_refs, "code applied to a whole case", "codes applied to whole cases",
                         "Verbatim codes words in transcripts, not people.")
        self.skips.count(selection_refs, "case link to a selection",
                         "case links to selections", "participants link to interviews only.")

    # --- sources ----------------------------------------------------------------------------

    def sources(self) -> None:
        p = self.project
        texts = {ts.guid: self.loader.text(ts.text, f"“{ts.name}”") for ts in p.text_sources}
        by_path = {ts.text.path.strip(): ts.guid for ts in p.text_sources
                   if ts.text.path and texts[ts.guid] is not None}
        paired: dict[str, tuple[QAudioSource, QTranscript]] = {}
        alone: list[QAudioSource] = []
        for audio in p.audio_sources:
            match = None
            for tr in audio.transcripts:
                guid = by_path.get((tr.text.path or "").strip())
                if guid is None and tr.text.content:
                    guid = next((g for g, t in texts.items() if t == tr.text.content), None)
                if guid is not None and guid not in paired:
                    match = (guid, tr)
                    break
            if match:
                paired[match[0]] = (audio, match[1])
            else:
                alone.append(audio)
        titles = {i.title.casefold() for i in self.store.interviews()}
        for ts in p.text_sources:
            text = texts[ts.guid]
            if text is None:
                n = _codings_in(ts)
                self.skips.add(f"The text of “{ts.name}” ({ts.text.path}) is not in the archive; "
                               "it was left out" + (f" with its {n} coding{'s' if n > 1 else ''}."
                                                    if n else "."))
                continue
            audio, transcript = paired.get(ts.guid, (None, None))
            participant = self.participant_of_source.get(ts.guid)
            if participant is None and audio is not None:
                participant = self.participant_of_source.get(audio.guid)
            self.interview(ts.name, text, titles, participant, source=ts, audio=audio,
                           transcript=transcript)
            self.skips.count(ts.variable_values, "value of a document variable",
                             "values of document variables",
                             "Verbatim keeps attributes on participants.")
        for audio in alone:
            transcript = audio.transcripts[0] if audio.transcripts else None
            text = self.loader.text(transcript.text, f"“{audio.name}”") if transcript else None
            participant = self.participant_of_source.get(audio.guid)
            self.interview(audio.name, text, titles, participant, audio=audio,
                           transcript=transcript)
            self.skips.count(max(0, len(audio.transcripts) - 1), "further transcript",
                             "further transcripts",
                             f"“{audio.name}” was imported with its first transcript only.")
        self.skips.count(sum(a.timed_codings for a in p.audio_sources), "coding of a stretch of "
                         "audio", "codings of stretches of audio",
                         "Verbatim codes the words of transcripts.")

    def interview(self, name: str, text: str | None, titles: set[str],
                  participant: int | None, *, source: QTextSource | None = None,
                  audio: QAudioSource | None = None,
                  transcript: QTranscript | None = None) -> None:
        store = self.store
        lines = split_lines(text) if text else []
        media = self.loader.media(audio) if audio is not None else None
        if not lines and media is None:
            if source is not None or audio is not None:
                self.skips.add(f"“{name or 'An unnamed source'}” has no text"
                               f"{' and no usable audio' if audio else ''}; it was left out.")
            return
        points = _sync_points(transcript.sync_points) if transcript else []
        at = time_at(points)
        media_id = None
        if media is not None:
            store.add_media(Media(media.sha256, media.filename, media.original_name,
                                  media.duration_ms, media.channels, media.sample_rate))
            found = store.media_by_hash(media.sha256)
            assert found is not None
            media_id = found.id
            self.staged.append(media)
            self.counts["media"] += 1
        times = [(at(ln.line_start), at(ln.text_end)) for ln in lines]
        times = [(s, max(s, e)) for s, e in times]
        duration = media.duration_ms if media else max((e for _, e in times), default=0)
        title = unique(_DOCUMENT_SUFFIX.sub("", name).strip() or "Imported interview", titles)
        iid = store.add_interview(Interview(
            title, participant, None, media_id, duration,
            InterviewStatus.TRANSCRIBED if lines else InterviewStatus.RECORDED,
        )).new_id("interview")
        self.counts["interviews"] += 1
        for key in (source.guid if source else None, audio.guid if audio else None):
            if key:
                self.targets.interviews[key] = iid
        code = self.participant_codes.get(participant) if participant is not None else None
        speakers: dict[str, int] = {}
        for label in dict.fromkeys(ln.label for ln in lines if ln.label):
            role = speaker_role(label, code)
            speakers[label] = store.add_speaker(Speaker(
                iid, label, role, participant if role is SpeakerRole.PARTICIPANT else None,
            )).new_id("speaker")
        segment_ids = list(store.add_segments(
            Segment(iid, n, start, end, ln.text, speakers.get(ln.label) if ln.label else None)
            for n, (ln, (start, end)) in enumerate(zip(lines, times, strict=True))
        ).ids("segment"))
        self.counts["segments"] += len(segment_ids)
        for refs in (source.note_refs if source else (), audio.note_refs if audio else (),
                     transcript.note_refs if transcript else ()):
            self.targets.note(refs, MemoTarget.INTERVIEW, iid)
        if not lines:
            return
        place = _Placer(self, iid, lines, segment_ids)
        if source is not None:
            for sel in source.selections:
                place.selection(sel.guid, sel.start, sel.end, sel.codings, sel.note_refs)
            if source.codings:
                place.selection(f"{source.guid}:whole", 0, len(text or ""), source.codings, ())
        if transcript is not None:
            positions = {p.guid: p.position for p in transcript.sync_points}
            for ts in transcript.selections:
                start = positions.get(ts.from_sync or "")
                end = positions.get(ts.to_sync or "")
                if start is None or end is None:
                    self.skips.add("A transcript selection without positioned sync points "
                                   "was left out with its codings.")
                    continue
                place.selection(ts.guid, start, end, ts.codings, ts.note_refs)

    # --- notes ------------------------------------------------------------------------------

    def notes(self) -> None:
        p = self.project
        targets = self.targets
        for link in p.links:
            for note, other in ((link.origin, link.target), (link.target, link.origin)):
                found = targets.of(other)
                if note and found is not None and note not in targets.notes:
                    targets.notes[note] = found
        targets.note(p.note_refs, MemoTarget.STUDY, None)
        other_links = sum(1 for link in p.links
                          if not any(g in targets.notes for g in (link.origin, link.target)))
        self.skips.count(other_links, "link", "links",
                         "only links between a note and what it is about are kept.")
        for note in p.notes:
            text = self.loader.text(note.text, f"the note “{note.name}”")
            text = text if text and text.strip() else note.description
            if not text or not text.strip():
                self.skips.add(f"The note “{note.name or 'unnamed'}” is empty; it was left out.")
                continue
            target = targets.notes.get(note.guid)
            if target is None and note.name.casefold().startswith("journal"):
                self.store.add_journal_entry(JournalEntry(
                    text, _phase(note.name), note.created or note.modified))
                self.counts["journal entries"] += 1
                continue
            kind, target_id, start, end = target or (MemoTarget.STUDY, None, None, None)
            self.store.add_memo(Memo(kind, text, target_id, start, end, note.created,
                                     note.modified or note.created))
            self.counts["memos"] += 1


class _Placer:
    """Puts a project's selections on one interview's segments as codings and memos."""

    def __init__(self, writer: _Writer, interview_id: int, lines: Sequence[Line],
                 segment_ids: Sequence[int]) -> None:
        self.w = writer
        self.interview_id = interview_id
        self.lines = lines
        self.segment_ids = segment_ids

    def selection(self, guid: str, start: int, end: int, codings: Sequence[QCoding],
                  note_refs: Sequence[str]) -> None:
        w = self.w
        span = anchor_span(self.lines, start, end)
        if span is None:
            w.skips.count(len(codings), "coding covers no words of its transcript",
                          "codings cover no words of their transcripts",
                          "they were left out.")
            w.targets.note(note_refs, MemoTarget.INTERVIEW, self.interview_id)
            return
        first, a, last, b = span
        seg_a, seg_b = self.segment_ids[first], self.segment_ids[last]
        # A memo on part of a segment: the part of the first segment the selection covers.
        memo_end = b if first == last else len(self.lines[first].text)
        whole = a == 0 and memo_end == len(self.lines[first].text)
        start, end = (None, None) if whole else (a, memo_end)
        w.targets.spans[guid] = (seg_a, start, end)
        w.targets.note(note_refs, MemoTarget.SEGMENT, seg_a, start, end)
        for coding in codings:
            code_id = w.targets.codes.get(coding.code)
            if code_id is None:
                w.skips.add("Codings that name a code not in the codebook were left out.")
                continue
            cid = w.store.add_coding(Coding(code_id, self.interview_id, seg_a, a, seg_b,
                                            b)).new_id("coding")
            w.counts["codings"] += 1
            if coding.guid:
                w.targets.codings.setdefault(coding.guid, cid)
            w.targets.note(coding.note_refs, MemoTarget.CODING, cid)


def _codings_in(source: QTextSource) -> int:
    return sum(len(s.codings) for s in source.selections) + len(source.codings)


def _sync_points(points: Sequence[QSyncPoint]) -> list[tuple[int, int]]:
    return sorted((p.position, p.time_ms) for p in points
                  if p.position is not None and p.time_ms is not None)


def _phase(name: str) -> AnalysisPhase:
    rest = name.split(":", 1)[1].strip().casefold() if ":" in name else ""
    return next((ph for ph in AnalysisPhase if ph.value == rest), AnalysisPhase.FAMILIARISATION)


def _attribute_def(v: QVariable, values: Sequence[str]) -> AttributeDef:
    kind = v.kind.casefold()
    if kind in ("integer", "float"):
        return AttributeDef(v.name, AttributeType.NUMBER)
    if kind == "boolean":
        return AttributeDef(v.name, AttributeType.BOOLEAN)
    if kind == "date":
        return AttributeDef(v.name, AttributeType.DATE)
    if v.description.startswith(CHOICES_PREFIX):
        choices = tuple(c.strip() for c in
                        v.description[len(CHOICES_PREFIX):].split(CHOICES_SEPARATOR.strip())
                        if c.strip())
        if choices and set(values) <= set(choices):
            return AttributeDef(v.name, AttributeType.CHOICE, choices)
    return AttributeDef(v.name, AttributeType.TEXT)


def _value(attr: AttributeDef, text: str) -> str | None:
    """The text of a value if it fits the attribute, else None."""
    if attr.type is AttributeType.DATE:
        text = text[:10]
    if attr.type is AttributeType.CHOICE and text not in attr.choices:
        return None
    try:
        encode_value(attr.type, text)
    except ValidationError:
        return None
    return text


def _find_project(archive: SafeArchive, skips: Skips) -> str:
    """The project file: project.qde, or the one .qde some tools name otherwise."""
    exact = archive.find("project.qde")
    if exact:
        return exact
    qdes = sorted((n for n in archive.names() if n.casefold().endswith(".qde")),
                  key=lambda n: (n.count("/"), n.casefold()))
    if not qdes:
        raise ExchangeError(f"{archive.path.name} holds no project file (project.qde), so it "
                            "is not a REFI-QDA project. Nothing was imported.")
    skips.add(f"The project file is named {qdes[0]!r} rather than project.qde; it was read "
              "all the same" + (f" ({len(qdes) - 1} other .qde file(s) ignored)."
                                if len(qdes) > 1 else "."))
    return qdes[0]


def _finish(counts: Counter[str], skips: Skips) -> ImportReport:
    imported = {k: counts.get(k, 0) for k in (
        "codes", "themes", "participants", "attributes", "interviews", "segments", "codings",
        "memos", "journal entries", "media")}
    return ImportReport(imported, list(skips.lines))


def import_qdpx(study: Study, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> ImportReport:
    """Import a .qdpx into the study as new objects. Raises ExchangeError (the study
    untouched) for a file that is not a project, is damaged, or looks hostile."""
    path = Path(path)
    skips = Skips()
    with SafeArchive.open(path, limits) as archive:
        qde = _find_project(archive, skips)
        root = parse_untrusted_xml(archive.read_bytes(qde), qde)
        try:
            project = read_project(root)
        except ValueError as e:
            raise ExchangeError(f"{qde} in {path.name} is not a REFI-QDA project: {e}. "
                                "Nothing was imported.") from None
        staging = study.folder.root / f".refi-import-{secrets.token_hex(6)}"
        staging.mkdir()
        try:
            base = qde.rsplit("/", 1)[0] + "/" if "/" in qde else ""
            loader = _Loader(archive, base, staging, skips)
            loader.preload(project)
            writer = _Writer(study, project, loader, skips)
            try:
                with study.store.write():
                    writer.write()
                    study.store.audit("REFI-QDA project imported", name=path.name,
                                      origin=project.origin,
                                      **{k.replace(" ", "_"): v for k, v in writer.counts.items()})
                    # Before the commit: a kill after it must not leave interviews whose
                    # audio is still in the staging folder. Files are named by content, so
                    # one left in media/ by a rolled-back import is harmless.
                    _move_media(study, writer.staged)
            except ExchangeError:
                raise
            except StudyError as e:
                raise ExchangeError(f"The import of {path.name} stopped: {e} Nothing was "
                                    "imported.") from e
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _finish(writer.counts, skips)


def _move_media(study: Study, staged: Sequence[StagedMedia]) -> None:
    """Inside the import's transaction: move each staged file into media/ unless it is
    there already (a failure here rolls the whole import back)."""
    study.folder.media.mkdir(parents=True, exist_ok=True)
    for m in staged:
        target = study.folder.media / m.filename
        if target.exists():
            continue
        try:
            m.path.replace(target)
        except OSError as e:
            raise ExchangeError(f"The audio {m.original_name} could not be moved into the "
                                f"study: {e.strerror or e}. Nothing was imported.") from e


__all__ = ["ImportReport", "Line", "Skips", "anchor_span", "colour", "import_qdpx",
           "split_lines", "unique", "write_codes", "write_sets"]
