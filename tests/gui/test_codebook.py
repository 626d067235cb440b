"""The codebook page: create, edit, rearrange by drag and drop, merge and delete codes,
search the codebook, list a code's codings and open one in place; all undoable."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from gui.code_tree import CODE_MIME, code_ids_from
from gui.codebook_view import CodebookView
from gui.main_window import MainWindow
from study.model import Code, Coding, Interview, Memo, MemoTarget, Segment
from study.store import Store


@pytest.fixture
def book(window: MainWindow, tmp_path: Path) -> CodebookView:
    assert window.new_study(tmp_path / "Codebook")
    store = window.study.store  # type: ignore[union-attr]
    iid = store.add_interview(Interview("First")).new_id("interview")
    store.add_segments([Segment(iid, 0, 0, 1000, "We phone the school every week."),
                        Segment(iid, 1, 1000, 2000, "The GP never writes back.")])
    segs = store.segments(iid)
    barriers = store.add_code(Code("Barriers", position=0)).new_id("code")
    store.add_code(Code("Slow replies", barriers, colour="#e15759"))
    sharing = store.add_code(Code("Sharing", position=1)).new_id("code")
    store.add_coding(Coding(sharing, iid, segs[0].id, 0, segs[0].id, 8))  # type: ignore
    store.add_coding(Coding(barriers, iid, segs[1].id, 0, segs[1].id, 24))  # type: ignore
    store.add_memo(Memo(MemoTarget.CODE, "broad on purpose", barriers))
    window.show_section(3)
    return window.workspace.codebook  # type: ignore[union-attr]


def names(store: Store) -> list[tuple[str, str | None]]:
    by_id = {c.id: c.name for c in store.codes()}
    return [(c.name, by_id.get(c.parent_id)) for c in store.codes()]


def code_id(store: Store, name: str) -> int:
    return next(c.id for c in store.codes() if c.name == name)  # type: ignore[misc]


def test_new_code_through_the_dialog_and_undo(qtbot: QtBot, book: CodebookView,
                                              window: MainWindow) -> None:
    dialog = book.new_code()
    dialog.name.setText("Trust")
    dialog.set_colour("#59a14f")
    dialog.definition.setPlainText("Confidence in the other agency.")
    dialog.accept()
    trust = book.store.code(code_id(book.store, "Trust"))
    assert (trust.colour, trust.definition) == ("#59a14f", "Confidence in the other agency.")
    assert book.codes.current_code_id() == trust.id
    window.undo_stack.undo()
    assert "Trust" not in [n for n, _ in names(book.store)]


def test_a_duplicate_name_keeps_the_dialog_open_with_the_reason(book: CodebookView) -> None:
    dialog = book.new_code()
    dialog.name.setText("sharing")
    dialog.accept()
    assert dialog.isVisible()
    assert "already a code" in dialog.error.text()


def test_rename_recolour_and_move_under_another_code(book: CodebookView,
                                                     window: MainWindow) -> None:
    book.codes.set_current(code_id(book.store, "Sharing"))
    dialog = book.edit_current()
    assert dialog is not None
    dialog.name.setText("Information sharing")
    dialog.parent_box.setCurrentIndex(dialog.parent_box.findData(
        code_id(book.store, "Barriers")))
    dialog.accept()
    assert ("Information sharing", "Barriers") in names(book.store)
    assert window.undo_stack.undoText() == "Rename code Sharing"
    window.undo_stack.undo()
    assert ("Sharing", None) in names(book.store)


def test_a_code_cannot_be_put_inside_itself_from_the_dialog(book: CodebookView) -> None:
    book.codes.set_current(code_id(book.store, "Barriers"))
    dialog = book.edit_current()
    assert dialog is not None
    choices = [dialog.parent_box.itemData(i) for i in range(dialog.parent_box.count())]
    assert code_id(book.store, "Barriers") not in choices
    assert code_id(book.store, "Slow replies") not in choices


def drop(book: CodebookView, ids: list[int], point: QPoint) -> None:
    mime = QMimeData()
    mime.setData(CODE_MIME, f"{ids}".encode())
    assert code_ids_from(mime) == ids
    event = QDropEvent(point.toPointF(), Qt.DropAction.MoveAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    book.codes.view.dropEvent(event)


def test_drag_and_drop_makes_a_sub_code_and_reorders(book: CodebookView,
                                                     window: MainWindow) -> None:
    store = book.store
    sharing, barriers = code_id(store, "Sharing"), code_id(store, "Barriers")
    target = book.codes.proxy.mapFromSource(book.codes._indexes()[barriers])
    rect = book.codes.view.visualRect(target)
    drop(book, [sharing], rect.center())  # the middle of a row: becomes its child
    assert ("Sharing", "Barriers") in names(store)
    window.undo_stack.undo()
    assert ("Sharing", None) in names(store)
    top = [c.name for c in store.codes() if c.parent_id is None]
    assert top == ["Barriers", "Sharing"]
    drop(book, [sharing], QPoint(rect.center().x(), rect.top() + 1))  # above Barriers
    assert [c.name for c in store.codes() if c.parent_id is None] == ["Sharing", "Barriers"]
    window.undo_stack.undo()
    assert [c.name for c in store.codes() if c.parent_id is None] == ["Barriers", "Sharing"]


def test_delete_says_what_goes_and_undo_restores_it_all(book: CodebookView,
                                                        window: MainWindow) -> None:
    store = book.store
    before = (store.codes(), store.codings(), store.memos())
    asked: list[str] = []
    book.ask = lambda _title, question: asked.append(question) or True
    book.codes.set_current(code_id(store, "Barriers"))
    assert book.delete_current()
    assert "1 coding and 1 sub-code" in asked[0]
    assert [n for n, _ in names(store)] == ["Sharing"]
    assert store.memos(MemoTarget.CODE) == []
    window.undo_stack.undo()
    assert (store.codes(), store.codings(), store.memos()) == before


def test_merge_moves_codings_and_undo_separates_them(book: CodebookView,
                                                     window: MainWindow) -> None:
    store = book.store
    before = (store.codes(), store.codings(), store.memos(), store.themes())
    book.codes.set_current(code_id(store, "Sharing"))
    dialog = book.merge_dialog()
    assert dialog is not None
    dialog.tree.set_current(code_id(store, "Barriers"))
    dialog.accept()
    assert "Sharing" not in [n for n, _ in names(store)]
    assert {c.code_id for c in store.codings()} == {code_id(store, "Barriers")}
    window.undo_stack.undo()
    assert (store.codes(), store.codings(), store.memos(), store.themes()) == before


def test_search_filters_the_codebook_and_keeps_parents(qtbot: QtBot,
                                                       book: CodebookView) -> None:
    qtbot.keyClicks(book.codes.filter, "slow")
    shown = [book.store.code(i).name for i in book.codes.visible_code_ids()]
    assert shown == ["Barriers", "Slow replies"]
    assert book.codes.current_code_id() == code_id(book.store, "Barriers")
    book.codes.filter.clear()
    assert len(book.codes.visible_code_ids()) == 3


def test_codings_list_opens_a_coding_in_the_coding_page(qtbot: QtBot, book: CodebookView,
                                                        window: MainWindow) -> None:
    book.codes.set_current(code_id(book.store, "Barriers"))
    assert book.codings.model.rowCount() == 1
    assert book.codings.model.item(0, 4).text() == "The GP never writes back"
    assert "1 codings in 1 interviews" in book.codings.title.text()
    book.codings.table.setCurrentIndex(book.codings.model.index(0, 0))
    book.codings.table.setFocus()
    qtbot.keyClick(book.codings.table, Qt.Key.Key_Return)
    page = window.workspace.coding  # type: ignore[union-attr]
    assert window.workspace.pages.currentWidget() is page  # type: ignore[union-attr]
    assert page.text.textCursor().selectedText() == "The GP never writes back"
    QApplication.processEvents()
