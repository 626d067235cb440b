"""Moving character offsets through a text edit, so codings keep covering the same words.

difflib's opcodes say which stretches of the old text survive where in the new one. The
diff runs over words, spaces and punctuation marks rather than characters, so deleting
"ward and the " before "warden" cannot be mistaken for deleting "ward" and the start
of "warden". A span's start moves with the character it sits before, its end with the
character it sits after; text typed just outside a span stays outside, and text
replaced inside it is covered by its replacement.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from itertools import accumulate

Opcodes = list[tuple[str, int, int, int, int]]
TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def _tokens(text: str) -> tuple[list[str], list[int]]:
    """The text's tokens and where each starts (plus the text's end)."""
    tokens = TOKEN.findall(text)
    return tokens, [0, *accumulate(len(t) for t in tokens)]


def opcodes(old: str, new: str, *, ends_first: bool = False) -> Opcodes:
    """Character opcodes from a diff of the two texts' tokens.

    The tokens both texts start and end with are kept in place before the diff: an edit
    is made somewhere, and the rest stays where it was. Left to itself, the diff's
    longest match can line a repeated word up with its twin ("Smith Smith Jones" to
    "Smith Jones Jones" as deleting the first Smith), moving codings off untouched words.
    When repeats make the edit's place ambiguous ("no no no" to "no no"), the shared
    start is taken first, or with `ends_first` the shared end.
    """
    old_tokens, old_at = _tokens(old)
    new_tokens, new_at = _tokens(new)
    shortest = min(len(old_tokens), len(new_tokens))
    head = tail = 0
    for side in ((-1, 0) if ends_first else (0, -1)):
        if side == 0:
            while head < shortest - tail and old_tokens[head] == new_tokens[head]:
                head += 1
        else:
            while tail < shortest - head and old_tokens[-1 - tail] == new_tokens[-1 - tail]:
                tail += 1
    old_end, new_end = len(old_tokens) - tail, len(new_tokens) - tail
    matcher = SequenceMatcher(None, old_tokens[head:old_end], new_tokens[head:new_end],
                              autojunk=False)
    ops = [("equal", 0, head, 0, head)] if head else []
    ops += [(tag, head + i1, head + i2, head + j1, head + j2)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    if tail:
        ops.append(("equal", old_end, len(old_tokens), new_end, len(new_tokens)))
    return [(tag, old_at[i1], old_at[i2], new_at[j1], new_at[j2])
            for tag, i1, i2, j1, j2 in ops]


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
    """The span's (start, end) in the new text, or None if everything it covered is gone.
    Where repeated words leave the edit's place open, a reading that keeps the span wins:
    the text cannot say which of twin words was deleted, so the coded one stays."""
    if old == new:
        return start, end
    for ends_first in (False, True):  # deleting one of twin words: keep the coded one
        ops = opcodes(old, new, ends_first=ends_first)
        new_start, new_end = trim(new, map_start(ops, start, len(new)), map_end(ops, end))
        if new_end > new_start:
            return new_start, new_end
    return None


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shed the spaces a remapped span picked up at its edges: the diff may line a
    deleted word up with the space before it rather than after."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
