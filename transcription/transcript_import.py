"""Import a transcript made elsewhere as an interview's segments and speakers.

The file is read and checked before anything is written, and everything the import
writes happens in one transaction, so a bad file, or a failure half-way, leaves the
study exactly as it was.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from study.errors import StudyError
from study.folder import Study
from study.model import Interview, InterviewStatus, Segment, Speaker, SpeakerRole
from transcription.transcript_formats import fill_times, read_transcript

# Labels transcribers use for the researcher asking the questions.
_INTERVIEWER = re.compile(r"^(?:interviewer|int|iv|i|moderator|facilitator)(?:\s*\d{1,3})?$",
                          re.IGNORECASE)
# Generic labels for the one person interviewed, when the interview names its participant.
_INTERVIEWEE = re.compile(r"^(?:interviewee|participant|respondent|r|p)$", re.IGNORECASE)


def speaker_role(label: str, participant_code: str | None = None) -> SpeakerRole:
    """What a transcript's speaker label says about who is talking. Interviewer speech is
    left out of group comparisons, so getting this right at import saves a manual pass."""
    label = " ".join(label.split())
    if _INTERVIEWER.match(label):
        return SpeakerRole.INTERVIEWER
    if participant_code and (label.casefold() == participant_code.strip().casefold()
                             or _INTERVIEWEE.match(label)):
        return SpeakerRole.PARTICIPANT
    return SpeakerRole.OTHER


def import_transcript(study: Study, path: Path, *, interview_id: int | None = None,
                      title: str | None = None,
                      participant_id: int | None = None) -> tuple[int, int]:
    """Read a .txt, .docx, .srt or .vtt transcript into a new interview (titled after the
    file unless `title` is given), or into `interview_id` if that has no transcript yet.
    Returns (interview id, number of segments). Raises TranscriptError for a file that
    cannot be read and StudyError for an interview that already has segments; either
    way nothing is written."""
    path = Path(path)
    parsed = read_transcript(path)
    store = study.store
    existing = store.interview(interview_id) if interview_id is not None else None
    if interview_id is not None and existing is not None and store.segment_count(interview_id):
        raise StudyError(
            f"\u201c{existing.title}\u201d already has a transcript; delete its segments or "
            "import into a new interview."
        )
    pid = participant_id if participant_id is not None else (
        existing.participant_id if existing is not None else None)
    code = store.participant(pid).code if pid is not None else None
    duration = existing.duration_ms if existing is not None else None
    turns = fill_times(parsed.turns, duration_ms=duration or None)
    labels = list(dict.fromkeys(" ".join(t.speaker.split()) for t in turns if t.speaker.strip()))

    with store.write():
        if existing is None:
            new_id = store.add_interview(Interview(
                title=title or path.stem, participant_id=pid,
                status=InterviewStatus.TRANSCRIBED,
            )).new_id("interview")
        else:
            assert existing.id is not None
            new_id = existing.id
            updated = replace(
                existing, title=title or existing.title, participant_id=pid,
                status=(InterviewStatus.TRANSCRIBED
                        if existing.status is InterviewStatus.RECORDED else existing.status),
            )
            if updated != existing:
                store.update_interview(updated)
        speaker_ids = {s.label: s.id for s in store.speakers(new_id)}
        for label in labels:
            if label not in speaker_ids:
                role = speaker_role(label, code)
                speaker_ids[label] = store.add_speaker(Speaker(
                    new_id, label, role, pid if role is SpeakerRole.PARTICIPANT else None,
                )).new_id("speaker")
        first = store.next_segment_position(new_id)
        store.add_segments(
            Segment(
                interview_id=new_id, position=first + n, start_ms=t.start_ms or 0,
                end_ms=t.end_ms or 0, text=t.text,
                speaker_id=speaker_ids.get(" ".join(t.speaker.split())),
            )
            for n, t in enumerate(turns)
        )
        store.audit("transcript imported", interview=new_id, name=path.name,
                    format=parsed.format, segments=len(turns), speakers=len(labels))
    return new_id, len(turns)


__all__ = ["import_transcript", "speaker_role"]
