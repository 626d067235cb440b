"""Undo commands for the codebook and for codings (see gui/undo.py for the pattern).

Deleting and merging codes are undone from snapshots the store takes before the change,
so the codes, their codings, theme memberships and memos come back with their ids.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from gui.undo import StoreCommand
from study.model import Code, Coding, Memo, MemoTarget
from study.store import Store


class AddCode(StoreCommand):
    def __init__(self, store: Store, code: Code) -> None:
        super().__init__(store, f"Add code {code.name.strip()}")
        self.code = code

    def apply(self) -> None:
        new_id = self.store.add_code(self.code).new_id("code")
        self.code = dataclasses.replace(self.code, id=new_id)  # redo keeps the id

    def revert(self) -> None:
        assert self.code.id is not None
        self.store.delete_code(self.code.id)


class EditCode(StoreCommand):
    def __init__(self, store: Store, before: Code, after: Code) -> None:
        verb = "Rename" if before.name != after.name else "Edit"
        super().__init__(store, f"{verb} code {before.name}")
        self.before, self.after = before, after

    def apply(self) -> None:
        self.store.update_code(self.after)

    def revert(self) -> None:
        self.store.update_code(self.before)


def sibling_index(store: Store, code: Code) -> int:
    """The code's place among its siblings, in the order the codebook shows them."""
    siblings = [c.id for c in store.codes() if c.parent_id == code.parent_id]
    return siblings.index(code.id)


class MoveCode(StoreCommand):
    def __init__(self, store: Store, code: Code, parent_id: int | None, position: int) -> None:
        super().__init__(store, f"Move code {code.name}")
        assert code.id is not None
        self.code_id = code.id
        self.before = (code.parent_id, sibling_index(store, code))
        self.after = (parent_id, position)

    def apply(self) -> None:
        self.store.move_code(self.code_id, *self.after)

    def revert(self) -> None:
        self.store.move_code(self.code_id, *self.before)


class DeleteCode(StoreCommand):
    def __init__(self, store: Store, code: Code) -> None:
        super().__init__(store, f"Delete code {code.name}")
        assert code.id is not None
        self.code_id = code.id
        self.snapshot = store.code_snapshot(code.id)

    def apply(self) -> None:
        self.store.delete_code(self.code_id)

    def revert(self) -> None:
        self.store.restore_code_snapshots([self.snapshot])


class MergeCodes(StoreCommand):
    def __init__(self, store: Store, source: Code, target: Code) -> None:
        super().__init__(store, f"Merge code {source.name} into {target.name}")
        assert source.id is not None and target.id is not None
        self.source_id, self.target_id = source.id, target.id
        self.snapshots = [store.code_snapshot(source.id), store.code_snapshot(target.id)]

    def apply(self) -> None:
        self.store.merge_codes(self.source_id, self.target_id)

    def revert(self) -> None:
        self.store.restore_code_snapshots(self.snapshots)


class AddCodings(StoreCommand):
    """Apply a code to one or more spans in one step."""

    def __init__(self, store: Store, codings: Sequence[Coding], text: str = "") -> None:
        super().__init__(store, text or "Code selection")
        self.codings = list(codings)

    def apply(self) -> None:
        with self.store.write():
            self.codings = [
                dataclasses.replace(c, id=self.store.add_coding(c).new_id("coding"))
                for c in self.codings]

    def revert(self) -> None:
        self.store.delete_codings([c.id for c in self.codings if c.id is not None])


class RemoveCodings(StoreCommand):
    """Uncode: the codings go, with the memos written on them; undo brings both back
    exactly as they were (the codings as they are now, if an edit has moved them)."""

    def __init__(self, store: Store, codings: Sequence[Coding], text: str = "") -> None:
        super().__init__(store, text or ("Remove coding" if len(codings) == 1
                                         else f"Remove {len(codings)} codings"))
        self.codings = list(codings)
        self.memos: list[Memo] = [m for c in codings if c.id is not None
                                  for m in store.memos(MemoTarget.CODING, c.id)]

    def apply(self) -> None:
        self.store.delete_codings([c.id for c in self.codings if c.id is not None])

    def revert(self) -> None:
        with self.store.write():
            for c in self.codings:
                self.store.add_coding(c)
            for m in self.memos:
                self.store.add_memo(m)
