"""Add or edit a code: name, colour, definition (what counts, what does not), parent.
Like the participant dialog, it stays open on a refused change and says why."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from gui.code_tree import ordered, swatch
from gui.dialogs import SubmitDialog
from study.model import Code

Submit = Callable[[Code], None]

# Tableau 10: distinct, colour-blind-aware, readable as tints on light and dark text.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


def next_colour(codes: Sequence[Code]) -> str:
    """The palette colour used least so far, so new codes are told apart."""
    used = [c.colour.lower() for c in codes]
    return min(PALETTE, key=lambda colour: (used.count(colour), PALETTE.index(colour)))


class CodeDialog(SubmitDialog):
    def __init__(self, code: Code, codes: Sequence[Code], submit: Submit,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New code" if code.id is None else f"Edit code {code.name}")
        self._original, self._submit = code, submit
        self.name = QLineEdit(code.name)
        self.name.setObjectName("name")
        self.colour = code.colour
        self.colour_button = QPushButton()
        self.colour_button.setObjectName("colour")
        self.colour_button.clicked.connect(self.choose_colour)
        self.definition = QPlainTextEdit(code.definition)
        self.definition.setObjectName("definition")
        self.definition.setTabChangesFocus(True)
        self.definition.setPlaceholderText("What this code captures, and what it does not.")
        self.parent_box = QComboBox()
        self.parent_box.setObjectName("parent")
        self.parent_box.addItem("(top level)", None)
        below = set(self._subtree(code, codes))
        for other, depth in ordered(codes):
            if other.id not in below:
                self.parent_box.addItem(swatch(other.colour), "    " * depth + other.name,
                                        other.id)
        self.parent_box.setCurrentIndex(max(0, self.parent_box.findData(code.parent_id)))
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("Co&lour", self.colour_button)
        form.addRow("&Definition", self.definition)
        form.addRow("&Inside", self.parent_box)
        self.lay_out(form)
        self.set_colour(code.colour)
        self.name.setFocus()

    @staticmethod
    def _subtree(code: Code, codes: Sequence[Code]) -> list[int | None]:
        """The code and its descendants: not places it can move into."""
        if code.id is None:
            return []
        out: list[int | None] = [code.id]
        changed = True
        while changed:
            changed = False
            for c in codes:
                if c.parent_id in out and c.id not in out:
                    out.append(c.id)
                    changed = True
        return out

    def set_colour(self, colour: str) -> None:
        self.colour = QColor(colour).name()
        self.colour_button.setIcon(swatch(self.colour))
        self.colour_button.setText(self.colour)

    def choose_colour(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.colour), self, "Code colour")
        if chosen.isValid():
            self.set_colour(chosen.name())

    def code(self) -> Code:
        return dataclasses.replace(self._original, name=self.name.text().strip(),
                                   colour=self.colour,
                                   definition=self.definition.toPlainText().strip(),
                                   parent_id=self.parent_box.currentData())

    def submit_entered(self) -> None:
        self._submit(self.code())
