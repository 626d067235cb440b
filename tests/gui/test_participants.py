"""The participants page: add, edit and delete through the dialog, typed attributes,
and undo/redo of every change through the window's undo stack."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QDoubleSpinBox, QLineEdit
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from gui.participant_dialog import ParticipantDialog
from study.folder import Study, open_study
from study.model import AttributeDef, AttributeType, Interview, Participant


def open_new_study(window: MainWindow, tmp_path: Path) -> Study:
    assert window.new_study(tmp_path / "Agencies")
    assert window.study is not None
    return window.study


def fill_and_accept(qtbot: QtBot, dialog: ParticipantDialog, code: str | None = None,
                    group: str | None = None) -> None:
    if code is not None:
        dialog.code.clear()
        qtbot.keyClicks(dialog.code, code)
    if group is not None:
        dialog.group.setCurrentText("")
        qtbot.keyClicks(dialog.group.lineEdit(), group)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)


def table_codes(window: MainWindow) -> list[str]:
    assert window.workspace is not None
    table = window.workspace.participants.table
    return [table.model().index(r, 0).data() for r in range(table.model().rowCount())]


def test_add_edit_delete_with_undo_and_redo(window: MainWindow, qtbot: QtBot,
                                            tmp_path: Path) -> None:
    study = open_new_study(window, tmp_path)
    view = window.workspace.participants  # type: ignore[union-attr]

    fill_and_accept(qtbot, view.add(), "MHCC-1", "MHCC")
    fill_and_accept(qtbot, view.add(), "CFSW-1", "CFSW")
    assert table_codes(window) == ["CFSW-1", "MHCC-1"]
    assert [(p.code, p.group) for p in study.store.participants()] == [
        ("CFSW-1", "CFSW"), ("MHCC-1", "MHCC")]

    view.select(study.store.participants()[1].id)  # MHCC-1
    dialog = view.edit_selected()
    assert dialog is not None and dialog.code.text() == "MHCC-1"
    fill_and_accept(qtbot, dialog, group="CMHT")
    assert study.store.participants()[1].group == "CMHT"

    window.undo_action.trigger()
    assert study.store.participants()[1].group == "MHCC"
    window.redo_action.trigger()
    assert study.store.participants()[1].group == "CMHT"

    mhcc = study.store.participants()[1]
    view.select(mhcc.id)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert [p.code for p in study.store.participants()] == ["CFSW-1"]
    assert table_codes(window) == ["CFSW-1"]

    window.undo_action.trigger()  # brings back the same participant, same id
    assert study.store.participants()[1] == mhcc
    assert table_codes(window) == ["CFSW-1", "MHCC-1"]

    for _ in range(4):  # delete, edit, add CFSW-1, add MHCC-1 ... all undone
        window.undo_action.trigger()
    assert study.store.participants() == []
    assert table_codes(window) == []
    assert not window.undo_stack.canUndo()
    window.redo_action.trigger()
    assert [p.code for p in study.store.participants()] == ["MHCC-1"]


def test_refused_change_keeps_the_dialog_open_and_writes_nothing(
        window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    study = open_new_study(window, tmp_path)
    view = window.workspace.participants  # type: ignore[union-attr]
    fill_and_accept(qtbot, view.add(), "MHCC-1", "MHCC")
    dialog = view.add()
    fill_and_accept(qtbot, dialog, "mhcc-1", "MHCC")
    assert dialog.isVisible()
    assert "already used" in dialog.error.text()
    assert len(study.store.participants()) == 1
    assert window.undo_stack.count() == 1
    fill_and_accept(qtbot, dialog, "MHCC-2")
    assert not dialog.isVisible()
    assert [p.code for p in study.store.participants()] == ["MHCC-1", "MHCC-2"]


def test_typed_attributes_are_edited_stored_and_shown(window: MainWindow, qtbot: QtBot,
                                                      tmp_path: Path) -> None:
    study = open_new_study(window, tmp_path)
    view = window.workspace.participants  # type: ignore[union-attr]
    dialog = view.add_attribute()
    qtbot.keyClicks(dialog.name, "Years in post")
    dialog.type.setCurrentIndex(dialog.type.findData(AttributeType.NUMBER))
    dialog.accept()
    assert study.store.attribute_defs() == [AttributeDef("Years in post", AttributeType.NUMBER,
                                                         (), 1)]
    assert view.model.headerData(2, Qt.Orientation.Horizontal) == "Years in post"

    participant = view.add()
    qtbot.keyClicks(participant.code, "MHCC-1")
    years = participant.findChild(QDoubleSpinBox, "attr:Years in post")
    years.setValue(7)
    participant.accept()
    assert study.store.participants()[0].attribute("Years in post") == 7
    assert view.model.index(0, 2).data() == "7"

    window.undo_action.trigger()  # the participant
    window.undo_action.trigger()  # the attribute
    assert study.store.attribute_defs() == []
    assert view.model.columnCount() == 3


def test_edit_dialog_shows_current_values(window: MainWindow, tmp_path: Path) -> None:
    study = open_new_study(window, tmp_path)
    study.store.add_attribute_def(AttributeDef("Role", AttributeType.TEXT))
    study.store.add_participant(Participant("CFSW-2", "CFSW", (("Role", "Senior SW"),), "n1"))
    view = window.workspace.participants  # type: ignore[union-attr]
    assert table_codes(window) == ["CFSW-2"]  # the model heard the store's change
    view.select(study.store.participants()[0].id)
    dialog = view.edit_selected()
    assert dialog is not None
    assert dialog.group.currentText() == "CFSW"
    assert dialog.findChild(QLineEdit, "attr:Role").text() == "Senior SW"
    assert dialog.notes.toPlainText() == "n1"
    dialog.reject()
    assert window.undo_stack.count() == 0


def test_undo_that_the_study_no_longer_allows_is_reported_not_raised(
        window: MainWindow, qtbot: QtBot, tmp_path: Path,
        errors: list[tuple[str, str]]) -> None:
    study = open_new_study(window, tmp_path)
    view = window.workspace.participants  # type: ignore[union-attr]
    fill_and_accept(qtbot, view.add(), "MHCC-1", "MHCC")
    pid = study.store.participants()[0].id
    study.store.add_interview(Interview("First interview", pid))
    window.undo_action.trigger()  # undo the add: refused, the participant has an interview
    assert [p.code for p in study.store.participants()] == ["MHCC-1"]
    assert errors and "has 1 interview" in errors[-1][1]
    assert not window.undo_stack.canUndo()  # the impossible command was dropped


def test_participants_survive_reopening(window: MainWindow, qtbot: QtBot,
                                        tmp_path: Path) -> None:
    study = open_new_study(window, tmp_path)
    root = study.folder.root
    fill_and_accept(qtbot, window.workspace.participants.add(), "MHCC-1", "MHCC")  # type: ignore[union-attr]
    window.close_study()
    with open_study(root) as reopened:
        assert [p.code for p in reopened.store.participants()] == ["MHCC-1"]
