"""The themes panel: candidate themes and the codes they group, as a tree.

Everything here is an undo command on the window's stack: new, edit and delete themes,
a quick status change (candidate, reviewed, final, the Braun and Clarke progression),
and codes dropped on a theme, whether from the codebook or from another theme.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QPoint,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QKeySequence,
    QStandardItem,
    QStandardItemModel,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QMessageBox,
    QToolBar,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.theme_dialog import ThemeDialog, confirm_delete_theme, open_theme_dialog, swatch
from gui.undo import push
from gui.undo_themes import EditTheme, MoveCodeBetweenThemes, SetThemeMembers
from study.model import Changes, ThemeStatus
from study.store import Store

CODE_MIME = "application/x-verbatim-code-ids"  # a JSON list of code ids
SOURCE_THEME_MIME = "application/x-verbatim-source-theme"  # the theme they were dragged from
WATCHED = frozenset({"theme", "code"})

KIND_ROLE = Qt.ItemDataRole.UserRole + 1  # "theme" or "code"
ID_ROLE = Qt.ItemDataRole.UserRole + 2
THEME_ROLE = Qt.ItemDataRole.UserRole + 3  # the theme the row belongs to
STATUS_ROLE = Qt.ItemDataRole.UserRole + 4  # that theme's status

Selection = tuple[str, int, int]  # kind, id, theme id


def code_ids_from(mime: QMimeData) -> list[int]:
    """The code ids a drag carries, or [] when it carries none (or garbage)."""
    if not mime.hasFormat(CODE_MIME):
        return []
    try:
        ids = json.loads(bytes(mime.data(CODE_MIME).data()).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]


def codes_mime(code_ids: Sequence[int], source_theme: int | None = None) -> QMimeData:
    """Mime data for dragging codes to a theme (here, on the map, or from the codebook)."""
    mime = QMimeData()
    mime.setData(CODE_MIME, QByteArray(json.dumps(list(code_ids)).encode()))
    if source_theme is not None:
        mime.setData(SOURCE_THEME_MIME, QByteArray(str(source_theme).encode()))
    return mime


def _source_theme(mime: QMimeData) -> int | None:
    if not mime.hasFormat(SOURCE_THEME_MIME):
        return None
    try:
        return int(bytes(mime.data(SOURCE_THEME_MIME).data()).decode())
    except ValueError:
        return None


class _ThemesModel(QStandardItemModel):
    """Drags out member codes with the theme they come from."""

    def mimeTypes(self) -> list[str]:
        return [CODE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = [i for i in indexes if i.column() == 0 and i.data(KIND_ROLE) == "code"]
        themes = {i.data(THEME_ROLE) for i in rows}
        return codes_mime([i.data(ID_ROLE) for i in rows],
                          themes.pop() if len(themes) == 1 else None)

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        """Copy only: whatever a drop means, the store decides, and a drop target never
        makes the view delete the dragged rows itself."""
        return Qt.DropAction.CopyAction


class _ThemesTree(QTreeView):
    """Takes drops of codes onto a theme row (or onto one of its codes)."""

    codes_dropped = Signal(int, list, object, bool)  # theme, codes, source theme, add (Ctrl)

    def _target(self, pos: QPoint) -> int | None:
        index = self.indexAt(pos)
        return index.data(THEME_ROLE) if index.isValid() else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if code_ids_from(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if code_ids_from(event.mimeData()) and self._target(event.position().toPoint()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        ids = code_ids_from(event.mimeData())
        theme_id = self._target(event.position().toPoint())
        if not ids or theme_id is None:
            event.ignore()
            return
        add = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        event.setDropAction(Qt.DropAction.CopyAction)  # the source never deletes anything
        event.accept()
        self.codes_dropped.emit(theme_id, ids, _source_theme(event.mimeData()), add)


class ThemesPanel(QWidget):
    theme_selected = Signal(int)  # the current row is this theme
    code_selected = Signal(int)  # the current row is this member code
    message = Signal(str)  # for the status bar

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.model = _ThemesModel(self)
        self.tree = _ThemesTree()
        self.tree.setObjectName("themesTree")
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.tree.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.tree.setDragEnabled(True)
        self.tree.setAcceptDrops(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._show_context_menu)
        self.tree.doubleClicked.connect(lambda _index: self.edit_selected())
        self.tree.codes_dropped.connect(self._dropped)

        self.new_action = make_action(self, "&New theme…", self.new_theme, "Ctrl+Shift+N")
        self.edit_action = make_action(self, "&Edit theme…", self.edit_selected)
        self.edit_action.setShortcuts([QKeySequence("Return"), QKeySequence("Enter"),
                                       QKeySequence("F2")])
        self.delete_action = make_action(self, "&Delete theme", self.delete_selected,
                                         QKeySequence.StandardKey.Delete)
        self.status_group = QActionGroup(self)
        self.status_actions: dict[ThemeStatus, QAction] = {}
        self.status_menu = QMenu("Set &status", self)
        for n, status in enumerate(ThemeStatus, start=1):
            action = make_action(self, status.value.capitalize(),
                                 lambda _checked=False, s=status: self.set_status(s),
                                 f"Ctrl+Alt+{n}")
            action.setCheckable(True)
            self.status_group.addAction(action)
            self.status_menu.addAction(action)
            self.status_actions[status] = action
        for a in (self.edit_action, self.delete_action, *self.status_actions.values()):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

        toolbar = QToolBar()
        toolbar.addActions([self.new_action, self.edit_action, self.delete_action])
        status_button = QToolButton()
        status_button.setText("Status")
        status_button.setMenu(self.status_menu)
        status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        toolbar.addWidget(status_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(self.tree)
        self._current: tuple[str, int] | None = None
        self.tree.selectionModel().currentRowChanged.connect(self._current_changed)
        self.reload()

    # --- contents ------------------------------------------------------------------------

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if changes.kinds() & WATCHED:
            self.reload()

    def reload(self) -> None:
        """Rebuild from the store, keeping which themes are collapsed, the current row and
        the scroll position."""
        collapsed = {self.model.item(r).data(ID_ROLE) for r in range(self.model.rowCount())
                     if not self.tree.isExpanded(self.model.index(r, 0))}
        current = self.selected()
        scroll = self.tree.verticalScrollBar().value()
        codes = {c.id: c for c in self.store.codes()}
        self.model.clear()
        self.model.setHorizontalHeaderLabels(["Theme / code", "Status", "Codes"])
        for t in self.store.themes():
            assert t.id is not None
            members = [codes[cid] for cid in t.code_ids if cid in codes]
            row = [QStandardItem(t.name), QStandardItem(t.status.value.capitalize()),
                   QStandardItem(str(len(members)))]
            font = QFont(row[0].font())
            font.setBold(True)
            row[0].setFont(font)
            row[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for item in row:
                item.setData("theme", KIND_ROLE)
                item.setData(t.id, ID_ROLE)
                item.setData(t.id, THEME_ROLE)
                item.setData(t.status.value, STATUS_ROLE)
                item.setToolTip(t.definition or "No definition yet")
                item.setEditable(False)
                item.setDragEnabled(False)
                item.setDropEnabled(True)
            for c in members:
                member = [QStandardItem(c.name), QStandardItem(""), QStandardItem("")]
                member[0].setIcon(swatch(c.colour))
                for item in member:
                    item.setData("code", KIND_ROLE)
                    item.setData(c.id, ID_ROLE)
                    item.setData(t.id, THEME_ROLE)
                    item.setData(t.status.value, STATUS_ROLE)
                    item.setToolTip(c.definition)
                    item.setEditable(False)
                    item.setDragEnabled(True)
                    item.setDropEnabled(True)
                row[0].appendRow(member)
            self.model.appendRow(row)
        for r in range(self.model.rowCount()):
            if self.model.item(r).data(ID_ROLE) not in collapsed:
                self.tree.expand(self.model.index(r, 0))
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        if current is not None:
            self._select(*current)
        self.tree.verticalScrollBar().setValue(scroll)
        self._update_actions()

    def _index_of(self, kind: str, id_: int, theme_id: int) -> QModelIndex:
        for r in range(self.model.rowCount()):
            theme = self.model.item(r)
            if theme.data(ID_ROLE) != theme_id:
                continue
            if kind == "theme":
                return theme.index()
            for c in range(theme.rowCount()):
                if theme.child(c).data(ID_ROLE) == id_:
                    return theme.child(c).index()
        return QModelIndex()

    def _select(self, kind: str, id_: int, theme_id: int) -> bool:
        index = self._index_of(kind, id_, theme_id)
        if not index.isValid():
            self.tree.selectionModel().clearSelection()
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)
        return True

    def select_theme(self, theme_id: int) -> bool:
        return self._select("theme", theme_id, theme_id)

    def select_code(self, theme_id: int, code_id: int) -> bool:
        return self._select("code", code_id, theme_id)

    def selected(self) -> Selection | None:
        """(kind, id, theme id) of the selected row."""
        rows = self.tree.selectionModel().selectedRows()
        if not rows:
            return None
        index = rows[0]
        return (index.data(KIND_ROLE), index.data(ID_ROLE), index.data(THEME_ROLE))

    def selected_theme_id(self) -> int | None:
        """The selected theme, or the theme of the selected member code."""
        chosen = self.selected()
        return chosen[2] if chosen is not None else None

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_actions()
        key = (current.data(KIND_ROLE), current.data(ID_ROLE)) if current.isValid() else None
        if key == self._current:
            return
        self._current = key
        if key is not None:
            (self.theme_selected if key[0] == "theme" else self.code_selected).emit(key[1])

    def _update_actions(self) -> None:
        chosen = self.selected()
        self.edit_action.setEnabled(chosen is not None)
        self.delete_action.setEnabled(chosen is not None)
        self.delete_action.setText("&Remove code from theme" if chosen and chosen[0] == "code"
                                   else "&Delete theme")
        self.status_menu.setEnabled(chosen is not None)
        rows = self.tree.selectionModel().selectedRows()
        if rows:  # from the row, not the store: this runs while the rows are rebuilt
            self.status_actions[ThemeStatus(rows[0].data(STATUS_ROLE))].setChecked(True)

    # --- commands ------------------------------------------------------------------------

    def new_theme(self) -> ThemeDialog:
        return open_theme_dialog(self, self.store, self.stack, None, self._added)

    def _added(self, theme_id: int) -> None:
        self.select_theme(theme_id)
        self.message.emit("Added the theme. Undo removes it.")

    def edit_selected(self) -> ThemeDialog | None:
        theme_id = self.selected_theme_id()
        if theme_id is None:
            return None
        return open_theme_dialog(self, self.store, self.stack, theme_id)

    def delete_selected(self) -> QMessageBox | None:
        """Delete the selected theme after asking (the box is returned, open), or take the
        selected code out of its theme at once (undo puts it back)."""
        chosen = self.selected()
        if chosen is None:
            return None
        kind, id_, theme_id = chosen
        if kind == "code":
            push(self.stack, MoveCodeBetweenThemes(self.store, id_, theme_id, None))
            self.select_theme(theme_id)
            return None
        return confirm_delete_theme(self, self.store, self.stack, theme_id)

    def set_status(self, status: ThemeStatus) -> None:
        theme_id = self.selected_theme_id()
        if theme_id is None:
            return
        before = self.store.theme(theme_id)
        if before.status != status:
            after = dataclasses.replace(before, status=status)
            push(self.stack, EditTheme(self.store, before, after))
            self.message.emit(f"{before.name} is now {status.value}.")

    def add_codes(self, theme_id: int, code_ids: Iterable[int]) -> bool:
        """Add codes to a theme in one undo step; False when all were members already."""
        theme = self.store.theme(theme_id)
        known = {c.id for c in self.store.codes()}
        new = [c for c in dict.fromkeys(code_ids) if c in known and c not in theme.code_ids]
        if not new:
            return False
        n = len(new)
        push(self.stack, SetThemeMembers(
            self.store, theme_id, (*theme.code_ids, *new),
            f"Add {n} code{'' if n == 1 else 's'} to theme {theme.name}"))
        return True

    def move_codes(self, code_ids: Sequence[int], from_theme: int, to_theme: int) -> None:
        """Move member codes from one theme to another, as one undo step."""
        ids = [c for c in dict.fromkeys(code_ids)
               if c not in self.store.theme(to_theme).code_ids]
        if from_theme == to_theme or not ids:
            return
        self.stack.beginMacro(f"Move {len(ids)} codes to theme "
                              f"{self.store.theme(to_theme).name}")
        try:
            for cid in ids:
                push(self.stack, MoveCodeBetweenThemes(self.store, cid, from_theme, to_theme))
        finally:
            self.stack.endMacro()

    def _dropped(self, theme_id: int, code_ids: list[int], source: int | None,
                 add: bool) -> None:
        if source is None or add:
            self.add_codes(theme_id, code_ids)
        elif len(code_ids) == 1:
            if code_ids[0] not in self.store.theme(theme_id).code_ids and source != theme_id:
                push(self.stack, MoveCodeBetweenThemes(self.store, code_ids[0], source,
                                                       theme_id))
        else:
            self.move_codes(code_ids, source, theme_id)
        self.select_theme(theme_id)

    def _show_context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        menu = QMenu(self)
        menu.addActions([self.new_action, self.edit_action, self.delete_action])
        menu.addMenu(self.status_menu)
        return menu
