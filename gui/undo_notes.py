"""Undo commands for memos, the reflexive journal and auto-coding of search hits.

Each follows gui/undo.py: `apply()` does the work once before the push, `revert()` undoes
it. Adds and deletes keep the stored object (its id and times), so undoing a delete or
redoing an add gives back exactly what was there.
"""

from __future__ import annotations

from collections.abc import Sequence

from gui.undo import StoreCommand
from study.model import JournalEntry, Memo, SearchHit
from study.store import Store


def _saved(obj: Memo | JournalEntry) -> int:
    if obj.id is None:
        raise ValueError(f"{type(obj).__name__} has no id: only a saved one can be changed")
    return obj.id


class AddMemo(StoreCommand):
    def __init__(self, store: Store, memo: Memo) -> None:
        super().__init__(store, "Add memo")
        self.memo = memo

    def apply(self) -> None:
        new_id = self.store.add_memo(self.memo).new_id("memo")
        self.memo = self.store.memo(new_id)  # with its times, so redo restores it exactly

    def revert(self) -> None:
        self.store.delete_memo(_saved(self.memo))


class EditMemo(StoreCommand):
    def __init__(self, store: Store, before: Memo, after: Memo) -> None:
        super().__init__(store, "Edit memo")
        _saved(before)
        self.before, self.after = before, after
        self._applied = False

    def apply(self) -> None:
        if self._applied:  # redo: the text and edit time the first apply stored
            self.store.update_memo(self.after, keep_time=True)
            return
        self.store.update_memo(self.after)
        self.after = self.store.memo(_saved(self.before))
        self._applied = True

    def revert(self) -> None:
        self.store.update_memo(self.before, keep_time=True)


class DeleteMemo(StoreCommand):
    def __init__(self, store: Store, memo: Memo) -> None:
        super().__init__(store, "Delete memo")
        _saved(memo)
        self.memo = memo

    def apply(self) -> None:
        self.store.delete_memo(_saved(self.memo))

    def revert(self) -> None:
        self.store.add_memo(self.memo)  # same id, text and times


class AddJournalEntry(StoreCommand):
    def __init__(self, store: Store, entry: JournalEntry) -> None:
        super().__init__(store, "Add journal entry")
        self.entry = entry

    def apply(self) -> None:
        new_id = self.store.add_journal_entry(self.entry).new_id("journal")
        self.entry = self.store.journal_entry(new_id)

    def revert(self) -> None:
        self.store.delete_journal_entry(_saved(self.entry))


class EditJournalEntry(StoreCommand):
    def __init__(self, store: Store, before: JournalEntry, after: JournalEntry) -> None:
        super().__init__(store, "Edit journal entry")
        _saved(before)
        self.before, self.after = before, after

    def apply(self) -> None:
        self.store.update_journal_entry(self.after)

    def revert(self) -> None:
        self.store.update_journal_entry(self.before)


class DeleteJournalEntry(StoreCommand):
    def __init__(self, store: Store, entry: JournalEntry) -> None:
        super().__init__(store, "Delete journal entry")
        _saved(entry)
        self.entry = entry

    def apply(self) -> None:
        self.store.delete_journal_entry(_saved(self.entry))

    def revert(self) -> None:
        self.store.add_journal_entry(self.entry)  # same id, text, phase and time


class AutoCode(StoreCommand):
    """Code every search hit (or its whole segment) at once: one undo step for all.

    Hits the code already covers add nothing; only the codings this command added are
    removed on undo. Redo codes the hits again, keeping the new codings' ids. When nothing
    was added the command marks itself obsolete, so pushing it leaves the stack as it was.
    """

    def __init__(self, store: Store, code_id: int, hits: Sequence[SearchHit],
                 whole_segment: bool = False) -> None:
        name = store.code(code_id).name
        super().__init__(store, f"Code {len(hits)} hit{'s' * (len(hits) != 1)} with {name}")
        self.code_id = code_id
        self.hits = tuple(hits)
        self.whole_segment = whole_segment
        self.coding_ids: tuple[int, ...] = ()

    def apply(self) -> None:
        changes = self.store.auto_code(self.code_id, self.hits, whole_segment=self.whole_segment)
        self.coding_ids = changes.ids("coding", "added")
        if not self.coding_ids:  # every hit was coded already: no step to undo
            self.setObsolete(True)

    def revert(self) -> None:
        if self.coding_ids:
            self.store.delete_codings(self.coding_ids)
