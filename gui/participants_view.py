"""The participants page: a sortable table with add, edit, delete and new attribute,
every change undoable."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.attribute_dialog import AttributeDialog
from gui.participant_dialog import ParticipantDialog
from gui.participants_model import SORT_ROLE, ParticipantsModel
from gui.undo import AddAttribute, AddParticipant, DeleteParticipant, EditParticipant, push
from study.model import AttributeDef, Participant
from study.store import Store


class ParticipantsView(QWidget):
    message = Signal(str)  # for the status bar

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.model = ParticipantsModel(store, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("participantsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        self.table.doubleClicked.connect(lambda _index: self.edit_selected())

        self.add_action = make_action(self, "&Add participant…", self.add, "Ctrl+Shift+P")
        self.edit_action = make_action(self, "&Edit participant…", self.edit_selected, "Return")
        self.delete_action = make_action(self, "&Delete participant", self.delete_selected,
                                         QKeySequence.StandardKey.Delete)
        self.attribute_action = make_action(self, "New &attribute…", self.add_attribute,
                                            "Ctrl+Shift+A")
        for a in (self.edit_action, self.delete_action):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        toolbar = QToolBar()
        toolbar.addActions([self.add_action, self.edit_action, self.delete_action,
                            self.attribute_action])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(self.table)
        self.table.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.modelReset.connect(self._update_actions)
        self._update_actions()


    def _update_actions(self) -> None:
        has = self.selected() is not None
        self.edit_action.setEnabled(has)
        self.delete_action.setEnabled(has)

    def selected(self) -> Participant | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.participant(self.proxy.mapToSource(rows[0]).row())

    def select(self, participant_id: int) -> None:
        row = self.model.row_of(participant_id)
        if row >= 0:
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            self.table.selectRow(index.row())
            self.table.scrollTo(index)

    def _dialog(self, participant: Participant,
                submit: Callable[[Participant], None]) -> ParticipantDialog:
        """Window-modal and non-blocking, so the event loop (and any job) keeps running."""
        dialog = ParticipantDialog(participant, self.model.attribute_defs(), self.store.groups(),
                                   submit, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def add(self) -> ParticipantDialog:
        def submit(p: Participant) -> None:
            command = AddParticipant(self.store, p)
            push(self.stack, command)
            assert command.participant.id is not None
            self.select(command.participant.id)
            self.message.emit(f"Added {p.code}.")

        return self._dialog(Participant(code=""), submit)

    def edit_selected(self) -> ParticipantDialog | None:
        before = self.selected()
        if before is None:
            return None

        def submit(after: Participant) -> None:
            if after != before:
                push(self.stack, EditParticipant(self.store, before, after))

        return self._dialog(before, submit)

    def delete_selected(self) -> None:
        p = self.selected()
        if p is None:
            return
        push(self.stack, DeleteParticipant(self.store, p))
        self.message.emit(f"Deleted {p.code}. Undo brings it back.")

    def add_attribute(self) -> AttributeDialog:
        def submit(a: AttributeDef) -> None:
            push(self.stack, AddAttribute(self.store, a))
            self.message.emit(f"Added the attribute {a.name}.")

        dialog = AttributeDialog(submit, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
