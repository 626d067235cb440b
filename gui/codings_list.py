"""Every coding of a code across the study, with where it is and what it says; opening
one shows it in the coding page."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.format import clock
from study.model import Coding, CodingRef
from study.store import Store

CODING_ROLE = Qt.ItemDataRole.UserRole + 30


class _Table(QTableView):
    open_current = Signal()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_current.emit()
            return
        super().keyPressEvent(e)


class CodingsList(QWidget):
    open_coding = Signal(object)  # Coding

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.code_ids: list[int] = []
        self.title = QLabel("Choose a code to see its codings.")
        self.title.setWordWrap(True)
        self.with_children = QCheckBox("Include sub-codes")
        self.with_children.setChecked(True)
        self.with_children.toggled.connect(lambda _on: self.reload())
        self.model = QStandardItemModel(self)
        self.table = _Table()
        self.table.setObjectName("codingsTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.table.open_current.connect(lambda: self._open(self.table.currentIndex().row()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.with_children)
        layout.addWidget(self.table)

    def show_code(self, code_id: int | None) -> None:
        self.code_ids = [] if code_id is None else [code_id]
        self.reload()

    def reload(self) -> None:
        self.model.clear()
        self.model.setHorizontalHeaderLabels(["Interview", "Participant", "Time", "Speaker",
                                              "Coded text"])
        if not self.code_ids:
            self.title.setText("Choose a code to see its codings.")
            return
        ids: Sequence[int] = self.code_ids
        if self.with_children.isChecked():
            ids = [i for cid in self.code_ids for i in self.store.code_subtree(cid)]
        refs: list[CodingRef] = self.store.coding_refs(code_ids=ids)
        for ref in refs:
            row = [QStandardItem(ref.interview_title), QStandardItem(ref.participant_code),
                   QStandardItem(clock(ref.start_ms)), QStandardItem(ref.speaker_label),
                   QStandardItem(ref.text)]
            row[0].setData(ref.coding, CODING_ROLE)
            row[4].setToolTip(ref.text)
            self.model.appendRow(row)
        header = self.table.horizontalHeader()
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        names = ", ".join(self.store.code(cid).name for cid in self.code_ids)
        people = len({r.participant_code for r in refs if r.participant_code})
        self.title.setText(f"<b>{names}</b>: {len(refs)} codings in "
                           f"{len({r.coding.interview_id for r in refs})} interviews "
                           f"({people} participants). Double-click one to read it in place.")

    def _open(self, row: int) -> None:
        item = self.model.item(row, 0)
        if item is not None:
            coding: Coding = item.data(CODING_ROLE)
            self.open_coding.emit(coding)
