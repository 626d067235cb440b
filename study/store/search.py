"""Text search over transcripts, and coding what it finds in one step.

The full-text index (segments_fts: case folded, accents removed, punctuation dropped)
only narrows the search to candidate segments; a regex over each candidate's text then
decides and gives exact character offsets. So the index's looser matching never shows as
a wrong hit, and every query is safe: the user's words reach FTS only as quoted strings.

A match never crosses segments: each segment is searched on its own, because a coding
made from a hit has to fit in one segment to be checked against what was searched.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from study.errors import ValidationError
from study.model import Changes, SearchHit
from study.store.codebook import CodebookMixin

Span = tuple[int, int, int, int]  # start position, start offset, end position, end offset


@dataclass(frozen=True, slots=True)
class Matcher:
    """What decides a hit: the query's words in order, any run of whitespace between
    them, and, for whole words, no word character just before or after.

    Word characters are letters, digits, marks (accents, also when typed apart from their
    letter), private-use characters and the underscore: the characters the index counts
    as part of a word, plus the underscore as in a regex word boundary. It is checked only
    where the query itself starts or ends with a word character, so "(laughs)" and
    "well..." match as typed.
    """

    pattern: re.Pattern[str]
    check_start: bool
    check_end: bool

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of every match in `text`, left to right, not overlapping."""
        pos = 0
        while (m := self.pattern.search(text, pos)) is not None:
            start, end = m.span()
            if ((not self.check_start or start == 0 or not _word_char(text[start - 1]))
                    and (not self.check_end or end == len(text) or not _word_char(text[end]))):
                yield start, end
                pos = end
            else:
                pos = start + 1


def matcher(words: Sequence[str], *, whole_words: bool, case_sensitive: bool) -> Matcher:
    pattern = r"\s+".join("".join(_char_pattern(ch, case_sensitive) for ch in w) for w in words)
    return Matcher(re.compile(pattern), whole_words and _word_char(words[0][0]),
                   whole_words and _word_char(words[-1][-1]))


def _char_pattern(ch: str, case_sensitive: bool) -> str:
    """One query character: itself, or any of its upper and lower case forms.

    Not re.IGNORECASE: that also equates e.g. "k" with the Kelvin sign and "I" with the
    dotless "ı", which the index keeps apart, so such hits would be found or missed
    depending on what else a segment holds. An ASCII letter pairs only with ASCII.
    """
    if case_sensitive:
        return re.escape(ch)
    forms = sorted({f for f in (ch, ch.lower(), ch.upper())
                    if len(f) == 1 and f.isascii() == ch.isascii()})
    return re.escape(ch) if len(forms) == 1 else "[" + "".join(map(re.escape, forms)) + "]"


def _word_char(ch: str) -> bool:
    return ch == "_" or _token_char(ch)


def _token_char(ch: str) -> bool:
    """Whether the index may count `ch` as part of a word (unicode61: letters, numbers,
    private use, marks). Leaning towards yes only ever widens the candidate set."""
    category = unicodedata.category(ch)
    return category[0] in "LNM" or category == "Co"


def _indexed_char(ch: str) -> bool:
    """Whether `ch` survives into the index: a word of only marks (accents) is dropped."""
    category = unicodedata.category(ch)
    return category[0] in "LN" or category == "Co"


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def fts_match(query: str, *, whole_words: bool) -> str | None:
    """An FTS5 MATCH expression finding every segment the regex could match, or None
    when the index cannot help (no indexed word in the query, or one partial word).

    The query goes in as one quoted phrase: the index's words of a match are consecutive
    in the segment. Without whole_words the first word may be the tail of a longer word,
    so it is left out, and the last may be the start of one, so it becomes a prefix.
    """
    text = " ".join(query.split())
    if text and not whole_words and _token_char(text[0]):
        cut = next((i for i, ch in enumerate(text) if not _token_char(ch)), len(text))
        text = text[cut:]
    if not any(_indexed_char(ch) for ch in text):
        return None
    prefix = not whole_words and _token_char(text[-1])
    return _fts_string(text) + (" *" if prefix else "")


def like_pattern(words: Sequence[str], *, case_sensitive: bool) -> str:
    """A LIKE pattern (escape character backslash) matching at least what the regex
    matches: whitespace runs and letters LIKE cannot fold (it folds ASCII only) become
    wildcards."""
    def char(ch: str) -> str:
        if ch in "\\%_":
            return "\\" + ch
        if not case_sensitive and not ch.isascii() and ch.lower() != ch.upper():
            return "_"
        return ch
    return "%" + "%".join("".join(char(ch) for ch in w) for w in words) + "%"


class SearchMixin(CodebookMixin):
    def search_text(self, query: str, *, interview_ids: Sequence[int] | None = None,
                    whole_words: bool = True, case_sensitive: bool = False,
                    limit: int | None = None) -> list[SearchHit]:
        """Every match of `query` in the transcripts (or in `interview_ids`), ordered by
        interview id, segment position and offset; at most `limit` of them.

        Whitespace in the query matches any whitespace; without whole_words a match may
        begin or end inside a word. Case is ignored unless case_sensitive; accents never
        are ("cafe" does not find "café"). A blank query finds nothing.
        """
        words = query.split()
        if not words or (limit is not None and limit <= 0) or (
                interview_ids is not None and not interview_ids):
            return []
        decide = matcher(words, whole_words=whole_words, case_sensitive=case_sensitive)
        match = fts_match(query, whole_words=whole_words)
        if match is not None:
            where = "s.id IN (SELECT rowid FROM segments_fts WHERE segments_fts MATCH ?)"
            params: list[Any] = [match]
        else:
            where = "s.text LIKE ? ESCAPE '\\'"
            params = [like_pattern(words, case_sensitive=case_sensitive)]
        if interview_ids is not None:
            where += " AND s.interview_id IN (SELECT value FROM json_each(?))"
            params.append(json.dumps([int(i) for i in interview_ids]))
        hits: list[SearchHit] = []
        cursor = self.db.execute(
            f"SELECT s.id, s.interview_id, s.text FROM segments s WHERE {where} "
            "ORDER BY s.interview_id, s.position, s.id", params)
        for segment_id, interview_id, text in cursor:
            for start, end in decide.spans(text):
                hits.append(SearchHit(interview_id, segment_id, start, end, text))
                if limit is not None and len(hits) >= limit:
                    return hits
        return hits

    def auto_code(self, code_id: int, hits: Sequence[SearchHit], *,
                  whole_segment: bool = False) -> Changes:
        """Code every hit (or each hit's whole segment, once) in one transaction.

        A hit the code already covers adds nothing, so auto-coding twice is harmless and
        undo removes only what this call added. Refused if a hit's segment changed since
        the search: its offsets might now point at other words.
        """
        with self.write() as tx:
            self.code(code_id)
            segments = self._hit_segments(hits)
            existing = self._code_spans(code_id, {s["interview_id"] for s in segments.values()})
            added = 0
            for hit in sorted(hits, key=lambda h: (h.interview_id,
                                                   segments[h.segment_id]["position"],
                                                   h.start, h.end)):
                seg = segments[hit.segment_id]
                start, end = (0, len(seg["text"])) if whole_segment else (hit.start, hit.end)
                span = (seg["position"], start, seg["position"], end)
                spans = existing.setdefault(hit.interview_id, [])
                if any(_covers(old, span) for old in spans):
                    continue
                tx.add("coding", self.insert("codings", {
                    "code_id": code_id, "interview_id": hit.interview_id,
                    "start_segment_id": hit.segment_id, "start_offset": start,
                    "end_segment_id": hit.segment_id, "end_offset": end}))
                spans.append(span)
                added += 1
            if added:
                self.audit("auto-coded", code=code_id, count=added)
        return tx.changes()

    def _hit_segments(self, hits: Sequence[SearchHit]) -> dict[int, dict[str, Any]]:
        """The hits' segments, after checking each hit still fits its segment's text."""
        ids = json.dumps(sorted({h.segment_id for h in hits}))
        segments = {r["id"]: r for r in self.rows(
            "SELECT id, interview_id, position, text FROM segments "
            "WHERE id IN (SELECT value FROM json_each(?))", (ids,))}
        for hit in hits:
            seg = segments.get(hit.segment_id)
            if seg is None or seg["interview_id"] != hit.interview_id or seg["text"] != hit.text:
                raise ValidationError("The transcript has changed since this search; "
                                      "search again before coding the results.")
            if not 0 <= hit.start < hit.end <= len(hit.text):
                raise ValidationError("A search hit must cover some text of its segment.")
        return segments

    def _code_spans(self, code_id: int, interview_ids: set[int]) -> dict[int, list[Span]]:
        """The code's codings in those interviews as position spans, by interview."""
        spans: dict[int, list[Span]] = {}
        for r in self.rows("""
                SELECT c.interview_id, s0.position AS p0, c.start_offset,
                       s1.position AS p1, c.end_offset
                FROM codings c
                JOIN segments s0 ON s0.id = c.start_segment_id
                JOIN segments s1 ON s1.id = c.end_segment_id
                WHERE c.code_id = ? AND c.interview_id IN (SELECT value FROM json_each(?))""",
                           (code_id, json.dumps(sorted(interview_ids)))):
            spans.setdefault(r["interview_id"], []).append(
                (r["p0"], r["start_offset"], r["p1"], r["end_offset"]))
        return spans

    def delete_codings(self, coding_ids: Sequence[int]) -> Changes:
        """Delete several codings in one step (uncoding a selection, undoing auto-code);
        all or none: a coding that no longer exists refuses the whole call."""
        ids = list(dict.fromkeys(coding_ids))
        with self.write() as tx:
            for id_ in ids:
                self.delete_row("codings", id_)
                tx.remove("coding", id_)
            if ids:
                self.audit("codings deleted", count=len(ids))
        return tx.changes()


def _covers(outer: Span, inner: Span) -> bool:
    return outer[:2] <= inner[:2] and outer[2:] >= inner[2:]


__all__ = ["Matcher", "SearchMixin", "fts_match", "like_pattern", "matcher"]
