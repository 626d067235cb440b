"""What the memo panel and the reflexive journal share: notes listed newest first with their
first line and date, an editor that saves on Ctrl+Return, and the list, empty message,
toolbar and splitter around them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QFocusEvent, QKeyEvent, QKeySequence, QPalette, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QWidget,
)

from gui.actions import make_action
from study.store import Store

Ask = Callable[[str, str], bool]
ID_ROLE = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex


def ask_yes_no(parent: QWidget | None) -> Ask:
    """An `ask` that shows a Yes/No box (No is the default: the question guards a delete)."""

    def ask(title: str, question: str) -> bool:
        answer = QMessageBox.question(
            parent, title, question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    return ask


def when(at: dt.datetime | None) -> str:
    """4 Mar 2025, 14:05 in local time (no platform-specific strftime flags)."""
    if at is None:
        return ""
    local = at.astimezone() if at.tzinfo is not None else at
    return f"{local.day} {local:%b %Y}, {local:%H:%M}"


def first_line(text: str, empty: str = "(empty memo)") -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), empty)


def _is_commit_key(event: QKeyEvent) -> bool:
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and modifiers == Qt.KeyboardModifier.ControlModifier)


class NoteEditor(QPlainTextEdit):
    """Plain text that saves on Ctrl+Return and says when the researcher leaves it.

    Ctrl+Return is claimed before the window's shortcuts see it, so the transcript's
    split hotkey (also Ctrl+Return, window-wide) never fires while a note is written.
    """

    commit_requested = Signal()
    left = Signal()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent) \
                and _is_commit_key(e):
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if _is_commit_key(e):
            e.accept()
            self.commit_requested.emit()
            return
        super().keyPressEvent(e)

    def focusOutEvent(self, e: QFocusEvent) -> None:
        super().focusOutEvent(e)
        if e.reason() != Qt.FocusReason.PopupFocusReason:  # the editor's own context menu
            self.left.emit()


class Note(Protocol):
    """A memo or a journal entry, as far as a list of notes is concerned."""

    @property
    def id(self) -> int | None: ...

    @property
    def text(self) -> str: ...

    @property
    def created_at(self) -> dt.datetime | None: ...


N = TypeVar("N", bound=Note)


class NotesModel(QAbstractListModel, Generic[N]):
    """Notes newest first: a thin adapter over the store's list. A subclass says how a row
    reads (`display`) and may answer more roles (`role_data`)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.notes: list[N] = []

    def set_notes(self, notes: list[N]) -> None:
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        ordered = sorted(notes, key=lambda n: (n.created_at or oldest, n.id or 0), reverse=True)
        if [n.id for n in ordered] == [n.id for n in self.notes]:
            self.notes = ordered  # same rows: keep the selection, repaint the text
            if ordered:
                self.dataChanged.emit(self.index(0), self.index(len(ordered) - 1))
            return
        self.beginResetModel()
        self.notes = ordered
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.notes)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.notes):
            return None
        note = self.notes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(note)
        if role == Qt.ItemDataRole.ToolTipRole:
            return note.text
        if role == ID_ROLE:
            return note.id
        return self.role_data(note, role)

    def display(self, note: N) -> str:
        raise NotImplementedError

    def role_data(self, note: N, role: int) -> object:
        """A role beyond display, tooltip and id; None: not answered."""
        return None

    def row_of(self, note_id: int | None) -> int:
        return next((r for r, n in enumerate(self.notes) if n.id == note_id), -1)

    def note(self, note_id: int | None) -> N | None:
        row = self.row_of(note_id)
        return self.notes[row] if row >= 0 else None

    def note_at(self, index: AnyIndex) -> N | None:
        """The note of a row of this model, or of a proxy over it."""
        return self.note(index.data(ID_ROLE)) if index.isValid() else None


class NotesPane(QWidget, Generic[N]):
    """A list of notes above an editor: what the memo panel and the journal page share.

    A subclass makes its `model`, then calls `_build` for the list and the editor. It loads
    a note (None: a new one) into the editor in `_load`, selects a note in the list in
    `_select`, enables its actions in `_update_state`, and saves the editor as one undo
    step in `commit`. Choosing another note first saves the one being edited.
    """

    message = Signal(str)  # for the status bar

    model: NotesModel[N]

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.ask: Ask = ask_yes_no(self)
        self.current: N | None = None  # the note in the editor; None: a new one

    def _build(self, prefix: str, shown: QAbstractItemModel, empty_text: str,
               placeholder: str) -> None:
        """Make `list`, a read-only list of `shown` (the model, or a proxy over it); `empty`,
        the message in its place while it shows nothing; `top`, where one of the two shows;
        and `editor`. Their object names start with `prefix`."""
        self.list = QListView()
        self.list.setObjectName(f"{prefix}List")
        self.list.setModel(shown)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSpacing(3)  # entries of several lines read apart
        self.empty = QLabel(empty_text)
        self.empty.setObjectName(f"{prefix}Empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.top = QStackedWidget()
        self.top.addWidget(self.empty)
        self.top.addWidget(self.list)
        self.editor = NoteEditor()
        self.editor.setObjectName(f"{prefix}Editor")
        self.editor.setPlaceholderText(placeholder)
        self.editor.setTabChangesFocus(True)  # keyboard users can leave the editor
        self.editor.commit_requested.connect(self.commit)
        self.list.selectionModel().currentChanged.connect(self._current_changed)

    def _delete_action(self, text: str) -> QAction:
        """Delete the selected note with the Delete key, only while the list has the focus
        (in the editor the key deletes text)."""
        action = make_action(self.list, text, self.delete_selected,
                             QKeySequence.StandardKey.Delete)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        return action

    # --- what the subclass provides ------------------------------------------------------------

    def commit(self) -> bool:
        """Save the editor as one undo step; False if nothing changed."""
        raise NotImplementedError

    def delete_selected(self) -> None:
        raise NotImplementedError

    def _load(self, note: N | None) -> None:
        raise NotImplementedError

    def _select(self, note_id: int | None) -> None:
        raise NotImplementedError

    def _update_state(self) -> None:
        raise NotImplementedError

    # --- shared behaviour ----------------------------------------------------------------------

    def selected(self) -> N | None:
        return self.model.note_at(self.list.currentIndex())

    def _show_in_list(self, index: QModelIndex) -> None:
        """Make `index` the list's current row and scroll to it; an invalid one clears the
        selection and the current row."""
        selection = self.list.selectionModel()
        if not index.isValid():
            selection.clearSelection()
            selection.setCurrentIndex(QModelIndex(), selection.SelectionFlag.NoUpdate)
            return
        if self.list.currentIndex() != index:
            self.list.setCurrentIndex(index)
        self.list.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        note_id = current.data(ID_ROLE) if current.isValid() else None
        if note_id is None or (self.current is not None and note_id == self.current.id):
            return
        self.commit()  # an unsaved edit of the note left behind
        self._load(self.model.note(note_id))
        self._select(note_id)
        self._update_state()

    def _start_new(self) -> None:
        """Save what is in the editor, then start a new note there."""
        self.commit()
        self._load(None)
        self._select(None)
        self._update_state()
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)


def short_toolbar(*actions: tuple[QAction, str]) -> QToolBar:
    """A toolbar of actions, each under a short word; menus keep the full text."""
    toolbar = QToolBar()
    for action, short in actions:
        action.setIconText(short)
        toolbar.addAction(action)
    return toolbar


def list_above(top: QWidget, bottom: QWidget) -> QSplitter:
    """The list above, the editor below, neither collapsible."""
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(top)
    splitter.addWidget(bottom)
    splitter.setChildrenCollapsible(False)
    return splitter
