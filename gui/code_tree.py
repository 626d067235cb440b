"""The codebook as a filterable tree, shared by the coding page (apply codes) and the
codebook page (edit and rearrange them).

Codes drag out as a JSON list of ids (the themes panel and map accept them). Where
rearranging is on, a drop asks for a move through `move_requested` and the tree then
redraws from the store: the model never moves rows by itself, so the undo stack is
the only way the codebook changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeyEvent,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLineEdit,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from study.model import Code

CODE_MIME = "application/x-verbatim-code-ids"
CODE_ID_ROLE = Qt.ItemDataRole.UserRole + 20
Index = QModelIndex | QPersistentModelIndex


def swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def code_ids_from(mime: QMimeData) -> list[int]:
    if not mime.hasFormat(CODE_MIME):
        return []
    try:
        ids = json.loads(bytes(mime.data(CODE_MIME).data()).decode())
    except ValueError:
        return []
    return [int(i) for i in ids if isinstance(i, int)]


def ordered(codes: Sequence[Code]) -> list[tuple[Code, int]]:
    """Codes depth first in codebook order, with their depth."""
    children: dict[int | None, list[Code]] = {}
    for c in codes:
        children.setdefault(c.parent_id, []).append(c)
    out: list[tuple[Code, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in children.get(parent, []):
            out.append((c, depth))
            walk(c.id, depth + 1)

    walk(None, 0)
    return out


class _CodesModel(QStandardItemModel):
    def mimeTypes(self) -> list[str]:
        return [CODE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids = list(dict.fromkeys(int(i.data(CODE_ID_ROLE)) for i in indexes
                                 if i.data(CODE_ID_ROLE) is not None))
        mime = QMimeData()
        mime.setData(CODE_MIME, QByteArray(json.dumps(ids).encode()))
        return mime

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction


class _TreeView(QTreeView):
    dropped = Signal(list, QPoint)  # code ids, viewport position
    activated_by_key = Signal()

    def __init__(self, reorder: bool) -> None:
        super().__init__()
        self.reorder = reorder
        self.setDragEnabled(True)
        self.setAcceptDrops(reorder)
        self.setDropIndicatorShown(reorder)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop if reorder
                             else QAbstractItemView.DragDropMode.DragOnly)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if self.reorder and code_ids_from(e.mimeData()):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dragMoveEvent(self, e: QDragMoveEvent) -> None:
        super().dragMoveEvent(e)
        if self.reorder and code_ids_from(e.mimeData()):
            e.acceptProposedAction()

    def dropEvent(self, e: QDropEvent) -> None:
        ids = code_ids_from(e.mimeData())
        if self.reorder and ids:
            self.dropped.emit(ids, e.position().toPoint())
            e.setDropAction(Qt.DropAction.IgnoreAction)  # the store moves it, not the model
            e.accept()
        else:
            e.ignore()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.activated_by_key.emit()
            return
        super().keyPressEvent(e)


class CodeTree(QWidget):
    """Filter box over a tree of codes with colour swatches and coding counts."""

    code_activated = Signal(int)
    current_changed = Signal(object)  # int | None
    move_requested = Signal(int, object, int)  # code id, new parent id | None, index

    def __init__(self, *, reorder: bool = False, quick_keys: bool = False,
                 definitions: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.quick_keys = quick_keys
        self.columns = ["Code", "Codings"] + (["Definition"] if definitions else [])
        self.codes: dict[int, Code] = {}
        self.model = _CodesModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.filter = QLineEdit()
        self.filter.setObjectName("codeFilter")
        self.filter.setPlaceholderText("Search codes…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        self.filter.returnPressed.connect(self._activate_first)
        self.view = _TreeView(reorder)
        self.view.setObjectName("codeTree")
        self.view.setModel(self.proxy)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.doubleClicked.connect(self._activate)
        self.view.activated_by_key.connect(lambda: self._activate(self.view.currentIndex()))
        self.view.dropped.connect(self._dropped)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _old: self.current_changed.emit(self._id(current)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)

    # --- content -------------------------------------------------------------------------

    def reload(self, codes: Sequence[Code], counts: dict[int, int]) -> None:
        """Redraw, keeping which codes were expanded and which was current."""
        current = self.current_code_id()
        collapsed = {cid for cid, idx in self._indexes().items()
                     if self.model.hasChildren(idx) and not self.view.isExpanded(
                         self.proxy.mapFromSource(idx))}
        self.codes = {c.id: c for c in codes if c.id is not None}
        self.model.clear()
        self.model.setHorizontalHeaderLabels(self.columns)
        items: dict[int | None, QStandardItem] = {None: self.model.invisibleRootItem()}
        for code, _depth in ordered(codes):
            row = [QStandardItem(code.name), QStandardItem(str(counts.get(code.id or -1, 0)))]
            if len(self.columns) > 2:
                row.append(QStandardItem(code.definition.splitlines()[0]
                                         if code.definition else ""))
            for item in row:
                item.setEditable(False)
                item.setData(code.id, CODE_ID_ROLE)
                item.setDropEnabled(True)
            row[0].setIcon(swatch(code.colour))
            if code.definition:
                row[0].setToolTip(code.definition)
            row[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            parent = items.get(code.parent_id, items[None])
            parent.appendRow(row)
            items[code.id] = row[0]
        header = self.view.header()
        header.setStretchLastSection(False)
        last = len(self.columns) - 1  # the definition when shown, else the name stretches
        for column in range(len(self.columns)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(last if last == 2 else 0, QHeaderView.ResizeMode.Stretch)
        self.view.expandAll()
        for cid, idx in self._indexes().items():
            if cid in collapsed:
                self.view.collapse(self.proxy.mapFromSource(idx))
        self._number_quick_keys()
        if current is not None:
            self.set_current(current)

    def set_counts(self, counts: dict[int, int]) -> None:
        """New coding counts without rebuilding the tree (codings change often)."""
        for cid, idx in self._indexes().items():
            item = self.model.itemFromIndex(idx.siblingAtColumn(1))
            text = str(counts.get(cid, 0))
            if item is not None and item.text() != text:
                item.setText(text)

    def _indexes(self) -> dict[int, QModelIndex]:
        found: dict[int, QModelIndex] = {}

        def walk(parent: QModelIndex) -> None:
            for row in range(self.model.rowCount(parent)):
                idx = self.model.index(row, 0, parent)
                found[int(idx.data(CODE_ID_ROLE))] = idx
                walk(idx)

        walk(QModelIndex())
        return found

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.view.expandAll()
        self._number_quick_keys()
        first = self.visible_code_ids()[:1]
        if text.strip() and first:
            self.set_current(first[0])

    def _number_quick_keys(self) -> None:
        """The first nine codes shown get keys 1–9 (shown before their names)."""
        if not self.quick_keys:
            return
        keys = {cid: n + 1 for n, cid in enumerate(self.visible_code_ids()[:9])}
        for cid, idx in self._indexes().items():
            code = self.codes[cid]
            key = keys.get(cid)
            self.model.itemFromIndex(idx).setText(f"{key}  {code.name}" if key else code.name)

    # --- reading ---------------------------------------------------------------------------

    def visible_code_ids(self) -> list[int]:
        """Codes in the order shown (depth first), after filtering."""
        out: list[int] = []

        def walk(parent: QModelIndex) -> None:
            for row in range(self.proxy.rowCount(parent)):
                idx = self.proxy.index(row, 0, parent)
                out.append(int(idx.data(CODE_ID_ROLE)))
                walk(idx)

        walk(QModelIndex())
        return out

    def quick_code(self, key: int) -> int | None:
        ids = self.visible_code_ids()
        return ids[key - 1] if 0 < key <= min(9, len(ids)) else None

    @staticmethod
    def _id(index: Index) -> int | None:
        value = index.data(CODE_ID_ROLE) if index.isValid() else None
        return int(value) if value is not None else None

    def current_code_id(self) -> int | None:
        return self._id(self.view.currentIndex())

    def set_current(self, code_id: int) -> None:
        idx = self._indexes().get(code_id)
        if idx is not None:
            proxied = self.proxy.mapFromSource(idx)
            if proxied.isValid():
                self.view.setCurrentIndex(proxied)
                self.view.scrollTo(proxied)

    # --- activation and drops ------------------------------------------------------------------

    def _activate(self, index: Index) -> None:
        code_id = self._id(index)
        if code_id is not None:
            self.code_activated.emit(code_id)

    def _activate_first(self) -> None:
        current = self.current_code_id()
        if current is not None and current in self.visible_code_ids():
            self.code_activated.emit(current)

    def drop_target(self, point: QPoint) -> tuple[int | None, int]:
        """Where a drop at `point` puts a code: (parent id, index among its children).
        The middle of a row makes it a child; its top or bottom edge, a sibling."""
        index = self.view.indexAt(point)
        if not index.isValid():
            return None, len([c for c in self.codes.values() if c.parent_id is None])
        code = self.codes[int(index.data(CODE_ID_ROLE))]
        rect = self.view.visualRect(index)
        siblings = [c.id for c, _ in ordered(list(self.codes.values()))
                    if c.parent_id == code.parent_id]
        here = siblings.index(code.id)
        if point.y() < rect.top() + rect.height() // 4:
            return code.parent_id, here
        if point.y() > rect.bottom() - rect.height() // 4:
            return code.parent_id, here + 1
        return code.id, len([c for c in self.codes.values() if c.parent_id == code.id])

    def _dropped(self, ids: list[int], point: QPoint) -> None:
        parent_id, position = self.drop_target(point)
        for code_id in ids:
            code = self.codes.get(code_id)
            if code is None or code_id == parent_id:
                continue
            if code.parent_id == parent_id:
                siblings = [c.id for c, _ in ordered(list(self.codes.values()))
                            if c.parent_id == parent_id]
                if siblings.index(code_id) < position:
                    position -= 1  # it leaves its old place first
            self.move_requested.emit(code_id, parent_id, position)
