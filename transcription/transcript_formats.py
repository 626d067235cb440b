"""Transcript files in and out: plain text, Word (.docx), SubRip (.srt) and WebVTT (.vtt).

Researchers arrive with transcripts made elsewhere (a typist's Word file, an Otter or
QualCoder text export, subtitles from a video tool) and leave with files other tools
import (MAXQDA and ATLAS.ti read "[hh:mm:ss] Speaker: text"). This module only turns
files into turns and turns into text: no study, no Qt, so every rule is testable on
strings. A file that is not a transcript raises TranscriptError and yields nothing, so
an import never fills a study with garbage.

Plain text and Word, the speaker rule. A turn starts with an optional time
(`[00:01:02]`, `[00:01:02.500]`, `(00:01:02)`, `{01:02}`, a bare `00:01:02`, or a time
alone on its own line that applies to the next paragraph) and an optional speaker label:
`Label: text`, `[Label]: text`, `[Label] text` (QualCoder's `[id1]`), `Label (00:01:02):
text`, or Otter's `Label  0:03` line heading a paragraph. A label is short (at most 40
characters and 4 words), starts with a letter, and holds only letters, digits, spaces,
hyphens, apostrophes, periods (not last), underscores and brackets: never , ; ! ? or
quotes. A label with that shape is a speaker only if one of these holds, which keeps
"Note: the room was noisy" as text:
  - it is written `Label:` after a time on the same line, or `[Label]:` (strong
    evidence);
  - it is a known form: Interviewer, Interviewee, Participant, Respondent, Moderator,
    Facilitator, Researcher, Speaker (each optionally numbered: "Interviewer 2",
    "Speaker A"), Int, IV, IE, Resp, a code such as P3, MHCC-1 or id1 (1 to 6 letters,
    an optional - or _, digits), or a single capital letter (I, R, B, ...);
  - it is an Otter heading line and the file has two or more of those;
  - it starts two or more turns in the file and is not a heading word (Note, Date,
    Location, ...) or, for bracketed tags, a transcription annotation ([inaudible],
    [laughs], ...).
A line without a time or speaker joins the turn above it; a blank line (or a new Word
paragraph) starts a new turn, without a speaker unless it has its own label. A file
with no labels, no times and no blank lines at all takes each line as a turn. A trailing
f4/MAXQDA time such as `#00:01:02-5#` gives the end of its turn.

Subtitles: cues are read strictly (a bad timing line is an error naming its line). A
cue's `Speaker: text` prefix, with the label shape above, gives its speaker; in WebVTT a
`<v Speaker>` voice tag takes precedence. A .vtt without the WEBVTT header is read with a
warning, since many tools write it that way; anything that then fails to parse as cues
is refused.
"""

from __future__ import annotations

import codecs
import html
import lzma
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from study.errors import StudyError

SUFFIXES: frozenset[str] = frozenset({".txt", ".docx", ".srt", ".vtt"})

# A text transcript this big would be over a million words, far beyond any interview;
# a bigger file is not a transcript, and reading it whole would hurt.
_MAX_TEXT_BYTES = 16 * 1024 * 1024
# Uncompressed size a .docx may claim before it is treated as a zip bomb.
_MAX_DOCX_UNPACKED = 256 * 1024 * 1024
# Share of control characters above which decoded bytes are binary data, not text.
_MAX_CONTROL_SHARE = 0.01
# C0 and C1 control characters other than tab, line ends, vertical tab and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class TranscriptError(StudyError):
    """A file that cannot be read as a transcript; str() says why, naming the file and,
    where one is to blame, the line."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker's stretch of speech as a file gives it; times in ms, None if absent."""

    start_ms: int | None
    end_ms: int | None
    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class ParsedTranscript:
    """What a file held; warnings are things the researcher should know but that did not
    stop the import (e.g. the encoding had to be guessed)."""

    turns: tuple[Turn, ...]
    format: str
    warnings: tuple[str, ...] = ()


# --- small helpers -----------------------------------------------------------------------------


def _quoted(path: Path) -> str:
    return f"\u201c{path.name}\u201d"


def _short(line: str, limit: int = 60) -> str:
    line = line.strip()
    return f"\u201c{line if len(line) <= limit else line[:limit] + '…'}\u201d"


def _split_lines(text: str) -> list[str]:
    # Only real line ends: str.splitlines() would also split on U+2028, form feeds and
    # other characters that can sit inside a line of speech.
    return re.split(r"\r\n|\r|\n", text)


def _ms(hours: str | None, minutes: str, seconds: str, fraction: str | None) -> int:
    frac = int((fraction or "0").ljust(3, "0")[:3])
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + frac


def _clock_text(ms: int, sep: str) -> str:
    seconds, milli = divmod(ms, 1000)
    minutes, sec = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours:02d}:{mins:02d}:{sec:02d}{sep}{milli:03d}"


# A time inside text: h:mm:ss or mm:ss, with an optional fraction of a second.
_CLOCK = r"(?:\d{1,3}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
# A bare time at the start of a line must have hours, so "10:30 we met" stays text.
_CLOCK_H = r"\d{1,3}:\d{2}:\d{2}(?:[.,]\d{1,3})?"
_CLOCK_PARTS = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")


def _clock_ms(text: str) -> int | None:
    """ms of a time like 1:02:03.5 or 02:03; None if it is not a valid time."""
    m = _CLOCK_PARTS.match(text.strip())
    if not m:
        return None
    hours, minutes, seconds, fraction = m.groups()
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    return _ms(hours, minutes, seconds, fraction)


def _cell_clock_ms(text: str) -> int | None:
    """A time alone in a table cell, bracketed or not."""
    text = text.strip()
    if len(text) > 2 and text[0] + text[-1] in ("[]", "()", "{}"):
        text = text[1:-1]
    return _clock_ms(text) if text else None


# --- speaker labels ----------------------------------------------------------------------------

_LABEL_PUNCT = frozenset(" '’.-_()")
_KNOWN_LABEL = re.compile(
    r"^(?:(?:interviewer|interviewee|participant|respondent|moderator|facilitator|researcher"
    r"|speaker|int|iv|ie|resp)(?:\s*(?:\d{1,3}|[a-z]))?|[a-z]{1,6}[-_]?\d{1,4})$",
    re.IGNORECASE,
)
# Words that start lines with a colon in transcripts without being anyone's voice.
_NOT_SPEAKERS = frozenset({
    "note", "notes", "nb", "n.b", "ps", "p.s", "edit", "update", "example", "source", "date",
    "time", "location", "place", "venue", "duration", "length", "transcriber",
    "transcribed by", "title", "subject", "topic", "re", "cc", "to", "from", "tip", "warning",
    "important", "summary", "comment", "comments", "context", "observation", "file",
    "recording", "audio", "interview", "project", "study", "setting", "present", "attendees",
})
# Bracketed tags a transcriber uses for what is not speech.
_ANNOTATIONS = frozenset({
    "inaudible", "laughs", "laughter", "laughing", "laugh", "crosstalk", "cross talk",
    "pause", "long pause", "short pause", "unclear", "silence", "noise", "background noise",
    "music", "applause", "coughs", "cough", "sighs", "sigh", "overlapping",
    "overlapping speech", "overtalk", "interruption", "interrupted", "break", "end", "start",
    "redacted", "name", "indistinct", "unintelligible", "both laugh", "both", "sic",
    "phone rings", "beep", "gap", "tape ends", "recording ends", "recording starts",
})


def is_label(text: str) -> bool:
    """True if `text` has the shape of a speaker label (see the module docstring)."""
    text = text.strip()
    if not 1 <= len(text) <= 40 or not text[0].isalpha() or text.endswith("."):
        return False
    if len(text.split()) > 4:
        return False
    return all(
        ch.isalnum() or ch in _LABEL_PUNCT or unicodedata.category(ch).startswith("M")
        for ch in text
    )


def _known_label(label: str) -> bool:
    single_capital = len(label) == 1 and label.isupper()  # I and R, A and B, f4's I and B
    return single_capital or bool(_KNOWN_LABEL.match(label))


def _clean_label(label: str) -> str:
    return " ".join(label.split())


# --- plain text and Word: scanning lines -------------------------------------------------------

_LEAD_TIME = re.compile(
    rf"^(?:\[({_CLOCK})\]|\(({_CLOCK})\)|\{{({_CLOCK})\}}|({_CLOCK_H})(?=\s|$))\s*"
)
_TRAIL_F4 = re.compile(r"#(\d{1,3}):(\d{2}):(\d{2})(?:[-.,](\d{1,3}))?#\s*$")
_BRACKET_LABEL = re.compile(r"^\[([^\[\]\n]{1,40})\](?:[ \t]*(:))?(?:[ \t]+|$)(.*)$", re.S)
_COLON_LABEL = re.compile(r"^([^:\n]{1,40}?)[ \t]*:(?:[ \t]+|$)(.*)$", re.S)
_LABEL_TIMED = re.compile(
    rf"^([^:\[\]()\n]{{1,40}}?)[ \t]*[\[(]({_CLOCK})[\])][ \t]*(:)?(?:[ \t]+|$)(.*)$", re.S)
_LABEL_THEN_TIME = re.compile(rf"^([^:\[\]()\n]{{1,40}}?)[ \t]+({_CLOCK})$")


@dataclass(slots=True)
class _Line:
    """One line of a text file (or of a Word paragraph), with its possible markers."""

    number: int
    blank: bool = False
    time_ms: int | None = None
    end_ms: int | None = None
    label: str | None = None
    strong: bool = False  # a speaker whatever the recurrence rule says
    bracketed: bool = False  # written [label] without a colon: could be an annotation
    time_from_label: bool = False  # the time belongs to the label form
    rest: str = ""  # the text after the label
    plain: str = ""  # the text after the time, label included (if the label is refused)
    forced: bool = False  # a table row: always a turn of its own


def _scan(number: int, raw: str) -> _Line:
    text = raw.strip()
    line = _Line(number)
    if not text:
        line.blank = True
        return line
    m = _TRAIL_F4.search(text)
    if m and text[: m.start()].strip():
        line.end_ms = _ms(*m.groups())
        text = text[: m.start()].rstrip()
    m = _LEAD_TIME.match(text)
    if m:
        line.time_ms = _clock_ms(next(g for g in m.groups() if g))
        if line.time_ms is not None:
            text = text[m.end():]
    line.plain = line.rest = text
    if line.time_ms is None:
        m = _LABEL_TIMED.match(text) or _LABEL_THEN_TIME.match(text)
        if m and is_label(m.group(1)) and (time := _clock_ms(m.group(2))) is not None:
            line.label, line.time_ms, line.time_from_label = _clean_label(m.group(1)), time, True
            if m.re is _LABEL_TIMED:  # "Label (00:01:02): text"; with the colon, strong
                line.rest, line.strong = m.group(4).strip(), m.group(3) is not None
            else:  # Otter's "Label  0:03" heading the paragraph below
                line.rest = ""
            return line
    m = _BRACKET_LABEL.match(text)
    if m:
        if is_label(m.group(1)):
            line.label, line.rest = _clean_label(m.group(1)), m.group(3).strip()
            # "[Label]:" is a speaker; "[laughs]" may be a note even after a time.
            line.strong = m.group(2) is not None
            line.bracketed = m.group(2) is None
        return line
    m = _COLON_LABEL.match(text)
    if m and is_label(m.group(1)):
        line.label, line.rest = _clean_label(m.group(1)), m.group(2).strip()
        line.strong = line.time_ms is not None
    return line


def _is_heading(line: _Line) -> bool:
    """Otter's "Label  0:03" line, which heads the paragraph below it."""
    return line.time_from_label and not line.strong and not line.rest


def _accepted_labels(lines: Sequence[_Line]) -> set[int]:
    """Indexes of the lines whose label is taken as a speaker (the rule above)."""
    counts = Counter(line.label for line in lines if line.label)
    headings = sum(1 for line in lines if _is_heading(line))
    accepted = set()
    for i, line in enumerate(lines):
        label = line.label
        if not label:
            continue
        folded = label.casefold()
        if line.strong or line.forced or _known_label(label) or (
            headings >= 2 and _is_heading(line)
        ) or (
            counts[label] >= 2 and folded not in _NOT_SPEAKERS
            and not (line.bracketed and folded in _ANNOTATIONS)
        ):
            accepted.add(i)
    return accepted


@dataclass(slots=True)
class _Builder:
    number: int
    start_ms: int | None
    speaker: str
    parts: list[str] = field(default_factory=list)
    end_ms: int | None = None


def _build_turns(lines: Sequence[_Line], unit: str = "line") -> tuple[list[Turn], list[str]]:
    """Turns from scanned lines; `unit` names what a _Line.number counts, for warnings."""
    accepted = _accepted_labels(lines)
    marked = any(
        (line.time_ms is not None and not line.time_from_label) or i in accepted
        for i, line in enumerate(lines)
    )
    texts = [i for i, line in enumerate(lines) if not line.blank]
    has_breaks = bool(texts) and any(
        line.blank for line in lines[texts[0]:texts[-1]]
    )
    one_per_line = not marked and not has_breaks

    turns: list[Turn] = []
    warnings: list[str] = []
    current: _Builder | None = None
    pending: int | None = None
    after_break = True

    def flush() -> None:
        nonlocal current
        if current is None:
            return
        if current.parts:
            turns.append(Turn(current.start_ms, current.end_ms, current.speaker,
                              " ".join(current.parts)))
        elif current.speaker:
            warnings.append(
                f"{unit} {current.number}: \u201c{current.speaker}\u201d has no text after it, "
                "so it was left out."
            )
        current = None

    for i, line in enumerate(lines):
        if line.blank:
            after_break = True
            continue
        label = line.label if i in accepted else None
        if label is None and line.time_from_label:
            time, content = None, line.plain  # "Lunch 12:30" is text, not a speaker
        else:
            time, content = line.time_ms, (line.rest if label is not None else line.plain)
        if time is not None and label is None and not content:
            pending = time  # a time alone on its line: it starts the next turn
            after_break = True
            continue
        is_marked = time is not None or label is not None
        if pending is not None:
            time = pending if time is None else time
            is_marked = True
            pending = None
        if current is not None and not current.parts and not is_marked and not line.forced:
            new_turn = False  # "Interviewer:" alone on a line heads the paragraph below
        else:
            new_turn = is_marked or after_break or one_per_line or current is None or line.forced
        if new_turn:
            flush()
            current = _Builder(line.number, time, label or "")
        assert current is not None
        if content:
            current.parts.append(content)
        if line.end_ms is not None:
            current.end_ms = line.end_ms
        after_break = line.forced
    flush()
    return turns, warnings


def parse_txt(text: str) -> ParsedTranscript:
    """Turns of a plain-text transcript (speaker and time rules in the module docstring)."""
    text = text.removeprefix("\ufeff")
    lines = [_scan(n, raw) for n, raw in enumerate(_split_lines(text), start=1)]
    turns, warnings = _build_turns(lines)
    if not turns:
        raise TranscriptError("there is no transcript text in it.")
    return ParsedTranscript(tuple(turns), "txt", tuple(warnings))


def format_txt(turns: Sequence[Turn]) -> str:
    """One paragraph per turn, "[hh:mm:ss] Speaker: text", the form MAXQDA and ATLAS.ti
    import. Times are whole seconds (the fraction is dropped); a turn without a time or
    speaker leaves that part out. Blank lines separate turns, so a turn without either
    still reads back as a turn of its own. parse_txt reads it back exactly when every turn
    has a time (a label after a time is always a speaker) and no text starts like one."""
    paragraphs = []
    for t in turns:
        text = " ".join(part.strip() for part in _split_lines(t.text) if part.strip())
        if not text:
            continue
        stamp = "" if t.start_ms is None else f"[{_clock_text(t.start_ms, '.')[:-4]}] "
        who = f"{t.speaker}: " if t.speaker else ""
        paragraphs.append(f"{stamp}{who}{text}")
    return "\n\n".join(paragraphs) + "\n" if paragraphs else ""


# --- Word ------------------------------------------------------------------------------------

_HEADER_CELLS = frozenset({
    "time", "timestamp", "timecode", "time code", "start", "start time", "in", "tc",
    "speaker", "name", "who", "text", "transcript", "transcription", "utterance", "content",
    "speech", "dialogue", "what was said",
})


def _table_lines(rows: Sequence[Sequence[str]], number: int) -> list[_Line] | None:
    """The rows of a (time, speaker, text), (speaker, time, text), (speaker, text) or
    (time, text) table as turns; None if the table does not look like a transcript."""
    data = [r for r in rows if any(r) and not all(c.casefold() in _HEADER_CELLS
                                                  for c in r if c)]
    if not data:
        return None
    parsed: list[tuple[int | None, str, str]] = []
    for cells in data:
        row = list(cells)
        while len(row) > 2 and not row[-1]:
            row.pop()
        got: tuple[int | None, str, str] | None = None
        if len(row) >= 3:
            c0, c1, rest = row[0], row[1].rstrip(":").strip(), " ".join(c for c in row[2:] if c)
            if (t := _cell_clock_ms(c0)) is not None and (not c1 or is_label(c1)):
                got = (t, c1, rest)
            elif is_label(c0.rstrip(":")) and (t := _cell_clock_ms(c1)) is not None:
                got = (t, c0.rstrip(":").strip(), rest)
        elif len(row) == 2:
            c0, c1 = row[0].rstrip(":").strip(), row[1]
            if (t := _cell_clock_ms(c0)) is not None:
                got = (t, "", c1)
            elif not c0 or is_label(c0):
                got = (None, c0, c1)
        if got is None:
            return None
        parsed.append(got)
    speakers = [s for _, s, _ in parsed if s]
    timed = any(t is not None for t, _, _ in parsed)
    counts = Counter(speakers)
    if not timed and not any(_known_label(s) or counts[s] >= 2 for s in speakers):
        return None  # two columns of "Label | value": a details table, not a dialogue
    lines = []
    for t, speaker, text in parsed:
        text = " ".join(text.split())
        if text:
            lines.append(_Line(number, time_ms=t, label=_clean_label(speaker) or None,
                               rest=text, plain=text, forced=True))
    return lines


def parse_docx(path: Path) -> ParsedTranscript:
    """Turns of a Word transcript: paragraphs follow the plain-text rules, and tables of
    (time, speaker, text) or (speaker, text) rows are read in document order."""
    path = Path(path)
    q = _quoted(path)
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise TranscriptError(f"{q} cannot be read: {e.strerror or e}.") from e
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        if head == _OLE_MAGIC:
            raise TranscriptError(
                f"{q} is an old-style Word (.doc) or password-protected file. Open it in Word "
                "or LibreOffice, remove any password and save it as .docx, then import that."
            ) from e
        raise TranscriptError(
            f"{q} is not a Word (.docx) document: it is damaged or another kind of file "
            "with a .docx name."
        ) from e
    with archive:
        names = set(archive.namelist())
        if "word/document.xml" not in names:
            raise TranscriptError(
                f"{q} is a zip archive but not a Word document (it has no word/document.xml)."
            )
        if sum(i.file_size for i in archive.infolist()) > _MAX_DOCX_UNPACKED:
            raise TranscriptError(f"{q} unpacks to more than {_MAX_DOCX_UNPACKED >> 20} MB; "
                                  "it is too large (or malformed) to be a transcript.")
    try:
        lines, warnings = _docx_lines(path)
    except TranscriptError:
        raise
    except (KeyError, ValueError, zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError,
            EOFError, AttributeError) as e:  # python-docx on missing parts and unexpected XML
        raise TranscriptError(f"{q} is a damaged Word document and cannot be read.") from e
    except Exception as e:  # lxml and python-docx raise their own error types
        if type(e).__module__.split(".")[0] not in ("lxml", "docx"):
            raise
        raise TranscriptError(f"{q} is a damaged Word document and cannot be read.") from e
    turns, more = _build_turns(lines, "paragraph")
    if not turns:
        raise TranscriptError(f"{q} has no transcript text in it.")
    return ParsedTranscript(tuple(turns), "docx", tuple(warnings + more))


def _docx_lines(path: Path) -> tuple[list[_Line], list[str]]:
    import docx  # python-docx: loaded only when a Word file is read
    from docx.table import Table

    document = docx.Document(str(path))
    lines: list[_Line] = []
    warnings: list[str] = []
    paragraph_no = 0
    table_no = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            table_no += 1
            rows = []
            for row in block.rows:
                cells: list[str] = []
                seen: list[object] = []
                for cell in row.cells:
                    if any(cell._tc is tc for tc in seen):
                        continue  # a merged cell repeats in every column it spans
                    seen.append(cell._tc)
                    cells.append(" ".join(cell.text.split()))
                rows.append(cells)
            table_lines = _table_lines(rows, paragraph_no + 1)
            if table_lines is None:
                if any(any(r) for r in rows):
                    warnings.append(f"Table {table_no} was left out: it does not look like a "
                                    "transcript (time, speaker and text columns).")
                continue
            lines.extend(table_lines)
            lines.append(_Line(paragraph_no + 1, blank=True))
            continue
        paragraph_no += 1
        for raw in _split_lines(block.text):
            lines.append(_scan(paragraph_no, raw))
        lines.append(_Line(paragraph_no, blank=True))
    return lines, warnings


# --- subtitles ---------------------------------------------------------------------------------

_SRT_T = r"(\d{1,6}):([0-5]\d):([0-5]\d)[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"^{_SRT_T}[ \t]*-->[ \t]*{_SRT_T}(?:[ \t]+.*)?$")
_VTT_T = r"(?:(\d{1,6}):)?([0-5]\d):([0-5]\d)[.,](\d{1,3})"
_VTT_TIMING = re.compile(rf"^{_VTT_T}[ \t]*-->[ \t]*{_VTT_T}(?:[ \t]+.*)?$")
# Tags never contain "<" (nor ASS codes "{"), which keeps these linear on hostile input.
_SRT_TAG = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^<>]*)?>|\{\\[^{}]*\}", re.IGNORECASE)
_VTT_TAG = re.compile(r"<[^<>]*>")
_VTT_VOICE = re.compile(r"<v(?:\.[^\s<>]*)?(?:[ \t]+([^<>]*))?>")
_SUB_PREFIX = re.compile(r"^([^:\n]{1,40}?)[ \t]*:(?:[ \t]+|$)(.*)$", re.S)


@dataclass(frozen=True, slots=True)
class _Cue:
    number: int  # line of the cue's timing
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


def _timing(match: re.Match[str]) -> tuple[int, int]:
    g = match.groups()
    return _ms(*g[0:4]), _ms(*g[4:8])


def _is_block(line: str, word: str) -> bool:
    return line == word or line.startswith((word + " ", word + "\t"))


def _read_cues(text: str, *, vtt: bool) -> tuple[list[_Cue], list[str]]:
    """Cues in file order. Strict: every block must be a cue (or, in WebVTT, a NOTE, STYLE
    or REGION block), so a file that is not subtitles fails on its first line."""
    timing_re = _VTT_TIMING if vtt else _SRT_TIMING
    example = "00:01:02.500 --> 00:01:04.000" if vtt else "00:01:02,500 --> 00:01:04,000"
    lines = _split_lines(text.removeprefix("\ufeff"))
    warnings: list[str] = []
    i, n = 0, len(lines)
    if vtt:
        first = lines[0].strip() if lines else ""
        if first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t")):
            while i < n and lines[i].strip():
                i += 1  # the header block: WEBVTT and any metadata lines under it
        else:
            warnings.append("The file does not start with the WEBVTT header; it was read as "
                            "WebVTT anyway.")
    cues: list[_Cue] = []
    while i < n:
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if vtt and "-->" not in line and any(_is_block(line, w) for w in
                                             ("NOTE", "STYLE", "REGION")):
            while i < n and lines[i].strip():
                i += 1
            continue
        if "-->" not in line:
            if not vtt and not line.isdigit():
                raise TranscriptError(
                    f"line {i + 1}: expected a subtitle number or timing line, found "
                    f"{_short(line)}.", line=i + 1)
            i += 1
            if i >= n or not lines[i].strip():
                raise TranscriptError(
                    f"line {i}: {_short(line)} is not followed by a timing line such as "
                    f"\u201c{example}\u201d.", line=i)
            line = lines[i].strip()
        m = timing_re.match(line)
        if not m:
            raise TranscriptError(
                f"line {i + 1}: {_short(line)} is not a valid timing line; expected "
                f"something like \u201c{example}\u201d.", line=i + 1)
        start, end = _timing(m)
        if end < start:
            raise TranscriptError(f"line {i + 1}: the cue ends before it starts.", line=i + 1)
        timing_line = i + 1
        i += 1
        body: list[str] = []
        while i < n and lines[i].strip():
            if "-->" in lines[i]:
                if timing_re.match(lines[i].strip()):
                    # No blank line before the next cue: a common slip, read on.
                    if body and body[-1].strip().isdigit():
                        body.pop()
                    break
                raise TranscriptError(
                    f"line {i + 1}: {_short(lines[i])} looks like a timing line but is not "
                    f"valid; expected something like \u201c{example}\u201d.", line=i + 1)
            body.append(lines[i].strip())
            i += 1
        cues.append(_Cue(timing_line, start, end, tuple(body)))
    return cues, warnings


# A numeric character reference too long to be a character (the largest, 1114111, has 7
# digits): html.unescape would hand its digits to int(), which refuses over 4,300 of them.
_LONG_REFERENCE = re.compile(r"&#(?:0*+[0-9]{8,}|[xX]0*+[0-9a-fA-F]{7,});?")


def _unescape(text: str) -> str:
    """html.unescape, with references no character has read as U+FFFD, as it does."""
    return html.unescape(_LONG_REFERENCE.sub("\ufffd", text))


def _prefix(raw: str) -> tuple[str, str]:
    """(speaker, rest) of still-escaped cue text with a "Speaker: text" prefix."""
    m = _SUB_PREFIX.match(raw)
    if m and is_label(m.group(1)):
        return _clean_label(_unescape(m.group(1))), m.group(2)
    return "", raw


def _subtitles(cues: Iterable[_Cue], fmt: str, warnings: list[str],
               to_turns: Callable[[_Cue], list[Turn]]) -> ParsedTranscript:
    turns: list[Turn] = []
    empty = 0
    for cue in cues:
        got = to_turns(cue)
        empty += not got
        turns.extend(got)
    if empty:
        warnings.append(f"{empty} cue(s) without text were left out.")
    if not turns:
        raise TranscriptError("there are no subtitles with text in it.")
    return ParsedTranscript(tuple(turns), fmt, tuple(warnings))


def _srt_turns(cue: _Cue) -> list[Turn]:
    raw = " ".join(s for s in (_SRT_TAG.sub("", line).strip() for line in cue.lines) if s)
    speaker, body = _prefix(raw)
    text = _unescape(body).strip()
    return [Turn(cue.start_ms, cue.end_ms, speaker, text)] if text else []


def _vtt_turns(cue: _Cue) -> list[Turn]:
    parts: list[tuple[str | None, list[str]]] = []
    for line in cue.lines:
        m = _VTT_VOICE.search(line)
        voice = _clean_label(_unescape(m.group(1) or "")) if m else None
        stripped = _VTT_TAG.sub("", line).strip()
        if not parts or (voice is not None and voice != parts[-1][0]):
            parts.append((voice, []))
        if stripped:
            parts[-1][1].append(stripped)
    turns = []
    for voice, lines in parts:
        raw = " ".join(lines)
        speaker, body = (voice, raw) if voice else _prefix(raw)
        text = _unescape(body).strip()
        if text:
            turns.append(Turn(cue.start_ms, cue.end_ms, speaker, text))
    return turns


def parse_srt(text: str) -> ParsedTranscript:
    """Cues of a SubRip file; formatting tags are dropped and entities decoded."""
    cues, warnings = _read_cues(text, vtt=False)
    return _subtitles(cues, "srt", warnings, _srt_turns)


def parse_vtt(text: str) -> ParsedTranscript:
    """Cues of a WebVTT file: voice tags give speakers, other tags are dropped."""
    cues, warnings = _read_cues(text, vtt=True)
    return _subtitles(cues, "vtt", warnings, _vtt_turns)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _guard_prefix(escaped: str) -> str:
    """Unlabelled text that starts like "Word: ..." would read back as a speaker: write its
    colon as a character reference, which both readers decode."""
    m = _SUB_PREFIX.match(escaped)
    if m and is_label(m.group(1)):
        colon = escaped.index(":", m.end(1))
        return f"{escaped[:colon]}&#58;{escaped[colon + 1:]}"
    return escaped


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in _split_lines(text) if part.strip())


def _timed(turns: Sequence[Turn]) -> tuple[Turn, ...]:
    return fill_times(turns) if any(t.start_ms is None or t.end_ms is None
                                    for t in turns) else tuple(turns)


def format_srt(turns: Sequence[Turn]) -> str:
    """SubRip cues, the speaker as a "Speaker: " prefix. Text is written as it is unless
    it would read back differently (tags, entities, "-->", a colon that looks like a
    speaker), in which case it is escaped with character references. Missing times are
    filled as fill_times does; turns without text are left out."""
    out = []
    number = 0
    for t in _timed(turns):
        text = _one_line(t.text)
        if not text:
            continue
        if "-->" in text or _unescape(_SRT_TAG.sub("", text)) != text:
            text = _escape(text).replace("{", "&#123;")
        text = f"{t.speaker}: {text}" if t.speaker else _guard_prefix(text)
        number += 1
        assert t.start_ms is not None and t.end_ms is not None
        out.append(f"{number}\n{_clock_text(t.start_ms, ',')} --> "
                   f"{_clock_text(t.end_ms, ',')}\n{text}\n")
    return "\n".join(out)


def format_vtt(turns: Sequence[Turn]) -> str:
    """WebVTT cues, the speaker as a <v Speaker> voice tag, text escaped as the format
    requires. Missing times are filled as fill_times does; turns without text are left
    out."""
    out = ["WEBVTT\n"]
    number = 0
    for t in _timed(turns):
        text = _one_line(t.text)
        if not text:
            continue
        text = _escape(text)
        if t.speaker:
            text = f"<v {_escape(_clean_label(t.speaker))}>{text}</v>"
        else:
            text = _guard_prefix(text)
        number += 1
        assert t.start_ms is not None and t.end_ms is not None
        out.append(f"{number}\n{_clock_text(t.start_ms, '.')} --> "
                   f"{_clock_text(t.end_ms, '.')}\n{text}\n")
    return "\n".join(out)


# --- times -----------------------------------------------------------------------------------


def fill_times(turns: Sequence[Turn], *, duration_ms: int | None = None) -> tuple[Turn, ...]:
    """Every turn with a start and end, for stores and subtitle files that need them.

    No times at all: 0/0 for every turn (the text still imports; times come later). Some
    times: a missing start is the previous turn's end (or start), a missing end the next
    turn's start; the last turn ends at `duration_ms` if that is later, else where it
    starts. An end is never before its start."""
    if not any(t.start_ms is not None or t.end_ms is not None for t in turns):
        return tuple(replace(t, start_ms=0, end_ms=0) for t in turns)
    starts: list[int] = []
    previous = 0
    for t in turns:
        start = t.start_ms if t.start_ms is not None else previous
        if t.start_ms is None and t.end_ms is not None:
            start = min(start, t.end_ms)
        starts.append(start)
        previous = t.end_ms if t.end_ms is not None else start
    filled = []
    for i, t in enumerate(turns):
        if t.end_ms is not None:
            end = t.end_ms
        elif i + 1 < len(turns):
            end = starts[i + 1]
        else:
            end = duration_ms if duration_ms else starts[i]
        filled.append(replace(t, start_ms=starts[i], end_ms=max(end, starts[i])))
    return tuple(filled)


# --- files -----------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, list[str]]:
    """Text of a file in UTF-8 (with or without BOM), UTF-16/32 (BOM, or plainly UTF-16
    without one) or, failing those, Windows-1252. Binary data raises TranscriptError."""
    not_text = TranscriptError(
        "it is not a text file (it holds binary data), so it cannot be a transcript.")
    warnings: list[str] = []
    text: str | None = None
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                       (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as e:
                raise TranscriptError(
                    f"it starts as {codec.upper().removesuffix('-SIG')} text but is not valid "
                    "in that encoding; it may be damaged.") from e
            break
    if text is None and b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise not_text
    if text is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as e:
                raise not_text from e
            warnings.append("The file is not UTF-8; it was read as Windows-1252 (Western "
                            "European). Check accented letters.")
    if "\x00" in text or len(_CONTROL.findall(text)) > len(text) * _MAX_CONTROL_SHARE:
        raise not_text
    return text.removeprefix("\ufeff"), warnings


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text saved without a BOM shows NUL in every other byte of ASCII letters."""
    if len(data) % 2 or len(data) < 4:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    codec = "utf-16-le" if odd > 0.4 * half and even < 0.05 * half else (
        "utf-16-be" if even > 0.4 * half and odd < 0.05 * half else None)
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _sniff(text: str, suffix: str) -> str:
    """The format a text file really holds: subtitles are sometimes saved as .txt, and
    WebVTT as .srt."""
    head = [line.strip() for line in _split_lines(text.removeprefix("\ufeff"))[:3]]
    if head and (head[0] == "WEBVTT" or head[0].startswith(("WEBVTT ", "WEBVTT\t"))):
        return ".vtt"
    if suffix == ".txt":
        candidates = head[1:2] if head and head[0].isdigit() else head[:1]
        if any(_SRT_TIMING.match(c) for c in candidates):
            return ".srt"
    return suffix


_PARSERS: dict[str, Callable[[str], ParsedTranscript]] = {
    ".txt": parse_txt, ".srt": parse_srt, ".vtt": parse_vtt,
}
_NAMES = {".txt": "plain text", ".srt": "SubRip (.srt)", ".vtt": "WebVTT (.vtt)"}


def read_transcript(path: Path) -> ParsedTranscript:
    """The turns of a .txt, .docx, .srt or .vtt file, chosen by its suffix. Anything else,
    and any file that does not parse, raises TranscriptError naming the file."""
    path = Path(path)
    q = _quoted(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        hint = (" Save it from Word as .docx first." if suffix in (".doc", ".rtf", ".odt")
                else "")
        raise TranscriptError(
            f"{q} is not a transcript file Verbatim reads: use .txt, .docx, .srt or .vtt."
            + hint)
    try:
        if not path.exists():
            raise TranscriptError(f"{q} cannot be found at {path.parent}.")
        if path.is_dir():
            raise TranscriptError(f"{q} is a folder, not a transcript file.")
        size = path.stat().st_size
        if size == 0:
            raise TranscriptError(f"{q} is empty (0 bytes); there is no transcript in it.")
        if suffix == ".docx":
            return parse_docx(path)
        if size > _MAX_TEXT_BYTES:
            raise TranscriptError(f"{q} is {size >> 20} MB, too large to be a transcript.")
        data = path.read_bytes()
    except PermissionError as e:
        raise TranscriptError(f"{q} cannot be read: permission denied.") from e
    except OSError as e:
        raise TranscriptError(f"{q} cannot be read: {e.strerror or e}.") from e
    try:
        text, warnings = _decode(data)
        if not text.strip():
            raise TranscriptError("it has only blank space in it; there is no transcript.")
        actual = _sniff(text, suffix)
        if actual != suffix:
            warnings.append(f"The file holds {_NAMES[actual]} text; it was read as such.")
        parsed = _PARSERS[actual](text)
    except TranscriptError as e:
        raise TranscriptError(f"{q} could not be imported: {e}", line=e.line) from e
    return replace(parsed, warnings=tuple(warnings) + parsed.warnings)


__all__ = [
    "SUFFIXES",
    "ParsedTranscript",
    "TranscriptError",
    "Turn",
    "fill_times",
    "format_srt",
    "format_txt",
    "format_vtt",
    "is_label",
    "parse_docx",
    "parse_srt",
    "parse_txt",
    "parse_vtt",
    "read_transcript",
]
