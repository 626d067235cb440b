"""The memos of one object (the study, an interview, a code, a theme...): a list with
each memo's first line and dates, and an editor below that saves as the researcher goes.

An edit becomes one undo step when the researcher presses Ctrl+Return or leaves the
editor, never per keystroke; leaving without a change writes nothing.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QModelIndex, Qt, Slot
from PySide6.QtGui import QTextCursor, QUndoStack
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.actions import make_action
from gui.notes_common import NotesModel, NotesPane, first_line, list_above, short_toolbar, when
from gui.undo import push
from gui.undo_notes import AddMemo, DeleteMemo, EditMemo
from study.model import Changes, Memo, MemoTarget
from study.store import Store

WHAT_A_MEMO_IS = ("A memo holds your thinking as you go: why you coded a passage so, "
                  "questions to follow up, hunches about themes.")
NO_TARGET = (f"{WHAT_A_MEMO_IS}\n\n"
             "Choose the study, an interview, a code or a theme to see its memos.")
NO_MEMOS = f"No memos here yet. {WHAT_A_MEMO_IS}\n\nWrite below, or press Ctrl+M for a new memo."
PLACEHOLDER = "Write a memo… Ctrl+Return saves; leaving this box saves too."


class MemosModel(NotesModel[Memo]):
    """The memos of one target, newest first."""

    def display(self, note: Memo) -> str:
        dates = f"Written {when(note.created_at)}"
        if note.updated_at and note.updated_at != note.created_at:
            dates += f" · edited {when(note.updated_at)}"
        return f"{first_line(note.text)}\n{dates}"


class MemoPanel(NotesPane[Memo]):
    """Memos of one target. Connect `on_changed` to the study's change signal."""

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(store, stack, parent)
        self.target: MemoTarget | None = None
        self.target_id: int | None = None
        self._baseline = ""  # the editor's text as last loaded or saved

        self.title = QLabel("Memos")
        self.title.setObjectName("memoTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.model = MemosModel(self)
        self._build("memo", self.model, NO_TARGET, PLACEHOLDER)
        self.editor.left.connect(self.commit)

        self.new_action = make_action(self, "&New memo", self.new_memo, "Ctrl+M")
        self.save_action = make_action(self.editor, "&Save memo", self.commit, "Ctrl+Return")
        self.save_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action = self._delete_action("&Delete memo…")
        toolbar = short_toolbar((self.new_action, "New"), (self.save_action, "Save"),
                                (self.delete_action, "Delete"))  # the side panel is narrow

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(toolbar)
        layout.addWidget(list_above(self.top, self.editor), 1)
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
        self.model.set_notes(self._stored())
        newest = self.model.notes[0] if self.model.notes else None
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
        self.model.set_notes(self._stored())
        if self.current is not None:
            stored = self.model.note(self.current.id)
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
        self._show_in_list(self.model.index(row) if row >= 0 else QModelIndex())

    def _update_state(self) -> None:
        has_target = self.target is not None
        self.top.setCurrentWidget(self.list if self.model.notes else self.empty)
        self.empty.setText(NO_MEMOS if has_target else NO_TARGET)
        self.editor.setEnabled(has_target)
        self.new_action.setEnabled(has_target)
        self.save_action.setEnabled(has_target)
        self.delete_action.setEnabled(self.selected() is not None)

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
        if self.target is not None:
            self._start_new()

    def delete_selected(self) -> None:
        memo = self.selected()
        if memo is None or not self.ask(
                "Delete memo", f"Delete the memo “{first_line(memo.text)}”? Undo brings it back."):
            return
        row = self.model.row_of(memo.id)
        if self.current is not None and self.current.id == memo.id:
            self._load(None)  # its unsaved text goes with it
        push(self.stack, DeleteMemo(self.store, memo))
        self.message.emit("Memo deleted. Undo brings it back.")
        if self.model.notes:
            neighbour = self.model.notes[min(row, len(self.model.notes) - 1)]
            self._select(neighbour.id)
        self._update_state()
