"""Themes: the panel, the theme dialog and the thematic map on a real study, every change
undoable and redone exactly through the undo stack."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QUndoStack,
    QWheelEvent,
)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from gui.study_signals import StudySignals
from gui.thematic_map_view import CodeItem, EdgeItem, ThematicMapView, ThemeItem
from gui.theme_dialog import ThemeDialog
from gui.themes_panel import ThemesPanel, codes_mime
from gui.undo import push
from gui.undo_themes import (
    AddTheme,
    DeleteTheme,
    EditTheme,
    MoveCodeBetweenThemes,
    MoveMapNodes,
    SetThemeMembers,
)
from study.folder import Study
from study.model import Code, Memo, MemoTarget, Theme, ThemeStatus
from study.store import Store


class Setup(NamedTuple):
    store: Store
    stack: QUndoStack
    panel: ThemesPanel
    map: ThematicMapView
    codes: list[int]


@pytest.fixture
def setup(study: Study, qtbot: QtBot) -> Iterator[Setup]:
    store = study.store
    codes = [store.add_code(Code(name, colour=colour)).new_id("code") for name, colour in (
        ("Shame", "#e15759"), ("Being judged", "#f28e2b"), ("Caseload", "#4e79a7"),
        ("Overtime", "#76b7b2"), ("Supervision", "#59a14f"))]
    stack = QUndoStack()
    host = QWidget()
    qtbot.addWidget(host)
    panel = ThemesPanel(store, stack, host)
    view = ThematicMapView(store, stack, host)
    host.resize(1200, 800)
    panel.setGeometry(0, 0, 400, 800)
    view.setGeometry(400, 0, 800, 800)
    signals = StudySignals(store)
    signals.changed.connect(panel.on_changed)
    signals.changed.connect(view.on_changed)
    host.show()
    host.activateWindow()
    qtbot.waitExposed(host)
    qtbot.waitUntil(host.isActiveWindow)  # shortcuts only reach the active window
    yield Setup(store, stack, panel, view, codes)
    signals.detach()
    stack.clear()


def open_dialog(panel: QWidget) -> ThemeDialog:
    (dialog,) = [d for d in panel.findChildren(ThemeDialog) if d.isVisible()]
    return dialog


def message_box(parent: QWidget) -> QMessageBox:
    (box,) = [b for b in parent.findChildren(QMessageBox) if b.isVisible()]
    return box


def add_theme(s: Setup, name: str, code_ids: tuple[int, ...] = (), **kw: object) -> int:
    return s.store.add_theme(Theme(name, code_ids=code_ids, **kw)).new_id("theme")  # type: ignore[arg-type]


def tree_rows(panel: ThemesPanel) -> list[tuple[str, list[str]]]:
    model = panel.model
    return [(model.item(r).text(), [model.item(r).child(c).text()
                                    for c in range(model.item(r).rowCount())])
            for r in range(model.rowCount())]


# --- the panel and the dialog ----------------------------------------------------------------


def test_create_edit_delete_through_the_panel_with_exact_undo_and_redo(
        setup: Setup, qtbot: QtBot) -> None:
    s = setup
    shame, judged, caseload = s.codes[:3]
    s.panel.new_action.trigger()
    dialog = open_dialog(s.panel)
    assert dialog.windowTitle() == "New theme"
    qtbot.keyClicks(dialog.name, "Carrying stigma")
    dialog.definition.setPlainText("How workers feel judged for their clients' problems.")
    dialog.status.setCurrentIndex(dialog.status.findData(ThemeStatus.REVIEWED))
    dialog.set_checked(shame)
    dialog.set_checked(judged)
    assert dialog.count.text() == "2 codes selected"
    dialog.accept()
    assert not dialog.isVisible()
    (created,) = s.store.themes()
    assert created == Theme("Carrying stigma",
                            "How workers feel judged for their clients' problems.",
                            ThemeStatus.REVIEWED, (shame, judged), id=created.id)
    assert tree_rows(s.panel) == [("Carrying stigma", ["Shame", "Being judged"])]
    assert s.panel.selected() == ("theme", created.id, created.id)
    assert s.panel.model.item(0, 1).text() == "Reviewed"
    assert s.panel.model.item(0).toolTip().startswith("How workers")

    s.panel.edit_action.trigger()
    dialog = open_dialog(s.panel)
    assert dialog.name.text() == "Carrying stigma"
    assert set(dialog.checked_code_ids()) == {shame, judged}
    dialog.name.setText("Stigma by association")
    dialog.set_checked(judged, False)
    dialog.set_checked(caseload)
    dialog.accept()
    (edited,) = s.store.themes()
    assert edited == dataclasses.replace(created, name="Stigma by association",
                                         code_ids=(shame, caseload))

    s.store.add_memo(Memo(MemoTarget.THEME, "Check against MHCC-3.", edited.id))
    memos = s.store.memos()
    s.panel.select_theme(edited.id)  # type: ignore[arg-type]
    s.panel.delete_action.trigger()
    box = message_box(s.panel)
    assert "Stigma by association" in box.text()
    assert "2 codes" in box.informativeText() and "1 memo" in box.informativeText()
    box.button(QMessageBox.StandardButton.Yes).click()
    assert s.store.themes() == []
    assert s.store.memos() == []
    assert sorted(c.id for c in s.store.codes()) == s.codes  # the codes are kept
    assert tree_rows(s.panel) == []

    s.stack.undo()
    assert s.store.themes() == [edited]
    assert s.store.memos() == memos
    s.stack.undo()
    assert s.store.themes() == [created]
    s.stack.undo()
    assert s.store.themes() == []
    assert not s.stack.canUndo()
    s.stack.redo()
    assert s.store.themes() == [created]
    s.stack.redo()
    assert s.store.themes() == [edited]
    s.stack.redo()
    assert s.store.themes() == []
    s.stack.undo()
    assert s.store.themes() == [edited]
    assert s.store.memos() == memos


def test_cancelling_delete_keeps_the_theme(setup: Setup) -> None:
    s = setup
    theme_id = add_theme(s, "Workload", (s.codes[2],))
    s.panel.select_theme(theme_id)
    box = s.panel.delete_selected()
    assert isinstance(box, QMessageBox)
    assert "1 code" in box.informativeText()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert [t.id for t in s.store.themes()] == [theme_id]
    assert s.stack.count() == 0


def test_the_dialog_refuses_an_empty_name_and_filters_codes(setup: Setup, qtbot: QtBot) -> None:
    s = setup
    parent_id = s.store.add_code(Code("Organisational", colour="#9c755f")).new_id("code")
    s.store.add_code(Code("Rota gaps", parent_id=parent_id))
    dialog = s.panel.new_theme()
    dialog.name.setText("   ")
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.error.isVisible() and "needs a name" in dialog.error.text()
    assert s.store.themes() == [] and s.stack.count() == 0

    qtbot.keyClicks(dialog.filter, "rota")
    visible = [i.text(0) for i in dialog._items() if not i.isHidden()]
    assert visible == ["Organisational", "Rota gaps"]  # the match and the way to it
    dialog.filter.clear()
    assert all(not i.isHidden() for i in dialog._items())
    dialog.reject()
    assert s.stack.count() == 0


def test_an_unchanged_edit_pushes_nothing(setup: Setup) -> None:
    s = setup
    theme_id = add_theme(s, "Workload", (s.codes[2], s.codes[3]))
    s.panel.select_theme(theme_id)
    dialog = s.panel.edit_selected()
    assert dialog is not None
    dialog.accept()
    assert s.stack.count() == 0


def test_status_quick_change_is_undoable(setup: Setup) -> None:
    s = setup
    theme_id = add_theme(s, "Workload", (s.codes[2],))
    s.panel.select_theme(theme_id)
    assert s.panel.status_actions[ThemeStatus.CANDIDATE].isChecked()
    s.panel.status_actions[ThemeStatus.FINAL].trigger()
    assert s.store.theme(theme_id).status is ThemeStatus.FINAL
    assert s.panel.model.item(0, 1).text() == "Final"
    assert s.panel.status_actions[ThemeStatus.FINAL].isChecked()
    s.stack.undo()
    assert s.store.theme(theme_id).status is ThemeStatus.CANDIDATE
    assert s.panel.status_actions[ThemeStatus.CANDIDATE].isChecked()


def test_keyboard_edit_and_delete_in_the_panel(setup: Setup, qtbot: QtBot) -> None:
    s = setup
    theme_id = add_theme(s, "Workload", (s.codes[2], s.codes[3]))
    s.panel.select_code(theme_id, s.codes[3])
    s.panel.tree.setFocus()
    qtbot.keyClick(s.panel.tree, Qt.Key.Key_Delete)  # on a code row: leaves the theme
    assert s.store.theme(theme_id).code_ids == (s.codes[2],)
    assert s.panel.selected() == ("theme", theme_id, theme_id)
    qtbot.keyClick(s.panel.tree, Qt.Key.Key_F2)
    dialog = open_dialog(s.panel)
    assert dialog.name.text() == "Workload"
    dialog.reject()
    s.stack.undo()
    assert s.store.theme(theme_id).code_ids == (s.codes[2], s.codes[3])


def test_refresh_keeps_collapsed_themes_and_the_selection(setup: Setup) -> None:
    s = setup
    first = add_theme(s, "A theme", (s.codes[0], s.codes[1]))
    second = add_theme(s, "B theme", (s.codes[2],))
    s.panel.tree.collapse(s.panel.model.index(0, 0))
    s.panel.select_code(second, s.codes[2])
    s.store.update_code(dataclasses.replace(s.store.code(s.codes[2]), name="Heavy caseload"))
    assert tree_rows(s.panel)[1] == ("B theme", ["Heavy caseload"])
    assert not s.panel.tree.isExpanded(s.panel.model.index(0, 0))
    assert s.panel.tree.isExpanded(s.panel.model.index(1, 0))
    assert s.panel.selected() == ("code", s.codes[2], second)
    s.store.update_theme(dataclasses.replace(s.store.theme(first), definition="Changed"))
    assert s.panel.selected() == ("code", s.codes[2], second)


def test_selecting_a_theme_signals_it(setup: Setup, qtbot: QtBot) -> None:
    s = setup
    theme_id = add_theme(s, "Workload", (s.codes[2],))
    with qtbot.waitSignal(s.panel.theme_selected) as blocker:
        s.panel.select_theme(theme_id)
    assert blocker.args == [theme_id]
    with qtbot.waitSignal(s.panel.code_selected) as blocker:
        s.panel.select_code(theme_id, s.codes[2])
    assert blocker.args == [s.codes[2]]


def drop(widget: QWidget, pos: QPoint, mime: QMimeData,
         modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> bool:
    """A drag entering, moving over and dropping at `pos`, as Qt delivers them."""
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    enter = QDragEnterEvent(pos, actions, mime, Qt.MouseButton.LeftButton, modifiers)
    QApplication.sendEvent(widget, enter)
    move = QDragMoveEvent(pos, actions, mime, Qt.MouseButton.LeftButton, modifiers)
    QApplication.sendEvent(widget, move)
    if not move.isAccepted():
        return False
    event = QDropEvent(QPointF(pos), actions, mime, Qt.MouseButton.LeftButton, modifiers,
                       QEvent.Type.Drop)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_codes_dropped_on_a_theme_in_the_panel(setup: Setup) -> None:
    s = setup
    stigma = add_theme(s, "Stigma", (s.codes[0],))
    workload = add_theme(s, "Workload", (s.codes[2],))
    before = s.store.themes()
    tree = s.panel.tree
    target = tree.visualRect(s.panel.model.index(1, 0)).center()  # Workload

    assert drop(tree.viewport(), target, codes_mime([s.codes[3], s.codes[4]]))  # the codebook
    assert s.store.theme(workload).code_ids == (s.codes[2], s.codes[3], s.codes[4])
    assert s.stack.count() == 1
    s.stack.undo()
    assert s.store.themes() == before

    # from another theme: moves, or with Ctrl adds
    assert drop(tree.viewport(), target, codes_mime([s.codes[0]], stigma))
    assert s.store.theme(stigma).code_ids == ()
    assert s.store.theme(workload).code_ids == (s.codes[0], s.codes[2])
    s.stack.undo()
    assert s.store.themes() == before
    assert drop(tree.viewport(), target, codes_mime([s.codes[0]], stigma),
                Qt.KeyboardModifier.ControlModifier)
    assert s.store.theme(stigma).code_ids == (s.codes[0],)
    assert s.store.theme(workload).code_ids == (s.codes[0], s.codes[2])

    empty = QPoint(5, tree.viewport().height() - 5)
    assert not drop(tree.viewport(), empty, codes_mime([s.codes[4]]))
    garbage = QMimeData()
    garbage.setData("application/x-verbatim-code-ids", b"not json")
    assert not drop(tree.viewport(), target, garbage)


# --- undo commands on their own -----------------------------------------------------------


def test_commands_restore_exactly(setup: Setup) -> None:
    s = setup
    add = AddTheme(s.store, Theme("Stigma", code_ids=(s.codes[0],)))
    push(s.stack, add)
    theme_id = add.theme.id
    assert theme_id is not None
    s.store.add_memo(Memo(MemoTarget.THEME, "memo", theme_id))
    snapshot, memos = s.store.themes(), s.store.memos()
    s.stack.undo()
    assert s.store.themes() == [] and s.store.memos() == []
    s.stack.redo()  # same id, and the memo written on it comes back too
    assert s.store.themes() == snapshot and s.store.memos() == memos

    other = add_theme(s, "Workload", (s.codes[2],))
    before = s.store.themes()
    for command in (
            SetThemeMembers(s.store, theme_id, (s.codes[0], s.codes[1])),
            MoveCodeBetweenThemes(s.store, s.codes[0], theme_id, other),
            MoveCodeBetweenThemes(s.store, s.codes[2], other, None),
            MoveCodeBetweenThemes(s.store, s.codes[4], None, other),
            EditTheme(s.store, s.store.theme(other),
                      dataclasses.replace(s.store.theme(other), name="Overload")),
            MoveMapNodes(s.store, {("theme", other): None, ("code", s.codes[1]): None},
                         {("theme", other): (5.0, 6.0), ("code", s.codes[1]): (7.0, 8.0)}),
            DeleteTheme(s.store, other)):
        push(s.stack, command)
    after = s.store.themes()
    assert s.store.code_map_positions() == {s.codes[1]: (7.0, 8.0)}
    for _ in range(7):
        s.stack.undo()
    assert s.store.themes() == before
    assert s.store.code_map_positions() == {}
    for _ in range(7):
        s.stack.redo()
    assert s.store.themes() == after
    with pytest.raises(ValueError):
        MoveCodeBetweenThemes(s.store, s.codes[0], None, None)


# --- the thematic map -----------------------------------------------------------------------


def centre(view: ThematicMapView, key: tuple[str, int]) -> QPoint:
    return view.view.mapFromScene(view.nodes[key].scenePos())  # type: ignore[index]


def drag(view: ThematicMapView, start: QPoint, end: QPoint,
         modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    port = view.view.viewport()
    QTest.mousePress(port, Qt.MouseButton.LeftButton, modifiers, start)
    for n in range(1, 6):
        QTest.mouseMove(port, start + (end - start) * (n / 5))
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, modifiers, end)


def test_the_scene_matches_the_store(setup: Setup) -> None:
    s = setup
    stigma = add_theme(s, "Stigma", (s.codes[0], s.codes[1]), status=ThemeStatus.FINAL)
    workload = add_theme(s, "Workload", (s.codes[1], s.codes[2]))
    view = s.map
    themes = [i for i in view.scene.items() if isinstance(i, ThemeItem)]
    codes = [i for i in view.scene.items() if isinstance(i, CodeItem)]
    edges = [i for i in view.scene.items() if isinstance(i, EdgeItem)]
    assert sorted(i.node.id for i in themes) == [stigma, workload]
    assert sorted(i.node.id for i in codes) == sorted(s.codes)  # shared code once; unthemed too
    assert sorted(e.key for e in edges) == sorted(
        [(stigma, s.codes[0]), (stigma, s.codes[1]), (workload, s.codes[1]),
         (workload, s.codes[2])])
    assert view.nodes[("theme", stigma)].node.status == "final"
    assert view.nodes[("code", s.codes[0])].node.colour == "#e15759"
    for e in edges:
        assert e.line().p1() == e.theme.pos() and e.line().p2() == e.code.pos()
    view.unthemed_action.trigger()
    assert {i.node.id for i in view.scene.items() if isinstance(i, CodeItem)} == set(
        s.codes[:3])


def test_dragging_a_node_saves_its_position_and_undo_puts_it_back(setup: Setup) -> None:
    s = setup
    theme_id = add_theme(s, "Stigma", (s.codes[0],))
    view = s.map
    item = view.nodes[("theme", theme_id)]
    start_scene = item.scenePos()
    start = centre(view, ("theme", theme_id))
    drag(view, start, start + QPoint(60, 40))
    moved = view.nodes[("theme", theme_id)].scenePos()
    assert moved != start_scene
    theme = s.store.theme(theme_id)
    assert (theme.map_x, theme.map_y) == (moved.x(), moved.y())
    assert s.store.code_map_positions() == {}  # its code followed without being pinned
    assert s.stack.count() == 1
    s.stack.undo()
    theme = s.store.theme(theme_id)
    assert (theme.map_x, theme.map_y) == (None, None)
    assert view.nodes[("theme", theme_id)].scenePos() == start_scene
    s.stack.redo()
    assert view.nodes[("theme", theme_id)].scenePos() == moved

    # several selected nodes dragged together: one step saves them all
    view.select([("theme", theme_id), ("code", s.codes[4])])
    code_at = view.nodes[("code", s.codes[4])].scenePos()
    drag(view, centre(view, ("code", s.codes[4])), centre(view, ("code", s.codes[4]))
         + QPoint(-30, 20))
    assert s.stack.count() == 2
    delta = view.nodes[("code", s.codes[4])].scenePos() - code_at
    assert delta != QPointF(0, 0)
    assert view.nodes[("theme", theme_id)].scenePos() == moved + delta
    assert s.store.code_map_positions() == {s.codes[4]: (code_at.x() + delta.x(),
                                                         code_at.y() + delta.y())}
    s.stack.undo()
    assert s.store.code_map_positions() == {}
    assert view.nodes[("theme", theme_id)].scenePos() == moved


def test_dropping_a_code_on_a_theme_moves_it_and_ctrl_adds_it(setup: Setup) -> None:
    s = setup
    stigma = add_theme(s, "Stigma", (s.codes[0],))
    workload = add_theme(s, "Workload", (s.codes[2],))
    s.store.set_map_positions(codes={s.codes[0]: (900.0, 900.0)})
    before, positions = s.store.themes(), s.store.code_map_positions()
    view = s.map
    view.fit_to_view()
    drag(view, centre(view, ("code", s.codes[0])), centre(view, ("theme", workload)))
    assert s.store.theme(stigma).code_ids == ()
    assert s.store.theme(workload).code_ids == (s.codes[0], s.codes[2])
    assert s.store.code_map_positions() == {}  # laid out around its new theme
    assert s.stack.count() == 1
    assert s.stack.undoText() == "Move code Shame to theme Workload"
    s.stack.undo()
    assert s.store.themes() == before
    assert s.store.code_map_positions() == positions

    drag(view, centre(view, ("code", s.codes[0])), centre(view, ("theme", workload)),
         Qt.KeyboardModifier.ControlModifier)
    assert s.store.theme(stigma).code_ids == (s.codes[0],)
    assert s.store.theme(workload).code_ids == (s.codes[0], s.codes[2])
    s.stack.undo()
    assert s.store.themes() == before

    # an unthemed code dropped on a theme joins it
    drag(view, centre(view, ("code", s.codes[4])), centre(view, ("theme", stigma)))
    assert s.store.theme(stigma).code_ids == (s.codes[0], s.codes[4])


def test_arrow_keys_and_delete_on_the_map(setup: Setup, qtbot: QtBot) -> None:
    s = setup
    theme_id = add_theme(s, "Stigma", (s.codes[0], s.codes[1]))
    view = s.map
    x, y = view.nodes[("code", s.codes[0])].node.pos
    view.select([("code", s.codes[0])])
    view.view.setFocus()
    qtbot.keyClick(view.view, Qt.Key.Key_Right)
    qtbot.keyClick(view.view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert s.store.code_map_positions() == {s.codes[0]: (x + 10, y + 50)}
    assert view.nodes[("code", s.codes[0])].isSelected()  # kept across the redraw
    s.stack.undo()
    s.stack.undo()
    assert s.store.code_map_positions() == {}

    view.select([(theme_id, s.codes[1])])  # the edge
    qtbot.keyClick(view.view, Qt.Key.Key_Delete)
    assert s.store.theme(theme_id).code_ids == (s.codes[0],)
    assert (theme_id, s.codes[1]) not in view.edges
    s.stack.undo()
    assert s.store.theme(theme_id).code_ids == (s.codes[0], s.codes[1])
    view.select([("code", s.codes[0])])
    qtbot.keyClick(view.view, Qt.Key.Key_Delete)
    assert s.store.theme(theme_id).code_ids == (s.codes[1],)

    view.select([("theme", theme_id)])
    qtbot.keyClick(view.view, Qt.Key.Key_Delete)
    box = message_box(view)
    box.button(QMessageBox.StandardButton.Yes).click()
    assert s.store.themes() == []
    s.stack.undo()
    assert [t.id for t in s.store.themes()] == [theme_id]


def test_context_menus(setup: Setup, qtbot: QtBot) -> None:
    s = setup
    theme_id = add_theme(s, "Stigma", (s.codes[0],))
    other = add_theme(s, "Workload", (s.codes[0],))
    view = s.map

    def actions(item: object) -> dict[str, object]:
        menu = view.menu_for(item)  # type: ignore[arg-type]
        return {a.text(): a for a in menu.actions()}

    with qtbot.waitSignal(view.theme_selected) as blocker:
        view.select([("theme", theme_id)])
    assert blocker.args == [theme_id]
    theme_menu = actions(view.nodes[("theme", theme_id)])
    assert {"&Edit theme…", "&Delete theme…", "Set &status"} <= set(theme_menu)
    theme_menu["&Edit theme…"].trigger()  # type: ignore[attr-defined]
    dialog = open_dialog(view)
    dialog.definition.setPlainText("Defined on the map.")
    dialog.accept()
    assert s.store.theme(theme_id).definition == "Defined on the map."

    code_menu = actions(view.nodes[("code", s.codes[0])])
    assert set(code_menu) == {"Remove from theme “Stigma”", "Remove from theme “Workload”"}
    code_menu["Remove from theme “Workload”"].trigger()  # type: ignore[attr-defined]
    assert s.store.theme(other).code_ids == ()
    edge_menu = actions(view.edges[(theme_id, s.codes[0])])
    (remove,) = edge_menu.values()
    remove.trigger()  # type: ignore[attr-defined]
    assert s.store.theme(theme_id).code_ids == ()
    assert "&Reset layout" in actions(None)


def test_reset_layout_is_undoable(setup: Setup) -> None:
    s = setup
    theme_id = add_theme(s, "Stigma", (s.codes[0],), map_x=10.0, map_y=20.0)
    s.store.set_map_positions(codes={s.codes[0]: (30.0, 40.0), s.codes[4]: (50.0, 60.0)})
    before = s.store.themes()
    s.map.reset_action.trigger()
    assert s.store.code_map_positions() == {}
    assert (s.store.theme(theme_id).map_x, s.store.theme(theme_id).map_y) == (None, None)
    assert not any(i.node.placed for i in s.map.nodes.values())
    s.stack.undo()
    assert s.store.themes() == before
    assert s.store.code_map_positions() == {s.codes[0]: (30.0, 40.0), s.codes[4]: (50.0, 60.0)}
    assert s.map.nodes[("code", s.codes[4])].node.pos == (50.0, 60.0)
    s.stack.clear()
    s.map.reset_action.trigger()
    s.map.reset_action.trigger()  # nothing placed any more: nothing to undo
    assert s.stack.count() == 1


def test_zoom_with_ctrl_wheel_and_redraw_keeps_the_scroll_position(setup: Setup) -> None:
    s = setup
    for n in range(4):
        add_theme(s, f"Theme {n}", (s.codes[n],))
    view = s.map
    view.view.resetTransform()
    view.zoom(2)
    port = view.view.viewport()
    at = QPointF(port.rect().center())
    wheel = QWheelEvent(at, QPointF(port.mapToGlobal(at.toPoint())), QPoint(), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(port, wheel)
    assert view.zoom_level() == pytest.approx(2.5)
    view.zoom(1000)
    assert view.zoom_level() == pytest.approx(5.0)
    view.zoom(0.5)
    view.view.horizontalScrollBar().setValue(view.view.horizontalScrollBar().maximum() // 3)
    view.view.verticalScrollBar().setValue(view.view.verticalScrollBar().maximum() // 3)
    scroll = (view.view.horizontalScrollBar().value(), view.view.verticalScrollBar().value())
    s.store.update_code(dataclasses.replace(s.store.code(s.codes[0]), name="Shame and guilt"))
    assert view.nodes[("code", s.codes[0])].node.label == "Shame and guilt"
    assert (view.view.horizontalScrollBar().value(),
            view.view.verticalScrollBar().value()) == scroll
    assert view.zoom_level() == pytest.approx(2.5)


def test_export_png_and_svg(setup: Setup, tmp_path: Path) -> None:
    s = setup
    add_theme(s, "Stigma", (s.codes[0], s.codes[1]))
    s.map.select([("theme", s.store.themes()[0].id)])  # type: ignore[list-item]
    s.map.export(tmp_path / "map.png")
    image = QImage(str(tmp_path / "map.png"))
    assert not image.isNull() and image.width() > 200
    s.map.export(tmp_path / "map.SVG")
    text = (tmp_path / "map.SVG").read_text(encoding="utf-8")
    assert "<svg" in text and "Stigma" in text
    assert s.map.nodes[("theme", s.store.themes()[0].id)].isSelected()  # type: ignore[index]
    with pytest.raises(ValueError):
        s.map.export(tmp_path / "map.pdf")
