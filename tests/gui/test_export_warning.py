"""Before anonymisation, an export that carries transcript text asks first; a "no"
writes nothing and opens no file dialog. Exports without transcript text never ask."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui.main_window import MainWindow
from study.folder import create_study
from study.model import Participant
from tests.gui.conftest import ExportWarnings


@pytest.fixture
def save_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The save dialogs opened (each cancelled, so nothing is written)."""
    opened: list[str] = []

    def cancelled(_parent: object, title: str, *_: object) -> tuple[str, str]:
        opened.append(title)
        return "", ""

    monkeypatch.setattr("gui.exchange_actions.QFileDialog.getSaveFileName", cancelled)
    monkeypatch.setattr("gui.compare_view.QFileDialog.getSaveFileName", cancelled)
    return opened


def test_no_stops_an_export_of_a_study_not_anonymised(
        window: MainWindow, export_warnings: ExportWarnings, save_dialogs: list[str]) -> None:
    assert window.open_demo()  # the demo's transcripts still hold names
    workspace = window.workspace
    assert workspace is not None
    export_warnings.answer = False
    for action in (workspace.exchange.codings_action, workspace.exchange.qdpx_action,
                   workspace.compare.export_report_action):
        action.trigger()
    workspace.interviews.list.selectRow(0)
    workspace.exchange.transcript_action.trigger()
    assert len(export_warnings.asked) == 4
    assert all("has not been anonymised" in q for q in export_warnings.asked)
    assert save_dialogs == []
    assert not list(workspace.study.folder.exports.iterdir())


def test_yes_goes_on_to_the_save_dialog(window: MainWindow, export_warnings: ExportWarnings,
                                        save_dialogs: list[str]) -> None:
    assert window.open_demo()
    assert window.workspace is not None
    window.workspace.exchange.codings_action.trigger()
    assert len(export_warnings.asked) == 1 and len(save_dialogs) == 1


def test_exports_without_transcript_text_never_ask(
        window: MainWindow, tmp_path: Path, export_warnings: ExportWarnings,
        save_dialogs: list[str]) -> None:
    with create_study(tmp_path / "Empty") as s:
        s.store.add_participant(Participant("P1"))
    assert window.open_study(tmp_path / "Empty.verbatim")
    assert window.workspace is not None
    exchange = window.workspace.exchange
    for action in (exchange.codebook_action, exchange.participants_action,
                   exchange.qdc_action, exchange.codings_action, exchange.qdpx_action):
        action.trigger()
    assert export_warnings.asked == []  # no transcripts yet: nothing to leak
    assert len(save_dialogs) == 5


def test_an_anonymised_study_exports_without_asking(
        window: MainWindow, tmp_path: Path, export_warnings: ExportWarnings,
        save_dialogs: list[str]) -> None:
    from analysis.anonymise.apply import apply_anonymisation
    from analysis.anonymise.detect import detect_study
    from study.model import IdentifierRule, Interview, Segment

    with create_study(tmp_path / "Done") as s:
        iid = s.store.add_interview(Interview("First")).new_id("interview")
        s.store.add_segments([Segment(iid, 0, 0, 1000, "I rang Harrowfield twice.")])
        s.store.register_identifier("Harrowfield", "place", rule=IdentifierRule.ALWAYS)
        s.store.replace_candidates([c for c in detect_study(s.store, use_ner=False)
                                    if c.text == "Harrowfield"])
        assert apply_anonymisation(s.store, s.folder).replaced == 1
    assert window.open_study(tmp_path / "Done.verbatim")
    assert window.workspace is not None
    window.workspace.exchange.codings_action.trigger()
    assert export_warnings.asked == [] and len(save_dialogs) == 1
