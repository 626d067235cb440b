"""How times, durations and attribute values read in the GUI."""

from __future__ import annotations

import datetime as dt

from study.model import AttributeValue


def clock(ms: int) -> str:
    """01:02:03 for an hour or more, 02:03 below it: what transcribers read."""
    seconds = max(ms, 0) // 1000
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def plural(n: int, word: str, many: str = "") -> str:
    """"1 segment", "3 segments", "2 people" (with `many`); thousands separated."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def attribute_text(value: AttributeValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
