"""Define a new participant attribute: name, type and, for a choice, its options."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QWidget

from gui.dialogs import SubmitDialog
from study.model import AttributeDef, AttributeType

TYPE_LABELS = {
    AttributeType.TEXT: "Text",
    AttributeType.NUMBER: "Number",
    AttributeType.DATE: "Date",
    AttributeType.CHOICE: "Choice from a list",
    AttributeType.BOOLEAN: "Yes / no",
}


class AttributeDialog(SubmitDialog):
    def __init__(self, submit: Callable[[AttributeDef], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New participant attribute")
        self._submit = submit
        self.name = QLineEdit()
        self.name.setObjectName("name")
        self.name.setPlaceholderText("e.g. Years in post")
        self.type = QComboBox()
        self.type.setObjectName("type")
        for kind, label in TYPE_LABELS.items():
            self.type.addItem(label, kind)
        self.choices = QLineEdit()
        self.choices.setObjectName("choices")
        self.choices.setPlaceholderText("Comma-separated, e.g. In person, Video call")
        self.choices.setEnabled(False)
        self.type.currentIndexChanged.connect(
            lambda: self.choices.setEnabled(self.kind() is AttributeType.CHOICE))
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Type", self.type)
        form.addRow("&Choices", self.choices)
        self.lay_out(form)

    def kind(self) -> AttributeType:
        return AttributeType(self.type.currentData())

    def attribute(self) -> AttributeDef:
        choices = tuple(c.strip() for c in self.choices.text().split(",") if c.strip())
        return AttributeDef(self.name.text().strip(), self.kind(),
                            choices if self.kind() is AttributeType.CHOICE else ())

    def submit_entered(self) -> None:
        self._submit(self.attribute())
