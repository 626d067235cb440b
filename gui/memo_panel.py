"""The memos of one object (the study, an interview, a code, a theme...): a list with
each memo's first line and dates, and an editor below that saves as the researcher goes.

An edit becomes one undo step when the researcher presses Ctrl+Return or leaves the
editor, never per keystroke; leaving without a change writes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QFocusEvent,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QTextCursor,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.undo import push
from gui.undo_notes import AddMemo, DeleteMemo, EditMemo
from study.model import Changes, Memo, MemoTarget
from study.store import Store

Ask = Callable[[str, str], bool]
ID_ROLE = Qt.ItemDataRole.UserRole + 1
AnyIndex = QModelIndex | QPersistentModelIndex

WHAT_A_MEMO_IS = ("A memo holds your thinking as you go: why you coded a passage so, "
                  "questions to follow up, hunches about themes.")
NO_TARGET = (f"{WHAT_A_MEMO_IS}\n\n"
             "Choose the study, an interview, a code or a theme to see its memos.")
NO_MEMOS = f"No memos here yet. {WHAT_A_MEMO_IS}\n\nWrite below, or press Ctrl+M for a new memo."
PLACEHOLDER = "Write a memo… Ctrl+Return saves; leaving this box saves too."


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


class MemosModel(QAbstractListModel):
    """The memos of one target, newest first: a thin adapter over the store's list."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.memos: list[Memo] = []

    def set_memos(self, memos: list[Memo]) -> None:
        ordered = sorted(memos, key=lambda m: (m.created_at or dt.datetime.min.replace(
            tzinfo=dt.UTC), m.id or 0), reverse=True)
        if [m.id for m in ordered] == [m.id for m in self.memos]:
            self.memos = ordered  # same rows: keep the selection, repaint the text
            if ordered:
                self.dataChanged.emit(self.index(0), self.index(len(ordered) - 1))
            return
        self.beginResetModel()
        self.memos = ordered
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.memos)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self.memos):
            return None
        m = self.memos[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            dates = f"Written {when(m.created_at)}"
            if m.updated_at and m.updated_at != m.created_at:
                dates += f" · edited {when(m.updated_at)}"
            return f"{first_line(m.text)}\n{dates}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return m.text
        if role == ID_ROLE:
            return m.id
        return None

    def row_of(self, memo_id: int | None) -> int:
        return next((r for r, m in enumerate(self.memos) if m.id == memo_id), -1)

    def memo(self, memo_id: int | None) -> Memo | None:
        row = self.row_of(memo_id)
        return self.memos[row] if row >= 0 else None


class MemoPanel(QWidget):
    """Memos of one target. Connect `on_changed` to the study's change signal."""

    message = Signal(str)  # for the status bar

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.ask: Ask = ask_yes_no(self)
        self.target: MemoTarget | None = None
        self.target_id: int | None = None
        self.current: Memo | None = None  # the memo in the editor; None: a new one
        self._baseline = ""  # the editor's text as last loaded or saved

        self.title = QLabel("Memos")
        self.title.setObjectName("memoTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.model = MemosModel(self)
        self.list = QListView()
        self.list.setObjectName("memoList")
        self.list.setModel(self.model)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.empty = QLabel(NO_TARGET)
        self.empty.setObjectName("memoEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.top = QStackedWidget()
        self.top.addWidget(self.empty)
        self.top.addWidget(self.list)
        self.editor = NoteEditor()
        self.editor.setObjectName("memoEditor")
        self.editor.setPlaceholderText(PLACEHOLDER)
        self.editor.setTabChangesFocus(True)  # keyboard users can leave the editor
        self.editor.commit_requested.connect(self.commit)
        self.editor.left.connect(self.commit)

        self.new_action = make_action(self, "&New memo", self.new_memo, "Ctrl+M")
        self.save_action = make_action(self.editor, "&Save memo", self.commit, "Ctrl+Return")
        self.save_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action = make_action(self.list, "&Delete memo…", self.delete_selected,
                                         QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        for action, short in ((self.new_action, "New"), (self.save_action, "Save"),
                              (self.delete_action, "Delete")):
            action.setIconText(short)  # the side panel is narrow; menus keep the full text
        toolbar = QToolBar()
        toolbar.addActions([self.new_action, self.save_action, self.delete_action])

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.top)
        splitter.addWidget(self.editor)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(toolbar)
        layout.addWidget(splitter, 1)
        self.list.selectionModel().currentChanged.connect(self._current_changed)
        self._update_state()

    # --- what the panel shows ------------------------------------------------------------------

    def set_target(self, target: MemoTarget | None, target_id: int | None, title: str) -> None:
        """Show the memos of another object (None: nothing); an unsaved edit is saved first.
        The same object again only updates the title, keeping the memo being read."""
        if (target, target_id) == (self.target, self.target_id):
            self.title.setText(title if target is not None else "Memos")
            return
        self.commit()
        self.target, self.target_id = target, target_id
        self.title.setText(title if target is not None else "Memos")
        self.model.set_memos(self._stored())
        newest = self.model.memos[0] if self.model.memos else None
        self._load(newest)
        self._select(newest.id if newest else None)
        self._update_state()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        # Deleting a memo's object removes its memos by trigger, unreported as "memo".
        watched = {"memo"} | ({self.target.value} if self.target is not None else set())
        if changes.kinds() & watched:
            self.reload()

    def reload(self) -> None:
        self.model.set_memos(self._stored())
        if self.current is not None:
            stored = self.model.memo(self.current.id)
            if stored is None:  # deleted, e.g. by undoing its add
                self._load(None)
            else:
                if self.editor.toPlainText() == self._baseline and stored.text != self._baseline:
                    self._set_text(stored.text)  # an undo or redo: show the stored text
                elif self.editor.toPlainText() == stored.text:
                    self._baseline = stored.text
                self.current = stored
                self._select(stored.id)
        self._update_state()

    def _stored(self) -> list[Memo]:
        return self.store.memos(self.target, self.target_id) if self.target is not None else []

    def _set_text(self, text: str) -> None:
        self._baseline = text
        self.editor.setPlainText(text)
        self.editor.moveCursor(QTextCursor.MoveOperation.End)  # ready to add a thought

    def _load(self, memo: Memo | None) -> None:
        self.current = memo
        self._set_text(memo.text if memo is not None else "")

    def _select(self, memo_id: int | None) -> None:
        row = self.model.row_of(memo_id)
        selection = self.list.selectionModel()
        if row < 0:
            selection.clearSelection()
            selection.setCurrentIndex(QModelIndex(), selection.SelectionFlag.NoUpdate)
            return
        index = self.model.index(row)
        if self.list.currentIndex() != index:
            self.list.setCurrentIndex(index)
        self.list.scrollTo(index)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        memo_id = current.data(ID_ROLE) if current.isValid() else None
        if memo_id is None or (self.current is not None and memo_id == self.current.id):
            return
        self.commit()  # an unsaved edit of the memo left behind
        self._load(self.model.memo(memo_id))
        self._select(memo_id)
        self._update_state()

    def _update_state(self) -> None:
        has_target = self.target is not None
        self.top.setCurrentWidget(self.list if self.model.memos else self.empty)
        self.empty.setText(NO_MEMOS if has_target else NO_TARGET)
        self.editor.setEnabled(has_target)
        self.new_action.setEnabled(has_target)
        self.save_action.setEnabled(has_target)
        self.delete_action.setEnabled(self.selected() is not None)

    def selected(self) -> Memo | None:
        index = self.list.currentIndex()
        return self.model.memo(index.data(ID_ROLE)) if index.isValid() else None

    # --- changes ---------------------------------------------------------------------------------

    @Slot()
    def commit(self) -> bool:
        """Save the editor as one undo step: a new memo or an edit; False if nothing changed."""
        if self.target is None:
            return False
        text = self.editor.toPlainText()
        if text == self._baseline:
            return False
        if self.current is None:
            if not text.strip():
                return False
            command = AddMemo(self.store, Memo(self.target, text, self.target_id))
            push(self.stack, command)
            self.current = command.memo
            self._baseline = text
            self._select(command.memo.id)
            self.message.emit("Memo saved.")
        else:
            before = self.current
            push(self.stack, EditMemo(self.store, before, dataclasses.replace(before, text=text)))
            self._baseline = text
            self.message.emit("Memo saved.")
        self._update_state()
        return True

    def new_memo(self) -> None:
        """Save what is in the editor, then start a new memo there."""
        if self.target is None:
            return
        self.commit()
        self._load(None)
        self._select(None)
        self._update_state()
        self.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def delete_selected(self) -> None:
        memo = self.selected()
        if memo is None:
            return
        if not self.ask("Delete memo",
                        f"Delete the memo “{first_line(memo.text)}”? Undo brings it back."):
            return
        row = self.model.row_of(memo.id)
        if self.current is not None and self.current.id == memo.id:
            self._load(None)  # its unsaved text goes with it
        push(self.stack, DeleteMemo(self.store, memo))
        self.message.emit("Memo deleted. Undo brings it back.")
        if self.model.memos:
            neighbour = self.model.memos[min(row, len(self.model.memos) - 1)]
            self._select(neighbour.id)
        self._update_state()
