"""Build the demo study from its sources in resources/demo/.

The sources are plain files a person can read and edit (demo.json and one
`[hh:mm:ss.mmm] Speaker: text` transcript per participant), so the demo never goes
stale against the schema: it is rebuilt through the same store methods the app uses.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from study.folder import Study, create_study
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
    ThemeStatus,
)

DEMO_SOURCES = Path(__file__).resolve().parent.parent / "resources" / "demo"
INTERVIEWER = "Interviewer"
LINE = re.compile(r"^\[(\d+):(\d\d):(\d\d)(?:\.(\d{1,3}))?\]\s*([^:]+?):\s*(.+)$")
TAIL_MS = 4000  # a turn with no successor is given this long


@dataclass(frozen=True, slots=True)
class Turn:
    start_ms: int
    speaker: str
    text: str


def parse_turns(text: str) -> list[Turn]:
    """Read `[hh:mm:ss.mmm] Speaker: text` lines; blank lines are skipped."""
    turns = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = LINE.match(line.strip())
        if not m:
            raise ValueError(f"line {number} is not '[hh:mm:ss.mmm] Speaker: text': {line!r}")
        h, mnt, s, frac, speaker, said = m.groups()
        ms = ((int(h) * 60 + int(mnt)) * 60 + int(s)) * 1000 + int((frac or "0").ljust(3, "0"))
        turns.append(Turn(ms, speaker.strip(), said.strip()))
    return turns


def audio_duration_ms(path: Path) -> int:
    """Duration from the container's header; decoding is the transcription layer's job."""
    # Imported lazily: PyAV is heavy and only the demo builder needs it in this layer.
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.duration is not None and stream.time_base is not None:
            return int(stream.duration * stream.time_base * 1000)
        return int((container.duration or 0) / 1000)


def build_demo_study(target: Path, sources: Path = DEMO_SOURCES) -> Study:
    """Create a fresh copy of the demo study at `target` and return it open."""
    spec = json.loads((sources / "demo.json").read_text(encoding="utf-8"))
    study = create_study(target, name=spec["study"]["name"])
    try:
        _fill(study, spec, sources)
    except BaseException:
        study.close()
        raise
    return study


def _fill(study: Study, spec: dict[str, Any], sources: Path) -> None:
    store = study.store
    with store.write():
        store.update_study_info(spec["study"]["name"], spec["study"].get("description", ""))
        for n, a in enumerate(spec.get("attributes", []), 1):
            store.add_attribute_def(AttributeDef(
                a["name"], AttributeType(a["type"]), tuple(a.get("choices", ())), n))
        segment_ids: dict[str, list[tuple[int, str, str]]] = {}
        interview_ids: dict[str, int] = {}
        for p in spec["participants"]:
            pid = store.add_participant(Participant(
                p["code"], p["group"], tuple(p.get("attributes", {}).items()),
            )).new_id("participant")
            iid, rows = _add_interview(study, pid, p["code"], p["interview"], sources)
            interview_ids[p["code"]] = iid
            segment_ids[p["code"]] = rows
        code_ids = _add_codes(study, spec.get("codes", []), None)
        for position, t in enumerate(spec.get("themes", []), 1):
            store.add_theme(Theme(
                t["name"], t.get("definition", ""), ThemeStatus(t.get("status", "candidate")),
                tuple(code_ids[name] for name in t.get("codes", [])), position))
        for c in spec.get("codings", []):
            seg_id, start, end = _locate(segment_ids[c["participant"]], c["quote"],
                                         c["participant"])
            store.add_coding(Coding(code_ids[c["code"]], interview_ids[c["participant"]],
                                    seg_id, start, seg_id, end))
        for m in spec.get("memos", []):
            target = MemoTarget(m["on"])
            target_id = (code_ids[m["code"]] if target is MemoTarget.CODE
                         else interview_ids[m["participant"]] if target is MemoTarget.INTERVIEW
                         else None)
            store.add_memo(Memo(target, m["text"], target_id))
        start = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
        for n, j in enumerate(spec.get("journal", [])):
            store.add_journal_entry(JournalEntry(
                j["text"], AnalysisPhase(j["phase"]), start + dt.timedelta(days=3 * n)))


def _add_interview(study: Study, participant_id: int, code: str, spec: dict[str, Any],
                   sources: Path) -> tuple[int, list[tuple[int, str, str]]]:
    store = study.store
    turns = parse_turns((sources / spec["transcript"]).read_text(encoding="utf-8"))
    media_id = None
    duration = turns[-1].start_ms + TAIL_MS if turns else 0
    if spec.get("audio"):
        audio = sources / spec["audio"]
        sha, filename = study.import_media_file(audio)
        duration = audio_duration_ms(audio)
        media_id = store.add_media(Media(sha, filename, audio.name, duration)).new_id("media")
    date = dt.date.fromisoformat(spec["date"]) if spec.get("date") else None
    iid = store.add_interview(Interview(
        spec.get("title", f"Interview with {code}"), participant_id, date, media_id, duration,
        InterviewStatus(spec.get("status", "transcribed")),
    )).new_id("interview")
    speakers = {}
    for label in dict.fromkeys(t.speaker for t in turns):
        role = SpeakerRole.INTERVIEWER if label == INTERVIEWER else (
            SpeakerRole.PARTICIPANT if label == code else SpeakerRole.OTHER)
        speakers[label] = store.add_speaker(Speaker(
            iid, label, role, participant_id if role is SpeakerRole.PARTICIPANT else None,
        )).new_id("speaker")
    segments = []
    for n, turn in enumerate(turns):
        end = turns[n + 1].start_ms if n + 1 < len(turns) else max(duration, turn.start_ms)
        segments.append(Segment(iid, n, turn.start_ms, end, turn.text, speakers[turn.speaker]))
    ids = store.add_segments(segments).ids("segment")
    return iid, [(id_, t.speaker, t.text) for id_, t in zip(ids, turns, strict=True)]


def _add_codes(study: Study, specs: list[dict[str, Any]], parent: int | None) -> dict[str, int]:
    ids: dict[str, int] = {}
    for position, c in enumerate(specs, 1):
        cid = study.store.add_code(Code(
            c["name"], parent, c.get("definition", ""), c.get("colour", "#4e79a7"), position,
        )).new_id("code")
        ids[c["name"]] = cid
        ids.update(_add_codes(study, c.get("children", []), cid))
    return ids


def _locate(rows: list[tuple[int, str, str]], quote: str, code: str) -> tuple[int, int, int]:
    hits = [(seg, text.index(quote)) for seg, _, text in rows if quote in text]
    if len(hits) != 1:
        raise ValueError(f"demo coding quote found {len(hits)} times in {code}: {quote!r}")
    seg, start = hits[0]
    return seg, start, start + len(quote)
