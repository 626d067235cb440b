"""Transcripts as text files: plain text, SubRip (.srt) and WebVTT (.vtt).

Plain text is one paragraph per segment, "[hh:mm:ss] Speaker: text", blank lines
between (the form MAXQDA and ATLAS.ti import, and Verbatim's own importer reads back);
subtitles are one cue per segment with its start and end. The text is written as the
study holds it: anonymised once anonymisation has been applied.

Every file goes through the leak check (analysis.leak_check) before anything is
written: its name and each of its lines ("line N"). A file with an original identifier
in it is refused with LeakError and nothing is written; otherwise it is written
atomically, so a half-written transcript never appears under the name.

(transcription.transcript_formats has matching writers for its own round-trip tests;
analysis may not import transcription, so the few lines are repeated here.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from analysis.exports.atomic import write_atomic
from analysis.leak_check import LeakChecker
from study.errors import StudyError, ValidationError
from study.model import Segment
from study.store import Store

FORMATS = ("txt", "srt", "vtt")
_TAG_OR_ENTITY = re.compile(r"<[^>]*>|&(?:#\d+|#x[0-9a-fA-F]+|\w+);")
# Text that starts like "Label: ..." would read back as a speaker's turn.
_LABEL_PREFIX = re.compile(r"^([A-Za-z][\w .'\-]{0,39}):")


def clock(ms: int, sep: str | None = None) -> str:
    """hh:mm:ss, with milliseconds after `sep` when given ("," for srt, "." for vtt)."""
    seconds, milli = divmod(max(0, ms), 1000)
    minutes, sec = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    text = f"{hours:02d}:{mins:02d}:{sec:02d}"
    return f"{text}{sep}{milli:03d}" if sep is not None else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _turns(store: Store, interview_id: int) -> list[tuple[Segment, str, str]]:
    """(segment, speaker label, text on one line) for every segment with text."""
    store.interview(interview_id)  # a missing interview is a NotFoundError, not empty output
    labels = {s.id: s.label for s in store.speakers(interview_id)}
    return [(seg, labels.get(seg.speaker_id, "") if seg.speaker_id is not None else "",
             _one_line(seg.text))
            for seg in store.segments(interview_id) if seg.text.strip()]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _guard_label(text: str) -> str:
    """Unlabelled text that starts like "Word: ..." gets its colon as a character
    reference, so a subtitle reader does not take the word for a speaker."""
    m = _LABEL_PREFIX.match(text)
    if m and len(m.group(1).split()) <= 4:
        return f"{text[:m.end() - 1]}&#58;{text[m.end():]}"
    return text


def transcript_txt(store: Store, interview_id: int) -> str:
    paragraphs = []
    for seg, speaker, text in _turns(store, interview_id):
        who = f"{speaker}: " if speaker else ""
        paragraphs.append(f"[{clock(seg.start_ms)}] {who}{text}")
    return "\n\n".join(paragraphs) + "\n" if paragraphs else ""


def transcript_srt(store: Store, interview_id: int) -> str:
    cues = []
    for n, (seg, speaker, text) in enumerate(_turns(store, interview_id), 1):
        if "-->" in text or _TAG_OR_ENTITY.search(text):
            text = _escape(text).replace("{", "&#123;")
        text = f"{speaker}: {text}" if speaker else _guard_label(text)
        cues.append(f"{n}\n{clock(seg.start_ms, ',')} --> {clock(seg.end_ms, ',')}\n{text}\n")
    return "\n".join(cues)


def transcript_vtt(store: Store, interview_id: int) -> str:
    cues = ["WEBVTT\n"]
    for n, (seg, speaker, text) in enumerate(_turns(store, interview_id), 1):
        text = _escape(text)
        text = f"<v {_escape(speaker)}>{text}</v>" if speaker else _guard_label(text)
        cues.append(f"{n}\n{clock(seg.start_ms, '.')} --> {clock(seg.end_ms, '.')}\n{text}\n")
    return "\n".join(cues)


RENDERERS: dict[str, Callable[[Store, int], str]] = {
    "txt": transcript_txt, "srt": transcript_srt, "vtt": transcript_vtt}


def export_transcript(store: Store, interview_id: int, path: Path, fmt: str) -> Path:
    """Write one interview's transcript as txt, srt or vtt to `path`, after the leak
    check; raises LeakError (writing nothing) if it holds an original identifier."""
    fmt = fmt.lower().lstrip(".")
    render = RENDERERS.get(fmt)
    if render is None:
        raise ValidationError(f"Transcripts export as {', '.join(FORMATS)}; not {fmt!r}.")
    path = Path(path)
    text = render(store, interview_id)
    parts = [("file name", path.name)]
    parts += [(f"line {n}", line) for n, line in enumerate(text.split("\n"), 1) if line]
    LeakChecker.for_store(store).ensure_clean(parts)
    try:
        return write_atomic(path, text)
    except OSError as e:
        raise StudyError(f"Could not write {path.name}: {e.strerror or e}.") from e


__all__ = ["FORMATS", "clock", "export_transcript", "transcript_srt", "transcript_txt",
           "transcript_vtt"]
