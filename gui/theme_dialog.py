"""Create or edit one theme: name, definition, status and the codes it groups.

The dialog returns a Theme (`theme()`) and leaves the change to its caller, who pushes
an undo command; with a `submit` callback a refused change keeps the dialog open and
shows why. The helpers below open the dialog and the delete confirmation the same way
from the themes panel and from the thematic map.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap, QUndoStack
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QWidget,
)

from gui.dialogs import SubmitDialog
from gui.undo import push
from gui.undo_themes import AddTheme, DeleteTheme, EditTheme
from study.errors import ValidationError
from study.model import MemoTarget, Theme, ThemeStatus
from study.store import Store

Submit = Callable[[Theme], None]
ID_ROLE = Qt.ItemDataRole.UserRole

STATUS_HELP = {
    ThemeStatus.CANDIDATE: "A first grouping of codes, still to be checked against the data.",
    ThemeStatus.REVIEWED: "Checked against its coded extracts and the whole data set.",
    ThemeStatus.FINAL: "Defined and named: ready for the write-up.",
}


def swatch(colour: str) -> QIcon:
    """A small square in a code's own colour (the researcher's choice, not the palette)."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class ThemeDialog(SubmitDialog):
    def __init__(self, store: Store, theme: Theme | None = None, parent: QWidget | None = None,
                 submit: Submit | None = None) -> None:
        super().__init__(parent, highlight_error=True)
        self._original = theme or Theme("")
        self._submit = submit
        self.setWindowTitle("New theme" if theme is None else f"Edit theme {theme.name}")
        self.name = QLineEdit(self._original.name)
        self.name.setObjectName("name")
        self.name.setPlaceholderText("e.g. Carrying the risk alone")
        self.definition = QPlainTextEdit(self._original.definition)
        self.definition.setObjectName("definition")
        self.definition.setTabChangesFocus(True)
        self.definition.setPlaceholderText(
            "What the theme is about, its boundaries, and what it is not")
        self.definition.setMinimumHeight(80)
        self.status = QComboBox()
        self.status.setObjectName("status")
        for s in ThemeStatus:
            self.status.addItem(s.value.capitalize(), s)
            self.status.setItemData(self.status.count() - 1, STATUS_HELP[s],
                                    Qt.ItemDataRole.ToolTipRole)
        self.status.setCurrentIndex(self.status.findData(self._original.status))
        self.filter = QLineEdit()
        self.filter.setObjectName("filter")
        self.filter.setPlaceholderText("Filter codes")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.codes = QTreeWidget()
        self.codes.setObjectName("codes")
        self.codes.setHeaderHidden(True)
        self.codes.setMinimumHeight(180)
        self.count = QLabel()
        self.count.setObjectName("count")
        self._fill_codes(store, set(self._original.code_ids))
        self.codes.itemChanged.connect(lambda *_: self._update_count())
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Definition", self.definition)
        form.addRow("&Status", self.status)
        codes_label = QLabel("&Codes this theme groups")
        codes_label.setBuddy(self.filter)
        self.lay_out(form, codes_label, self.filter, self.codes, self.count)
        self.resize(460, 560)
        self.name.setFocus()

    def _fill_codes(self, store: Store, members: set[int]) -> None:
        """The codebook as a tree; each code is checked on its own (a parent code is a
        member only if checked itself), so no tri-state."""
        items: dict[int | None, QTreeWidgetItem] = {}
        pending = list(store.codes())
        while pending:  # parents before children, whatever the stored order
            ready = [c for c in pending if c.parent_id is None or c.parent_id in items]
            if not ready:
                break
            for c in ready:
                parent = items.get(c.parent_id)
                item = QTreeWidgetItem([c.name])
                item.setData(0, ID_ROLE, c.id)
                item.setIcon(0, swatch(c.colour))
                item.setToolTip(0, c.definition)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Checked if c.id in members
                                   else Qt.CheckState.Unchecked)
                if parent is None:
                    self.codes.addTopLevelItem(item)
                else:
                    parent.addChild(item)
                assert c.id is not None
                items[c.id] = item
            pending = [c for c in pending if c not in ready]
        self.codes.expandAll()
        self._update_count()

    def _items(self) -> list[QTreeWidgetItem]:
        found = []
        it = QTreeWidgetItemIterator(self.codes)
        while it.value():
            found.append(it.value())
            it += 1
        return found

    def _apply_filter(self, text: str) -> None:
        """Show matching codes and the parents that lead to them."""
        needle = text.strip().casefold()

        def visit(item: QTreeWidgetItem) -> bool:
            children = [visit(item.child(i)) for i in range(item.childCount())]
            shown = not needle or needle in item.text(0).casefold() or any(children)
            item.setHidden(not shown)
            return shown

        for i in range(self.codes.topLevelItemCount()):
            visit(self.codes.topLevelItem(i))
        self.codes.expandAll()

    def _update_count(self) -> None:
        n = len(self.checked_code_ids())
        self.count.setText(f"{n} code{'' if n == 1 else 's'} selected")

    def checked_code_ids(self) -> tuple[int, ...]:
        return tuple(item.data(0, ID_ROLE) for item in self._items()
                     if item.checkState(0) == Qt.CheckState.Checked)

    def set_checked(self, code_id: int, checked: bool = True) -> None:
        for item in self._items():
            if item.data(0, ID_ROLE) == code_id:
                item.setCheckState(0, Qt.CheckState.Checked if checked
                                   else Qt.CheckState.Unchecked)

    def theme(self) -> Theme:
        """The theme as entered: the original's id, position and map place are kept."""
        return dataclasses.replace(
            self._original,
            name=self.name.text().strip(),
            definition=self.definition.toPlainText().strip(),
            status=ThemeStatus(self.status.currentData()),
            code_ids=self.checked_code_ids(),
        )

    def submit_entered(self) -> None:
        theme = self.theme()
        if not theme.name:
            raise ValidationError("A theme needs a name.")
        if self._submit is not None:
            self._submit(theme)

    def show_error(self, message: str) -> None:
        super().show_error(message)
        self.name.setFocus()  # most refusals are about the name


def same_content(a: Theme, b: Theme) -> bool:
    """Whether an edit changed anything the dialog edits (member order does not count)."""
    return (a.name, a.definition, a.status, set(a.code_ids)) == (
        b.name, b.definition, b.status, set(b.code_ids))


def open_theme_dialog(parent: QWidget, store: Store, stack: QUndoStack,
                      theme_id: int | None = None,
                      done: Callable[[int], None] | None = None) -> ThemeDialog:
    """Open the dialog to add (theme_id None) or edit a theme, window-modal and
    non-blocking; OK pushes the undoable change and calls `done` with the theme's id."""
    before = store.theme(theme_id) if theme_id is not None else None

    def submit(after: Theme) -> None:
        if before is None:
            command = AddTheme(store, after)
            push(stack, command)
            assert command.theme.id is not None
            if done is not None:
                done(command.theme.id)
            return
        if not same_content(before, after):
            push(stack, EditTheme(store, before, after))
        if done is not None and before.id is not None:
            done(before.id)

    dialog = ThemeDialog(store, before, parent, submit)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def confirm_delete_theme(parent: QWidget, store: Store, stack: QUndoStack,
                         theme_id: int) -> QMessageBox:
    """Ask before deleting a theme, saying what it groups; Yes pushes the deletion.
    Non-blocking: the box is returned open (its Yes button is labelled Delete theme)."""
    theme = store.theme(theme_id)
    n = len(theme.code_ids)
    memos = len(store.memos(MemoTarget.THEME, theme_id))
    groups = f"It groups {n} code{'' if n == 1 else 's'}" if n else "It groups no codes"
    written = f" and has {memos} memo{'' if memos == 1 else 's'}" if memos else ""
    box = QMessageBox(QMessageBox.Icon.Question, "Delete theme",
                      f"Delete the theme “{theme.name}”?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText(f"{groups}{written}. The codes stay in the codebook; undo brings "
                           "the theme back.")
    box.button(QMessageBox.StandardButton.Yes).setText("Delete theme")
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def finished(button: QAbstractButton) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Yes:
            push(stack, DeleteTheme(store, theme_id, theme.name))

    box.buttonClicked.connect(finished)
    box.open()
    return box
