"""Moving character offsets through a text edit, so codings keep covering the same words.

difflib's opcodes say which stretches of the old text survive where in the new one. A
span's start moves with the character it sits before, its end with the character it
sits after; text typed just outside a span stays outside, and text replaced inside it
is covered by its replacement.
"""

from __future__ import annotations

from difflib import SequenceMatcher

Opcodes = list[tuple[str, int, int, int, int]]


def opcodes(old: str, new: str) -> Opcodes:
    return SequenceMatcher(None, old, new, autojunk=False).get_opcodes()


def map_start(ops: Opcodes, offset: int, new_len: int) -> int:
    """Where a span starting at `offset` in the old text starts in the new one."""
    for tag, i1, i2, j1, _j2 in ops:
        if tag != "insert" and i1 <= offset < i2:
            return j1 + offset - i1 if tag == "equal" else j1
    return new_len


def map_end(ops: Opcodes, offset: int) -> int:
    """Where a span ending at `offset` (exclusive) in the old text ends in the new one."""
    for tag, i1, i2, j1, j2 in ops:
        if tag != "insert" and i1 < offset <= i2:
            return j1 + offset - i1 if tag == "equal" else j2
    return 0


def remap_span(old: str, new: str, start: int, end: int) -> tuple[int, int] | None:
    """The span's (start, end) in the new text, or None if everything it covered is gone."""
    if old == new:
        return start, end
    ops = opcodes(old, new)
    new_start, new_end = map_start(ops, start, len(new)), map_end(ops, end)
    return (new_start, new_end) if new_end > new_start else None
