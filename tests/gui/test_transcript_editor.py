"""The transcript editor: edit, split, merge, speakers, find and replace, flags and the
playback highlight, every change undoable and saved at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from gui.transcript_editor import TranscriptEditor
from gui.transcript_model import HTML_ROLE, TEXT
from study.model import Flag, FlagKind, Interview, Segment, Speaker, SpeakerRole, Word
from study.store import Store

TEXTS = ["So how do you share information with the school?",
         "Mostly by phone. We rang the duty team and nobody picked up.",
         "And what happened then?",
         "I wrote to them. Honestly it took weeks."]


@pytest.fixture
def editor(window: MainWindow, tmp_path: Path) -> TranscriptEditor:
    assert window.new_study(tmp_path / "Editing")
    store = window.study.store  # type: ignore[union-attr]
    iid = store.add_interview(Interview("Interview with P1")).new_id("interview")
    interviewer = store.add_speaker(Speaker(iid, "Interviewer", SpeakerRole.INTERVIEWER)
                                    ).new_id("speaker")
    participant = store.add_speaker(Speaker(iid, "P1", SpeakerRole.PARTICIPANT)).new_id("speaker")
    words = tuple(Word(" " + w, 4000 + n * 400, 4000 + n * 400 + 350, 0.9 if n != 3 else 0.2)
                  for n, w in enumerate(TEXTS[1].split()))
    store.add_segments([
        Segment(iid, 0, 0, 3500, TEXTS[0], interviewer),
        Segment(iid, 1, 4000, 9000, TEXTS[1], participant, words),
        Segment(iid, 2, 9500, 11000, TEXTS[2], interviewer),
        Segment(iid, 3, 11500, 15000, TEXTS[3], participant,
                flags=(Flag(FlagKind.MISSED_SPEECH, 13000, 15000, "check"),)),
    ])
    window.show_section(1)
    view = window.workspace.interviews  # type: ignore[union-attr]
    view.select(iid)
    return view.editor


def texts(store: Store, editor: TranscriptEditor) -> list[str]:
    return [s.text for s in store.segments(editor.model.interview_id)]  # type: ignore[arg-type]


def type_into_segment(qtbot: QtBot, editor: TranscriptEditor, row: int, text: str) -> None:
    index = editor.model.index(row, TEXT)
    editor.table.setCurrentIndex(index)
    editor.table.edit(index)
    qtbot.waitUntil(lambda: editor.delegate.active is not None)
    box = editor.delegate.active
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_text_edit_is_saved_and_undone(window: MainWindow, editor: TranscriptEditor,
                                       qtbot: QtBot) -> None:
    store = window.study.store  # type: ignore[union-attr]
    type_into_segment(qtbot, editor, 2, "And then what happened?")
    assert texts(store, editor)[2] == "And then what happened?"
    assert editor.delegate.active is None
    window.undo_action.trigger()
    assert texts(store, editor)[2] == TEXTS[2]
    window.redo_action.trigger()
    assert texts(store, editor)[2] == "And then what happened?"
    assert editor.model.index(2, TEXT).data() == "And then what happened?"


def test_split_at_the_cursor_and_merge_back(window: MainWindow, editor: TranscriptEditor,
                                            qtbot: QtBot) -> None:
    store = window.study.store  # type: ignore[union-attr]
    index = editor.model.index(1, TEXT)
    editor.table.setCurrentIndex(index)
    editor.table.edit(index)
    qtbot.waitUntil(lambda: editor.delegate.active is not None)
    box = editor.delegate.active
    cursor = box.textCursor()
    cursor.setPosition(TEXTS[1].index("We rang"))
    box.setTextCursor(cursor)
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    segs = store.segments(editor.model.interview_id)  # type: ignore[arg-type]
    assert [s.text for s in segs[1:3]] == ["Mostly by phone.",
                                           "We rang the duty team and nobody picked up."]
    assert segs[1].end_ms == segs[2].start_ms == 5200  # the word "We" starts there
    assert segs[2].speaker_id == segs[1].speaker_id
    assert editor.model.rowCount() == 5

    editor.table.selectRow(1)
    editor.actions_by_name["merge"].trigger()
    assert texts(store, editor) == TEXTS
    window.undo_action.trigger()  # un-merge
    window.undo_action.trigger()  # un-split
    assert texts(store, editor) == TEXTS
    assert len(store.segments(editor.model.interview_id)) == 4  # type: ignore[arg-type]


def test_speakers_assigned_by_key_renamed_and_added(window: MainWindow,
                                                    editor: TranscriptEditor) -> None:
    store = window.study.store  # type: ignore[union-attr]
    iid = editor.model.interview_id
    editor.table.selectRow(2)
    editor.speaker_actions[1].trigger()  # Alt+2: the second speaker, P1
    assert editor.model.index(2, 1).data() == "P1"
    window.undo_action.trigger()
    assert editor.model.index(2, 1).data() == "Interviewer"
    editor.speakers.setCurrentRow(1)
    assert editor.rename_speaker("MHCC-1")
    assert [s.label for s in store.speakers(iid)] == ["Interviewer", "MHCC-1"]  # type: ignore[arg-type]
    assert editor.model.index(1, 1).data() == "MHCC-1"
    assert not editor.rename_speaker("Interviewer")  # a clash is refused
    assert editor.add_speaker("Interpreter")
    assert editor.speakers.count() == 3
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert [s.label for s in store.speakers(iid)] == ["Interviewer", "P1"]  # type: ignore[arg-type]
    assert editor.speaker_actions[0].shortcut() == QKeySequence("Alt+1")


def test_find_and_replace_all_is_one_undo_step(window: MainWindow,
                                               editor: TranscriptEditor) -> None:
    store = window.study.store  # type: ignore[union-attr]
    bar = editor.find_bar
    editor.actions_by_name["find"].trigger()
    assert bar.isVisible()
    bar.find.setText("THE")
    assert bar.next() == 0
    assert bar.next() == 1
    assert bar.next() == 2  # "then" contains it
    bar.whole.setChecked(True)
    bar.replace.setText("their")
    assert bar.replace_all() == 2
    assert texts(store, editor)[1] == "Mostly by phone. We rang their duty team and nobody " \
                                      "picked up."
    assert texts(store, editor)[0].endswith("with their school?")
    window.undo_action.trigger()
    assert texts(store, editor) == TEXTS
    bar.case.setChecked(True)
    bar.find.setText("THE")
    assert bar.next() == -1


def test_next_flag_and_marks(editor: TranscriptEditor) -> None:
    editor.table.setCurrentIndex(editor.model.index(0, TEXT))
    assert editor.jump_to_flag(1) == 3
    assert editor.current_row() == 3
    assert editor.jump_to_flag(1) == -1
    assert "Speech may be missing" in editor.model.index(3, TEXT).data(
        Qt.ItemDataRole.ToolTipRole)
    assert "underline dotted" in editor.model.index(1, TEXT).data(HTML_ROLE)  # word 4: 0.2


def test_playback_position_highlights_segment_and_word(editor: TranscriptEditor) -> None:
    editor._position(4000 + 2 * 400 + 100)  # inside the third word of segment 1
    assert editor.model.playing_row == 1 and editor.model.playing_word == 2
    assert "background:" in editor.model.index(1, TEXT).data(HTML_ROLE)
    editor._position(12_000)
    assert editor.model.playing_row == 3
    assert "background:" not in editor.model.index(1, TEXT).data(HTML_ROLE)


def test_no_audio_device_gives_a_notice_and_editing_works(
        window: MainWindow, editor: TranscriptEditor, qtbot: QtBot,
        monkeypatch: pytest.MonkeyPatch, fixtures_dir: Path) -> None:
    monkeypatch.setattr("gui.player.QMediaDevices.audioOutputs", staticmethod(lambda: []))
    view = window.workspace.interviews  # type: ignore[union-attr]
    from gui.player import Player

    editor.player = Player(1500, editor)
    editor.player.notice.connect(editor._notice)
    interview_id = view.import_audio(fixtures_dir / "audio" / "jfk.flac")
    assert interview_id is not None
    store = window.study.store  # type: ignore[union-attr]
    store.add_segments([Segment(interview_id, 0, 0, 11000, "ask not")])
    editor.load(interview_id)
    assert not editor.notice.isHidden() and "No audio output" in editor.notice.text()
    type_into_segment(qtbot, editor, 0, "Ask not what your country can do for you.")
    assert store.segments(interview_id)[0].text == "Ask not what your country can do for you."


def test_hotkeys_are_configurable(window: MainWindow, editor: TranscriptEditor,
                                  qtbot: QtBot) -> None:
    from gui.hotkeys_dialog import HotkeysDialog

    dialog = HotkeysDialog(window.settings)
    qtbot.addWidget(dialog)
    dialog.edits["play_pause"].setKeySequence(QKeySequence("F9"))
    dialog.edits["back"].setKeySequence(QKeySequence("F9"))
    dialog.accept()
    assert "used twice" in dialog.error.text()
    dialog.edits["back"].setKeySequence(QKeySequence("F7"))
    dialog.rewind.setValue(2000)
    dialog.accept()
    editor.apply_hotkeys()
    assert editor.actions_by_name["play_pause"].shortcut() == QKeySequence("F9")
    assert editor.player.rewind_ms == 2000


def test_importing_a_transcript_from_the_interviews_page(
        window: MainWindow, tmp_path: Path, fixtures_dir: Path,
        errors: list[tuple[str, str]]) -> None:
    assert window.new_study(tmp_path / "Imported")
    window.show_section(1)
    view = window.workspace.interviews  # type: ignore[union-attr]
    interview_id = view.import_transcript(fixtures_dir / "transcripts" / "sonnet001.srt")
    assert interview_id is not None
    assert view.transcript.rowCount() == 15
    assert view.transcript.index(1, TEXT).data().startswith("From fairest creatures")
    broken = tmp_path / "broken.srt"
    broken.write_text("1\n00:00:01,000 -> nonsense\nHello\n", encoding="utf-8")
    before = window.study.store.interviews()  # type: ignore[union-attr]
    assert view.import_transcript(broken) is None
    assert errors and "broken.srt" in errors[-1][1]
    assert window.study.store.interviews() == before  # type: ignore[union-attr]
