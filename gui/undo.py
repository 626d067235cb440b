"""Undo commands over store methods, pushed onto the window's one QUndoStack.

A command does its work once in `apply()` before it is pushed, so a refused change
(a duplicate code, say) raises a StudyError and never reaches the stack. Qt's first
redo() on push is then skipped. A later undo or redo that the study no longer allows
is reported and the command dropped, instead of raising inside Qt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtGui import QUndoCommand, QUndoStack

from study.errors import StudyError
from study.model import AttributeDef, Participant
from study.store import Store

ErrorReporter = Callable[[str], None]
_reporter: list[ErrorReporter] = []


def set_error_reporter(reporter: ErrorReporter) -> None:
    """Where a failed undo or redo is reported (the main window's status and a message)."""
    _reporter[:] = [reporter]


class StoreCommand(QUndoCommand):
    def __init__(self, store: Store, text: str) -> None:
        super().__init__(text)
        self.store = store
        self._pushed = False

    def apply(self) -> None:
        """Do the change through the store; subclasses define it."""
        raise TypeError(f"{type(self).__name__} does not define apply()")

    def revert(self) -> None:
        """Undo the change through the store; subclasses define it."""
        raise TypeError(f"{type(self).__name__} does not define revert()")

    def redo(self) -> None:
        if not self._pushed:
            self._pushed = True
            return
        self._guard(self.apply)

    def undo(self) -> None:
        self._guard(self.revert)

    def _guard(self, action: Callable[[], None]) -> None:
        try:
            action()
        except StudyError as e:
            self.setObsolete(True)
            for report in _reporter:
                report(f"Could not {self.text()[0].lower()}{self.text()[1:]}: {e}")


def push(stack: QUndoStack, command: StoreCommand) -> None:
    """Apply the command now (raising StudyError if refused), then make it undoable."""
    command.apply()
    stack.push(command)


class AddParticipant(StoreCommand):
    def __init__(self, store: Store, participant: Participant) -> None:
        super().__init__(store, f"Add participant {participant.code}")
        self.participant = participant

    def apply(self) -> None:
        new_id = self.store.add_participant(self.participant).new_id("participant")
        self.participant = dataclasses.replace(self.participant, id=new_id)

    def revert(self) -> None:
        assert self.participant.id is not None
        self.store.delete_participant(self.participant.id)


class EditParticipant(StoreCommand):
    def __init__(self, store: Store, before: Participant, after: Participant) -> None:
        super().__init__(store, f"Edit participant {before.code}")
        self.before, self.after = before, after

    def apply(self) -> None:
        self.store.update_participant(self.after)

    def revert(self) -> None:
        self.store.update_participant(self.before)


class DeleteParticipant(StoreCommand):
    def __init__(self, store: Store, participant: Participant) -> None:
        super().__init__(store, f"Delete participant {participant.code}")
        self.participant = participant

    def apply(self) -> None:
        assert self.participant.id is not None
        self.store.delete_participant(self.participant.id)

    def revert(self) -> None:
        self.store.add_participant(self.participant)  # keeps its id and attributes


class AddAttribute(StoreCommand):
    def __init__(self, store: Store, attribute: AttributeDef) -> None:
        super().__init__(store, f"Add attribute {attribute.name}")
        self.attribute = attribute

    def apply(self) -> None:
        self.store.add_attribute_def(self.attribute)
        self.attribute = next(a for a in self.store.attribute_defs()
                              if a.name == self.attribute.name.strip())

    def revert(self) -> None:
        self.store.delete_attribute_def(self.attribute.name)


class DeleteAttribute(StoreCommand):
    """Deleting an attribute drops its values; undo puts the values back."""

    def __init__(self, store: Store, attribute: AttributeDef) -> None:
        super().__init__(store, f"Delete attribute {attribute.name}")
        self.attribute = attribute
        self.values = [p for p in store.participants() if p.attribute(attribute.name) is not None]

    def apply(self) -> None:
        self.store.delete_attribute_def(self.attribute.name)

    def revert(self) -> None:
        with self.store.write():
            self.store.add_attribute_def(self.attribute)
            for p in self.values:
                current = self.store.participant(p.id) if p.id is not None else p
                value = p.attribute(self.attribute.name)
                self.store.update_participant(dataclasses.replace(
                    current, attributes=(*current.attributes, (self.attribute.name, value))))
