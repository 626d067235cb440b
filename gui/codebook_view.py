"""The codebook and themes page: the code tree to create, rename, recolour, define,
rearrange (drag and drop), merge and delete codes; the codings and memos of the code
chosen; and the themes built from codes. All of it undoable."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui import errors
from gui.actions import make_action
from gui.code_dialog import CodeDialog, next_colour
from gui.code_tree import CodeTree
from gui.codings_list import CodingsList
from gui.memo_panel import MemoPanel
from gui.questions import ask_yes_no
from gui.themes_panel import ThemesPanel
from gui.undo import push
from gui.undo_codebook import AddCode, DeleteCode, EditCode, MergeCodes, MoveCode
from study.errors import StudyError
from study.model import Changes, Code, MemoTarget
from study.store import Store

Ask = Callable[[str, str], bool]
WATCHED = frozenset({"code", "coding", "theme"})


class MergeDialog(QDialog):
    """Choose the code that absorbs another one."""

    def __init__(self, store: Store, source: Code, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Merge {source.name} into…")
        below = set(store.code_subtree(source.id)) if source.id is not None else set()
        self.tree = CodeTree()
        self.tree.reload([c for c in store.codes() if c.id not in below],
                         store.coding_counts())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.tree.code_activated.connect(lambda _id: self.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"The codings of <b>{source.name}</b> move to the code you "
                                "choose, its sub-codes go under it, and it is deleted."))
        layout.addWidget(self.tree)
        layout.addWidget(buttons)

    def target_id(self) -> int | None:
        return self.tree.current_code_id()


class CodebookView(QWidget):
    message = Signal(str)
    open_coding = Signal(object)  # Coding

    def __init__(self, store: Store, stack: QUndoStack | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.stack = stack if stack is not None else QUndoStack(self)
        self.ask: Ask = ask_yes_no
        self._codings_stale = False
        self.codes = CodeTree(reorder=True, definitions=True)
        self.codes.setObjectName("codebookCodes")
        self.codes.move_requested.connect(self.move)
        self.codes.current_changed.connect(self._code_chosen)
        self.codes.code_activated.connect(lambda _id: self.edit_current())
        self.codings = CodingsList(store)
        self.codings.open_coding.connect(self.open_coding)
        self.memos = MemoPanel(store, self.stack)
        self.themes = ThemesPanel(store, self.stack)
        self.themes.theme_selected.connect(self._theme_chosen)
        self.themes.message.connect(self.message)
        self.memos.message.connect(self.message)

        owner = self.codes
        self.new_action = make_action(owner, "&New code…", self.new_code, "Ins")
        self.new_child_action = make_action(owner, "New &sub-code…", self.new_child_code,
                                            "Shift+Ins")
        self.edit_action = make_action(owner, "&Edit code…", self.edit_current, "F2")
        self.merge_action = make_action(owner, "&Merge code into…", self.merge_dialog,
                                        "Ctrl+Shift+G")
        self.delete_action = make_action(owner, "&Delete code…", self.delete_current, "Del")
        self.actions_ = [self.new_action, self.new_child_action, self.edit_action,
                         self.merge_action, self.delete_action]
        for action in self.actions_:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        toolbar = QToolBar()
        toolbar.addActions(self.actions_)

        codes_box = QWidget()
        codes_layout = QVBoxLayout(codes_box)
        codes_layout.setContentsMargins(0, 0, 0, 0)
        codes_layout.addWidget(QLabel("<b>Codebook</b> (drag codes to rearrange them)"))
        codes_layout.addWidget(toolbar)
        codes_layout.addWidget(self.codes)
        details = QTabWidget()
        details.addTab(self.codings, "Codings")
        details.addTab(self.memos, "Memos")
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(codes_box)
        upper.addWidget(details)
        upper.setSizes([450, 550])
        themes_box = QWidget()
        themes_layout = QVBoxLayout(themes_box)
        themes_layout.setContentsMargins(0, 0, 0, 0)
        themes_layout.addWidget(QLabel("<b>Themes</b> (drop codes on a theme to add them)"))
        themes_layout.addWidget(self.themes)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(upper)
        splitter.addWidget(themes_box)
        splitter.setSizes([480, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.reload()
        self._update_actions()

    # --- refresh -----------------------------------------------------------------------------

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        kinds = changes.kinds()
        if "code" in kinds:
            self.reload()
        elif "coding" in kinds:
            self.codes.set_counts(self.store.coding_counts())
        if kinds & {"code", "coding", "segment"} and self.codings.isVisible():
            self.codings.reload()
        elif kinds & {"code", "coding", "segment"}:
            self._codings_stale = True
        self.themes.on_changed(changes)
        self.memos.on_changed(changes)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._codings_stale:
            self._codings_stale = False
            self.codings.reload()

    def reload(self) -> None:
        self.codes.reload(self.store.codes(), self.store.coding_counts())
        self._update_actions()

    def _code_chosen(self, code_id: int | None) -> None:
        self.codings.show_code(code_id)
        if code_id is not None:
            self.memos.set_target(MemoTarget.CODE, code_id,
                                  f"Code: {self.store.code(code_id).name}")
        self._update_actions()

    def _theme_chosen(self, theme_id: int) -> None:
        self.memos.set_target(MemoTarget.THEME, theme_id,
                              f"Theme: {self.store.theme(theme_id).name}")

    def _update_actions(self) -> None:
        has = self.codes.current_code_id() is not None
        for action in (self.new_child_action, self.edit_action, self.merge_action,
                       self.delete_action):
            action.setEnabled(has)

    def current(self) -> Code | None:
        code_id = self.codes.current_code_id()
        return self.store.code(code_id) if code_id is not None else None

    # --- commands ----------------------------------------------------------------------------

    def new_code(self, parent_id: int | None = None) -> CodeDialog:
        codes = self.store.codes()
        code = Code("", parent_id if isinstance(parent_id, int) else None,
                    colour=next_colour(codes))
        dialog = CodeDialog(code, codes, self._add, self)
        self._open(dialog)
        return dialog

    def new_child_code(self) -> CodeDialog | None:
        current = self.current()
        return self.new_code(current.id) if current is not None else None

    def _add(self, code: Code) -> None:
        command = AddCode(self.store, code)
        push(self.stack, command)
        if command.code.id is not None:
            self.codes.set_current(command.code.id)

    def edit_current(self) -> CodeDialog | None:
        current = self.current()
        if current is None:
            return None
        dialog = CodeDialog(current, self.store.codes(),
                            lambda after: self._edit(current, after), self)
        self._open(dialog)
        return dialog

    def _edit(self, before: Code, after: Code) -> None:
        if after != before:
            push(self.stack, EditCode(self.store, before, after))

    @Slot(int, object, int)
    def move(self, code_id: int, parent_id: int | None, position: int) -> None:
        code = self.store.code(code_id)
        try:
            push(self.stack, MoveCode(self.store, code, parent_id, position))
        except StudyError as e:
            errors.show_error(self, "Cannot move the code", str(e))

    def delete_current(self) -> bool:
        code = self.current()
        if code is None or code.id is None:
            return False
        n = self.store.coding_count(code.id, with_children=True)
        below = len(self.store.code_subtree(code.id)) - 1
        what = f"{n} coding{'s' if n != 1 else ''}"
        if below:
            what += f" and {below} sub-code{'s' if below != 1 else ''}"
        if not self.ask("Delete code", f"Delete the code “{code.name}”? {what} will go "
                        "with it. You can undo this (Edit › Undo)."):
            return False
        push(self.stack, DeleteCode(self.store, code))
        self.message.emit(f"Deleted {code.name} and {what}.")
        return True

    def merge_dialog(self) -> MergeDialog | None:
        source = self.current()
        if source is None:
            return None
        dialog = MergeDialog(self.store, source, self)
        dialog.accepted.connect(lambda: self.merge(source.id, dialog.target_id()))
        self._open(dialog)
        return dialog

    def merge(self, source_id: int | None, target_id: int | None) -> bool:
        if source_id is None or target_id is None:
            return False
        source, target = self.store.code(source_id), self.store.code(target_id)
        try:
            push(self.stack, MergeCodes(self.store, source, target))
        except StudyError as e:
            errors.show_error(self, "Cannot merge the codes", str(e))
            return False
        self.codes.set_current(target_id)
        self.message.emit(f"Merged {source.name} into {target.name}.")
        return True

    @staticmethod
    def _open(dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
