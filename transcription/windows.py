"""Speech maps and transcription windows: pure functions over millisecond spans.

A long interview is transcribed in windows of at most about ten minutes, cut in the
silences the voice-activity detector found, so memory stays bounded whatever the
length and each window can be committed (and resumed from) on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Span = tuple[int, int]  # (start_ms, end_ms), end exclusive


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of the recording transcribed in one go, and the speech inside it."""

    start_ms: int
    end_ms: int
    speech: tuple[Span, ...]

    @property
    def speech_ms(self) -> int:
        return sum(e - s for s, e in self.speech)


def merge_spans(spans: Sequence[Span], gap_ms: int = 0) -> list[Span]:
    """Sort and join spans that overlap or lie within gap_ms of each other."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start - merged[-1][1] <= gap_ms:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def plan_windows(speech: Sequence[Span], duration_ms: int,
                 max_window_ms: int = 600_000) -> list[Window]:
    """Group speech into windows no longer than max_window_ms, cut between spans.

    A window starts at its first speech and ends at its last, so the windows cover
    all speech and no silence is transcribed twice. A single span longer than a
    window (talk with no pause at all) is cut hard into window-sized pieces.
    """
    pieces: list[Span] = []
    for start, end in merge_spans(speech):
        start, end = max(0, start), min(end, duration_ms) if duration_ms else end
        while end - start > max_window_ms:
            pieces.append((start, start + max_window_ms))
            start += max_window_ms
        if end > start:
            pieces.append((start, end))
    windows: list[Window] = []
    current: list[Span] = []
    for span in pieces:
        if current and span[1] - current[0][0] > max_window_ms:
            windows.append(Window(current[0][0], current[-1][1], tuple(current)))
            current = []
        current.append(span)
    if current:
        windows.append(Window(current[0][0], current[-1][1], tuple(current)))
    return windows


@dataclass(frozen=True, slots=True)
class TimeMap:
    """Maps a time in audio made by joining speech spans back to the recording's time.

    The recogniser sees only the speech, butted together; its timestamps must be moved
    back by the silence that was cut out before each point.
    """

    spans: tuple[Span, ...]

    def to_original(self, joined_ms: float, *, is_end: bool = False) -> int:
        offset = 0.0
        for start, end in self.spans:
            length = end - start
            inside = joined_ms < offset + length or (is_end and joined_ms <= offset + length)
            if inside:
                return round(start + joined_ms - offset)
            offset += length
        if not self.spans:
            return round(joined_ms)
        return round(self.spans[-1][1] + joined_ms - offset)


def uncovered(speech: Sequence[Span], covered: Sequence[Span], *,
              min_ms: int = 1000, tolerance_ms: int = 300) -> list[Span]:
    """Stretches of speech of at least min_ms that no recognised word covers.

    Word timings are imprecise, so each covered span is widened by tolerance_ms. This
    is the check that catches passages a recogniser silently skipped.
    """
    cover = merge_spans([(s - tolerance_ms, e + tolerance_ms) for s, e in covered])
    gaps: list[Span] = []
    for start, end in merge_spans(speech):
        cursor = start
        for c_start, c_end in cover:
            if c_end <= cursor or c_start >= end:
                continue
            if c_start > cursor:
                gaps.append((cursor, c_start))
            cursor = max(cursor, c_end)
        if cursor < end:
            gaps.append((cursor, end))
    return [(s, e) for s, e in gaps if e - s >= min_ms]


def batch_clips(spans: Sequence[Span], max_ms: int = 30_000) -> list[tuple[float, float]]:
    """Cut speech joined end to end into clips of at most max_ms, between spans where
    possible, as (start, end) seconds of the joined audio: the batched recogniser
    decodes each clip on its own."""
    clips: list[tuple[float, float]] = []
    start = position = 0
    for s, e in spans:
        length = e - s
        if position > start and position + length - start > max_ms:
            clips.append((start / 1000, position / 1000))
            start = position
        position += length
        while position - start > max_ms:
            clips.append((start / 1000, (start + max_ms) / 1000))
            start += max_ms
    if position > start:
        clips.append((start / 1000, position / 1000))
    return clips
