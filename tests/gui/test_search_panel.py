"""The search panel: search as you type, hits in context by interview, Enter jumps to a hit,
and coding all hits as one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QUndoStack
from pytestqt.qtbot import QtBot

from gui.search_panel import HTML_ROLE, SearchPanel, in_context
from gui.study_signals import StudySignals
from study.folder import Study
from study.model import Code, Coding, Interview, SearchHit, Segment
from study.store import Store
from tests.gui.helpers import focus, show

MHCC = ("We do joint visits with partnership working in mind.",
        "Partnership working is hard. Partnership helps.",
        "Nothing to see here.")
CFSW = ("No partnerships, but one partnership here.",)


def transcript(store: Store, title: str, *texts: str) -> tuple[int, list[int]]:
    iid = store.add_interview(Interview(title)).new_id("interview")
    changes = store.add_segments(
        Segment(iid, n, n * 1000, n * 1000 + 900, t) for n, t in enumerate(texts))
    return iid, list(changes.ids("segment"))


@pytest.fixture
def data(study: Study) -> dict[str, object]:
    store = study.store
    mhcc, mhcc_segments = transcript(store, "MHCC-1 interview", *MHCC)
    cfsw, cfsw_segments = transcript(store, "CFSW-2 interview", *CFSW)
    code = store.add_code(Code("Partnership working")).new_id("code")
    store.add_code(Code("Trust"))
    return {"mhcc": mhcc, "cfsw": cfsw, "mhcc_segments": mhcc_segments,
            "cfsw_segments": cfsw_segments, "code": code}


@pytest.fixture
def panel(qtbot: QtBot, study: Study, stack: QUndoStack, signals: StudySignals,
          data: dict[str, object]) -> SearchPanel:
    p = SearchPanel(study.store, stack)
    signals.changed.connect(p.on_changed)
    show(qtbot, p)
    return p


def shown(panel: SearchPanel) -> list[tuple[str, list[str]]]:
    m = panel.model
    groups = []
    for r in range(m.rowCount()):
        group = m.index(r, 0)
        groups.append((group.data(), [m.index(c, 0, group).data(HTML_ROLE)
                                      for c in range(m.rowCount(group))]))
    return groups


def search(qtbot: QtBot, panel: SearchPanel, query: str, expected_count: str) -> None:
    panel.query.clear()
    focus(qtbot, panel.query)
    qtbot.keyClicks(panel.query, query)
    qtbot.waitUntil(lambda: panel.count.text() == expected_count)


def test_typing_searches_and_shows_hits_in_context(panel: SearchPanel, qtbot: QtBot) -> None:
    assert "Type words" in panel.count.text()
    assert not panel.code_all_action.isEnabled()
    panel.setFocus()  # focusing the panel puts the cursor in the query
    qtbot.waitUntil(panel.query.hasFocus)
    search(qtbot, panel, "partnership", "4 hits in 2 interviews")
    assert shown(panel) == [
        ("MHCC-1 interview (3)", [
            "We do joint visits with <b>partnership</b> working in mind.",
            "<b>Partnership</b> working is hard. Partnership helps.",
            "Partnership working is hard. <b>Partnership</b> helps."]),
        ("CFSW-2 interview (1)", ["No partnerships, but one <b>partnership</b> here."]),
    ]
    assert panel.code_all_action.isEnabled()

    panel.match_case.setChecked(True)  # an option searches again at once
    assert panel.count.text() == "2 hits in 2 interviews"
    panel.match_case.setChecked(False)
    panel.whole_words.setChecked(False)
    assert panel.count.text() == "5 hits in 2 interviews"  # "partnerships" too
    panel.whole_words.setChecked(True)

    qtbot.keyClicks(panel.query, " nope")
    qtbot.keyClick(panel.query, Qt.Key.Key_Return)  # Return searches without the wait
    assert panel.count.text() == "No hits for “partnership nope”."
    assert panel.model.rowCount() == 0


def test_return_on_a_hit_jumps_to_it(panel: SearchPanel, qtbot: QtBot,
                                     data: dict[str, object]) -> None:
    search(qtbot, panel, "Partnership", "4 hits in 2 interviews")
    qtbot.keyClick(panel.query, Qt.Key.Key_Down)  # Down moves into the results
    assert panel.results.hasFocus()
    first = panel.results.currentIndex()
    assert first.parent().isValid() and first.row() == 0
    qtbot.keyClick(panel.results, Qt.Key.Key_Down)
    qtbot.keyClick(panel.results, Qt.Key.Key_Down)
    with qtbot.waitSignal(panel.jump) as blocker:
        qtbot.keyClick(panel.results, Qt.Key.Key_Return)
    second_segment = data["mhcc_segments"][1]  # type: ignore[index]
    assert blocker.args == [data["mhcc"], second_segment, 29, 40]
    assert MHCC[1][29:40] == "Partnership"

    cfsw_hit = panel.model.index(0, 0, panel.model.index(1, 0))
    with qtbot.waitSignal(panel.jump) as blocker:
        panel.results.activated.emit(cfsw_hit)  # what a double-click does
    assert blocker.args == [data["cfsw"], data["cfsw_segments"][0], 25, 36]  # type: ignore[index]

    with qtbot.assertNotEmitted(panel.jump):
        panel.results.activated.emit(panel.model.index(0, 0))  # an interview row
        panel.results.activated.emit(QModelIndex())


def test_this_interview_only(panel: SearchPanel, qtbot: QtBot,
                             data: dict[str, object]) -> None:
    assert not panel.this_interview.isEnabled()
    search(qtbot, panel, "partnership", "4 hits in 2 interviews")
    panel.set_current_interview(data["cfsw"])  # type: ignore[arg-type]
    assert panel.this_interview.isEnabled()
    panel.this_interview.setChecked(True)
    assert panel.count.text() == "1 hit in 1 interview"
    panel.set_current_interview(data["mhcc"])  # type: ignore[arg-type]
    assert panel.count.text() == "3 hits in 1 interview"
    panel.set_current_interview(None)
    assert not panel.this_interview.isEnabled()
    assert panel.count.text() == "4 hits in 2 interviews"


def test_results_follow_transcript_edits(panel: SearchPanel, qtbot: QtBot, study: Study,
                                         data: dict[str, object]) -> None:
    search(qtbot, panel, "partnership", "4 hits in 2 interviews")
    study.store.edit_segment_text(data["cfsw_segments"][0], "Nothing now.")  # type: ignore[index]
    qtbot.waitUntil(lambda: panel.count.text() == "3 hits in 1 interview")


def test_code_all_hits_is_one_undo_step(panel: SearchPanel, qtbot: QtBot, study: Study,
                                        stack: QUndoStack, data: dict[str, object]) -> None:
    store = study.store
    code = data["code"]
    assert isinstance(code, int)
    first_segment = data["mhcc_segments"][0]  # type: ignore[index]
    store.add_coding(Coding(code, data["mhcc"], first_segment, 24, first_segment, 35))  # type: ignore[arg-type]
    before = store.codings()
    search(qtbot, panel, "partnership", "4 hits in 2 interviews")

    dialog = panel.code_all()
    assert dialog is not None and panel.chooser is dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.list.model().rowCount() == 2
    qtbot.keyClicks(dialog.filter, "partner")
    assert dialog.list.model().rowCount() == 1
    assert dialog.code_id() == code
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Return)
    assert not dialog.isVisible()

    assert stack.count() == 1
    assert stack.undoText() == "Code 4 hits with Partnership working"
    assert panel.status.text() == "Coded 3 hits with Partnership working; 1 was already coded."
    after = store.codings()
    assert len(after) == 4
    assert sorted(store.coded_text(c) for c in after) == ["Partnership"] * 2 + ["partnership"] * 2

    stack.undo()
    assert store.codings() == before
    stack.redo()
    redone = store.codings()
    assert len(redone) == 4
    assert [(c.start_segment_id, c.start_offset, c.end_offset) for c in redone] == [
        (c.start_segment_id, c.start_offset, c.end_offset) for c in after]
    stack.undo()
    assert store.codings() == before
    stack.redo()

    assert panel.code_hits(code) is not None  # everything is coded already: no new step
    assert stack.count() == 1
    assert panel.status.text() == "Coded 0 hits with Partnership working; 4 were already coded."


def test_code_all_whole_segments(panel: SearchPanel, qtbot: QtBot, study: Study,
                                 stack: QUndoStack, data: dict[str, object]) -> None:
    store = study.store
    search(qtbot, panel, "partnership", "4 hits in 2 interviews")
    dialog = panel.code_all()
    assert dialog is not None
    dialog.filter.setText("Trust")
    dialog.whole_segments.setChecked(True)
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    codings = store.codings()
    assert sorted(store.coded_text(c) for c in codings) == sorted(
        [MHCC[0], MHCC[1], CFSW[0]])
    assert panel.status.text() == "Coded 3 segments with Trust."
    assert stack.count() == 1
    stack.undo()
    assert store.codings() == []


def test_code_chooser_cancel_and_empty_codebook(panel: SearchPanel, qtbot: QtBot,
                                                stack: QUndoStack, study: Study) -> None:
    assert panel.code_all() is None  # no hits yet
    search(qtbot, panel, "partnership", "4 hits in 2 interviews")
    dialog = panel.code_all()
    assert dialog is not None
    qtbot.keyClick(dialog.filter, Qt.Key.Key_Down)  # arrows move through the codes
    assert dialog.code_id() == study.store.codes()[1].id
    dialog.reject()
    assert stack.count() == 0 and study.store.codings() == []


def test_context_is_trimmed_at_word_boundaries() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen"
    start = text.index("seven")
    flat, rich = in_context(SearchHit(1, 1, start, start + 5, text), width=12)
    assert flat == "…five six seven eight nine…"
    assert rich == "…five six <b>seven</b> eight nine…"
    flat, rich = in_context(SearchHit(1, 1, 0, 3, "a<b & c"[:3] + " rest"), width=50)
    assert rich == "<b>a&lt;b</b> rest"
