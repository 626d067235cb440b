"""Media, interviews, speakers and segments (the transcript)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from study.errors import ValidationError
from study.model import (
    Changes,
    Flag,
    FlagKind,
    Interview,
    InterviewStatus,
    InterviewSummary,
    Media,
    Segment,
    Speaker,
    SpeakerRole,
    Word,
)
from study.store.core import StoreCore


def _words_json(words: Sequence[Word]) -> str:
    # Compact rows, not objects: a long interview has tens of thousands of words.
    return json.dumps([[w.text, w.start_ms, w.end_ms, round(w.probability, 3)] for w in words])


def _flags_json(flags: Sequence[Flag]) -> str:
    return json.dumps([[f.kind.value, f.start_ms, f.end_ms, f.note] for f in flags])


def _segment(r: dict[str, Any]) -> Segment:
    return Segment(
        interview_id=r["interview_id"],
        position=r["position"],
        start_ms=r["start_ms"],
        end_ms=r["end_ms"],
        text=r["text"],
        speaker_id=r["speaker_id"],
        words=tuple(Word(*w) for w in json.loads(r["words"])),
        flags=tuple(Flag(FlagKind(f[0]), f[1], f[2], f[3]) for f in json.loads(r["flags"])),
        id=r["id"],
    )


def _interview(r: dict[str, Any]) -> Interview:
    return Interview(
        title=r["title"],
        participant_id=r["participant_id"],
        date=dt.date.fromisoformat(r["date"]) if r["date"] else None,
        media_id=r["media_id"],
        duration_ms=r["duration_ms"],
        status=InterviewStatus(r["status"]),
        language=r["language"],
        id=r["id"],
    )


def _interview_row(i: Interview) -> dict[str, Any]:
    if not i.title.strip():
        raise ValidationError("An interview needs a title.")
    return {
        "title": i.title.strip(),
        "participant_id": i.participant_id,
        "date": i.date.isoformat() if i.date else None,
        "media_id": i.media_id,
        "duration_ms": i.duration_ms,
        "status": i.status.value,
        "language": i.language,
    }


def _segment_row(s: Segment) -> dict[str, Any]:
    if s.end_ms < s.start_ms:
        raise ValidationError("A segment cannot end before it starts.")
    return {
        "interview_id": s.interview_id,
        "position": s.position,
        "start_ms": s.start_ms,
        "end_ms": s.end_ms,
        "speaker_id": s.speaker_id,
        "text": s.text,
        "words": _words_json(s.words),
        "flags": _flags_json(s.flags),
    }


class InterviewsMixin(StoreCore):
    # --- media -------------------------------------------------------------------------------

    def add_media(self, m: Media) -> Changes:
        """Register a file already copied into media/; the same content is stored once."""
        with self.write() as tx:
            existing = self.rows("SELECT id FROM media WHERE sha256 = ?", (m.sha256,))
            if existing:
                tx.update("media", existing[0]["id"])
            else:
                id_ = self.insert("media", {
                    "sha256": m.sha256, "filename": m.filename, "original_name": m.original_name,
                    "duration_ms": m.duration_ms, "channels": m.channels,
                    "sample_rate": m.sample_rate,
                })
                tx.add("media", id_)
                self.audit("media added", id=id_, sha256=m.sha256, name=m.original_name)
        return tx.changes()

    def media(self, media_id: int) -> Media:
        r = self.one("SELECT * FROM media WHERE id = ?", (media_id,), "media file")
        return Media(r["sha256"], r["filename"], r["original_name"], r["duration_ms"],
                     r["channels"], r["sample_rate"], r["id"])

    def media_by_hash(self, sha256: str) -> Media | None:
        rows = self.rows("SELECT id FROM media WHERE sha256 = ?", (sha256,))
        return self.media(rows[0]["id"]) if rows else None

    # --- interviews --------------------------------------------------------------------------

    def interviews(self) -> list[Interview]:
        return [_interview(r) for r in self.rows("SELECT * FROM interviews ORDER BY id")]

    def interview(self, interview_id: int) -> Interview:
        return _interview(self.one(
            "SELECT * FROM interviews WHERE id = ?", (interview_id,), "interview"))

    def interview_summaries(self, interview_ids: Sequence[int] | None = None
                            ) -> list[InterviewSummary]:
        """The interviews list in one query, without loading any transcript text; only
        the interviews named, when some are (to refresh a few rows of a long list)."""
        where, params = "", list(interview_ids or [])
        if interview_ids is not None:
            where = f"WHERE i.id IN ({', '.join('?' * len(params))})"
        rows = self.rows(f"""
            SELECT i.*, coalesce(p.code, '') AS participant_code,
                   coalesce(m.filename, '') AS media_filename,
                   (SELECT count(*) FROM segments s WHERE s.interview_id = i.id) AS segment_count,
                   (SELECT coalesce(sum(word_count(s.text)), 0)
                      FROM segments s WHERE s.interview_id = i.id) AS word_count,
                   (SELECT count(*) FROM codings c WHERE c.interview_id = i.id) AS coding_count
            FROM interviews i
            LEFT JOIN participants p ON p.id = i.participant_id
            LEFT JOIN media m ON m.id = i.media_id
            {where}
            ORDER BY coalesce(p.code, i.title) COLLATE NOCASE, i.id
        """, params)
        return [
            InterviewSummary(_interview(r), r["participant_code"], r["segment_count"],
                             r["word_count"], r["coding_count"], r["media_filename"])
            for r in rows
        ]

    def coding_counts_by_interview(self) -> dict[int, int]:
        return {r["interview_id"]: r["n"] for r in self.rows(
            "SELECT interview_id, count(*) AS n FROM codings GROUP BY interview_id")}

    def interviews_of_segments(self, segment_ids: Sequence[int]) -> set[int]:
        """The interviews these (existing) segments belong to."""
        ids = list(segment_ids)
        if not ids:
            return set()
        return {r["interview_id"] for r in self.rows(
            f"SELECT DISTINCT interview_id FROM segments WHERE id IN ({', '.join('?' * len(ids))})",
            ids)}

    def add_interview(self, i: Interview) -> Changes:
        with self.write() as tx:
            row = _interview_row(i)
            if i.id is not None:
                row = {"id": i.id, **row}
            id_ = self.insert("interviews", row)
            tx.add("interview", id_)
            self.audit("interview added", id=id_, title=row["title"])
        return tx.changes()

    def update_interview(self, i: Interview) -> Changes:
        if i.id is None:
            raise ValidationError("Only a saved interview can be updated.")
        with self.write() as tx:
            self.update_row("interviews", i.id, _interview_row(i))
            tx.update("interview", i.id)
        return tx.changes()

    def set_interview_status(self, interview_id: int, status: InterviewStatus) -> Changes:
        with self.write() as tx:
            self.update_row("interviews", interview_id, {"status": status.value})
            tx.update("interview", interview_id)
            self.audit("interview status", id=interview_id, status=status.value)
        return tx.changes()

    def delete_interview(self, interview_id: int) -> Changes:
        """Delete an interview with its transcript and codings (the media file stays)."""
        with self.write() as tx:
            title = self.interview(interview_id).title
            for kind, table in (("segment", "segments"), ("coding", "codings"),
                                ("speaker", "speakers")):
                for r in self.rows(f"SELECT id FROM {table} WHERE interview_id = ?",
                                   (interview_id,)):
                    tx.remove(kind, r["id"])
            self.delete_row("interviews", interview_id)
            tx.remove("interview", interview_id)
            self.audit("interview deleted", id=interview_id, title=title)
        return tx.changes()

    # --- speakers ----------------------------------------------------------------------------

    def speakers(self, interview_id: int) -> list[Speaker]:
        return [
            Speaker(r["interview_id"], r["label"], SpeakerRole(r["role"]), r["participant_id"],
                    r["id"])
            for r in self.rows(
                "SELECT * FROM speakers WHERE interview_id = ? ORDER BY id", (interview_id,))
        ]

    def add_speaker(self, s: Speaker) -> Changes:
        if not s.label.strip():
            raise ValidationError("A speaker needs a label.")
        with self.write() as tx:
            clash = self.rows("SELECT id FROM speakers WHERE interview_id = ? AND label = ?",
                              (s.interview_id, s.label.strip()))
            if clash:
                raise ValidationError(f"This interview already has a speaker {s.label!r}.")
            row = {"interview_id": s.interview_id, "label": s.label.strip(),
                   "role": s.role.value, "participant_id": s.participant_id}
            id_ = self.insert("speakers", {"id": s.id, **row} if s.id is not None else row)
            tx.add("speaker", id_)
        return tx.changes()

    def delete_speaker(self, speaker_id: int) -> Changes:
        """Remove a speaker; their segments become unassigned."""
        with self.write() as tx:
            self.delete_row("speakers", speaker_id)
            tx.remove("speaker", speaker_id)
        return tx.changes()

    def update_speaker(self, s: Speaker) -> Changes:
        if s.id is None:
            raise ValidationError("Only a saved speaker can be updated.")
        if not s.label.strip():
            raise ValidationError("A speaker needs a label.")
        with self.write() as tx:
            if self.rows("SELECT id FROM speakers WHERE interview_id = ? AND label = ? "
                         "AND id != ?", (s.interview_id, s.label.strip(), s.id)):
                raise ValidationError(f"This interview already has a speaker {s.label!r}.")
            self.update_row("speakers", s.id, {
                "label": s.label.strip(), "role": s.role.value, "participant_id": s.participant_id,
            })
            tx.update("speaker", s.id)
        return tx.changes()

    # --- segments ----------------------------------------------------------------------------

    def segments(self, interview_id: int) -> list[Segment]:
        return [_segment(r) for r in self.rows(
            "SELECT * FROM segments WHERE interview_id = ? ORDER BY position", (interview_id,))]

    def segment(self, segment_id: int) -> Segment:
        return _segment(self.one("SELECT * FROM segments WHERE id = ?", (segment_id,), "segment"))

    def segment_count(self, interview_id: int) -> int:
        return int(self.scalar(
            "SELECT count(*) FROM segments WHERE interview_id = ?", (interview_id,)))

    def next_segment_position(self, interview_id: int) -> int:
        return int(self.scalar(
            "SELECT coalesce(max(position) + 1, 0) FROM segments WHERE interview_id = ?",
            (interview_id,)))

    def add_segments(self, segments: Iterable[Segment]) -> Changes:
        """Append segments in one transaction (a transcription window, an import)."""
        with self.write() as tx:
            for s in segments:
                row = _segment_row(s)
                if s.id is not None:
                    row = {"id": s.id, **row}
                tx.add("segment", self.insert("segments", row))
        return tx.changes()

    def update_segment(self, s: Segment) -> Changes:
        if s.id is None:
            raise ValidationError("Only a saved segment can be updated.")
        with self.write() as tx:
            self.update_row("segments", s.id, _segment_row(s))
            tx.update("segment", s.id)
        return tx.changes()

    def delete_segments(self, segment_ids: Iterable[int]) -> Changes:
        with self.write() as tx:
            for id_ in segment_ids:
                self.delete_row("segments", id_)
                tx.remove("segment", id_)
        return tx.changes()

    def transcript_end_ms(self, interview_id: int) -> int:
        """Where the committed transcript ends: a resumed transcription starts here."""
        return int(self.scalar(
            "SELECT coalesce(max(end_ms), 0) FROM segments WHERE interview_id = ?",
            (interview_id,)))


__all__ = ["InterviewsMixin"]
