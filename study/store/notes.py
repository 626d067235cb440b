"""Memos on any object, and the reflexive journal."""

from __future__ import annotations

from typing import Any

from study.errors import ValidationError
from study.model import AnalysisPhase, Changes, JournalEntry, Memo, MemoTarget
from study.store.core import StoreCore, now, parse_time


def _memo(r: dict[str, Any]) -> Memo:
    return Memo(MemoTarget(r["target"]), r["text"], r["target_id"], r["start_offset"],
                r["end_offset"], parse_time(r["created_at"]), parse_time(r["updated_at"]), r["id"])


class NotesMixin(StoreCore):
    def memos(self, target: MemoTarget | None = None, target_id: int | None = None) -> list[Memo]:
        if target is None:
            return [_memo(r) for r in self.rows("SELECT * FROM memos ORDER BY id")]
        return [_memo(r) for r in self.rows(
            "SELECT * FROM memos WHERE target = ? AND target_id IS ? ORDER BY id",
            (target.value, target_id))]

    def add_memo(self, m: Memo) -> Changes:
        if (m.target is MemoTarget.STUDY) != (m.target_id is None):
            raise ValidationError("A study memo has no target; every other memo needs one.")
        stamp = now().isoformat()
        with self.write() as tx:
            row = {"target": m.target.value, "target_id": m.target_id,
                   "start_offset": m.start_offset, "end_offset": m.end_offset, "text": m.text,
                   "created_at": stamp, "updated_at": stamp}
            if m.id is not None:
                row = {"id": m.id, **row}
            tx.add("memo", self.insert("memos", row))
        return tx.changes()

    def update_memo(self, m: Memo) -> Changes:
        if m.id is None:
            raise ValidationError("Only a saved memo can be updated.")
        with self.write() as tx:
            self.update_row("memos", m.id, {"text": m.text, "updated_at": now().isoformat()})
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
        return [
            JournalEntry(r["text"], AnalysisPhase(r["phase"]), parse_time(r["created_at"]), r["id"])
            for r in self.rows("SELECT * FROM journal ORDER BY created_at, id")
        ]

    def add_journal_entry(self, e: JournalEntry) -> Changes:
        with self.write() as tx:
            stamp = (e.created_at or now()).isoformat()
            tx.add("journal", self.insert(
                "journal", {"phase": e.phase.value, "text": e.text, "created_at": stamp}))
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
