"""The study glossary: names and jargon the recogniser should expect (passed to Whisper
as hotwords) and the anonymiser should look for."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from study.errors import StudyError
from study.store import Store


class GlossaryDialog(QDialog):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Study glossary")
        self.store = store
        intro = QLabel("Names, places and jargon that come up in the interviews, e.g. "
                       "'care coordinator', 'CPA review', a team's name. Transcription "
                       "listens out for them.")
        intro.setWordWrap(True)
        self.terms = QListWidget()
        self.terms.setObjectName("terms")
        self.entry = QLineEdit()
        self.entry.setObjectName("entry")
        self.entry.setPlaceholderText("New term, then Enter")
        self.entry.returnPressed.connect(self.add)
        add = QPushButton("Add")
        add.clicked.connect(self.add)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove_selected)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.hide()
        row = QHBoxLayout()
        row.addWidget(self.entry)
        row.addWidget(add)
        row.addWidget(remove)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.terms)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        self.terms.clear()
        self.terms.addItems(self.store.glossary())

    def add(self) -> None:
        try:
            self.store.add_glossary_term(self.entry.text())
        except StudyError as e:
            self.error.setText(str(e))
            self.error.show()
            return
        self.error.hide()
        self.entry.clear()
        self.reload()

    def remove_selected(self) -> None:
        for item in self.terms.selectedItems():
            self.store.delete_glossary_term(item.text())
        self.reload()
