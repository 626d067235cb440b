"""The window keeps answering while it works (DESIGN.md section 7): exports, imports and
charts run in the study process with a busy sign and their errors shown, and the event
loop never stops for 100 ms while a transcription and large exports run at once.

The probe and the scenario are benchmarks/responsiveness.py's, which runs them at full
size; here the study has 20 interviews and the recording about 80 seconds."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from docx import Document
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from benchmarks.responsiveness import TARGET_MS, run_scenario
from benchmarks.synthetic_study import build_large_study
from gui.compare_view import ChartImage
from gui.exchange_actions import BUSY_NAME, read_qdpx, write_qdpx, write_transcript
from gui.main_window import MainWindow
from study.errors import StudyError
from study.folder import Study
from study.model import Category, JobState
from tests.gui.test_transcription_gui import long_recording
from transcription.options import Quality, TranscriptionOptions

COMPARE = 7


@pytest.fixture(scope="module")
def large_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 interviews, 200,000 words, 4,000 codings: a report of seconds, not milliseconds."""
    return build_large_study(tmp_path_factory.mktemp("large") / "Large.verbatim",
                             interviews=20, words=200_000, codings=4_000)


def busy_shown(window: MainWindow) -> bool:
    box = window.statusBar().findChild(QWidget, BUSY_NAME)
    return box is not None and box.isVisible()


@pytest.mark.slow
def test_the_event_loop_never_stops_100_ms_while_transcribing_and_exporting(
        qtbot: QtBot, window: MainWindow, large_study: Path, fixtures_dir: Path,
        tmp_path: Path, errors: list[tuple[str, str]]) -> None:
    window.settings.set_transcription_options(TranscriptionOptions(quality=Quality.FAST,
                                                                   threads=2))
    audio = long_recording(tmp_path / "interview.wav", fixtures_dir)
    outcome = run_scenario(window, large_study, audio, tmp_path, qtbot.waitUntil,
                           timeout_ms=180_000)
    summary = outcome.summary()
    print(summary)  # the distribution, for the notes (pytest -s)
    assert outcome.job_state == JobState.DONE.value, summary
    assert outcome.exports_ok == [True, True] and not errors, (summary, errors)
    assert {"Title", "Heading 1", "Quote"} <= {
        p.style.name for p in Document(str(tmp_path / "quotes report.docx")).paragraphs}
    assert "project.qde" in zipfile.ZipFile(tmp_path / "project.qdpx").namelist()
    assert summary["ticks"] > 200, summary  # the probe ran all along
    assert summary["longest_gap_ms"] < TARGET_MS, summary


def test_menu_exports_run_in_the_study_process_with_a_busy_sign(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    assert window.open_demo()
    ws = window.workspace
    assert ws is not None
    interview = ws.study.store.interviews()[0]
    with qtbot.waitSignal(ws.exchange.finished, timeout=30_000) as finished:
        ws.exchange.start_export(tmp_path / "t.srt", write_transcript, interview.id,
                                 tmp_path / "t.srt", "srt")
        assert busy_shown(window)
    assert finished.args == [True]
    assert "-->" in (tmp_path / "t.srt").read_text(encoding="utf-8")
    assert not busy_shown(window)
    assert ws.runner.busy_tasks() == 0
    assert window.statusBar().currentMessage() == "Exported t.srt."
    with qtbot.waitSignal(ws.compare.finished, timeout=30_000) as finished:
        assert ws.compare.start_export_chart(tmp_path / "bars.svg", tab=1)
    assert finished.args == [True] and b"<svg" in (tmp_path / "bars.svg").read_bytes()[:2000]


def test_a_refused_background_export_shows_why_and_writes_nothing(
        qtbot: QtBot, window: MainWindow, tmp_path: Path,
        errors: list[tuple[str, str]]) -> None:
    assert window.open_demo()
    ws = window.workspace
    assert ws is not None
    store = ws.study.store
    theme = store.themes()[0].name  # in the project and as a heading of the report
    store.register_identifier(theme, Category.ORGANISATION)
    with qtbot.waitSignal(ws.exchange.finished, timeout=30_000) as finished:
        ws.exchange.start_export(tmp_path / "p.qdpx", write_qdpx, tmp_path / "p.qdpx")
    assert finished.args == [False] and not (tmp_path / "p.qdpx").exists()
    with qtbot.waitSignal(ws.compare.finished, timeout=30_000) as finished:
        ws.compare.start_export_report(tmp_path / "r.docx")
    assert finished.args == [False] and not (tmp_path / "r.docx").exists()
    assert [title for title, _ in errors] == ["Export or import refused", "Export refused"]
    assert all("█████" in text for _, text in errors)  # the place, with the name masked
    assert not busy_shown(window)


def test_a_background_import_refreshes_the_views(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    assert window.open_demo()
    ws = window.workspace
    assert ws is not None
    assert ws.exchange.run(lambda: ws.exchange.export_qdpx(tmp_path / "demo.qdpx"), "ok")
    codes = len(ws.study.store.codes())
    assert window.new_study(tmp_path / "Imported")
    fresh = window.workspace
    assert fresh is not None and fresh.interviews.model.rowCount() == 0
    with qtbot.waitSignal(fresh.exchange.finished, timeout=60_000) as finished:
        fresh.exchange.start_import(read_qdpx, tmp_path / "demo.qdpx")
        assert not fresh.exchange.import_qdpx_action.isEnabled()  # one import at a time
    assert finished.args == [True]
    assert fresh.exchange.import_qdpx_action.isEnabled()
    assert fresh.interviews.model.rowCount() == 7  # told by the announced Changes
    assert len(fresh.study.store.codes()) == codes > 0
    assert window.statusBar().currentMessage().startswith("Imported ")


def test_charts_are_drawn_in_the_study_process(qtbot: QtBot, window: MainWindow,
                                            tmp_path: Path) -> None:
    root = build_large_study(tmp_path / "Forty.verbatim", interviews=40, words=40_000,
                             codings=800)
    assert window.open_study(root)
    ws = window.workspace
    assert ws is not None
    ws.show_section(COMPARE)
    view = ws.compare
    for tab in (1, 2, 3):
        view.tabs.setCurrentIndex(tab)
        qtbot.waitUntil(lambda tab=tab: str(tab) in view._charts, timeout=30_000)
        chart = view._charts[str(tab)]
        assert isinstance(chart, ChartImage) and not chart.image.isNull()
    qtbot.waitUntil(lambda: ws.runner.busy_tasks() == 0, timeout=30_000)
    chart = view._charts["3"]
    before = chart.image.size()
    window.resize(window.width() + 200, window.height() + 100)
    qtbot.waitUntil(lambda: chart.image.size() != before, timeout=30_000)
    qtbot.waitUntil(lambda: ws.runner.busy_tasks() == 0, timeout=30_000)


def _die(_study: object) -> None:
    """A task whose process dies under it (killed, out of memory)."""
    os._exit(1)


def _count_codes(study: Study) -> int:
    return len(study.store.codes())


def test_a_study_process_that_dies_is_reported_and_replaced(
        qtbot: QtBot, window: MainWindow) -> None:
    assert window.open_demo()
    ws = window.workspace
    assert ws is not None
    errors_seen: list[Exception] = []
    results: list[object] = []
    ws.runner.run_on_study(_die, (), lambda r, c: results.append(r), errors_seen.append)
    qtbot.waitUntil(lambda: bool(errors_seen), timeout=30_000)
    assert isinstance(errors_seen[0], StudyError) and "not saved" in str(errors_seen[0])
    ws.runner.run_on_study(_count_codes, (), lambda r, c: results.append(r),
                           errors_seen.append)
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    assert results == [len(ws.study.store.codes())] and len(errors_seen) == 1
