"""Coding in the GUI: select text with the keyboard or by anchors, code it by number
key, by typing a name or from the code list; stripes and tooltips; uncode; everything
undone and redone through the window's one undo stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from gui.coding_page import CodingPage
from gui.main_window import MainWindow
from study.model import Code, Coding, Interview, Memo, MemoTarget, Segment, Speaker, SpeakerRole
from study.store import Store

TEXTS = ["How do you hear about a child at risk?",
         "Usually the school rings our duty line, and we ring the GP.",
         "And is that quick?",
         "Not really. Referrals sit in a queue for weeks before anyone reads them."]


@pytest.fixture
def page(window: MainWindow, tmp_path: Path) -> CodingPage:
    assert window.new_study(tmp_path / "Coding")
    store = window.study.store  # type: ignore[union-attr]
    iid = store.add_interview(Interview("Interview with MHCC-1")).new_id("interview")
    me = store.add_speaker(Speaker(iid, "Interviewer", SpeakerRole.INTERVIEWER)).new_id("speaker")
    them = store.add_speaker(Speaker(iid, "MHCC-1", SpeakerRole.PARTICIPANT)).new_id("speaker")
    store.add_segments([Segment(iid, n, n * 5000, n * 5000 + 4000, t, me if n % 2 == 0 else them)
                        for n, t in enumerate(TEXTS)])
    store.add_code(Code("Information sharing", colour="#4e79a7"))
    store.add_code(Code("Delay", colour="#e15759"))
    window.show_section(2)
    view = window.workspace.coding  # type: ignore[union-attr]
    assert view.view.interview_id == iid
    return view


def store_of(page: CodingPage) -> Store:
    return page.store


def select_words(qtbot: QtBot, page: CodingPage, block: int, skip: int, take: int) -> None:
    """Put the caret at a block's start and select words with Ctrl+Shift+Right."""
    text = page.text
    text.setFocus()
    cursor = text.textCursor()
    cursor.setPosition(text.document().findBlockByNumber(block).position())
    text.setTextCursor(cursor)
    for _ in range(skip):
        qtbot.keyClick(text, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    for _ in range(take):
        qtbot.keyClick(text, Qt.Key.Key_Right,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def select_phrase(page: CodingPage, block: int, phrase: str) -> None:
    start = page.text.document().findBlockByNumber(block).position() + TEXTS[block].index(phrase)
    cursor = page.text.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len(phrase), QTextCursor.MoveMode.KeepAnchor)
    page.text.setTextCursor(cursor)
    page.text.setFocus()


def coded(page: CodingPage) -> list[tuple[str, str]]:
    store = store_of(page)
    names = {c.id: c.name for c in store.codes()}
    return sorted((names[c.code_id], store.coded_text(c)) for c in store.codings())


def test_select_with_keyboard_and_code_by_number(qtbot: QtBot, page: CodingPage,
                                                 window: MainWindow) -> None:
    select_words(qtbot, page, 1, 3, 4)  # "rings our duty line"
    qtbot.keyClick(page.text, Qt.Key.Key_2)  # the second code listed: Information sharing
    assert page.codes.quick_code(2) == next(
        c.id for c in store_of(page).codes() if c.name == "Information sharing")
    assert coded(page) == [("Information sharing", "rings our duty line")]
    window.undo_stack.undo()
    assert coded(page) == []
    window.undo_stack.redo()
    assert coded(page) == [("Information sharing", "rings our duty line")]


def test_a_sloppy_selection_codes_whole_words(qtbot: QtBot, page: CodingPage) -> None:
    text = page.text
    start = text.document().findBlockByNumber(3).position()
    cursor = text.textCursor()
    cursor.setPosition(start + 14)  # inside "Referrals"
    cursor.setPosition(start + 33, QTextCursor.MoveMode.KeepAnchor)  # inside "queue"
    text.setTextCursor(cursor)
    text.setFocus()
    qtbot.keyClick(text, Qt.Key.Key_1)
    assert coded(page) == [("Delay", "Referrals sit in a queue")]


def test_a_selection_across_segments_codes_by_typed_name(qtbot: QtBot, page: CodingPage,
                                                         window: MainWindow) -> None:
    select_words(qtbot, page, 2, 0, 0)
    for _ in range(2):  # from the start of "And is that quick?" down two lines
        qtbot.keyClick(page.text, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(page.text, Qt.Key.Key_D)  # a letter starts typing a code's name
    assert page.quick.isVisible()
    assert page.quick.edit.text() == "d"
    qtbot.keyClicks(page.quick.edit, "el")
    assert page.quick.list.item(0).text() == "Delay"
    qtbot.keyClick(page.quick.edit, Qt.Key.Key_Return)
    assert not page.quick.isVisible()
    (coding,) = store_of(page).codings()
    assert coding.start_segment_id != coding.end_segment_id
    assert coded(page)[0][0] == "Delay"
    assert coded(page)[0][1].startswith("And is that quick? Not really.")
    assert window.undo_stack.undoText() == "Code as Delay"


def test_typing_a_new_name_creates_the_code_and_one_undo_removes_both(
        qtbot: QtBot, page: CodingPage, window: MainWindow) -> None:
    select_words(qtbot, page, 3, 0, 2)
    qtbot.keyClick(page.text, Qt.Key.Key_R, Qt.KeyboardModifier.ShiftModifier)
    page.quick.edit.setText("Reluctance")
    assert page.quick.list.item(page.quick.list.count() - 1).text() == "Create code “Reluctance”"
    qtbot.keyClick(page.quick.edit, Qt.Key.Key_Return)
    assert coded(page) == [("Reluctance", "Not really")]
    window.undo_stack.undo()
    assert coded(page) == []
    assert "Reluctance" not in [c.name for c in store_of(page).codes()]
    window.undo_stack.redo()
    assert coded(page) == [("Reluctance", "Not really")]


def test_double_click_in_the_code_list_applies_it(qtbot: QtBot, page: CodingPage) -> None:
    select_words(qtbot, page, 1, 0, 2)
    code_id = page.codes.quick_code(1)
    assert code_id is not None
    page.codes.set_current(code_id)
    page.codes.view.setFocus()
    qtbot.keyClick(page.codes.view, Qt.Key.Key_Return)
    assert coded(page) == [("Delay", "Usually the")]
    assert page.apply_code(code_id) is False  # the same span again is refused


def test_stripes_tints_and_tooltips_follow_the_codings(qtbot: QtBot, page: CodingPage) -> None:
    store = store_of(page)
    iid = page.view.interview_id
    assert iid is not None
    segs = store.segments(iid)
    delay, sharing = (c.id for c in store.codes())
    assert delay is not None and sharing is not None
    store.add_coding(Coding(delay, iid, segs[3].id, 0, segs[3].id, 11))  # type: ignore[arg-type]
    added = store.add_coding(Coding(sharing, iid, segs[1].id, 0, segs[3].id, 3)  # type: ignore
                             ).new_id("coding")
    store.add_memo(Memo(MemoTarget.CODING, "Chain of phone calls", added))
    spans = page.text.spans
    assert sorted(s.lane for s in spans) == [0, 1]
    assert len(page.text.extraSelections()) == 2
    rects = [page.text.stripe_rect(s) for s in spans]
    assert all(r is not None and r.height() > 0 for r in rects)
    assert page.text.right.width() >= 2 * 6
    tip = page.text.describe([s for s in spans if s.coding.id == added])
    assert "Information sharing" in tip and "Chain of phone calls" in tip
    # a click on a stripe selects the coding's text
    span = next(s for s in spans if s.coding.code_id == delay)
    rect = page.text.stripe_rect(span)
    assert rect is not None
    qtbot.mouseClick(page.text.right, Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.text.textCursor().selectedText() == "Not really."


def test_delete_key_uncodes_and_undo_brings_back_the_memo(qtbot: QtBot, page: CodingPage,
                                                          window: MainWindow) -> None:
    store = store_of(page)
    select_words(qtbot, page, 1, 0, 1)
    qtbot.keyClick(page.text, Qt.Key.Key_1)
    (coding,) = store.codings()
    store.add_memo(Memo(MemoTarget.CODING, "usual route", coding.id))
    cursor = page.text.textCursor()
    cursor.clearSelection()
    page.text.setTextCursor(cursor)
    cursor.setPosition(page.text.document().findBlockByNumber(1).position() + 2)
    page.text.setTextCursor(cursor)
    qtbot.keyClick(page.text, Qt.Key.Key_Delete)
    assert store.codings() == []
    window.undo_stack.undo()
    assert store.codings() == [coding]
    assert [m.text for m in store.memos(MemoTarget.CODING, coding.id)] == ["usual route"]


def test_codings_survive_an_edit_in_the_transcript_editor(qtbot: QtBot, page: CodingPage,
                                                          window: MainWindow) -> None:
    store = store_of(page)
    select_phrase(page, 3, "sit in a queue for")
    qtbot.keyClick(page.text, Qt.Key.Key_1)
    iid = page.view.interview_id
    segment = store.segments(iid)[3]  # type: ignore[arg-type]
    store.edit_segment_text(segment.id,  # type: ignore[arg-type]
                            "Not really, no. Referrals sit in a queue for weeks.")
    assert coded(page) == [("Delay", "sit in a queue for")]
    (span,) = page.text.spans
    document_text = page.text.toPlainText()[span.start:span.end]
    assert document_text == "sit in a queue for"


def test_context_menu_offers_removal_of_each_coding_under_the_mouse(
        qtbot: QtBot, page: CodingPage) -> None:
    select_words(qtbot, page, 1, 0, 3)
    qtbot.keyClick(page.text, Qt.Key.Key_1)
    select_words(qtbot, page, 1, 1, 3)
    qtbot.keyClick(page.text, Qt.Key.Key_2)
    spans = [s for s in page.text.spans]
    menu = page.context_menu(spans)
    removals = [a for a in menu.actions() if a.text().startswith("Remove coding")]
    assert len(removals) == 2
    removals[0].trigger()
    assert len(store_of(page).codings()) == 1
    menu.close()


def test_no_selection_is_explained(qtbot: QtBot, page: CodingPage) -> None:
    with qtbot.waitSignal(page.message) as said:
        page.text.setFocus()
        qtbot.keyClick(page.text, Qt.Key.Key_1)
    assert "Select some text" in said.args[0]
    assert store_of(page).codings() == []


def test_jump_selects_a_span_in_another_interview(qtbot: QtBot, page: CodingPage) -> None:
    store = store_of(page)
    other = store.add_interview(Interview("Second")).new_id("interview")
    store.add_segments([Segment(other, 0, 0, 1000, "We meet the school monthly.")])
    seg = store.segments(other)[0]
    page.jump(other, seg.id, 8, 18)  # type: ignore[arg-type]
    assert page.view.interview_id == other
    assert page.text.textCursor().selectedText() == "the school"
    assert page.text.stripe_at(QPoint(-5, -5)) is None


def test_the_interviews_list_updates_counts_without_a_reload(qtbot: QtBot, page: CodingPage,
                                                             window: MainWindow) -> None:
    model = window.workspace.interviews.model  # type: ignore[union-attr]
    row = model.row_of(page.view.interview_id)  # type: ignore[arg-type]
    assert model.index(row, 6).data() == "0"
    with qtbot.assertNotEmitted(model.modelReset):
        select_words(qtbot, page, 1, 0, 2)
        qtbot.keyClick(page.text, Qt.Key.Key_1)
        assert model.index(row, 6).data() == "1"
        segment = store_of(page).segments(page.view.interview_id)[0]  # type: ignore[arg-type]
        store_of(page).edit_segment_text(segment.id, "How do you hear?")  # type: ignore
        words = sum(len(t.split()) for t in ["How do you hear?", *TEXTS[1:]])
        assert model.index(row, 5).data() == f"{words:,}"
