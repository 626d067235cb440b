"""Memos on any object, and the reflexive journal."""

from __future__ import annotations

from typing import Any

from study.errors import ValidationError
from study.model import AnalysisPhase, Changes, JournalEntry, Memo, MemoTarget
from study.store.core import StoreCore, now, parse_time


def _memo(r: dict[str, Any]) -> Memo:
    return Memo(MemoTarget(r["target"]), r["text"], r["target_id"], r["start_offset"],
                r["end_offset"], parse_time(r["created_at"]), parse_time(r["updated_at"]), r["id"])


def _entry(r: dict[str, Any]) -> JournalEntry:
    return JournalEntry(r["text"], AnalysisPhase(r["phase"]), parse_time(r["created_at"]), r["id"])


class NotesMixin(StoreCore):
    def memos(self, target: MemoTarget | None = None, target_id: int | None = None) -> list[Memo]:
        if target is None:
            return [_memo(r) for r in self.rows("SELECT * FROM memos ORDER BY id")]
        return [_memo(r) for r in self.rows(
            "SELECT * FROM memos WHERE target = ? AND target_id IS ? ORDER BY id",
            (target.value, target_id))]

    def memo(self, memo_id: int) -> Memo:
        return _memo(self.one("SELECT * FROM memos WHERE id = ?", (memo_id,), "memo"))

    def add_memo(self, m: Memo) -> Changes:
        """Save a memo; given times and id are kept, so undoing a delete restores it as it was."""
        if (m.target is MemoTarget.STUDY) != (m.target_id is None):
            raise ValidationError("A study memo has no target; every other memo needs one.")
        created = m.created_at or now()
        updated = m.updated_at or created
        with self.write() as tx:
            row = {"target": m.target.value, "target_id": m.target_id,
                   "start_offset": m.start_offset, "end_offset": m.end_offset, "text": m.text,
                   "created_at": created.isoformat(), "updated_at": updated.isoformat()}
            if m.id is not None:
                row = {"id": m.id, **row}
            tx.add("memo", self.insert("memos", row))
        return tx.changes()

    def update_memo(self, m: Memo, *, keep_time: bool = False) -> Changes:
        """Change a memo's text, stamping it now; `keep_time` keeps m.updated_at instead,
        so undo puts back the memo exactly as it was."""
        if m.id is None:
            raise ValidationError("Only a saved memo can be updated.")
        stamp = m.updated_at if keep_time and m.updated_at is not None else now()
        with self.write() as tx:
            self.update_row("memos", m.id, {"text": m.text, "updated_at": stamp.isoformat()})
            tx.update("memo", m.id)
        return tx.changes()

    def delete_memo(self, memo_id: int) -> Changes:
        with self.write() as tx:
            self.delete_row("memos", memo_id)
            tx.remove("memo", memo_id)
        return tx.changes()

    def glossary(self) -> list[str]:
        """Names and jargon of the study: hints for the recogniser and the anonymiser."""
        return [r["term"] for r in self.rows("SELECT term FROM glossary ORDER BY term")]

    def add_glossary_term(self, term: str, note: str = "") -> Changes:
        if not term.strip():
            raise ValidationError("A glossary term cannot be empty.")
        with self.write() as tx:
            if self.rows("SELECT id FROM glossary WHERE term = ?", (term.strip(),)):
                raise ValidationError(f"{term.strip()!r} is already in the glossary.")
            tx.add("glossary", self.insert("glossary", {"term": term.strip(), "note": note}))
        return tx.changes()

    def delete_glossary_term(self, term: str) -> Changes:
        with self.write() as tx:
            for r in self.rows("SELECT id FROM glossary WHERE term = ?", (term,)):
                self.delete_row("glossary", r["id"])
                tx.remove("glossary", r["id"])
        return tx.changes()

    def journal(self) -> list[JournalEntry]:
        return [_entry(r) for r in self.rows("SELECT * FROM journal ORDER BY created_at, id")]

    def journal_entry(self, entry_id: int) -> JournalEntry:
        return _entry(self.one("SELECT * FROM journal WHERE id = ?", (entry_id,), "journal entry"))

    def add_journal_entry(self, e: JournalEntry) -> Changes:
        """Save an entry; a given id and time are kept, so undoing a delete restores it."""
        with self.write() as tx:
            row = {"phase": e.phase.value, "text": e.text,
                   "created_at": (e.created_at or now()).isoformat()}
            if e.id is not None:
                row = {"id": e.id, **row}
            tx.add("journal", self.insert("journal", row))
        return tx.changes()

    def update_journal_entry(self, e: JournalEntry) -> Changes:
        if e.id is None:
            raise ValidationError("Only a saved journal entry can be updated.")
        with self.write() as tx:
            self.update_row("journal", e.id, {"phase": e.phase.value, "text": e.text})
            tx.update("journal", e.id)
        return tx.changes()

    def delete_journal_entry(self, entry_id: int) -> Changes:
        with self.write() as tx:
            self.delete_row("journal", entry_id)
            tx.remove("journal", entry_id)
        return tx.changes()
