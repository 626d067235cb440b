"""The main window: studies opened, created and closed, the navigator, the interviews
list and transcript, recent studies, and the two kinds of failure."""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

import gui.errors
from gui.errors import CrashDialog, bug_report, handle_exception
from gui.main_window import MainWindow
from gui.settings import Settings
from study.errors import StudyError
from study.folder import create_study
from study.model import Interview, InterviewStatus, Segment, SpeakerRole
from study.store import CURRENT_VERSION


def test_demo_study_opens_with_all_sections(window: MainWindow) -> None:
    assert window.open_demo()
    assert window.study is not None and window.is_demo
    assert "Joint working demo study" in window.windowTitle()
    assert "demo copy" in window.windowTitle()
    ws = window.workspace
    assert ws is not None
    assert ws.participants.model.rowCount() == 7
    assert ws.interviews.model.rowCount() == 7
    window.section_actions[2].trigger()
    assert ws.pages.currentWidget() is ws.coding
    assert ws.coding.view.interview_id is not None and ws.coding.text.spans
    window.section_actions[3].trigger()
    assert ws.pages.currentWidget() is ws.codebook
    assert ws.codebook.codes.model.rowCount() >= 3
    window.section_actions[4].trigger()
    assert ws.pages.currentWidget() is ws.map
    window.section_actions[5].trigger()
    assert ws.pages.currentWidget() is ws.journal
    # Demo copies are not remembered as recent studies.
    assert window.settings.recent_studies() == []


def test_selecting_an_interview_shows_its_transcript(window: MainWindow) -> None:
    window.open_demo()
    store = window.study.store  # type: ignore[union-attr]
    window.section_actions[1].trigger()
    view = window.workspace.interviews  # type: ignore[union-attr]
    codes = [view.proxy.index(r, 0).data() for r in range(view.proxy.rowCount())]
    assert codes == sorted(codes)
    row = codes.index("MHCC-1")
    view.list.selectRow(row)
    interview_id = view.transcript.interview_id
    assert interview_id is not None
    segments = store.segments(interview_id)
    speakers = {s.id: s for s in store.speakers(interview_id)}
    model = view.transcript
    assert model.rowCount() == len(segments) > 10
    for r, seg in enumerate(segments):
        assert model.index(r, 2).data() == seg.text
        assert model.index(r, 1).data() == speakers[seg.speaker_id].label
    first_participant_turn = next(r for r, s in enumerate(segments)
                                  if speakers[s.speaker_id].role is SpeakerRole.PARTICIPANT)
    assert model.index(first_participant_turn, 1).data() == "MHCC-1"
    assert model.index(1, 0).data() == (
        f"{segments[1].start_ms // 60000:02d}:{segments[1].start_ms // 1000 % 60:02d}")
    assert "audio attached" in view.header.text()


def test_create_close_and_reopen_from_recent(window: MainWindow, tmp_path: Path) -> None:
    assert window.new_study(tmp_path / "Interagency")
    root = tmp_path / "Interagency.verbatim"
    assert window.study is not None and window.study.folder.root == root
    assert (root / "study.sqlite").exists() and (root / "backups").is_dir()
    assert window.windowTitle().startswith("Interagency")
    window.close_study()
    assert window.study is None and window.windowTitle() == "Verbatim"
    assert window.central.currentWidget() is window.welcome
    assert window.welcome.recent.count() == 1
    recent = window.recent_menu.actions()
    assert [a.text() for a in recent] == ["Interagency"]
    recent[0].trigger()
    assert window.study is not None and window.study.folder.root == root


def test_recent_studies_are_remembered_across_windows(qtbot: QtBot, tmp_path: Path,
                                                     errors: list[tuple[str, str]]) -> None:
    settings_file = tmp_path / "settings.ini"
    first = MainWindow(Settings(settings_file))
    qtbot.addWidget(first)
    for name in ("One", "Two"):
        assert first.new_study(tmp_path / name)
    first.close()
    second = MainWindow(Settings(settings_file))
    qtbot.addWidget(second)
    assert [p.name for p in second.settings.recent_studies()] == ["Two.verbatim", "One.verbatim"]
    second.close()


def test_missing_study_gives_a_clear_message_and_changes_nothing(
        window: MainWindow, tmp_path: Path, errors: list[tuple[str, str]]) -> None:
    assert not window.open_study(tmp_path / "Nowhere.verbatim")
    assert window.study is None
    assert errors and "not a Verbatim study" in errors[-1][1]


def test_newer_study_is_refused_untouched(window: MainWindow, tmp_path: Path,
                                          errors: list[tuple[str, str]]) -> None:
    with create_study(tmp_path / "Future") as s:
        database = s.folder.database
    conn = sqlite3.connect(database)
    conn.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    conn.close()
    before = database.read_bytes()
    assert not window.open_study(tmp_path / "Future.verbatim")
    assert window.study is None
    assert "newer version of Verbatim" in errors[-1][1]
    assert database.read_bytes() == before


def test_damaged_study_file_is_reported(window: MainWindow, tmp_path: Path,
                                        errors: list[tuple[str, str]]) -> None:
    with create_study(tmp_path / "Broken") as s:
        database = s.folder.database
    database.write_bytes(b"this is not a database at all" * 10)
    assert not window.open_study(tmp_path / "Broken.verbatim")
    assert "damaged" in errors[-1][1]


def test_known_errors_get_a_message_and_bugs_the_crash_dialog(
        monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, errors: list[tuple[str, str]]) -> None:
    handle_exception(StudyError, StudyError("The disk is full."), None)
    assert errors[-1][1] == "The disk is full."

    shown: list[str] = []
    monkeypatch.setattr(CrashDialog, "exec", lambda self: shown.append(self.details) or 0)
    monkeypatch.setattr(gui.errors.sys, "stderr", open("/dev/null", "w"))  # noqa: SIM115
    try:
        raise ValueError("unexpected state")
    except ValueError:
        handle_exception(*sys.exc_info())  # type: ignore[arg-type]
    gui.errors.sys.stderr.close()
    assert shown and "ValueError: unexpected state" in shown[0]
    assert "test_main_window.py" in shown[0]


@pytest.mark.parametrize(("error", "said"), [
    (sqlite3.DatabaseError("database disk image is malformed"), "database is damaged"),
    (sqlite3.OperationalError("database or disk is full"), "The disk is full"),
    (sqlite3.OperationalError("disk I/O error"), "disk I/O error"),
])
def test_a_damaged_file_or_full_disk_met_mid_work_gets_a_message(
        monkeypatch: pytest.MonkeyPatch, qtbot: QtBot, errors: list[tuple[str, str]],
        error: Exception, said: str) -> None:
    monkeypatch.setattr(CrashDialog, "exec", lambda self: pytest.fail("crash dialog shown"))
    handle_exception(type(error), error, None)
    assert said in errors[-1][1]


def test_other_sqlite_errors_are_bugs(monkeypatch: pytest.MonkeyPatch, qtbot: QtBot) -> None:
    shown: list[str] = []
    monkeypatch.setattr(CrashDialog, "exec", lambda self: shown.append(self.details) or 0)
    monkeypatch.setattr(gui.errors.sys, "stderr", open("/dev/null", "w"))  # noqa: SIM115
    error = sqlite3.OperationalError("no such column: nmae")
    handle_exception(type(error), error, None)
    gui.errors.sys.stderr.close()
    assert shown and "no such column" in shown[0]


def test_crash_dialog_shows_the_report(qtbot: QtBot) -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = bug_report(*sys.exc_info())  # type: ignore[arg-type]
    dialog = CrashDialog(report)
    qtbot.addWidget(dialog)
    assert report.startswith("Verbatim ")
    assert "RuntimeError: boom" in dialog.findChild(
        gui.errors.QPlainTextEdit, "crashDetails").toPlainText()


def test_an_interview_changed_refreshes_its_row_only(window: MainWindow, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A status or title change (transcription commits one per window) updates that row;
    the whole list reloads only when interviews come or go."""
    with create_study(tmp_path / "Rows") as s:
        for title in ("First", "Second"):
            s.store.add_interview(Interview(title))
    assert window.open_study(tmp_path / "Rows.verbatim")
    assert window.study is not None and window.workspace is not None
    model = window.workspace.interviews.model
    reloads: list[int] = []
    real_reload = model.reload
    monkeypatch.setattr(model, "reload", lambda: reloads.append(1) or real_reload())
    store = window.study.store
    second = next(i for i in store.interviews() if i.title == "Second")
    store.update_interview(dataclasses.replace(second, title="Second, retitled",
                                               status=InterviewStatus.TRANSCRIBED))
    titles = {model.summary(r).interview.title: model.summary(r).interview.status
              for r in range(model.rowCount())}
    assert titles == {"First": InterviewStatus.RECORDED,
                      "Second, retitled": InterviewStatus.TRANSCRIBED}
    assert reloads == []
    store.add_interview(Interview("Third"))
    assert model.rowCount() == 3 and reloads == [1]


def test_every_page_fits_a_small_laptop_screen_with_the_section_names_whole(
        window: MainWindow) -> None:
    assert window.open_demo()
    workspace = window.workspace
    assert workspace is not None
    assert window.minimumSizeHint().width() <= 1024
    window.resize(1024, 700)
    for section in range(workspace.pages.count()):
        window.show_section(section)
        navigator = workspace.navigator
        assert navigator.width() >= navigator.sizeHintForColumn(0), section


def test_the_open_interviews_header_follows_its_transcript(window: MainWindow,
                                                           tmp_path: Path) -> None:
    """A transcription fills the open interview window by window: its header (status,
    segments, words) keeps up, not only its lines."""
    with create_study(tmp_path / "Header") as s:
        iid = s.store.add_interview(Interview("Being transcribed")).new_id("interview")
    assert window.open_study(tmp_path / "Header.verbatim")
    assert window.study is not None and window.workspace is not None
    view = window.workspace.interviews
    view.select(iid)
    assert "0 segments, 0 words" in view.header.text()
    store = window.study.store
    store.add_segments([Segment(iid, 0, 0, 1000, "Three words here.")])
    interview = store.interview(iid)
    store.update_interview(dataclasses.replace(interview, status=InterviewStatus.TRANSCRIBED))
    assert "1 segment, 3 words" in view.header.text()
    assert "Status: transcribed" in view.header.text()
