"""The identifier registry, detection candidates, decisions, the replacement scheme, and
the single transactions that apply and reverse an anonymisation.

Before an apply the originals sit in `identifier_originals` (the transcripts hold them
anyway). Applying moves them, with everything needed to undo it, to the key file
(study.store.key_file) and leaves only salted hashes, which is enough for the export
leak check. Audit entries name ids, categories and replacements, never an original.

What an apply changes is worked out beforehand (analysis.anonymise.apply) as an
AnonymisationRecord; the key file keeps that record and `apply_replacements` writes its
"after" side in one transaction, after checking that its "before" side is still what the
study holds. `reverse_replacements` puts the "before" side back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sqlite3
import string
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from study.errors import InUseError, StudyError, ValidationError
from study.identifiers import normalise, term_hash, word_count
from study.model import (
    AnonymisationDecision,
    Candidate,
    Category,
    Changes,
    Coding,
    Decision,
    Identifier,
    IdentifierRule,
    InterviewStatus,
    Segment,
)
from study.store.core import StoreCore, Transaction, now, parse_time
from study.store.interviews import _segment, _segment_row

if TYPE_CHECKING:
    # Store mixes this in after EditingMixin (segments, codings, edit_segment_text); a
    # runtime base would upset Store's method resolution order.
    from study.store.editing import EditingMixin as _Base
else:
    _Base = StoreCore

# --- the replacement scheme ------------------------------------------------------------------

DEFAULT_TEMPLATES: dict[str, str] = {
    Category.PERSON.value: "[Name {n}]",
    Category.FAMILY.value: "[Participant's {relation}]",
    Category.COLLEAGUE.value: "[Colleague {n}]",
    Category.PLACE.value: "[Place {n}]",
    Category.ORGANISATION.value: "[Organisation {n}]",
    Category.ADDRESS.value: "[Address]",
    Category.POSTCODE.value: "[Postcode]",
    Category.DATE.value: "[Date]",
    Category.AGE.value: "[Age]",
    Category.EMAIL.value: "[Email address]",
    Category.PHONE.value: "[Phone number]",
    Category.NHS_NUMBER.value: "[NHS number]",
    Category.NI_NUMBER.value: "[NI number]",
    Category.ROLE.value: "[Job role]",
    Category.OTHER.value: "[Redacted {n}]",
}
# When a template needs an attribute the identifier lacks (a family member without a
# relation), the category's numbered fallback keeps the replacement unique.
FALLBACK_TEMPLATES: dict[str, str] = {Category.FAMILY.value: "[Family member {n}]"}
LAST_RESORT = DEFAULT_TEMPLATES[Category.OTHER.value]

BRACKETS = "A replacement is written in square brackets, e.g. [Name 3] or [Participant's son]."


def template_fields(template: str) -> set[str]:
    """The {fields} a template uses; refuses anything but plain names (no attribute
    access or format specs, so a template can only ever fill in text)."""
    fields: set[str] = set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValidationError(f"The template {template!r} has unbalanced braces.") from e
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValidationError(f"{{{name}}} in a template must be a plain name such as "
                                  "{n} or {relation}.")
        fields.add(name)
    return fields


def check_replacement(text: str) -> str:
    text = " ".join(text.split())
    if len(text) < 3 or not (text.startswith("[") and text.endswith("]")):
        raise ValidationError(BRACKETS)
    return text


# --- what an apply changes, kept in the key file ---------------------------------------------


@dataclass(frozen=True, slots=True)
class AnonymisationRun:
    """One apply: its key id (the key file holds the same), when, and how much it replaced."""

    key_id: str
    applied_at: dt.datetime
    replaced: int
    reversed_at: dt.datetime | None = None
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.reversed_at is None


@dataclass(frozen=True, slots=True)
class SpanSwap:
    """One replaced occurrence: where it lay in the text before and after, and both texts."""

    before_start: int
    before_end: int
    after_start: int
    after_end: int
    original: str
    replacement: str
    identifier_id: int | None = None


@dataclass(frozen=True, slots=True)
class SegmentChange:
    """A segment before and after an apply (text, words, flags), with its swaps in order."""

    before: Segment
    after: Segment
    swaps: tuple[SpanSwap, ...]


@dataclass(frozen=True, slots=True)
class CodingChange:
    before: Coding
    after: Coding


@dataclass(frozen=True, slots=True)
class TextField:
    """One stored text outside the transcripts that may name someone (a memo, a title)."""

    table: str
    row_id: int
    column: str
    value: str
    is_json: bool = False


@dataclass(frozen=True, slots=True)
class FieldChange:
    table: str
    row_id: int
    column: str
    before: str
    after: str
    swaps: tuple[SpanSwap, ...] = ()


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    id: int
    term: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A registry entry with its original: what the key file keeps of each identifier."""

    identifier: Identifier
    original: str


@dataclass(frozen=True, slots=True)
class AnonymisationRecord:
    """Everything one apply changes, before and after: the key file keeps it so the
    apply can be reversed exactly, and the store writes its "after" side."""

    key_id: str
    applied_at: dt.datetime
    registry: tuple[KeyEntry, ...] = ()
    segments: tuple[SegmentChange, ...] = ()
    codings: tuple[CodingChange, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    decisions: tuple[AnonymisationDecision, ...] = ()
    glossary: tuple[GlossaryEntry, ...] = ()  # glossary terms that were identifiers: removed

    def swaps(self) -> Iterable[SpanSwap]:
        for s in self.segments:
            yield from s.swaps
        for f in self.fields:
            yield from f.swaps

    @property
    def replaced(self) -> int:
        return sum(1 for _ in self.swaps())


@dataclass(frozen=True, slots=True)
class ReverseResult(Changes):
    """What a reversal changed, and how many replacements it put back or could not find
    (text edited since the apply, segments deleted)."""

    restored: int = 0
    not_found: int = 0
    key_ids: tuple[str, ...] = ()


def map_offset(swaps: Sequence[SpanSwap], offset: int, *, end: bool,
               reverse: bool = False) -> int:
    """Where `offset` of the text before the swaps (after them, when reversing) lies in
    the other text. Text between swaps is unchanged, so an offset shifts by the length
    changes to its left; an edge strictly inside a swapped span moves to that span's
    outer edge on its side, so a coding covering a name covers its replacement."""
    last: SpanSwap | None = None
    for sw in swaps:  # left to right
        start, stop = (sw.after_start, sw.after_end) if reverse else (sw.before_start,
                                                                      sw.before_end)
        if stop <= offset:
            last = sw
        elif start < offset:
            if reverse:
                return sw.before_end if end else sw.before_start
            return sw.after_end if end else sw.after_start
        else:
            break
    if last is None:
        return offset
    if reverse:
        return offset - last.after_end + last.before_end
    return offset - last.before_end + last.after_end


def swap_back(text: str, swaps: Sequence[SpanSwap]) -> tuple[str, int]:
    """Put originals back into text edited since the apply: each replacement is looked
    for in order, after the previous one. Returns the text and how many were not found."""
    pieces: list[str] = []
    cursor = missing = 0
    for sw in swaps:
        at = text.find(sw.replacement, cursor)
        if at < 0:
            missing += 1
            continue
        pieces += [text[cursor:at], sw.original]
        cursor = at + len(sw.replacement)
    pieces.append(text[cursor:])
    return "".join(pieces), missing


# --- stored text outside the transcripts -----------------------------------------------------

# Every stored text an original could hide in, by table: (column, holds JSON). Applying
# rewrites them; audit details and job parameters are JSON whose string values are
# rewritten, so they stay valid. Interview status is written too (set to anonymised).
TEXT_COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "study": (("description", False),),
    "interviews": (("title", False),),
    "speakers": (("label", False),),
    "participants": (("notes", False),),
    "media": (("original_name", False),),
    "codes": (("name", False), ("definition", False)),
    "themes": (("name", False), ("definition", False)),
    "memos": (("text", False),),
    "journal": (("text", False),),
    "glossary": (("note", False),),
    "jobs": (("params", True), ("error", False)),
    "audit_log": (("detail", True),),
}
_WRITABLE = {(t, c) for t, cols in TEXT_COLUMNS.items() for c, _ in cols} | {
    ("interviews", "status")}
KINDS = {"study": "study", "interviews": "interview", "speakers": "speaker",
         "participants": "participant", "media": "media", "codes": "code", "themes": "theme",
         "memos": "memo", "journal": "journal", "glossary": "glossary", "jobs": "job",
         "audit_log": "audit"}
EARLIER_STATUSES = frozenset({InterviewStatus.RECORDED, InterviewStatus.TRANSCRIBED,
                              InterviewStatus.CHECKED})

CHANGED_SINCE = ("The study changed while the anonymisation was being prepared ({what}); "
                 "nothing was changed. Please apply it again.")


def _identifier(r: Mapping[str, Any]) -> Identifier:
    return Identifier(r["category"], r["replacement"], r["original_hash"],
                      tuple(sorted(json.loads(r["attributes"]).items())), r["id"],
                      IdentifierRule(r["rule"]), r["word_count"])


def _candidate(r: Mapping[str, Any]) -> Candidate:
    return Candidate(r["segment_id"], r["start_offset"], r["end_offset"], r["text"],
                     r["category"], r["source"], r["identifier_id"], r["id"])


def _run(r: Mapping[str, Any]) -> AnonymisationRun:
    applied = parse_time(r["applied_at"])
    assert applied is not None
    return AnonymisationRun(r["key_id"], applied, r["replaced"], parse_time(r["reversed_at"]),
                            r["id"])


def _coding_values(c: Coding) -> tuple[int, int, int, int, int, int]:
    return (c.code_id, c.interview_id, c.start_segment_id, c.start_offset, c.end_segment_id,
            c.end_offset)


class AnonymityMixin(_Base):
    # --- the registry ------------------------------------------------------------------------

    def identifiers(self) -> list[Identifier]:
        return [_identifier(r) for r in self.rows("SELECT * FROM identifiers ORDER BY id")]

    def identifier(self, identifier_id: int) -> Identifier:
        return _identifier(self.one("SELECT * FROM identifiers WHERE id = ?", (identifier_id,),
                                    "identifier"))

    def identifier_by_hash(self, original_hash: str) -> Identifier | None:
        rows = self.rows("SELECT * FROM identifiers WHERE original_hash = ?", (original_hash,))
        return _identifier(rows[0]) if rows else None

    def register_identifier(self, original: str, category: str, *,
                            replacement: str | None = None,
                            attributes: dict[str, str] | None = None,
                            rule: IdentifierRule = IdentifierRule.ASK) -> Changes:
        """Register a real name or detail with its study-wide replacement (from the scheme
        when none is given). The study keeps the original only until anonymisation is
        applied; the registry itself keys on the salted hash."""
        original = " ".join(original.split())
        if not normalise(original):
            raise ValidationError("An identifier needs some text.")
        category = category.strip()
        if not category:
            raise ValidationError("An identifier needs a category.")
        attrs = {k: " ".join(v.split()) for k, v in (attributes or {}).items() if v.strip()}
        with self.write() as tx:
            hashed = term_hash(self.salt(), original)
            existing = self.identifier_by_hash(hashed)
            if existing is not None:
                raise ValidationError(f"This is already registered, replaced by "
                                      f"{existing.replacement}.")
            if replacement is None or not replacement.strip():
                replacement = self.suggest_replacement(category, attrs)
            replacement = check_replacement(replacement)
            if re.search(rf"(?<!\w){re.escape(normalise(original))}(?!\w)",
                         replacement.casefold()):
                raise ValidationError("The replacement must not contain the original.")
            id_ = self.insert("identifiers", {
                "category": category, "replacement": replacement, "original_hash": hashed,
                "attributes": json.dumps(attrs), "rule": rule.value,
                "word_count": word_count(original)})
            self.insert("identifier_originals", {"identifier_id": id_, "original": original})
            tx.add("identifier", id_)
            self.audit("identifier registered", id=id_, category=category,
                       replacement=replacement, rule=rule.value)
        return tx.changes()

    def add_identifier(self, i: Identifier) -> Changes:
        """Add a registry entry by its hash alone (no original kept in the study)."""
        with self.write() as tx:
            id_ = self.insert("identifiers", {
                "category": i.category, "replacement": i.replacement,
                "original_hash": i.original_hash, "attributes": json.dumps(dict(i.attributes)),
                "rule": i.rule.value, "word_count": i.word_count})
            tx.add("identifier", id_)
            self.audit("identifier registered", id=id_, category=i.category,
                       replacement=i.replacement)
        return tx.changes()

    def update_identifier(self, i: Identifier) -> Changes:
        """Change category, replacement, attributes or rule (never the hash)."""
        if i.id is None:
            raise ValidationError("Only a saved identifier can be updated.")
        replacement = check_replacement(i.replacement)
        with self.write() as tx:
            self.update_row("identifiers", i.id, {
                "category": i.category, "replacement": replacement,
                "attributes": json.dumps(dict(i.attributes)), "rule": i.rule.value})
            tx.update("identifier", i.id)
            self.audit("identifier edited", id=i.id, replacement=replacement)
        return tx.changes()

    def set_identifier_rule(self, identifier_id: int, rule: IdentifierRule) -> Changes:
        with self.write() as tx:
            self.update_row("identifiers", identifier_id, {"rule": rule.value})
            tx.update("identifier", identifier_id)
            self.audit("identifier rule", id=identifier_id, rule=rule.value)
        return tx.changes()

    def delete_identifier(self, identifier_id: int) -> Changes:
        """Remove an identifier with its decisions. Refused once it has been applied (its
        original is in the key file): the leak check still needs its hash."""
        with self.write() as tx:
            ident = self.identifier(identifier_id)
            if self.identifier_original(identifier_id) is None and self.is_anonymised():
                raise InUseError(f"{ident.replacement} has been applied to the transcripts; "
                                 "reverse the anonymisation before deleting it, or set it to "
                                 "never be replaced.")
            for r in self.rows("SELECT id FROM anonymisation_decisions WHERE identifier_id = ?",
                               (identifier_id,)):
                tx.remove("decision", r["id"])
            for r in self.rows("SELECT id FROM anonymisation_candidates "
                               "WHERE identifier_id = ?", (identifier_id,)):
                tx.update("candidate", r["id"])
            self.delete_row("identifiers", identifier_id)
            tx.remove("identifier", identifier_id)
            self.audit("identifier deleted", id=identifier_id, category=ident.category,
                       replacement=ident.replacement)
        return tx.changes()

    def originals(self) -> dict[int, str]:
        """Originals still held by the study, by identifier id (none after an apply)."""
        return {r["identifier_id"]: r["original"] for r in self.rows(
            "SELECT identifier_id, original FROM identifier_originals ORDER BY identifier_id")}

    def identifier_original(self, identifier_id: int) -> str | None:
        rows = self.rows("SELECT original FROM identifier_originals WHERE identifier_id = ?",
                         (identifier_id,))
        return rows[0]["original"] if rows else None

    # --- the replacement scheme --------------------------------------------------------------

    def replacement_scheme(self) -> dict[str, str]:
        """The template of every category: the researcher's where set, else the default."""
        scheme = dict(DEFAULT_TEMPLATES)
        scheme.update({r["category"]: r["template"] for r in self.rows(
            "SELECT category, template FROM replacement_scheme ORDER BY category")})
        return scheme

    def set_replacement_template(self, category: str, template: str) -> Changes:
        """Templates are bracketed and may use {n} (the next free number) and any
        attribute name, e.g. "[{relation}]" or "[{description}]"."""
        category = category.strip()
        if not category:
            raise ValidationError("A template needs a category.")
        template = check_replacement(template)
        template_fields(template)
        with self.write() as tx:
            self.db.execute("INSERT INTO replacement_scheme (category, template) VALUES (?, ?) "
                            "ON CONFLICT (category) DO UPDATE SET template = excluded.template",
                            (category, template))
            rowid = self.scalar("SELECT rowid FROM replacement_scheme WHERE category = ?",
                                (category,))
            tx.update("replacement_template", int(rowid))
            self.audit("replacement template", category=category, template=template)
        return tx.changes()

    def suggest_replacement(self, category: str, attributes: Mapping[str, str] | None = None,
                            *, skip: int = 0) -> str:
        """What the scheme gives a new identifier of this category: numbered templates
        take the next number after the highest already used (e.g. [Name 4]). `skip`
        passes over that many free numbers: the suggestion for the next term but one."""
        attrs = {k: " ".join(v.split()) for k, v in (attributes or {}).items() if v.strip()}
        scheme = self.replacement_scheme()
        chosen = LAST_RESORT
        for template in (scheme.get(category), DEFAULT_TEMPLATES.get(category),
                         FALLBACK_TEMPLATES.get(category), LAST_RESORT):
            if template and template_fields(template) - {"n"} <= attrs.keys():
                chosen = template
                break
        if "n" not in template_fields(chosen):
            return chosen.format_map(attrs)
        marker = "\x00"
        before, _, after = chosen.format_map({**attrs, "n": marker}).partition(marker)
        after = after.replace(marker, "")
        pattern = re.compile(rf"{re.escape(before)}(\d+){re.escape(after)}")
        used = {r["replacement"] for r in self.rows("SELECT replacement FROM identifiers")}
        numbers = [int(m.group(1)) for u in used if (m := pattern.fullmatch(u))]
        n = max(numbers, default=0) + 1
        for _ in range(skip + 1):
            while f"{before}{n}{after}" in used:
                n += 1
            used.add(f"{before}{n}{after}")
        return f"{before}{n}{after}"

    # --- detection candidates and decisions --------------------------------------------------

    def replace_candidates(self, candidates: Sequence[Candidate], *,
                           interview_ids: Sequence[int] | None = None) -> Changes:
        """Swap in new detection results in one transaction: every candidate goes (or
        those in `interview_ids` only), then these are stored. A span proposed twice is
        stored once (the first wins); a candidate that no longer fits its segment's text
        is refused, since its offsets would point at other words."""
        with self.write() as tx:
            if interview_ids is None:
                old = self.rows("SELECT id FROM anonymisation_candidates")
                self.db.execute("DELETE FROM anonymisation_candidates")
            else:
                ids = json.dumps(sorted({int(i) for i in interview_ids}))
                where = ("segment_id IN (SELECT id FROM segments WHERE interview_id IN "
                         "(SELECT value FROM json_each(?)))")
                old = self.rows(f"SELECT id FROM anonymisation_candidates WHERE {where}", (ids,))
                self.db.execute(f"DELETE FROM anonymisation_candidates WHERE {where}", (ids,))
            for r in old:
                tx.remove("candidate", r["id"])
            texts = self._texts_of_segments({c.segment_id for c in candidates})
            seen: set[tuple[int, int, int]] = set()
            for c in candidates:
                spot = (c.segment_id, c.start, c.end)
                if spot in seen:
                    continue
                seen.add(spot)
                text = texts.get(c.segment_id)
                if text is None:
                    raise ValidationError("A candidate points at a segment that no longer "
                                          "exists; run detection again.")
                if not 0 <= c.start < c.end <= len(text) or text[c.start:c.end] != c.text:
                    raise ValidationError("The transcript has changed since detection ran; "
                                          "run detection again.")
                tx.add("candidate", self.insert("anonymisation_candidates", {
                    "segment_id": c.segment_id, "start_offset": c.start, "end_offset": c.end,
                    "text": c.text, "category": c.category, "source": c.source,
                    "identifier_id": c.identifier_id}))
            self.audit("anonymisation candidates replaced", removed=len(old), added=len(seen),
                       interviews=None if interview_ids is None else sorted(interview_ids))
        return tx.changes()

    def candidates(self, *, identifier_id: int | None = None,
                   segment_id: int | None = None) -> list[Candidate]:
        """Candidates in reading order (interview, segment position, offset)."""
        where, params = [], []
        if identifier_id is not None:
            where.append("c.identifier_id = ?")
            params.append(identifier_id)
        if segment_id is not None:
            where.append("c.segment_id = ?")
            params.append(segment_id)
        sql = ("SELECT c.* FROM anonymisation_candidates c JOIN segments s ON s.id = c.segment_id"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY s.interview_id, s.position, c.start_offset, c.end_offset")
        return [_candidate(r) for r in self.rows(sql, params)]

    def decisions(self, identifier_id: int | None = None) -> list[AnonymisationDecision]:
        sql = "SELECT * FROM anonymisation_decisions"
        rows = (self.rows(sql + " WHERE identifier_id = ? ORDER BY id", (identifier_id,))
                if identifier_id is not None else self.rows(sql + " ORDER BY id"))
        return [
            AnonymisationDecision(r["identifier_id"], r["segment_id"], r["start_offset"],
                                  r["end_offset"], Decision(r["decision"]),
                                  parse_time(r["decided_at"]), r["id"])
            for r in rows
        ]

    def decide(self, d: AnonymisationDecision) -> Changes:
        """Record (or change) the verdict on one occurrence; audited."""
        with self.write() as tx:
            for r in self.rows("SELECT id FROM anonymisation_decisions WHERE segment_id = ? "
                               "AND start_offset = ? AND end_offset = ?",
                               (d.segment_id, d.start_offset, d.end_offset)):
                self.delete_row("anonymisation_decisions", r["id"])
                tx.remove("decision", r["id"])
            id_ = self.insert("anonymisation_decisions", {
                "identifier_id": d.identifier_id, "segment_id": d.segment_id,
                "start_offset": d.start_offset, "end_offset": d.end_offset,
                "decision": d.decision.value, "decided_at": now().isoformat()})
            tx.add("decision", id_)
            self.audit("anonymisation decision", identifier=d.identifier_id,
                       segment=d.segment_id, start=d.start_offset, end=d.end_offset,
                       decision=d.decision.value)
        return tx.changes()

    def undecide(self, segment_id: int, start: int, end: int) -> Changes:
        """Withdraw the verdict on one occurrence (undo of a decision); audited."""
        with self.write() as tx:
            for r in self.rows("SELECT id, identifier_id FROM anonymisation_decisions "
                               "WHERE segment_id = ? AND start_offset = ? AND end_offset = ?",
                               (segment_id, start, end)):
                self.delete_row("anonymisation_decisions", r["id"])
                tx.remove("decision", r["id"])
                self.audit("anonymisation decision withdrawn", identifier=r["identifier_id"],
                           segment=segment_id, start=start, end=end)
        return tx.changes()

    # --- runs --------------------------------------------------------------------------------

    def anonymisation_runs(self) -> list[AnonymisationRun]:
        return [_run(r) for r in self.rows("SELECT * FROM anonymisation_runs ORDER BY id")]

    def is_anonymised(self) -> bool:
        """Whether an apply is in force (one not reversed since)."""
        return bool(self.scalar(
            "SELECT count(*) FROM anonymisation_runs WHERE reversed_at IS NULL"))

    # --- reads an apply needs ----------------------------------------------------------------

    def _texts_of_segments(self, segment_ids: Iterable[int]) -> dict[int, str]:
        ids = json.dumps(sorted(set(segment_ids)))
        return {r["id"]: r["text"] for r in self.rows(
            "SELECT id, text FROM segments WHERE id IN (SELECT value FROM json_each(?))",
            (ids,))}

    def segments_by_id(self, segment_ids: Iterable[int]) -> dict[int, Segment]:
        """Several segments in one query, by id (missing ones are left out)."""
        ids = json.dumps(sorted(set(segment_ids)))
        return {r["id"]: _segment(r) for r in self.rows(
            "SELECT * FROM segments WHERE id IN (SELECT value FROM json_each(?))", (ids,))}

    def segment_places(self, segment_ids: Iterable[int]) -> dict[int, tuple[int, int, str]]:
        """(interview id, position, text) of several segments, without their words."""
        ids = json.dumps(sorted(set(segment_ids)))
        return {r["id"]: (r["interview_id"], r["position"], r["text"]) for r in self.rows(
            "SELECT id, interview_id, position, text FROM segments "
            "WHERE id IN (SELECT value FROM json_each(?))", (ids,))}

    def flagged_segment_ids(self) -> list[int]:
        """Segments with flags, whose notes an apply must check for names too."""
        return [r["id"] for r in self.rows("SELECT id FROM segments WHERE flags != '[]'")]

    def text_fields(self) -> list[TextField]:
        """Every non-empty stored text outside the transcripts (see TEXT_COLUMNS)."""
        found: list[TextField] = []
        for table, columns in TEXT_COLUMNS.items():
            for column, is_json in columns:
                found += [TextField(table, r["id"], column, r["value"], is_json)
                          for r in self.rows(f"SELECT id, {column} AS value FROM {table} "
                                             f"WHERE {column} IS NOT NULL AND {column} != '' "
                                             "ORDER BY id")]
        return found

    def glossary_entries(self) -> list[GlossaryEntry]:
        return [GlossaryEntry(r["id"], r["term"], r["note"])
                for r in self.rows("SELECT id, term, note FROM glossary ORDER BY id")]

    def key_entries(self) -> list[KeyEntry]:
        """The identifiers whose originals the study still holds: what an apply moves."""
        return [KeyEntry(_identifier(r), r["original"]) for r in self.rows(
            "SELECT i.*, o.original FROM identifiers i "
            "JOIN identifier_originals o ON o.identifier_id = i.id ORDER BY i.id")]

    # --- apply -------------------------------------------------------------------------------

    def apply_replacements(self, record: AnonymisationRecord) -> Changes:
        """Write an apply in one transaction: the pseudonymised segments (text, words,
        flags), remapped codings, rewritten texts elsewhere, interview statuses; remove
        the originals, candidates, decisions and identifier glossary terms (all now in
        the key file); record the run; rebuild the search index so no deleted entry keeps
        an original. Refused, changing nothing, if the study no longer matches the
        record's "before" side."""
        with self.write() as tx:
            self._check_before(record)
            for change in record.segments:
                after = change.after
                assert after.id is not None
                row = _segment_row(after)
                self.db.execute("UPDATE segments SET text = ?, words = ?, flags = ? "
                                "WHERE id = ?", (row["text"], row["words"], row["flags"],
                                                 after.id))
                tx.update("segment", after.id)
            for c in record.codings:
                self._write_coding(c.after, tx)
            for f in record.fields:
                self._write_field(f.table, f.row_id, f.column, f.after, tx)
            for g in record.glossary:
                self.delete_row("glossary", g.id)
                tx.remove("glossary", g.id)
            for kind, table in (("candidate", "anonymisation_candidates"),
                                ("decision", "anonymisation_decisions")):
                for r in self.rows(f"SELECT id FROM {table}"):
                    tx.remove(kind, r["id"])
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM identifier_originals")
            run = self.insert("anonymisation_runs", {
                "key_id": record.key_id, "applied_at": record.applied_at.isoformat(),
                "replaced": record.replaced})
            tx.add("anonymisation_run", run)
            self._rebuild_search_index()
            by_identifier = Counter(sw.identifier_id for sw in record.swaps())
            categories = {e.identifier.id: e.identifier.category for e in record.registry}
            categories.update({i.id: i.category for i in self.identifiers()})
            self.audit("anonymisation applied", key_id=record.key_id, replaced=record.replaced,
                       segments=len(record.segments), fields=len(record.fields),
                       identifiers={str(k): v for k, v in sorted(
                           by_identifier.items(), key=lambda kv: kv[0] or 0)},
                       categories=dict(sorted(Counter(
                           categories.get(k, "?") for k in by_identifier.elements()).items())),
                       moved_to_key=len(record.registry))
        return tx.changes()

    def _check_before(self, record: AnonymisationRecord) -> None:
        ids = json.dumps(sorted(s.before.id for s in record.segments if s.before.id))
        current = {r["id"]: r for r in self.rows(
            "SELECT * FROM segments WHERE id IN (SELECT value FROM json_each(?))", (ids,))}
        for change in record.segments:
            row = current.get(change.before.id)
            if row is None or row["text"] != change.before.text:
                raise StudyError(CHANGED_SINCE.format(what="a transcript was edited"))
            stored = _segment_row(change.before)  # the same JSON, unless words changed
            if (row["words"], row["flags"]) != (stored["words"], stored["flags"]):
                seg = _segment(row)
                if (seg.words, seg.flags) != (change.before.words, change.before.flags):
                    raise StudyError(CHANGED_SINCE.format(what="word timings changed"))
        codings = {c.id: c for c in self._codings_of(list(current))}
        for cc in record.codings:
            now_c = codings.get(cc.before.id)
            if now_c is None or _coding_values(now_c) != _coding_values(cc.before):
                raise StudyError(CHANGED_SINCE.format(what="a coding changed"))
        for f in record.fields:
            if self._read_field(f.table, f.row_id, f.column) != f.before:
                raise StudyError(CHANGED_SINCE.format(what=f"a {KINDS[f.table]} changed"))
        if set(self.originals()) != {e.identifier.id for e in record.registry}:
            raise StudyError(CHANGED_SINCE.format(what="the registry changed"))

    def _codings_of(self, segment_ids: Sequence[int]) -> list[Coding]:
        """codings_touching in batches: SQLite bounds the parameters of one query."""
        found: dict[int | None, Coding] = {}
        for at in range(0, len(segment_ids), 4000):
            found.update({c.id: c for c in self.codings_touching(
                list(segment_ids[at:at + 4000]))})
        return list(found.values())

    def _read_field(self, table: str, row_id: int, column: str) -> str | None:
        if (table, column) not in _WRITABLE:
            raise ValueError(f"{table}.{column} is not a text an apply may write")
        rows = self.rows(f"SELECT {column} AS value FROM {table} WHERE id = ?", (row_id,))
        return rows[0]["value"] if rows else None

    def _write_field(self, table: str, row_id: int, column: str, value: str,
                     tx: Transaction) -> None:
        if (table, column) not in _WRITABLE:
            raise ValueError(f"{table}.{column} is not a text an apply may write")
        self.db.execute(f"UPDATE {table} SET {column} = ? WHERE id = ?", (value, row_id))
        tx.update(KINDS[table], row_id)

    def _write_coding(self, c: Coding, tx: Transaction) -> None:
        self.db.execute("UPDATE codings SET start_segment_id = ?, start_offset = ?, "
                        "end_segment_id = ?, end_offset = ? WHERE id = ?",
                        (c.start_segment_id, c.start_offset, c.end_segment_id, c.end_offset,
                         c.id))
        tx.update("coding", c.id)  # type: ignore[arg-type]

    def _rebuild_search_index(self) -> None:
        """Rebuild the full-text index from the segments: FTS5 keeps deleted terms in its
        older index segments until they are merged, so the originals would survive there."""
        self.db.execute("INSERT INTO segments_fts(segments_fts) VALUES ('rebuild')")

    def purge_freed_pages(self) -> bool:
        """After an apply: copy the study into fresh pages (VACUUM) and empty the WAL, so
        no freed page or old page version still holds an original. False when another
        connection kept it from completing (it can be run again later)."""
        if self._tx is not None:
            raise StudyError("Freed pages can only be purged outside a transaction.")
        try:
            self.db.execute("PRAGMA secure_delete = ON")
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.execute("VACUUM")
            busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            return False
        return busy == 0

    # --- reverse -----------------------------------------------------------------------------

    def reverse_replacements(self, record: AnonymisationRecord) -> ReverseResult:
        """Undo one apply from its record, in one transaction. Segments unchanged since
        get their exact text, words and flags back, codings recorded by the apply their
        exact offsets, other codings mapped back; segments edited since get each
        replacement put back where it is still found (codings follow as for any edit).
        The originals are registered again and the run is marked reversed."""
        with self.write() as tx:
            runs = self.rows("SELECT id, reversed_at FROM anonymisation_runs WHERE key_id = ?",
                             (record.key_id,))
            if not runs or runs[0]["reversed_at"] is not None:
                raise ValidationError("This anonymisation is not in force in the study, so "
                                      "there is nothing to reverse.")
            ids = self._restore_registry(record.registry, tx)
            current = self.segments_by_id(c.before.id for c in record.segments if c.before.id)
            unedited = {c.before.id: c for c in record.segments
                        if c.before.id in current and current[c.before.id].text == c.after.text}
            edited = [c for c in record.segments
                      if c.before.id in current and c.before.id not in unedited]
            restored = sum(len(c.swaps) for c in unedited.values())
            not_found = sum(len(c.swaps) for c in record.segments if c.before.id not in current)
            self._restore_codings(record, unedited, tx)
            for change in unedited.values():
                seg = current[change.before.id]  # type: ignore[index]
                flags = change.before.flags if seg.flags == change.after.flags else seg.flags
                row = _segment_row(dataclasses.replace(
                    seg, text=change.before.text, words=change.before.words, flags=flags))
                self.db.execute("UPDATE segments SET text = ?, words = ?, flags = ? "
                                "WHERE id = ?", (row["text"], row["words"], row["flags"],
                                                 seg.id))
                tx.update("segment", seg.id)  # type: ignore[arg-type]
            for change in edited:
                seg_id = change.before.id
                assert seg_id is not None
                text, missing = swap_back(current[seg_id].text, change.swaps)
                restored += len(change.swaps) - missing
                not_found += missing
                self.edit_segment_text(seg_id, text)  # codings follow as for any edit
            for f in record.fields:
                value = self._read_field(f.table, f.row_id, f.column)
                if value is None:
                    not_found += len(f.swaps)
                    continue
                if value == f.after:
                    self._write_field(f.table, f.row_id, f.column, f.before, tx)
                    restored += len(f.swaps)
                    continue
                if not f.swaps:
                    continue  # e.g. a status moved on since: leave it
                text, missing = swap_back(value, f.swaps)
                restored += len(f.swaps) - missing
                not_found += missing
                if text != value:
                    self._write_field(f.table, f.row_id, f.column, text, tx)
            for g in record.glossary:
                if not self.rows("SELECT 1 FROM glossary WHERE term = ?", (g.term,)):
                    free = not self.rows("SELECT 1 FROM glossary WHERE id = ?", (g.id,))
                    row = {"term": g.term, "note": g.note}
                    tx.add("glossary", self.insert("glossary", {"id": g.id, **row} if free
                                                   else row))
            self._restore_review(record, set(unedited), ids, tx)
            self.db.execute("UPDATE anonymisation_runs SET reversed_at = ? WHERE id = ?",
                            (now().isoformat(), runs[0]["id"]))
            tx.update("anonymisation_run", runs[0]["id"])
            self.audit("anonymisation reversed", key_id=record.key_id, restored=restored,
                       not_found=not_found, registered_again=len(ids))
        c = tx.changes()
        return ReverseResult(c.added, c.updated, c.removed, restored, not_found,
                             (record.key_id,))

    def _restore_registry(self, entries: Sequence[KeyEntry], tx: Transaction) -> dict[int, int]:
        """Register the originals again; returns recorded identifier id -> id now."""
        ids: dict[int, int] = {}
        for e in entries:
            i = e.identifier
            assert i.id is not None
            same = self.identifier_by_hash(i.original_hash)
            if same is None:
                row = {"category": i.category, "replacement": i.replacement,
                       "original_hash": i.original_hash,
                       "attributes": json.dumps(dict(i.attributes)), "rule": i.rule.value,
                       "word_count": i.word_count}
                free = not self.rows("SELECT 1 FROM identifiers WHERE id = ?", (i.id,))
                new_id = self.insert("identifiers", {"id": i.id, **row} if free else row)
                tx.add("identifier", new_id)
            else:
                assert same.id is not None
                new_id = same.id
                tx.update("identifier", new_id)
            self.db.execute("INSERT OR REPLACE INTO identifier_originals (identifier_id, "
                            "original) VALUES (?, ?)", (new_id, e.original))
            ids[i.id] = new_id
        return ids

    def _restore_codings(self, record: AnonymisationRecord,
                         unedited: Mapping[int | None, SegmentChange], tx: Transaction) -> None:
        """Codings ending in unedited segments: exact recorded offsets where the coding
        is as the apply left it, else mapped back through the swaps."""
        recorded = {c.before.id: c for c in record.codings}
        for c in self._codings_of([i for i in unedited if i is not None]):
            rec = recorded.get(c.id)
            if (rec is not None and _coding_values(c) == _coding_values(rec.after)
                    and c.start_segment_id in unedited and c.end_segment_id in unedited):
                target = rec.before
            else:
                start, end = c.start_offset, c.end_offset
                if c.start_segment_id in unedited:
                    start = map_offset(unedited[c.start_segment_id].swaps, start, end=False,
                                       reverse=True)
                if c.end_segment_id in unedited:
                    end = map_offset(unedited[c.end_segment_id].swaps, end, end=True,
                                     reverse=True)
                target = dataclasses.replace(c, start_offset=start, end_offset=end)
            if _coding_values(target) != _coding_values(c):
                self._write_coding(dataclasses.replace(target, id=c.id), tx)

    def _restore_review(self, record: AnonymisationRecord, unedited: set[int | None],
                        ids: Mapping[int, int], tx: Transaction) -> None:
        """Candidates and decisions come back on segments whose text is as it was."""
        where = "segment_id IN (SELECT value FROM json_each(?))"
        segments = json.dumps(sorted(i for i in unedited if i is not None))
        taken: dict[str, set[int]] = {}
        for table, kind in (("anonymisation_candidates", "candidate"),
                            ("anonymisation_decisions", "decision")):
            for r in self.rows(f"SELECT id FROM {table} WHERE {where}", (segments,)):
                tx.remove(kind, r["id"])
            self.db.execute(f"DELETE FROM {table} WHERE {where}", (segments,))
            taken[table] = {r["id"] for r in self.rows(f"SELECT id FROM {table}")}
        known = {r["id"] for r in self.rows("SELECT id FROM identifiers")}
        for c in record.candidates:
            if c.segment_id not in unedited:
                continue
            ident = ids.get(c.identifier_id or 0, c.identifier_id)
            row = {"segment_id": c.segment_id, "start_offset": c.start, "end_offset": c.end,
                   "text": c.text, "category": c.category, "source": c.source,
                   "identifier_id": ident if ident in known else None}
            tx.add("candidate", self._insert_keeping_id(
                "anonymisation_candidates", c.id, row, taken["anonymisation_candidates"]))
        for d in record.decisions:
            ident = ids.get(d.identifier_id, d.identifier_id)
            if d.segment_id not in unedited or ident not in known:
                continue
            row = {"identifier_id": ident, "segment_id": d.segment_id,
                   "start_offset": d.start_offset, "end_offset": d.end_offset,
                   "decision": d.decision.value,
                   "decided_at": (d.decided_at or now()).isoformat()}
            tx.add("decision", self._insert_keeping_id(
                "anonymisation_decisions", d.id, row, taken["anonymisation_decisions"]))

    def _insert_keeping_id(self, table: str, id_: int | None, row: dict[str, Any],
                           taken: set[int]) -> int:
        """Insert under the recorded id when it is free (ids are what undo relies on)."""
        new_id = self.insert(table, {"id": id_, **row} if id_ is not None and id_ not in taken
                             else row)
        taken.add(new_id)
        return new_id


__all__ = [
    "DEFAULT_TEMPLATES",
    "FALLBACK_TEMPLATES",
    "TEXT_COLUMNS",
    "AnonymisationRecord",
    "AnonymisationRun",
    "AnonymityMixin",
    "CodingChange",
    "FieldChange",
    "GlossaryEntry",
    "KeyEntry",
    "ReverseResult",
    "SegmentChange",
    "SpanSwap",
    "TextField",
    "check_replacement",
    "map_offset",
    "swap_back",
    "template_fields",
]
