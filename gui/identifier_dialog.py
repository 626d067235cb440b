"""Register an identifier, or edit one: the original (fixed once registered), its
category, attributes that say who or what it is (relation, description), the bracketed
replacement and whether it is replaced everywhere without asking. And the replacement
scheme: the template each category's replacements are made from.

The replacement is suggested from the study's scheme and follows the category and
attributes until the researcher types one of their own ("Suggest" goes back to the
suggestion). Like the other dialogs, a refused change keeps the dialog open and says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from gui.anonymisation_model import CATEGORY_LABELS
from gui.dialogs import SubmitDialog
from gui.undo import push
from gui.undo_anonymity import Registration, SetSchemeTemplates
from study.errors import ValidationError
from study.model import Category, Identifier, IdentifierRule
from study.store import Store
from study.store.anonymity import check_replacement, template_fields

Submit = Callable[[Registration], None]
RULES = ((IdentifierRule.ASK, "Ask about each occurrence"),
         (IdentifierRule.ALWAYS, "Always replace it"),
         (IdentifierRule.NEVER, "Never: it is not an identifier"))
ATTRIBUTES = ("relation", "description")


def bracketed(text: str) -> str:
    """Replacements are bracketed so a reader sees at once what was changed."""
    text = " ".join(text.split())
    if not text:
        return ""
    if not (text.startswith("[") and text.endswith("]")):
        text = f"[{text.strip('[]').strip()}]"
    return text


def category_combo(current: str | None = None) -> QComboBox:
    box = QComboBox()
    for c in Category:
        box.addItem(CATEGORY_LABELS[c], c.value)
    if current is not None and box.findData(current) < 0:
        box.addItem(current, current)  # a category of the core's not listed here
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class IdentifierDialog(SubmitDialog):
    def __init__(self, store: Store, submit: Submit, *, identifier: Identifier | None = None,
                 original: str = "", category: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self._submit = store, submit
        self.editing = identifier is not None
        if identifier is not None:
            original = (store.identifier_original(identifier.id)
                        if identifier.id is not None else None) or original
            category = identifier.category
        self.setWindowTitle(f"Edit identifier “{original}”" if self.editing
                            else "Register an identifier")
        self.original = QLineEdit(original)
        self.original.setObjectName("original")
        self.original.setReadOnly(self.editing)
        self.original.setPlaceholderText("The name or detail as it appears, e.g. Sarah Jones")
        self.category = category_combo(category or Category.PERSON.value)
        self.category.setObjectName("category")
        attributes = dict(identifier.attributes) if identifier is not None else {}
        self.relation = QLineEdit(attributes.get("relation", ""))
        self.relation.setObjectName("relation")
        self.relation.setPlaceholderText("e.g. participant's son, social worker")
        self.description = QLineEdit(attributes.get("description", ""))
        self.description.setObjectName("description")
        self.description.setPlaceholderText("e.g. London borough")
        self.replacement = QLineEdit()
        self.replacement.setObjectName("replacement")
        self.suggest_button = QPushButton("&Suggest")
        self.suggest_button.setToolTip("Use the replacement the study's scheme suggests")
        self.suggest_button.clicked.connect(self.use_suggestion)
        self.rule = QComboBox()
        self.rule.setObjectName("rule")
        for rule, label in RULES:
            self.rule.addItem(label, rule.value)
        self.rule.setCurrentIndex(max(0, self.rule.findData(
            (identifier.rule if identifier is not None else IdentifierRule.ASK).value)))
        replacement_row = QHBoxLayout()
        replacement_row.addWidget(self.replacement, 1)
        replacement_row.addWidget(self.suggest_button)
        form = QFormLayout()
        form.addRow("&Original", self.original)
        form.addRow("&Category", self.category)
        form.addRow("&Relation", self.relation)
        form.addRow("&Description", self.description)
        form.addRow("Re&placement", replacement_row)
        form.addRow("R&ule", self.rule)
        self.lay_out(form)
        # Edited by hand: an existing identifier's replacement is kept as it is.
        self.hand_edited = self.editing
        if identifier is not None:
            self.replacement.setText(identifier.replacement)
        else:
            self.use_suggestion()
        self.replacement.textEdited.connect(self._typed)
        self.category.currentIndexChanged.connect(lambda _i: self._follow())
        self.relation.textChanged.connect(lambda _t: self._follow())
        self.description.textChanged.connect(lambda _t: self._follow())
        (self.category if self.editing or original else self.original).setFocus()

    def attributes(self) -> tuple[tuple[str, str], ...]:
        values = {"relation": self.relation.text(), "description": self.description.text()}
        return tuple((k, " ".join(v.split())) for k, v in values.items() if v.strip())

    def suggestion(self) -> str:
        return self.store.suggest_replacement(self.category.currentData(),
                                              dict(self.attributes()) or None)

    def use_suggestion(self) -> None:
        self.hand_edited = False
        self.replacement.setText(self.suggestion())

    def _typed(self, _text: str) -> None:
        self.hand_edited = True

    def _follow(self) -> None:
        if not self.hand_edited:
            self.replacement.setText(self.suggestion())

    def registration(self) -> Registration:
        return Registration(" ".join(self.original.text().split()), self.category.currentData(),
                            bracketed(self.replacement.text()), self.attributes(),
                            IdentifierRule(self.rule.currentData()))

    def submit_entered(self) -> None:
        r = self.registration()
        if not r.original:
            raise ValidationError("Type the name or detail to register.")
        if not r.replacement:
            raise ValidationError("Give a replacement, e.g. [Name 3], or press Suggest.")
        self._submit(r)


# --- the replacement scheme ------------------------------------------------------------------

EXAMPLE_ATTRIBUTES = {"relation": "son", "description": "London borough"}


def preview(template: str, number: int = 1) -> str:
    """What a template gives, with example attributes; the problem if it is invalid."""
    try:
        check_replacement(template)
        fields = template_fields(template)
    except ValidationError as e:
        return f"⚠ {e}"
    values = {f: EXAMPLE_ATTRIBUTES.get(f, f"<{f}>") for f in fields}
    values["n"] = str(number)
    return template.format_map(values)


class SchemeDialog(SubmitDialog):
    """Category → template, e.g. person → [Name {n}], family → [Participant's {relation}];
    {n} is the next free number, other {names} are the identifier's attributes. OK makes
    every change one undo step; existing replacements keep their text."""

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Replacement scheme")
        self.store, self.stack = store, stack
        self.before = store.replacement_scheme()
        categories = [c.value for c in Category] + sorted(
            c for c in self.before if c not in {x.value for x in Category})
        used = Counter(i.category for i in store.identifiers())
        self.table = QTableWidget(len(categories), 3)
        self.table.setObjectName("scheme")
        self.table.setHorizontalHeaderLabels(["Category", "Template", "Preview"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self._numbers: dict[str, int] = {}
        for row, category in enumerate(categories):
            label = QTableWidgetItem(CATEGORY_LABELS.get(category, category))
            label.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            label.setData(Qt.ItemDataRole.UserRole, category)
            template = QTableWidgetItem(self.before.get(category, ""))
            shown = QTableWidgetItem()
            shown.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self._numbers[category] = used.get(category, 0) + 1
            self.table.setItem(row, 0, label)
            self.table.setItem(row, 1, template)
            self.table.setItem(row, 2, shown)
            self._preview(row)
        self.table.resizeColumnsToContents()
        self.table.itemChanged.connect(self._changed)
        note = QLabel("Templates are bracketed. {n} is the next free number in the "
                      "category; {relation} and {description} come from the identifier's "
                      "attributes. Changes apply to identifiers registered from now on.")
        note.setWordWrap(True)
        self.lay_out(QFormLayout(), note, self.table)
        self.resize(640, 520)

    def _changed(self, item: QTableWidgetItem) -> None:
        if item.column() == 1:
            self._preview(item.row())

    def _preview(self, row: int) -> None:
        category = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        shown = self.table.item(row, 2)
        text = preview(self.table.item(row, 1).text(), self._numbers.get(category, 1))
        self.table.blockSignals(True)
        shown.setText(text)
        self.table.blockSignals(False)

    def templates(self) -> dict[str, str]:
        return {self.table.item(r, 0).data(Qt.ItemDataRole.UserRole):
                " ".join(self.table.item(r, 1).text().split())
                for r in range(self.table.rowCount())}

    def set_template(self, category: str, template: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == category:
                self.table.item(r, 1).setText(template)
                return
        raise KeyError(category)

    def submit_entered(self) -> None:
        after = self.templates()
        changed = {c: t for c, t in after.items() if t != self.before.get(c, "")}
        for category, template in changed.items():
            label = CATEGORY_LABELS.get(category, category)
            try:
                check_replacement(template)
                template_fields(template)
            except ValidationError as e:
                raise ValidationError(f"{label}: {e}") from e
        if changed:
            push(self.stack, SetSchemeTemplates(self.store, self.before, after))
