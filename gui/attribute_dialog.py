"""Define a new participant attribute: name, type and, for a choice, its options."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from study.errors import StudyError
from study.model import AttributeDef, AttributeType

TYPE_LABELS = {
    AttributeType.TEXT: "Text",
    AttributeType.NUMBER: "Number",
    AttributeType.DATE: "Date",
    AttributeType.CHOICE: "Choice from a list",
    AttributeType.BOOLEAN: "Yes / no",
}


class AttributeDialog(QDialog):
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
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("&Name", self.name)
        form.addRow("&Type", self.type)
        form.addRow("&Choices", self.choices)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def kind(self) -> AttributeType:
        return AttributeType(self.type.currentData())

    def attribute(self) -> AttributeDef:
        choices = tuple(c.strip() for c in self.choices.text().split(",") if c.strip())
        return AttributeDef(self.name.text().strip(), self.kind(),
                            choices if self.kind() is AttributeType.CHOICE else ())

    def accept(self) -> None:
        try:
            self._submit(self.attribute())
        except StudyError as e:
            self.error.setText(str(e))
            self.error.show()
            return
        super().accept()
