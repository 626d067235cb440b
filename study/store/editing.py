"""Transcript edits that keep codings on the same words: text changes, split, merge,
speaker assignment, and snapshots that undo any of them exactly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from study.errors import ValidationError
from study.model import Changes, Coding, Segment
from study.remap import map_end, map_start, opcodes, remap_span, trim
from study.store.codebook import CodebookMixin
from study.store.interviews import InterviewsMixin


@dataclass(frozen=True, slots=True)
class SegmentsSnapshot:
    """Segments as they were, with every coding that touches them, for undo."""

    interview_id: int
    segments: tuple[Segment, ...]
    codings: tuple[Coding, ...]


def split_time(segment: Segment, at: int) -> int:
    """Where in time a split at character `at` falls: at the first word that starts at
    or after it when word timings exist, else in proportion to the characters."""
    if segment.words:
        consumed = 0
        for word in segment.words:
            if consumed >= at:
                return word.start_ms
            consumed += len(word.text)
        return segment.end_ms
    share = at / max(1, len(segment.text))
    return segment.start_ms + round((segment.end_ms - segment.start_ms) * share)


class EditingMixin(InterviewsMixin, CodebookMixin):
    def codings_touching(self, segment_ids: list[int]) -> list[Coding]:
        if not segment_ids:
            return []
        marks = ", ".join("?" * len(segment_ids))
        return [
            Coding(r["code_id"], r["interview_id"], r["start_segment_id"], r["start_offset"],
                   r["end_segment_id"], r["end_offset"], r["id"])
            for r in self.rows(f"SELECT * FROM codings WHERE start_segment_id IN ({marks}) "
                               f"OR end_segment_id IN ({marks}) ORDER BY id",
                               [*segment_ids, *segment_ids])
        ]

    def snapshot(self, segment_ids: list[int]) -> SegmentsSnapshot:
        segments = tuple(self.segment(i) for i in segment_ids)
        interview = segments[0].interview_id if segments else 0
        return SegmentsSnapshot(interview, segments, tuple(self.codings_touching(segment_ids)))

    def restore(self, snapshot: SegmentsSnapshot, remove_ids: list[int]) -> Changes:
        """Put segments and their codings back exactly as in `snapshot` (same ids and
        order), after removing `remove_ids` (what the undone edit created)."""
        with self.write() as tx:
            keep = {s.id for s in snapshot.segments}
            for id_ in remove_ids:
                if id_ not in keep:
                    self.delete_row("segments", id_)
                    tx.remove("segment", id_)
            self._renumber(snapshot.interview_id)
            for seg in sorted(snapshot.segments, key=lambda s: s.position):
                assert seg.id is not None
                if self.rows("SELECT id FROM segments WHERE id = ?", (seg.id,)):
                    self.update_segment(seg)
                else:
                    self._shift_positions(seg.interview_id, seg.position, 1)
                    self.add_segments([seg])
                tx.update("segment", seg.id)
            for coding in self.codings_touching([s.id for s in snapshot.segments
                                                 if s.id is not None]):
                self.delete_row("codings", coding.id)  # type: ignore[arg-type]
            for coding in snapshot.codings:
                self.add_coding(coding)
                tx.update("coding", coding.id)  # type: ignore[arg-type]
        return tx.changes()

    # --- text --------------------------------------------------------------------------------

    def edit_segment_text(self, segment_id: int, text: str) -> Changes:
        """Change a segment's text; codings move with their words, and a coding whose
        words were all deleted goes (reported as removed)."""
        text = " ".join(text.split()) if "\n" in text else text
        with self.write() as tx:
            seg = self.segment(segment_id)
            if seg.text == text:
                return tx.changes()
            ops = opcodes(seg.text, text)
            across: list[Coding] = []
            for c in self.codings_touching([segment_id]):
                start, end = c.start_offset, c.end_offset
                if c.start_segment_id == segment_id and c.end_segment_id == segment_id:
                    span = remap_span(seg.text, text, start, end)
                    if span is None:
                        self.delete_coding(c.id)  # type: ignore[arg-type]  (reports it)
                        continue
                    start, end = span
                else:
                    if c.start_segment_id == segment_id:
                        start = trim(text, map_start(ops, start, len(text)), len(text))[0]
                    if c.end_segment_id == segment_id:
                        end = trim(text, 0, map_end(ops, end))[1]
                    across.append(dataclasses.replace(c, start_offset=start, end_offset=end))
                self._move_coding(c, start, end, tx)
            words = seg.words if _same_words(seg.text, text) else ()
            self.update_segment(dataclasses.replace(seg, text=text, words=words))
            for c in across:  # all its words, in every segment, may now be gone
                if not self.coded_text(c).strip():
                    self.delete_coding(c.id)  # type: ignore[arg-type]  (reports it)
        return tx.changes()

    def _move_coding(self, c: Coding, start: int, end: int, tx: object) -> None:
        if (start, end) != (c.start_offset, c.end_offset):
            self.db.execute("UPDATE codings SET start_offset = ?, end_offset = ? WHERE id = ?",
                            (start, end, c.id))
            tx.update("coding", c.id)  # type: ignore[attr-defined]

    # --- split and merge ---------------------------------------------------------------------

    def split_segment(self, segment_id: int, at: int, *, new_id: int | None = None) -> Changes:
        """Split at character `at`: the first part keeps the id, the rest becomes a new
        segment right after it. Codings follow their text into either part."""
        with self.write() as tx:
            seg = self.segment(segment_id)
            if not 0 < at < len(seg.text):
                raise ValidationError("Place the cursor inside the text to split it.")
            head_text, tail_text = seg.text[:at].rstrip(), seg.text[at:].lstrip()
            if not head_text or not tail_text:
                raise ValidationError("Both parts of a split need some text.")
            cut = split_time(seg, at)
            tail_start = at + (len(seg.text[at:]) - len(tail_text))
            head_words = tuple(w for w in seg.words if w.end_ms <= cut)
            tail_words = tuple(w for w in seg.words if w.end_ms > cut)
            self._shift_positions(seg.interview_id, seg.position + 1, 1)
            tail = Segment(seg.interview_id, seg.position + 1, cut, seg.end_ms, tail_text,
                           seg.speaker_id, tail_words,
                           tuple(f for f in seg.flags if f.end_ms > cut), new_id)
            tail_id = self.add_segments([tail]).new_id("segment")
            self.update_segment(dataclasses.replace(
                seg, text=head_text, end_ms=cut, words=head_words,
                flags=tuple(f for f in seg.flags if f.start_ms < cut)))
            for c in self.codings_touching([segment_id]):
                start_seg, start = c.start_segment_id, c.start_offset
                end_seg, end = c.end_segment_id, c.end_offset
                if start_seg == segment_id and start >= at:
                    start_seg, start = tail_id, max(0, start - tail_start)
                elif start_seg == segment_id:
                    start = min(start, len(head_text))
                if end_seg == segment_id and end > at:
                    end_seg, end = tail_id, max(0, end - tail_start)
                elif end_seg == segment_id:
                    end = min(end, len(head_text))
                self.db.execute(
                    "UPDATE codings SET start_segment_id = ?, start_offset = ?, "
                    "end_segment_id = ?, end_offset = ? WHERE id = ?",
                    (start_seg, start, end_seg, end, c.id))
                tx.update("coding", c.id)  # type: ignore[arg-type]
            tx.update("segment", segment_id)
        return tx.changes()

    def merge_segments(self, first_id: int, second_id: int) -> Changes:
        """Join a segment with the next one; the second's codings move into the first."""
        with self.write() as tx:
            first, second = self.segment(first_id), self.segment(second_id)
            if first.interview_id != second.interview_id or \
                    self.next_position_after(first) != second.position:
                raise ValidationError("Only neighbouring segments can be merged.")
            joiner = "" if not first.text or not second.text else " "
            shift = len(first.text) + len(joiner)
            for c in self.codings_touching([second_id]):
                start_seg, start = c.start_segment_id, c.start_offset
                end_seg, end = c.end_segment_id, c.end_offset
                if start_seg == second_id:
                    start_seg, start = first_id, start + shift
                if end_seg == second_id:
                    end_seg, end = first_id, end + shift
                self.db.execute(
                    "UPDATE codings SET start_segment_id = ?, start_offset = ?, "
                    "end_segment_id = ?, end_offset = ? WHERE id = ?",
                    (start_seg, start, end_seg, end, c.id))
                tx.update("coding", c.id)  # type: ignore[arg-type]
            self.update_segment(dataclasses.replace(
                first, text=first.text + joiner + second.text,
                start_ms=min(first.start_ms, second.start_ms),
                end_ms=max(first.end_ms, second.end_ms),
                words=first.words + second.words, flags=first.flags + second.flags))
            self.delete_row("segments", second_id)
            self._renumber(first.interview_id)
            tx.update("segment", first_id)
            tx.remove("segment", second_id)
        return tx.changes()

    def next_position_after(self, seg: Segment) -> int | None:
        row = self.rows("SELECT min(position) AS p FROM segments WHERE interview_id = ? "
                        "AND position > ?", (seg.interview_id, seg.position))
        return row[0]["p"] if row else None

    def set_segment_speaker(self, segment_ids: list[int], speaker_id: int | None) -> Changes:
        with self.write() as tx:
            for id_ in segment_ids:
                self.db.execute("UPDATE segments SET speaker_id = ? WHERE id = ?",
                                (speaker_id, id_))
                tx.update("segment", id_)
        return tx.changes()

    # --- positions ---------------------------------------------------------------------------

    def _shift_positions(self, interview_id: int, from_position: int, by: int) -> None:
        self.db.execute("UPDATE segments SET position = position + ? "
                        "WHERE interview_id = ? AND position >= ?",
                        (by, interview_id, from_position))

    def _renumber(self, interview_id: int) -> None:
        """Positions 0..n-1 in order, after segments came and went."""
        rows = self.rows("SELECT id FROM segments WHERE interview_id = ? ORDER BY position, id",
                         (interview_id,))
        for n, r in enumerate(rows):
            self.db.execute("UPDATE segments SET position = ? WHERE id = ?", (n, r["id"]))


def _same_words(old: str, new: str) -> bool:
    """Word timings stay valid while the words are the same (punctuation and case
    edits aside); a changed word invalidates them."""
    def norm(t: str) -> list[str]:
        return ["".join(ch for ch in w.lower() if ch.isalnum()) for w in t.split()]
    return norm(old) == norm(new)


__all__ = ["EditingMixin", "SegmentsSnapshot", "split_time"]
