"""Undo commands for themes and the thematic map (see gui/undo.py for the pattern).

Commands capture what they change when they apply, not when they are made, so a redo
after other undone steps writes back exactly what it took away.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from analysis.thematic_map import NodeKey, Point
from gui.undo import StoreCommand
from study.model import Memo, MemoTarget, Theme
from study.store import Store

Positions = Mapping[NodeKey, Point | None]  # None: not placed (automatic layout)


def _delete_keeping(store: Store, theme_id: int) -> tuple[Theme, list[Memo]]:
    """Delete a theme, returning it and its memos: a trigger deletes the memos with it."""
    theme = store.theme(theme_id)
    memos = store.memos(MemoTarget.THEME, theme_id)
    store.delete_theme(theme_id)
    return theme, memos


def _restore(store: Store, theme: Theme, memos: Iterable[Memo]) -> None:
    """Put a deleted theme back with its id, members, map position and memos."""
    with store.write():
        store.add_theme(theme)
        for memo in memos:
            store.add_memo(memo)


class AddTheme(StoreCommand):
    """Adds a theme; `theme.id` is the new id once applied, and redo keeps it."""

    def __init__(self, store: Store, theme: Theme) -> None:
        super().__init__(store, f"Add theme {theme.name.strip()}")
        self.theme = theme
        self._memos: list[Memo] = []  # memos written on it before an undo

    def apply(self) -> None:
        if self.theme.id is None:
            new_id = self.store.add_theme(self.theme).new_id("theme")
            self.theme = dataclasses.replace(self.theme, id=new_id)
        else:
            _restore(self.store, self.theme, self._memos)

    def revert(self) -> None:
        assert self.theme.id is not None
        self.theme, self._memos = _delete_keeping(self.store, self.theme.id)


class EditTheme(StoreCommand):
    """Changes a theme's name, definition, status and members; its place on the map and
    in the list are left as they are now."""

    def __init__(self, store: Store, before: Theme, after: Theme) -> None:
        super().__init__(store, f"Edit theme {before.name}")
        assert before.id is not None and before.id == after.id
        self.before, self.after = before, after

    def _write(self, source: Theme) -> None:
        assert source.id is not None
        current = self.store.theme(source.id)
        self.store.update_theme(dataclasses.replace(
            current, name=source.name, definition=source.definition, status=source.status,
            code_ids=source.code_ids))

    def apply(self) -> None:
        self._write(self.after)

    def revert(self) -> None:
        self._write(self.before)


class DeleteTheme(StoreCommand):
    """Deletes a theme (its codes stay in the codebook); undo restores it with its id,
    members, map position and the memos written on it."""

    def __init__(self, store: Store, theme_id: int, name: str = "") -> None:
        super().__init__(store, f"Delete theme {name or store.theme(theme_id).name}")
        self.theme_id = theme_id
        self.theme: Theme | None = None
        self.memos: list[Memo] = []

    def apply(self) -> None:
        self.theme, self.memos = _delete_keeping(self.store, self.theme_id)

    def revert(self) -> None:
        assert self.theme is not None
        _restore(self.store, self.theme, self.memos)


class SetThemeMembers(StoreCommand):
    """Sets the codes a theme groups, e.g. after codes were dropped on it."""

    def __init__(self, store: Store, theme_id: int, code_ids: Iterable[int],
                 text: str = "") -> None:
        super().__init__(store, text or f"Change the codes of theme {store.theme(theme_id).name}")
        self.theme_id = theme_id
        self.code_ids = tuple(dict.fromkeys(code_ids))
        self.before: tuple[int, ...] = ()

    def _set(self, code_ids: tuple[int, ...]) -> None:
        self.store.update_theme(dataclasses.replace(self.store.theme(self.theme_id),
                                                    code_ids=code_ids))

    def apply(self) -> None:
        self.before = self.store.theme(self.theme_id).code_ids
        self._set(self.code_ids)

    def revert(self) -> None:
        self._set(self.before)


class MoveCodeBetweenThemes(StoreCommand):
    """Takes a code out of one theme and puts it in another, as one step; either side may
    be None, so the same command adds a code to a theme or removes it from one."""

    def __init__(self, store: Store, code_id: int, from_theme_id: int | None,
                 to_theme_id: int | None) -> None:
        code = store.code(code_id).name
        if from_theme_id is not None and to_theme_id is not None:
            text = f"Move code {code} to theme {store.theme(to_theme_id).name}"
        elif to_theme_id is not None:
            text = f"Add code {code} to theme {store.theme(to_theme_id).name}"
        elif from_theme_id is not None:
            text = f"Remove code {code} from theme {store.theme(from_theme_id).name}"
        else:
            raise ValueError("A move needs a theme to leave or a theme to join.")
        super().__init__(store, text)
        self.code_id = code_id
        self.from_theme_id, self.to_theme_id = from_theme_id, to_theme_id
        self.before: dict[int, tuple[int, ...]] = {}

    def apply(self) -> None:
        with self.store.write():
            self.before = {}
            for theme_id, keep in ((self.from_theme_id, False), (self.to_theme_id, True)):
                if theme_id is None:
                    continue
                theme = self.store.theme(theme_id)
                self.before[theme_id] = theme.code_ids
                others = tuple(c for c in theme.code_ids if c != self.code_id)
                self.store.update_theme(dataclasses.replace(
                    theme, code_ids=(*others, self.code_id) if keep else others))

    def revert(self) -> None:
        with self.store.write():
            for theme_id, code_ids in self.before.items():
                self.store.update_theme(dataclasses.replace(self.store.theme(theme_id),
                                                            code_ids=code_ids))


class MoveMapNodes(StoreCommand):
    """Saves where nodes sit on the thematic map; a None position un-places a node, so it
    goes back to the automatic layout (undoing the first move of a node does that)."""

    def __init__(self, store: Store, before: Positions, after: Positions,
                 text: str = "Move on the thematic map") -> None:
        super().__init__(store, text)
        self.before, self.after = dict(before), dict(after)

    def _save(self, positions: dict[NodeKey, Point | None]) -> None:
        self.store.set_map_positions(
            themes={i: xy for (kind, i), xy in positions.items() if kind == "theme"},
            codes={i: xy for (kind, i), xy in positions.items() if kind == "code"})

    def apply(self) -> None:
        self._save(self.after)

    def revert(self) -> None:
        self._save(self.before)
