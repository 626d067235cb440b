"""The compare page (table, quotes, charts, exports) and File › Export / Import, on the
demo study, through the window the researcher uses."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from docx import Document
from pytestqt.qtbot import QtBot

from gui.compare_view import CompareView
from gui.main_window import MainWindow
from study.model import Category, Interview, Segment

COMPARE, ANONYMISE = 7, 6


def open_compare(window: MainWindow) -> CompareView:
    assert window.open_demo()
    window.section_actions[COMPARE].trigger()
    view = window.workspace.compare  # type: ignore[union-attr]
    assert window.workspace.pages.currentWidget() is view  # type: ignore[union-attr]
    return view


def test_the_table_matches_the_comparison_and_a_cell_opens_its_quotes(
        qtbot: QtBot, window: MainWindow) -> None:
    view = open_compare(window)
    c = view.comparison
    assert c is not None and view.model.rowCount() == len(c.rows) > 0
    groups = [g.name for g in c.groups]
    assert {"MHCC", "CFSW"} <= set(groups)
    row = next(n for n, r in enumerate(c.rows) if r.total.references)
    column = 1 + 4 * groups.index("MHCC")  # the k/n column of MHCC
    cell = c.rows[row].cells[groups.index("MHCC")]
    assert view.model.item(row, column).text() == f"{cell.k}/{cell.n}"
    assert "CFSW" in view.warnings.text()  # two participants: a small-n warning
    found = view.show_quotes(view.model.index(row, column))
    assert len(found) == view.quote_list.count() == cell.references
    assert all(q.group == "MHCC" for q in found)
    view.quote_list.setCurrentRow(0)
    view.quote_list.itemActivated.emit(view.quote_list.item(0))
    page = window.workspace.coding  # type: ignore[union-attr]
    assert window.workspace.pages.currentWidget() is page  # type: ignore[union-attr]
    assert page.text.textCursor().selectedText()


def test_charts_draw_on_their_tabs_and_export(qtbot: QtBot, window: MainWindow,
                                              tmp_path: Path) -> None:
    view = open_compare(window)
    for tab in (1, 2, 3):
        view.tabs.setCurrentIndex(tab)  # drawn in the study process, which starts first
        qtbot.waitUntil(lambda tab=tab: str(tab) in view._charts, timeout=30_000)
    assert view.export_chart(tmp_path / "bars.png", tab=1)
    assert view.export_chart(tmp_path / "bars.svg", tab=1)
    assert (tmp_path / "bars.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "bars.svg").read_bytes()[:2000]


def test_report_and_csv_from_the_compare_page(window: MainWindow, tmp_path: Path) -> None:
    view = open_compare(window)
    assert view.export_csv(tmp_path / "table.csv")
    assert "MHCC" in (tmp_path / "table.csv").read_text(encoding="utf-8-sig")
    assert view.export_report(tmp_path / "report.docx")
    styles = {p.style.name for p in Document(str(tmp_path / "report.docx")).paragraphs}
    assert {"Title", "Heading 1", "Quote"} <= styles


def test_exports_are_refused_when_they_would_leak_a_registered_name(
        window: MainWindow, tmp_path: Path, errors: list[tuple[str, str]]) -> None:
    assert window.open_demo()
    ws = window.workspace
    assert ws is not None
    store = ws.study.store
    interview = store.interviews()[0]
    assert ws.exchange.run(lambda: ws.exchange.export_transcript(
        interview.id, tmp_path / "t.txt", "txt"), "ok")  # type: ignore[arg-type]
    word = next(w for s in store.segments(interview.id)  # type: ignore[arg-type]
                for w in s.text.split() if w.istitle() and len(w) > 4 and w.isalpha())
    store.register_identifier(word, Category.PERSON)
    for fmt in ("txt", "srt", "vtt", "docx"):
        target = tmp_path / f"again.{fmt}"
        assert not ws.exchange.run(lambda fmt=fmt, target=target: ws.exchange.export_transcript(
            interview.id, target, fmt), "ok")  # type: ignore[arg-type]
        assert not target.exists()
    assert not ws.exchange.run(lambda: ws.exchange.export_qdpx(tmp_path / "p.qdpx"), "ok")
    assert not (tmp_path / "p.qdpx").exists()
    assert errors and all(title == "Export or import refused" for title, _ in errors)


def test_project_exports_to_qdpx_and_imports_into_a_new_study(
        window: MainWindow, tmp_path: Path) -> None:
    assert window.open_demo()
    ws = window.workspace
    assert ws is not None
    codes = sorted(c.name for c in ws.study.store.codes())
    assert ws.exchange.run(lambda: ws.exchange.export_qdpx(tmp_path / "demo.qdpx"), "ok")
    assert "project.qde" in zipfile.ZipFile(tmp_path / "demo.qdpx").namelist()
    assert window.new_study(tmp_path / "Imported")
    fresh = window.workspace
    assert fresh is not None
    assert fresh.exchange.run(lambda: fresh.exchange.import_qdpx(tmp_path / "demo.qdpx"), "")
    assert sorted(c.name for c in fresh.study.store.codes()) == codes
    assert fresh.interviews.model.rowCount() == 7


def test_the_anonymise_page_is_in_the_navigator(window: MainWindow) -> None:
    assert window.open_demo()
    window.section_actions[ANONYMISE].trigger()
    ws = window.workspace
    assert ws is not None and ws.pages.currentWidget() is ws.anonymise
    assert ws.anonymise.detect_action in window.anonymise_menu.actions()


def test_a_transcription_filling_an_uncoded_interview_does_not_recompute(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each transcription window commits new segments; while the page is shown they leave
    the counts as they were, so the page does not stall the window recomputing them."""
    view = open_compare(window)
    store = view.store
    fresh = store.add_interview(Interview("Being transcribed")).new_id("interview")
    qtbot.waitUntil(lambda: not view._stale)
    refreshed: list[int] = []
    real_refresh = view.refresh
    monkeypatch.setattr(view, "refresh", lambda: refreshed.append(1) or real_refresh())
    store.add_segments([Segment(fresh, 0, 0, 1000, "First window of speech.")])
    store.add_segments([Segment(fresh, 1, 1000, 2000, "Second window of speech.")])
    assert not view._stale  # marked at once when the counts may change (refreshed later)
    coded = next(c.interview_id for c in store.codings())
    store.add_segments([Segment(coded, 999, 900_000, 901_000, "A late addition.")])
    assert view._stale
    qtbot.waitUntil(lambda: refreshed == [1])
    assert not view._stale
