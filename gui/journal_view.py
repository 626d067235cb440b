"""The reflexive journal: dated entries tagged with the phase of thematic analysis they
were written in, newest first, filterable by phase, each change one undo step.

Braun and Clarke ask the researcher to keep track of how their own position shapes the
analysis; the phase tag lets the write-up show how that thinking moved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeySequence, QPalette, QTextCursor, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QLabel,
    QListView,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.memo_panel import Ask, NoteEditor, ask_yes_no, first_line, when
from gui.undo import push
from gui.undo_notes import AddJournalEntry, DeleteJournalEntry, EditJournalEntry
from study.model import AnalysisPhase, Changes, JournalEntry
from study.store import Store

ID_ROLE = Qt.ItemDataRole.UserRole + 1
PHASE_ROLE = Qt.ItemDataRole.UserRole + 2
AnyIndex = QModelIndex | QPersistentModelIndex

EMPTY = ("The reflexive journal is where you note how you are reading the data: your "
         "assumptions, reactions and decisions, and why themes change. Each entry is dated and "
         "tagged with the phase of analysis you are in.\n\nWrite your first entry below.")
NOTHING_IN_PHASE = "No entries in this phase. Choose “All phases” to see every entry."


def phase_label(phase: AnalysisPhase) -> str:
    return phase.value[0].upper() + phase.value[1:]


class JournalModel(QAbstractListModel):
    """Every journal entry, newest first: a thin adapter over the store's list."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[JournalEntry] = []

    def set_entries(self, entries: list[JournalEntry]) -> None:
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        ordered = sorted(entries, key=lambda e: (e.created_at or oldest, e.id or 0),
                         reverse=True)
        if [e.id for e in ordered] == [e.id for e in self.entries]:
            self.entries = ordered  # same rows: keep the selection, repaint the text
            if ordered:
                self.dataChanged.emit(self.index(0), self.index(len(ordered) - 1))
            return
        self.beginResetModel()
        self.entries = ordered
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        e = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{when(e.created_at)} · {phase_label(e.phase)}\n{first_line(e.text, '')}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return e.text
        if role == ID_ROLE:
            return e.id
        if role == PHASE_ROLE:
            return e.phase.value
        return None

    def row_of(self, entry_id: int | None) -> int:
        return next((r for r, e in enumerate(self.entries) if e.id == entry_id), -1)

    def entry(self, entry_id: int | None) -> JournalEntry | None:
        row = self.row_of(entry_id)
        return self.entries[row] if row >= 0 else None


class JournalView(QWidget):
    """The journal page. Connect `on_changed` to the study's change signal."""

    message = Signal(str)  # for the status bar

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.ask: Ask = ask_yes_no(self)
        self.current: JournalEntry | None = None  # the entry in the form; None: a new one
        self._baseline: tuple[str, AnalysisPhase] = ("", AnalysisPhase.FAMILIARISATION)

        self.model = JournalModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterRole(PHASE_ROLE)
        self.filter = QComboBox()
        self.filter.setObjectName("journalFilter")
        self.filter.addItem("All phases", None)
        for phase in AnalysisPhase:
            self.filter.addItem(phase_label(phase), phase)
        self.filter.currentIndexChanged.connect(self._filter_changed)
        filter_label = QLabel("&Show:")
        filter_label.setBuddy(self.filter)

        self.list = QListView()
        self.list.setObjectName("journalList")
        self.list.setModel(self.proxy)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.empty = QLabel(EMPTY)
        self.empty.setObjectName("journalEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.top = QStackedWidget()
        self.top.addWidget(self.empty)
        self.top.addWidget(self.list)

        self.form_title = QLabel()
        self.form_title.setObjectName("journalFormTitle")
        self.phase = QComboBox()
        self.phase.setObjectName("journalPhase")
        for phase in AnalysisPhase:
            self.phase.addItem(phase_label(phase), phase)
        self.editor = NoteEditor()
        self.editor.setObjectName("journalEditor")
        self.editor.setPlaceholderText("Write an entry… Ctrl+Return saves it.")
        self.editor.setTabChangesFocus(True)
        self.editor.commit_requested.connect(self.commit)
        form = QWidget()
        form_layout = QFormLayout(form)
        form_layout.setContentsMargins(0, 0, 0, 0)
        form_layout.addRow(self.form_title)
        form_layout.addRow("&Phase:", self.phase)
        form_layout.addRow(self.editor)

        self.new_action = make_action(self, "&New journal entry", self.new_entry, "Ctrl+J")
        self.save_action = make_action(self, "&Save journal entry", self.commit, "Ctrl+Return")
        self.save_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action = make_action(self.list, "&Delete journal entry…",
                                         self.delete_selected, QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        for action, short in ((self.new_action, "New entry"), (self.save_action, "Save"),
                              (self.delete_action, "Delete")):
            action.setIconText(short)  # the toolbar's words; menus keep the full text
        toolbar = QToolBar()
        toolbar.addActions([self.new_action, self.save_action, self.delete_action])
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addWidget(filter_label)
        toolbar.addWidget(self.filter)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.top)
        splitter.addWidget(form)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(splitter, 1)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self.model.set_entries(self.store.journal())
        self._load(None)
        self._update_state()

    # --- what the page shows ---------------------------------------------------------------------

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if "journal" in changes.kinds():
            self.reload()

    def reload(self) -> None:
        self.model.set_entries(self.store.journal())
        if self.current is None:
            if self._form() == self._baseline:  # an untouched new entry: follow the latest phase
                self._load(None)
        else:
            stored = self.model.entry(self.current.id)
            if stored is None:  # deleted, e.g. by undoing its add
                self._load(None)
            else:
                shown = self._form()
                if shown == self._baseline and shown != (stored.text, stored.phase):
                    self._show(stored)  # an undo or redo: show what is stored
                elif shown == (stored.text, stored.phase):
                    self._baseline = shown
                self.current = stored
                self._select(stored.id)
        self._update_state()

    def default_phase(self) -> AnalysisPhase:
        """The phase of the latest entry: the researcher is most likely still in it."""
        return self.model.entries[0].phase if self.model.entries else \
            AnalysisPhase.FAMILIARISATION

    def selected(self) -> JournalEntry | None:
        index = self.list.currentIndex()
        return self.model.entry(index.data(ID_ROLE)) if index.isValid() else None

    def visible_entries(self) -> list[JournalEntry]:
        """The entries the list shows under the current filter, top to bottom."""
        found = [self.model.entry(self.proxy.index(r, 0).data(ID_ROLE))
                 for r in range(self.proxy.rowCount())]
        return [e for e in found if e is not None]

    def set_phase_filter(self, phase: AnalysisPhase | None) -> None:
        self.filter.setCurrentIndex(self.filter.findData(phase) if phase else 0)

    def _filter_changed(self) -> None:
        phase = self.phase_filter()
        pattern = f"^{re.escape(phase.value)}$" if phase else ""
        self.proxy.setFilterRegularExpression(QRegularExpression(pattern))
        if self.current is not None:
            self._select(self.current.id)
        self._update_state()

    def _form(self) -> tuple[str, AnalysisPhase]:
        return self.editor.toPlainText(), AnalysisPhase(self.phase.currentData())

    def phase_filter(self) -> AnalysisPhase | None:
        """The phase the list is filtered to (None: all phases)."""
        data = self.filter.currentData()  # Qt hands back the enum's string
        return AnalysisPhase(data) if data else None

    def _show(self, entry: JournalEntry) -> None:
        self.editor.setPlainText(entry.text)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)  # ready to add a thought
        self.phase.setCurrentIndex(self.phase.findData(entry.phase))
        self._baseline = self._form()

    def _load(self, entry: JournalEntry | None) -> None:
        self.current = entry
        if entry is None:
            self._show(JournalEntry("", self.default_phase()))
            self.form_title.setText("<b>New entry</b>")
        else:
            self._show(entry)
            self.form_title.setText(f"<b>Entry of {when(entry.created_at)}</b>")

    def _select(self, entry_id: int | None) -> None:
        row = self.model.row_of(entry_id)
        index = self.proxy.mapFromSource(self.model.index(row)) if row >= 0 else QModelIndex()
        selection = self.list.selectionModel()
        if not index.isValid():
            selection.clearSelection()
            selection.setCurrentIndex(QModelIndex(), selection.SelectionFlag.NoUpdate)
            return
        if self.list.currentIndex() != index:
            self.list.setCurrentIndex(index)
        self.list.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry_id = current.data(ID_ROLE) if current.isValid() else None
        if entry_id is None or (self.current is not None and entry_id == self.current.id):
            return
        self.commit()  # an unsaved change of the entry left behind
        self._load(self.model.entry(entry_id))
        self._select(entry_id)
        self._update_state()

    def _update_state(self) -> None:
        if not self.model.entries:
            self.empty.setText(EMPTY)
        elif not self.proxy.rowCount():
            self.empty.setText(NOTHING_IN_PHASE)
        self.top.setCurrentWidget(self.list if self.proxy.rowCount() else self.empty)
        self.delete_action.setEnabled(self.selected() is not None)

    # --- changes ---------------------------------------------------------------------------------

    @Slot()
    def commit(self) -> bool:
        """Save the form as one undo step: a new entry or an edit; False if nothing changed."""
        text, phase = self._form()
        if (text, phase) == self._baseline:
            return False
        if self.current is None:
            if not text.strip():
                return False
            command = AddJournalEntry(self.store, JournalEntry(text, phase))
            push(self.stack, command)
            self.current = command.entry
            self._baseline = (text, phase)
            self.form_title.setText(f"<b>Entry of {when(command.entry.created_at)}</b>")
            if self.phase_filter() not in (None, phase):
                self.set_phase_filter(None)  # never hide what was just written
            self._select(command.entry.id)
            self.message.emit("Journal entry saved.")
        else:
            before = self.current
            after = dataclasses.replace(before, text=text, phase=phase)
            push(self.stack, EditJournalEntry(self.store, before, after))
            self._baseline = (text, phase)
            self.message.emit("Journal entry saved.")
        self._update_state()
        return True

    def new_entry(self) -> None:
        """Save what is in the form, then start a new entry in the latest entry's phase."""
        self.commit()
        self._load(None)
        self._select(None)
        self._update_state()
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def delete_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        if not self.ask("Delete journal entry",
                        f"Delete the entry of {when(entry.created_at)}? Undo brings it back."):
            return
        row = self.list.currentIndex().row()
        if self.current is not None and self.current.id == entry.id:
            self._load(None)  # its unsaved changes go with it
        push(self.stack, DeleteJournalEntry(self.store, entry))
        self.message.emit("Journal entry deleted. Undo brings it back.")
        if self.proxy.rowCount():
            index = self.proxy.index(min(row, self.proxy.rowCount() - 1), 0)
            self.list.setCurrentIndex(index)
        else:
            self._load(None)
        self._update_state()
