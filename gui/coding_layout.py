"""Where codings sit in the coding view's document, without Qt: each segment is one
block, so a (segment, offset) anchor is the block's start plus the offset; and which
margin lane each coding's stripe takes, so overlapping stripes never hide each other."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from study.model import Coding, Segment


@dataclass(frozen=True, slots=True)
class Span:
    """A coding as document positions (end exclusive) and its stripe lane."""

    coding: Coding
    start: int
    end: int
    lane: int


class DocumentMap:
    """Segment anchors to document positions and back, for one interview's segments
    laid out one block each (blocks are separated by one paragraph character)."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segment_ids: list[int] = [s.id for s in segments if s.id is not None]
        self.lengths = [len(s.text) for s in segments]
        self.starts: list[int] = []
        pos = 0
        for length in self.lengths:
            self.starts.append(pos)
            pos += length + 1
        self.block_of = {sid: n for n, sid in enumerate(self.segment_ids)}

    def position(self, segment_id: int, offset: int) -> int | None:
        block = self.block_of.get(segment_id)
        if block is None:
            return None
        return self.starts[block] + min(max(offset, 0), self.lengths[block])

    def anchor(self, position: int) -> tuple[int, int]:
        """The (segment id, offset) of a document position; the paragraph separator
        after a block counts as that block's end."""
        if not self.segment_ids:
            raise ValueError("an empty transcript has no anchors")
        block = max(0, bisect.bisect_right(self.starts, position) - 1)
        return self.segment_ids[block], min(position - self.starts[block], self.lengths[block])

    def selection(self, start: int, end: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
        """A selection's anchors, ending in the last block that has selected text (a
        selection that ends at the very start of a block does not reach into it)."""
        if end <= start or not self.segment_ids:
            return None
        first = self.anchor(start)
        block = max(0, bisect.bisect_right(self.starts, end) - 1)
        if end == self.starts[block] and block > 0:
            block -= 1
            last = (self.segment_ids[block], self.lengths[block])
        else:
            last = self.anchor(end)
        if (self.block_of[last[0]], last[1]) <= (self.block_of[first[0]], first[1]):
            return None
        return first, last


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow a selection to whole words and shed the spaces at its edges, so a quick
    drag codes the words the researcher meant."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start >= end:
        return start, start
    while start > 0 and _in_word(text[start - 1]):
        start -= 1
    while end < len(text) and _in_word(text[end]):
        end += 1
    return start, end


def _in_word(ch: str) -> bool:
    return ch.isalnum() or ch in "'’-"


def lay_out(codings: Sequence[Coding], doc: DocumentMap) -> list[Span]:
    """Spans sorted by start, each in the lowest lane free for its whole length."""
    placed: list[tuple[int, int, Coding]] = []
    for c in codings:
        start = doc.position(c.start_segment_id, c.start_offset)
        end = doc.position(c.end_segment_id, c.end_offset)
        if start is not None and end is not None and end > start:
            placed.append((start, end, c))
    placed.sort(key=lambda p: (p[0], -p[1], p[2].id or 0))
    lane_ends: list[int] = []  # the document position where each lane becomes free
    spans = []
    for start, end, c in placed:
        lane = next((n for n, free in enumerate(lane_ends) if free <= start), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(end)
        else:
            lane_ends[lane] = end
        spans.append(Span(c, start, end, lane))
    return spans


def spans_at(spans: Sequence[Span], position: int) -> list[Span]:
    """The spans covering a document position (an end counts as outside)."""
    return [s for s in spans if s.start <= position < s.end]
