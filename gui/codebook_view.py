"""The codebook and themes page (read-only for now): codes as a tree with their
colours, definitions and coding counts, and the candidate themes with member codes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLabel, QSplitter, QTreeView, QVBoxLayout, QWidget

from study.model import Changes, Code
from study.store import Store

WATCHED = frozenset({"code", "coding", "theme"})


def swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


def _row(*texts: str) -> list[QStandardItem]:
    items = [QStandardItem(t) for t in texts]
    for item in items:
        item.setEditable(False)
    return items


class CodebookView(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.codes_model = QStandardItemModel(self)
        self.themes_model = QStandardItemModel(self)
        self.codes = QTreeView()
        self.codes.setObjectName("codesTree")
        self.codes.setModel(self.codes_model)
        self.themes = QTreeView()
        self.themes.setObjectName("themesTree")
        self.themes.setModel(self.themes_model)
        splitter = QSplitter(Qt.Orientation.Vertical)
        for title, tree in (("Codebook", self.codes), ("Themes", self.themes)):
            box = QWidget()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 0, 0, 0)
            box_layout.addWidget(QLabel(f"<b>{title}</b>"))
            box_layout.addWidget(tree)
            splitter.addWidget(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.reload()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if changes.kinds() & WATCHED:
            self.reload()

    def reload(self) -> None:
        codes = self.store.codes()
        counts = self.store.coding_counts()
        by_id = {c.id: c for c in codes}
        self.codes_model.clear()
        self.codes_model.setHorizontalHeaderLabels(["Code", "Codings", "Definition"])
        items: dict[int | None, QStandardItem] = {None: self.codes_model.invisibleRootItem()}
        pending = list(codes)
        while pending:  # parents before children, whatever the stored order
            placed = [c for c in pending if c.parent_id in items]
            if not placed:
                break
            for c in placed:
                row = self._code_row(c, counts.get(c.id or -1, 0))
                items[c.parent_id].appendRow(row)
                items[c.id] = row[0]
            pending = [c for c in pending if c not in placed]
        self.codes.expandAll()
        self.codes.resizeColumnToContents(0)

        self.themes_model.clear()
        self.themes_model.setHorizontalHeaderLabels(["Theme / code", "Status", "Definition"])
        for t in self.store.themes():
            row = _row(t.name, t.status.value, t.definition)
            row[0].setToolTip(t.definition)
            for cid in t.code_ids:
                if cid in by_id:
                    member = _row(by_id[cid].name, "", by_id[cid].definition)
                    member[0].setIcon(swatch(by_id[cid].colour))
                    row[0].appendRow(member)
            self.themes_model.appendRow(row)
        self.themes.expandAll()
        self.themes.resizeColumnToContents(0)

    @staticmethod
    def _code_row(code: Code, count: int) -> list[QStandardItem]:
        row = _row(code.name, str(count), code.definition)
        row[0].setIcon(swatch(code.colour))
        row[0].setToolTip(code.definition)
        row[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return row
