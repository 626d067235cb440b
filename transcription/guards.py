"""Guardrails: mark what the recogniser may have got wrong, so the researcher listens
again exactly there (missed speech is found in windows.uncovered)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

from study.model import Flag, FlagKind, Word

LOW_CONFIDENCE = 0.4
WORD = re.compile(r"[\w']+")


def low_confidence_flags(words: Sequence[Word], threshold: float = LOW_CONFIDENCE) -> list[Flag]:
    """One flag per run of consecutive words the model was unsure of."""
    flags: list[Flag] = []
    run: list[Word] = []
    for w in [*words, None]:
        if w is not None and w.probability < threshold:
            run.append(w)
            continue
        if run:
            flags.append(Flag(FlagKind.LOW_CONFIDENCE, run[0].start_ms, run[-1].end_ms,
                              " ".join(x.text.strip() for x in run)))
            run = []
    return flags


def repeated_ngram(text: str, *, max_n: int = 6, min_repeats: int = 4) -> str | None:
    """The phrase repeated back to back min_repeats times or more, if any.

    Whisper can fall into a loop and write one phrase over and over where the
    speaker said something else; people rarely repeat a phrase four times running.
    """
    words = [w.lower() for w in WORD.findall(text)]
    for n in range(1, max_n + 1):
        for start in range(0, len(words) - n * min_repeats + 1):
            gram = words[start:start + n]
            repeats = 1
            while words[start + repeats * n:start + (repeats + 1) * n] == gram:
                repeats += 1
            if repeats >= min_repeats:
                return " ".join(gram)
    return None


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data)))


def repetition_flag(text: str, start_ms: int, end_ms: int) -> Flag | None:
    phrase = repeated_ngram(text)
    if phrase is None and compression_ratio(text) <= 2.4:
        return None
    note = f"'{phrase}' repeats" if phrase else "highly repetitive text"
    return Flag(FlagKind.REPETITION, start_ms, end_ms, note)
