"""Add or edit one participant: study code, group, typed attributes and notes.

The dialog stays open on a refused change (e.g. a duplicate code) and shows why,
so nothing typed is lost.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from gui.dialogs import SubmitDialog
from study.model import AttributeDef, AttributeType, AttributeValue, Participant

Submit = Callable[[Participant], None]


class AttributeEditor:
    """One editor widget for one typed attribute, with an 'unset' state for each type."""

    def __init__(self, attr: AttributeDef, value: AttributeValue) -> None:
        self.attr = attr
        self.widget: QWidget
        match attr.type:
            case AttributeType.NUMBER:
                spin = QDoubleSpinBox()
                spin.setRange(-1, 1e9)
                spin.setDecimals(2 if isinstance(value, float) and not value.is_integer() else 0)
                spin.setSpecialValueText(" ")  # -1 shows as blank: not set
                spin.setValue(float(value) if isinstance(value, int | float) else -1)
                self.widget = spin
            case AttributeType.DATE:
                date = QDateEdit()
                date.setCalendarPopup(True)
                date.setDisplayFormat("yyyy-MM-dd")
                date.setMinimumDate(QDate(1900, 1, 1))
                date.setSpecialValueText(" ")
                date.setDate(QDate(value.year, value.month, value.day)
                             if isinstance(value, dt.date) else date.minimumDate())
                self.widget = date
            case AttributeType.CHOICE:
                combo = QComboBox()
                combo.addItems(["", *attr.choices])
                combo.setCurrentText(str(value) if value is not None else "")
                self.widget = combo
            case AttributeType.BOOLEAN:
                box = QCheckBox()
                box.setTristate(True)
                box.setCheckState(Qt.CheckState.PartiallyChecked if value is None else (
                    Qt.CheckState.Checked if value else Qt.CheckState.Unchecked))
                box.setToolTip("Grey: not recorded")
                self.widget = box
            case _:
                line = QLineEdit("" if value is None else str(value))
                self.widget = line
        self.widget.setObjectName(f"attr:{attr.name}")

    def value(self) -> AttributeValue:
        w = self.widget
        if isinstance(w, QDoubleSpinBox):
            return None if w.value() == w.minimum() else (
                int(w.value()) if w.decimals() == 0 else w.value())
        if isinstance(w, QDateEdit):
            if w.date() == w.minimumDate():
                return None
            return dt.date(w.date().year(), w.date().month(), w.date().day())
        if isinstance(w, QComboBox):
            return w.currentText() or None
        if isinstance(w, QCheckBox):
            state = w.checkState()
            return None if state == Qt.CheckState.PartiallyChecked else (
                state == Qt.CheckState.Checked)
        assert isinstance(w, QLineEdit)
        return w.text().strip() or None


class ParticipantDialog(SubmitDialog):
    def __init__(self, participant: Participant, attributes: list[AttributeDef],
                 groups: list[str], submit: Submit, parent: QWidget | None = None) -> None:
        super().__init__(parent, highlight_error=True)
        self.setWindowTitle("New participant" if participant.id is None
                            else f"Edit participant {participant.code}")
        self._original = participant
        self._submit = submit
        self.code = QLineEdit(participant.code)
        self.code.setObjectName("code")
        self.code.setPlaceholderText("e.g. MHCC-1")
        self.group = QComboBox()
        self.group.setObjectName("group")
        self.group.setEditable(True)
        self.group.addItems(groups)
        self.group.setCurrentText(participant.group)
        self.notes = QPlainTextEdit(participant.notes)
        self.notes.setObjectName("notes")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(70)
        self.editors = [AttributeEditor(a, participant.attribute(a.name)) for a in attributes]
        form = QFormLayout()
        form.addRow("Study &code", self.code)
        form.addRow("&Group", self.group)
        for e in self.editors:
            form.addRow(e.attr.name, e.widget)
        form.addRow("&Notes", self.notes)
        self.lay_out(form)
        self.code.setFocus()

    def participant(self) -> Participant:
        return dataclasses.replace(
            self._original,
            code=self.code.text().strip(),
            group=self.group.currentText().strip(),
            notes=self.notes.toPlainText().strip(),
            attributes=tuple((e.attr.name, v) for e in self.editors
                             if (v := e.value()) is not None),
        )

    def submit_entered(self) -> None:
        self._submit(self.participant())
