"""The one leak check every export passes through: no original identifier leaves the study.

The study keeps only salted hashes of the originals (study.identifiers), so the check
works without the key file: text is cut into words (runs of word characters, with
apostrophes inside a word kept, so "Sarah's" is one word; underscores part words, as in
file names), every run of 1 to n consecutive words (n the longest registered
identifier's word count) is put in normal form (case, spacing, possessives and edge
punctuation do not matter) and hashed, and a hash in the registry is a leak. So "Sarah
Jones", "sarah jones's", "SARAH" and a name broken across a line end are caught, while
"Sarahs" and "Jonesville" are not.

Rule for exporters (Word, CSV, txt/srt/vtt, REFI-QDA, charts): call
`LeakChecker.for_store(store).ensure_clean(parts)` on ALL the text an export writes
before anything is written: the body, headers and footers, attributions, code and theme
names, memo texts, chart titles, axis and legend labels, and the file names themselves.
Label each part with where a researcher would find it ("Quote 3 (MHCC-2, 00:12:31)",
"line 14", "file name"), so the refusal can say where the leak is. An export refused
with LeakError must leave no file behind (write atomically, see analysis.exports.atomic).
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from study.errors import StudyError
from study.identifiers import normalise, term_hash
from study.model import Identifier, IdentifierRule
from study.store import Store


@functools.cache
def word_pattern() -> re.Pattern[str]:
    """Words: word characters with the combining marks that follow them, apostrophes
    inside a word kept; underscores separate words, as they do in file names
    ("sarah_jones_interview.m4a"). Marks are not word characters to `re`, yet a name
    written decomposed ("Zoe" + U+0308, as macOS and some PDFs give it) and the vowel
    signs of Devanagari and other scripts are marks: without them a word would be cut
    short and its hash missed. Built once, from this Python's Unicode tables (~0.15 s)."""
    marks, start = [], None
    for point in range(sys.maxunicode + 2):
        is_mark = point <= sys.maxunicode and unicodedata.category(chr(point))[0] == "M"
        if is_mark and start is None:
            start = point
        elif not is_mark and start is not None:
            marks.append(f"{re.escape(chr(start))}-{re.escape(chr(point - 1))}")
            start = None
    letter = rf"[^\W_][{''.join(marks)}]*"
    return re.compile(rf"(?:{letter})+(?:['’](?:{letter})+)*")

MASK = "█████"  # the same length whatever the leak, so the message reveals nothing
CONTEXT_CHARS = 30
SHOWN_IN_MESSAGE = 10
# Beyond its whitespace-separated words, an identifier may hold punctuation that cuts it
# into more word runs (an email address, a hyphenated name): allow this many extra runs.
EXTRA_RUNS = 12
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Leak:
    """An original identifier found in text: text[start:end], and what replaces it."""

    start: int
    end: int
    text: str
    category: str
    replacement: str
    identifier_id: int | None = None


@dataclass(frozen=True, slots=True)
class LeakReport:
    """A leak and where it is: `context` is the text around it with every leak masked."""

    location: str
    leak: Leak
    context: str

    def describe(self) -> str:
        return f"{self.location}: {self.context} ({self.leak.category}, {self.leak.replacement})"


class LeakError(StudyError):
    """An export refused because it contains originals; `reports` holds every leak."""

    def __init__(self, reports: list[LeakReport]) -> None:
        self.reports = reports
        n = len(reports)
        lines = [f"This export was stopped: it still contains {n} original "
                 f"identifier{'s' if n != 1 else ''} that anonymisation replaces "
                 "(masked here). Replace them, or check the registry, then export again."]
        lines += [f"  {r.describe()}" for r in reports[:SHOWN_IN_MESSAGE]]
        if n > SHOWN_IN_MESSAGE:
            lines.append(f"  … and {n - SHOWN_IN_MESSAGE} more.")
        super().__init__("\n".join(lines))


class LeakChecker:
    """Finds registered originals in text by their salted hashes."""

    def __init__(self, salt: str, hashes: Mapping[str, Identifier]) -> None:
        self.salt = salt
        self.hashes = dict(hashes)
        self.max_words = max((i.word_count for i in self.hashes.values()), default=0)
        self._hash_cache: dict[str, str] = {}

    @classmethod
    def for_store(cls, store: Store) -> LeakChecker:
        """Every registered identifier except those the researcher said are not
        identifiers after all (rule never)."""
        return cls(store.salt(), {i.original_hash: i for i in store.identifiers()
                                  if i.rule is not IdentifierRule.NEVER})

    def _hash(self, piece: str) -> str:
        hashed = self._hash_cache.get(piece)
        if hashed is None:
            if len(self._hash_cache) >= _CACHE_LIMIT:
                self._hash_cache.clear()
            hashed = term_hash(self.salt, piece) if normalise(piece) else ""
            self._hash_cache[piece] = hashed
        return hashed

    def _lookup(self, piece: str) -> Identifier | None:
        """The identifier `piece` is a form of: as written, or with underscores read as
        spaces (an original may hold underscores itself, as an email address can)."""
        found = self.hashes.get(self._hash(piece))
        if found is None and "_" in piece:
            found = self.hashes.get(self._hash(piece.replace("_", " ")))
        return found

    def find(self, text: str) -> list[Leak]:
        """Leaks in `text`, left to right, never overlapping: at each word the longest
        registered run wins, and words inside a found leak start no other."""
        if not self.hashes or not text:
            return []
        spans = [m.span() for m in word_pattern().finditer(text)]
        leaks: list[Leak] = []
        covered = 0
        max_runs = self.max_words + EXTRA_RUNS
        for i, (start, _) in enumerate(spans):
            if start < covered:
                continue
            best: tuple[int, Identifier] | None = None
            words = 1
            for j in range(i, min(len(spans), i + max_runs)):
                if j > i and any(ch.isspace() or ch == "_"
                                 for ch in text[spans[j - 1][1]:spans[j][0]]):
                    words += 1
                if words > self.max_words:
                    break
                found = self._lookup(text[start:spans[j][1]])
                if found is not None:
                    best = (spans[j][1], found)
            if best is not None:
                end, ident = best
                leaks.append(Leak(start, end, text[start:end], ident.category,
                                  ident.replacement, ident.id))
                covered = end
        return leaks

    def check(self, parts: Iterable[tuple[str, str]]) -> list[LeakReport]:
        """Every leak in the parts, each (location label, text), with masked context."""
        reports: list[LeakReport] = []
        for location, text in parts:
            leaks = self.find(text)
            reports += [LeakReport(location, leak, context(text, leak, leaks))
                        for leak in leaks]
        return reports

    def ensure_clean(self, parts: Iterable[tuple[str, str]]) -> None:
        """Raise LeakError, listing where, if any part holds an original."""
        reports = self.check(parts)
        if reports:
            raise LeakError(reports)


def context(text: str, leak: Leak, leaks: Iterable[Leak], width: int = CONTEXT_CHARS) -> str:
    """A snippet around `leak` on one line, every leak in it masked: "…rang █████ at the…"."""
    start, end = max(0, leak.start - width), min(len(text), leak.end + width)
    if start > 0 and not text[start - 1].isspace():  # begin and end on whole words
        space = re.search(r"\s", text[start:leak.start])
        start = start + space.end() if space else leak.start
    if end < len(text) and not text[end].isspace():
        spaces = list(re.finditer(r"\s", text[leak.end:end]))
        end = leak.end + spaces[-1].start() if spaces else leak.end
    pieces: list[str] = []
    at = start
    for other in sorted(leaks, key=lambda x: x.start):
        if other.end <= start or other.start >= end:
            continue
        pieces += [text[at:max(at, other.start)], MASK]
        at = max(at, other.end)
    pieces.append(text[at:end] if at < end else "")
    snippet = " ".join("".join(pieces).split())
    return f"{'…' if start > 0 else ''}{snippet}{'…' if end < len(text) else ''}"


__all__ = ["MASK", "Leak", "LeakChecker", "LeakError", "LeakReport", "context"]
