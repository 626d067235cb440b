"""The memo panel and the reflexive journal: add, edit and delete through the widgets, each
one undo step, and undo/redo giving back exactly what the store held."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from pytestqt.qtbot import QtBot

from gui.journal_view import NOTHING_IN_PHASE, JournalView
from gui.memo_panel import MemoPanel
from gui.study_signals import StudySignals
from study.folder import Study
from study.model import AnalysisPhase, Code, JournalEntry, Memo, MemoTarget
from tests.gui.helpers import focus, show


@pytest.fixture
def panel(qtbot: QtBot, study: Study, stack: QUndoStack, signals: StudySignals) -> MemoPanel:
    p = MemoPanel(study.store, stack)
    signals.changed.connect(p.on_changed)
    show(qtbot, p)
    return p


def save_key(qtbot: QtBot, panel: MemoPanel) -> None:
    qtbot.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def listed(panel: MemoPanel) -> list[str]:
    m = panel.model
    return [m.index(r).data().split("\n")[0] for r in range(m.rowCount())]


# --- memos -----------------------------------------------------------------------------------


def test_memo_panel_without_target_explains_memos(panel: MemoPanel) -> None:
    assert panel.top.currentWidget() is panel.empty
    assert "A memo holds your thinking" in panel.empty.text()
    assert not panel.editor.isEnabled()
    assert not panel.new_action.isEnabled()


def test_add_edit_delete_memo_with_exact_undo_and_redo(
        panel: MemoPanel, qtbot: QtBot, study: Study, stack: QUndoStack) -> None:
    store = study.store
    code = store.add_code(Code("Partnership working")).new_id("code")
    panel.set_target(MemoTarget.CODE, code, "Code: Partnership working")
    assert panel.title.text() == "Code: Partnership working"
    assert panel.top.currentWidget() is panel.empty
    assert "No memos here yet" in panel.empty.text()

    focus(qtbot, panel.editor)
    qtbot.keyClicks(panel.editor, "Joint visits")
    save_key(qtbot, panel)
    (added,) = store.memos(MemoTarget.CODE, code)
    assert added.text == "Joint visits" and added.id is not None
    assert stack.count() == 1 and stack.undoText() == "Add memo"
    assert listed(panel) == ["Joint visits"]
    assert panel.top.currentWidget() is panel.list
    save_key(qtbot, panel)  # nothing changed: no step
    assert stack.count() == 1

    qtbot.keyClicks(panel.editor, " build trust")
    focus(qtbot, panel.list)  # leaving the editor saves
    (edited,) = store.memos(MemoTarget.CODE, code)
    assert edited.text == "Joint visits build trust"
    assert stack.count() == 2 and stack.undoText() == "Edit memo"
    focus(qtbot, panel.editor)
    focus(qtbot, panel.list)  # in and out without a change: no step
    assert stack.count() == 2

    stack.undo()
    assert store.memos() == [added]
    assert panel.editor.toPlainText() == "Joint visits"
    stack.redo()
    assert store.memos() == [edited]
    assert panel.editor.toPlainText() == "Joint visits build trust"

    panel.ask = lambda _title, _question: False
    focus(qtbot, panel.list)
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert store.memos() == [edited]  # declined
    asked: list[str] = []
    panel.ask = lambda _title, question: asked.append(question) is None
    qtbot.keyClick(panel.list, Qt.Key.Key_Delete)
    assert asked == ["Delete the memo “Joint visits build trust”? Undo brings it back."]
    assert store.memos() == []
    assert stack.undoText() == "Delete memo"
    assert panel.top.currentWidget() is panel.empty
    assert panel.editor.toPlainText() == ""

    stack.undo()
    assert store.memos() == [edited]  # same id, text and times
    assert listed(panel) == ["Joint visits build trust"]
    stack.undo()
    stack.undo()
    assert store.memos() == []
    assert listed(panel) == []
    stack.redo()
    assert store.memos() == [added]  # redo of the add restores it exactly
    stack.redo()
    stack.redo()
    assert store.memos() == []


def test_new_memo_shortcut_and_several_memos(panel: MemoPanel, qtbot: QtBot, study: Study,
                                             stack: QUndoStack) -> None:
    store = study.store
    panel.set_target(MemoTarget.STUDY, None, "Study memo")
    focus(qtbot, panel.editor)
    qtbot.keyClicks(panel.editor, "Why these agencies")
    qtbot.keyClick(panel.editor, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert [m.text for m in store.memos(MemoTarget.STUDY)] == ["Why these agencies"]
    assert panel.current is None and panel.editor.toPlainText() == ""
    assert panel.editor.hasFocus()
    qtbot.keyClicks(panel.editor, "Sampling")
    qtbot.keyClick(panel.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(panel.editor, "second line")
    save_key(qtbot, panel)
    assert [m.text for m in store.memos(MemoTarget.STUDY)] == [
        "Why these agencies", "Sampling\nsecond line"]
    assert listed(panel) == ["Sampling", "Why these agencies"]  # newest first
    assert stack.count() == 2

    panel.list.setCurrentIndex(panel.model.index(1))  # open the older memo
    assert panel.editor.toPlainText() == "Why these agencies"
    focus(qtbot, panel.list)
    qtbot.keyClick(panel.list, Qt.Key.Key_Up)
    assert panel.editor.toPlainText() == "Sampling\nsecond line"
    stack.undo()
    assert [m.text for m in store.memos()] == ["Why these agencies"]
    assert panel.current is None and panel.editor.toPlainText() == ""


def test_ctrl_return_in_a_memo_never_reaches_window_shortcuts(
        panel: MemoPanel, qtbot: QtBot, study: Study) -> None:
    fired: list[bool] = []
    split = QAction("Split", panel)  # like the transcript's window-wide split hotkey
    split.setShortcut(QKeySequence("Ctrl+Return"))
    split.triggered.connect(lambda: fired.append(True))
    panel.addAction(split)
    panel.set_target(MemoTarget.STUDY, None, "Study memo")
    focus(qtbot, panel.editor)
    qtbot.keyClicks(panel.editor, "note")
    save_key(qtbot, panel)
    assert fired == []
    assert [m.text for m in study.store.memos()] == ["note"]


def test_switching_target_saves_the_unsaved_edit_and_shows_the_other_memos(
        panel: MemoPanel, qtbot: QtBot, study: Study, stack: QUndoStack) -> None:
    store = study.store
    a = store.add_code(Code("A")).new_id("code")
    b = store.add_code(Code("B")).new_id("code")
    store.add_memo(Memo(MemoTarget.CODE, "about B", b))
    panel.set_target(MemoTarget.CODE, a, "Code: A")
    qtbot.keyClicks(panel.editor, "about A")
    panel.set_target(MemoTarget.CODE, b, "Code: B")
    assert [m.text for m in store.memos(MemoTarget.CODE, a)] == ["about A"]
    assert stack.count() == 1
    assert panel.editor.toPlainText() == "about B"  # the newest memo opens
    assert listed(panel) == ["about B"]
    panel.new_memo()
    panel.set_target(MemoTarget.CODE, b, "Code: B (renamed)")  # same object: nothing reloads
    assert panel.title.text() == "Code: B (renamed)"
    assert panel.current is None and panel.editor.hasFocus()
    store.delete_code(b)  # its memos go by trigger; the panel hears the code's removal
    assert listed(panel) == []
    assert panel.current is None


# --- the journal -----------------------------------------------------------------------------


@pytest.fixture
def journal(qtbot: QtBot, study: Study, stack: QUndoStack,
            signals: StudySignals) -> JournalView:
    view = JournalView(study.store, stack)
    signals.changed.connect(view.on_changed)
    show(qtbot, view)
    return view


def journal_texts(view: JournalView) -> list[str]:
    return [e.text for e in view.visible_entries()]


def test_journal_add_edit_delete_with_exact_undo(journal: JournalView, qtbot: QtBot,
                                                 study: Study, stack: QUndoStack) -> None:
    store = study.store
    assert journal.top.currentWidget() is journal.empty
    assert "reflexive journal" in journal.empty.text()
    assert journal.phase.currentData() == AnalysisPhase.FAMILIARISATION

    focus(qtbot, journal.editor)
    qtbot.keyClicks(journal.editor, "First read of MHCC-1")
    qtbot.keyClick(journal.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    (first,) = store.journal()
    assert (first.text, first.phase) == ("First read of MHCC-1", AnalysisPhase.FAMILIARISATION)
    assert stack.count() == 1 and stack.undoText() == "Add journal entry"
    assert "Familiarisation" in journal.proxy.index(0, 0).data()

    qtbot.keyClick(journal.editor, Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier)
    assert journal.current is None and journal.editor.toPlainText() == ""
    journal.phase.setCurrentIndex(journal.phase.findData(AnalysisPhase.GENERATING_CODES))
    qtbot.keyClicks(journal.editor, "Coding feels descriptive")
    qtbot.keyClick(journal.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert stack.count() == 2
    assert journal_texts(journal) == ["Coding feels descriptive", "First read of MHCC-1"]
    second = store.journal()[1]
    journal.new_entry()  # the latest entry's phase is the default
    assert journal.phase.currentData() == AnalysisPhase.GENERATING_CODES
    journal.new_entry()  # nothing written: no step
    assert stack.count() == 2

    journal.list.setCurrentIndex(journal.proxy.index(1, 0))  # the first entry
    assert journal.editor.toPlainText() == "First read of MHCC-1"
    focus(qtbot, journal.editor)
    qtbot.keyClicks(journal.editor, ", long silences")
    journal.phase.setCurrentIndex(journal.phase.findData(AnalysisPhase.REVIEWING_THEMES))
    journal.save_action.trigger()
    edited = store.journal_entry(first.id)  # type: ignore[arg-type]
    assert (edited.text, edited.phase) == ("First read of MHCC-1, long silences",
                                           AnalysisPhase.REVIEWING_THEMES)
    assert edited.created_at == first.created_at
    assert stack.undoText() == "Edit journal entry"
    stack.undo()
    assert store.journal() == [first, second]
    assert journal.editor.toPlainText() == "First read of MHCC-1"
    assert journal.phase.currentData() == AnalysisPhase.FAMILIARISATION
    stack.redo()
    assert store.journal() == [edited, second]
    assert journal.phase.currentData() == AnalysisPhase.REVIEWING_THEMES

    journal.ask = lambda _title, _question: True
    focus(qtbot, journal.list)
    qtbot.keyClick(journal.list, Qt.Key.Key_Delete)
    assert store.journal() == [second]
    assert stack.undoText() == "Delete journal entry"
    assert journal.selected() == second  # the neighbour is selected for the next key
    stack.undo()
    assert store.journal() == [edited, second]  # same id, text, phase and time

    for _ in range(3):
        stack.undo()
    assert store.journal() == []
    assert journal.top.currentWidget() is journal.empty
    stack.redo()
    assert store.journal() == [first]


def test_journal_is_newest_first_and_filters_by_phase(journal: JournalView, qtbot: QtBot,
                                                      study: Study) -> None:
    store = study.store
    for day, phase in ((3, AnalysisPhase.SEARCHING_FOR_THEMES),
                       (1, AnalysisPhase.FAMILIARISATION),
                       (2, AnalysisPhase.FAMILIARISATION)):
        store.add_journal_entry(JournalEntry(f"day {day}", phase,
                                             dt.datetime(2025, 3, day, 9, tzinfo=dt.UTC)))
    assert journal_texts(journal) == ["day 3", "day 2", "day 1"]
    assert [journal.filter.itemText(i) for i in range(journal.filter.count())] == [
        "All phases", "Familiarisation", "Generating codes", "Searching for themes",
        "Reviewing themes", "Defining themes", "Writing up"]
    assert journal.phase.currentData() == AnalysisPhase.SEARCHING_FOR_THEMES

    journal.filter.setCurrentIndex(journal.filter.findData(AnalysisPhase.FAMILIARISATION))
    assert journal_texts(journal) == ["day 2", "day 1"]
    journal.set_phase_filter(AnalysisPhase.WRITING_UP)
    assert journal_texts(journal) == []
    assert journal.top.currentWidget() is journal.empty
    assert journal.empty.text() == NOTHING_IN_PHASE

    journal.new_entry()  # written in a phase the filter hides: the filter opens up
    journal.phase.setCurrentIndex(journal.phase.findData(AnalysisPhase.DEFINING_THEMES))
    qtbot.keyClicks(journal.editor, "Naming themes")
    qtbot.keyClick(journal.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert journal.filter.currentText() == "All phases"
    assert journal_texts(journal)[0] == "Naming themes"
    assert journal.selected() is not None and journal.selected().text == "Naming themes"

    journal.set_phase_filter(AnalysisPhase.SEARCHING_FOR_THEMES)
    assert journal_texts(journal) == ["day 3"]
    journal.set_phase_filter(None)
    assert len(journal_texts(journal)) == 4
