"""The reflexive journal: dated entries tagged with the phase of thematic analysis they
were written in, newest first, filterable by phase, each change one undo step.

Braun and Clarke ask the researcher to keep track of how their own position shapes the
analysis; the phase tag lets the write-up show how that thinking moved.
"""

from __future__ import annotations

import dataclasses
import re

from PySide6.QtCore import QModelIndex, QRegularExpression, QSortFilterProxyModel, Qt, Slot
from PySide6.QtGui import QTextCursor, QUndoStack
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui.actions import make_action
from gui.notes_common import NotesModel, NotesPane, first_line, list_above, short_toolbar, when
from gui.undo import push
from gui.undo_notes import AddJournalEntry, DeleteJournalEntry, EditJournalEntry
from study.model import AnalysisPhase, Changes, JournalEntry
from study.store import Store

PHASE_ROLE = Qt.ItemDataRole.UserRole + 2

EMPTY = ("The reflexive journal is where you note how you are reading the data: your "
         "assumptions, reactions and decisions, and why themes change. Each entry is dated and "
         "tagged with the phase of analysis you are in.\n\nWrite your first entry below.")
NOTHING_IN_PHASE = "No entries in this phase. Choose “All phases” to see every entry."


def phase_label(phase: AnalysisPhase) -> str:
    return phase.value[0].upper() + phase.value[1:]


class JournalModel(NotesModel[JournalEntry]):
    """Every journal entry, newest first; PHASE_ROLE gives its phase for the filter."""

    def display(self, note: JournalEntry) -> str:
        return f"{when(note.created_at)} · {phase_label(note.phase)}\n{first_line(note.text, '')}"

    def role_data(self, note: JournalEntry, role: int) -> object:
        return note.phase.value if role == PHASE_ROLE else None


class JournalView(NotesPane[JournalEntry]):
    """The journal page. Connect `on_changed` to the study's change signal."""

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(store, stack, parent)
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

        self._build("journal", self.proxy, EMPTY, "Write an entry… Ctrl+Return saves it.")

        self.form_title = QLabel()
        self.form_title.setObjectName("journalFormTitle")
        self.phase = QComboBox()
        self.phase.setObjectName("journalPhase")
        for phase in AnalysisPhase:
            self.phase.addItem(phase_label(phase), phase)
        form = QWidget()
        form_layout = QFormLayout(form)
        form_layout.setContentsMargins(0, 0, 0, 0)
        form_layout.addRow(self.form_title)
        form_layout.addRow("&Phase:", self.phase)
        form_layout.addRow(self.editor)

        self.new_action = make_action(self, "&New journal entry", self.new_entry, "Ctrl+J")
        self.save_action = make_action(self, "&Save journal entry", self.commit, "Ctrl+Return")
        self.save_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action = self._delete_action("&Delete journal entry…")
        toolbar = short_toolbar((self.new_action, "New entry"), (self.save_action, "Save"),
                                (self.delete_action, "Delete"))
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addWidget(filter_label)
        toolbar.addWidget(self.filter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(list_above(self.top, form), 1)
        self.model.set_notes(self.store.journal())
        self._load(None)
        self._update_state()

    # --- what the page shows ---------------------------------------------------------------------

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if "journal" in changes.kinds():
            self.reload()

    def reload(self) -> None:
        self.model.set_notes(self.store.journal())
        if self.current is None:
            if self._form() == self._baseline:  # an untouched new entry: follow the latest phase
                self._load(None)
        else:
            stored = self.model.note(self.current.id)
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
        return self.model.notes[0].phase if self.model.notes else \
            AnalysisPhase.FAMILIARISATION

    def visible_entries(self) -> list[JournalEntry]:
        """The entries the list shows under the current filter, top to bottom."""
        found = [self.model.note_at(self.proxy.index(r, 0)) for r in range(self.proxy.rowCount())]
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
        self._show_in_list(index)

    def _update_state(self) -> None:
        if not self.model.notes:
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
        self._start_new()

    def delete_selected(self) -> None:
        entry = self.selected()
        if entry is None or not self.ask(
                "Delete journal entry",
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
