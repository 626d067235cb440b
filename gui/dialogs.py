"""What the dialogs that add or edit one thing of the study share: a form, a line that says
why a change was refused, and OK / Cancel. OK submits what was entered; if the study
refuses it (a StudyError), the dialog shows why and stays open, so nothing typed is lost.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from study.errors import StudyError

# Stands out from the form in light and dark palettes alike.
HIGHLIGHTED_ERROR = "color: palette(bright-text); background: palette(shadow); padding: 4px;"


class SubmitDialog(QDialog):
    """A dialog whose OK calls `submit_entered`; subclasses build the form and lay it out
    with `lay_out`. `error` and `buttons` are there from the start."""

    def __init__(self, parent: QWidget | None = None, *, highlight_error: bool = False) -> None:
        super().__init__(parent)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        if highlight_error:
            self.error.setStyleSheet(HIGHLIGHTED_ERROR)
        self.error.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def lay_out(self, form: QFormLayout, *below: QWidget) -> None:
        """The form, any widgets below it, then the error line and the buttons."""
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for widget in below:
            layout.addWidget(widget)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def submit_entered(self) -> None:
        """Hand what was entered to the caller; raise a StudyError to refuse it."""
        raise NotImplementedError

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def accept(self) -> None:
        try:
            self.submit_entered()
        except StudyError as e:
            self.show_error(str(e))
            return
        super().accept()
