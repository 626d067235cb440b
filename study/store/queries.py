"""Read-only queries for comparing groups: coded text cut at segment boundaries, and
participant attributes as group labels.

Comparison counts by participant, and a participant is known by what they said: a coding
that runs from the interviewer's question into the answer belongs, for counting, only
to the answer. So a coding is returned here as one portion per segment it covers, with
that segment's speaker; analysis/compare.py applies the speaker rule.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass

from study.errors import ValidationError
from study.model import AttributeType, InterviewStatus, SpeakerRole
from study.store.core import StoreCore
from study.store.participants import decode_value

NOT_SET = "(not set)"

_ROLES = {r.value: r for r in SpeakerRole}

# The part of segment s that coding c covers, as 0-based [start, end) character offsets.
_START = "(CASE WHEN s.id = c.start_segment_id THEN c.start_offset ELSE 0 END)"
_END = "(CASE WHEN s.id = c.end_segment_id THEN c.end_offset ELSE length(s.text) END)"
_CUT = f"substr(s.text, {_START} + 1, max(0, {_END} - {_START}))"


@dataclass(frozen=True, slots=True)
class CodedPortion:
    """The part of one coding that lies in one segment, with who spoke it.

    start and end are character offsets in the segment's text (end exclusive); words
    counts the words in that part (a word cut by the coding's edge counts). speaker_role
    and speaker_participant_id are None when the segment has no speaker. speaker_label
    and text are filled only when asked for (with_text), since the matrix needs neither.
    """

    coding_id: int
    code_id: int
    interview_id: int
    interview_participant_id: int | None
    segment_id: int
    speaker_role: SpeakerRole | None
    speaker_participant_id: int | None
    start_ms: int
    words: int
    position: int
    start: int
    end: int
    speaker_label: str = ""
    text: str = ""


def _json_ids(values: Collection[int | str]) -> str:
    return json.dumps(sorted(values))


def format_value(kind: AttributeType, stored: str) -> str:
    """A stored attribute value as a group label: 12 not 12.0, yes/no, ISO dates."""
    value = decode_value(kind, stored)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class QueriesMixin(StoreCore):
    def coded_portions(self, *, statuses: Collection[InterviewStatus] | None = None,
                       code_ids: Collection[int] | None = None,
                       with_text: bool = False) -> list[CodedPortion]:
        """Every coding cut into the segments it covers, in one query: for interviews
        whose status is in `statuses` (all when None), of the codes in `code_ids` (all
        when None), in no set order (sort them where order matters).

        The segments of a coding are found as the range of positions between its start
        and end segments (the segments(interview_id, position) index), so the cost grows
        with the codings, not with the transcripts.
        """
        where: list[str] = []
        params: list[str] = []
        if statuses is not None:
            where.append("i.status IN (SELECT value FROM json_each(?))")
            params.append(_json_ids({InterviewStatus(s).value for s in statuses}))
        if code_ids is not None:
            where.append("c.code_id IN (SELECT value FROM json_each(?))")
            params.append(_json_ids({int(i) for i in code_ids}))
        columns = f"""c.id, c.code_id, c.interview_id, i.participant_id, s.id, sp.role,
            sp.participant_id, s.start_ms, word_count({_CUT}), s.position, {_START},
            max({_START}, {_END})""" + (f", coalesce(sp.label, ''), {_CUT}" if with_text else "")
        filters = "".join(f" AND {w}" for w in where)
        # Most codings lie in one segment: those skip the range join (a third faster).
        cursor = self.db.execute(f"""
            SELECT {columns}
            FROM codings c
            JOIN interviews i ON i.id = c.interview_id
            JOIN segments s ON s.id = c.start_segment_id
            LEFT JOIN speakers sp ON sp.id = s.speaker_id
            WHERE c.start_segment_id = c.end_segment_id{filters}
            UNION ALL
            SELECT {columns}
            FROM codings c
            JOIN interviews i ON i.id = c.interview_id
            JOIN segments s0 ON s0.id = c.start_segment_id
            JOIN segments s1 ON s1.id = c.end_segment_id
            JOIN segments s ON s.interview_id = c.interview_id
                           AND s.position BETWEEN s0.position AND s1.position
            LEFT JOIN speakers sp ON sp.id = s.speaker_id
            WHERE c.start_segment_id != c.end_segment_id{filters}""", params * 2)
        roles = _ROLES
        if with_text:
            return [CodedPortion(coding, code, interview, owner, segment, roles.get(role),
                                 speaker, start_ms, words, position, start, end, label, text)
                    for (coding, code, interview, owner, segment, role, speaker, start_ms,
                         words, position, start, end, label, text) in cursor]
        return [CodedPortion(coding, code, interview, owner, segment, roles.get(role), speaker,
                             start_ms, words, position, start, end)
                for (coding, code, interview, owner, segment, role, speaker, start_ms, words,
                     position, start, end) in cursor]

    def interviews_by_participant(self, *, statuses: Collection[InterviewStatus] | None = None
                                  ) -> dict[int, tuple[int, ...]]:
        """Participant id -> the interviews (passing the status filter) they were heard
        in: as the interviewee, or as a speaker linked to them (a joint interview)."""
        where, params = "", []
        if statuses is not None:
            where = "WHERE i.status IN (SELECT value FROM json_each(?))"
            params = [_json_ids({InterviewStatus(s).value for s in statuses})] * 2
        heard: dict[int, tuple[int, ...]] = {}
        for participant_id, interview_id in self.db.execute(f"""
                SELECT i.participant_id AS p, i.id AS i FROM interviews i {where}
                UNION
                SELECT sp.participant_id, i.id FROM speakers sp
                JOIN interviews i ON i.id = sp.interview_id {where}
                ORDER BY 1, 2""", params):
            if participant_id is not None:
                heard[participant_id] = (*heard.get(participant_id, ()), interview_id)
        return heard

    def participant_attribute_values(self, name: str) -> dict[int, str]:
        """Every participant's value of one attribute as text, "(not set)" when missing.

        "group" is the participant's group field; any other name is an attribute the
        researcher defined (its value formatted by type: 12, 2.5, yes, 2026-03-31).
        """
        if name == "group":
            return {id_: group or NOT_SET for id_, group in self.db.execute(
                "SELECT id, group_name FROM participants ORDER BY id")}
        kind = self.db.execute("SELECT type FROM attribute_defs WHERE name = ?",
                               (name,)).fetchone()
        if kind is None:
            raise ValidationError(f"There is no participant attribute called {name!r}.")
        type_ = AttributeType(kind[0])
        return {id_: NOT_SET if value is None else format_value(type_, value)
                for id_, value in self.db.execute(
                    "SELECT p.id, pa.value FROM participants p LEFT JOIN participant_attributes "
                    "pa ON pa.participant_id = p.id AND pa.name = ? ORDER BY p.id", (name,))}


__all__ = ["NOT_SET", "CodedPortion", "QueriesMixin", "format_value"]
