"""Drive a RecordingDialog in its own process, for the recording tests.

Usage: python recording_driver.py STUDY_FOLDER

Runs with the environment the test gives it (a private PulseAudio server), so Qt's
multimedia backend connects to that server from its very first use, whatever the test
process itself has done with QtMultimedia. Reads one command a line on stdin (record,
pause, resume, key <sequence>, stop, close, quit, title <text>, participant <code>) and
writes one JSON event a line on stdout. Qt warnings are reported as events so the test
can fail on them, as pytest-qt would in-process.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QMessageLogContext,
    QSocketNotifier,
    Qt,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtMultimedia import QMediaDevices  # noqa: F401  (loads the backend's plugins now)
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui.recording_dialog import RecordingDialog
from study.folder import open_study

# Printed by QtMultimedia itself when it loads, on machines without PipeWire: not ours.
IGNORED_CATEGORIES = {"qt.multimedia.symbolsresolver"}
# The offscreen platform's notice when a window is shown (ignored in pyproject.toml too).
IGNORED_MESSAGES = {"This plugin does not support propagateSizeHints()"}


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def on_message(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if mode in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
        return
    if context.category in IGNORED_CATEGORIES or message in IGNORED_MESSAGES:
        return
    emit("qt-warning", category=context.category, message=message)


def fake_free_space(free: int) -> None:
    """Pretend the disk has `free` bytes left (VERBATIM_TEST_FREE_BYTES), for the warning."""
    import collections

    import gui.recorder

    usage = collections.namedtuple("usage", "total used free")
    gui.recorder.shutil = type("FakeShutil", (), {  # type: ignore[assignment]
        "disk_usage": staticmethod(lambda _path: usage(free * 2, free, free))})


def main() -> int:
    qInstallMessageHandler(on_message)
    if "VERBATIM_TEST_FREE_BYTES" in os.environ:
        fake_free_space(int(os.environ["VERBATIM_TEST_FREE_BYTES"]))
    app = QApplication(sys.argv[:1])
    study = open_study(Path(sys.argv[1]), backup=False)
    dialog = RecordingDialog(study)
    dialog.confirm_stop = lambda: True
    recorder = dialog.recorder
    max_level = [0.0]

    def level(value: float) -> None:
        if value > max_level[0]:
            max_level[0] = value

    recorder.level.connect(level)
    recorder.elapsed.connect(lambda ms: emit("elapsed", ms=ms, max_level=max_level[0],
                                             label=dialog.elapsed_label.text()))
    recorder.synced.connect(lambda ms: emit("synced", ms=ms))

    def ui() -> dict[str, Any]:
        return {"recording": recorder.recording, "paused": recorder.paused,
                "ms": recorder.elapsed_ms, "record_enabled": dialog.record_button.isEnabled(),
                "pause_text": dialog.pause_button.text(),
                "stop_enabled": dialog.stop_button.isEnabled(),
                "elapsed_label": dialog.elapsed_label.text(), "visible": dialog.isVisible(),
                "disk_warning": dialog.disk_label.text() if dialog.disk_label.isVisible() else ""}

    # Reported once the dialog has updated its buttons for the new state.
    recorder.state_changed.connect(
        lambda state: QTimer.singleShot(0, lambda: emit("state", state=state, **ui())))
    recorder.error.connect(lambda message: emit("error", message=message))
    recorder.low_disk.connect(lambda message: emit("low-disk", message=message))
    dialog.recorded.connect(lambda interview_id: emit("recorded", interview_id=interview_id))

    def finished(result: int) -> None:
        emit("finished", result=result, interview_id=dialog.interview_id,
             status=dialog.status_label.text(), max_level=max_level[0])

    dialog.finished.connect(finished)
    dialog.show()
    dialog.activateWindow()

    buffer = bytearray()

    def command(line: str) -> None:
        name, _, arg = line.partition(" ")
        match name:
            case "record":
                dialog.record_button.click()
            case "pause" | "resume":
                dialog.pause_button.click()
            case "key":
                QTest.keySequence(dialog, arg)
            case "stop":
                dialog.stop_button.click()
            case "close":
                dialog.reject()
            case "title":
                dialog.title_edit.setText(arg)
            case "participant":
                index = dialog.participant_combo.findText(arg, flags=Qt.MatchFlag.MatchStartsWith)
                dialog.participant_combo.setCurrentIndex(index)
            case "quit":
                app.quit()
            case _:
                emit("bad-command", line=line)
                return
        # A shortcut clicks its button with animateClick, 100 ms later: a `key` command's
        # effect shows in the `state` events, not here.
        emit("did", command=line, **ui())

    def readable() -> None:
        chunk = os.read(sys.stdin.fileno(), 4096)
        if not chunk:
            notifier.setEnabled(False)
            app.quit()
            return
        buffer.extend(chunk)
        while b"\n" in buffer:
            line, _, rest = bytes(buffer).partition(b"\n")
            buffer[:] = rest
            command(line.decode().strip())

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(readable)

    def ready() -> None:
        emit("ready", inputs=[d.description() for d in recorder.inputs()],
             record_enabled=dialog.record_button.isEnabled(),
             status=dialog.status_label.text(),
             active=dialog.isActiveWindow())

    QTest.qWaitForWindowActive(dialog, 5000)
    ready()
    code = app.exec()
    if recorder.recording:
        recorder.stop()
    study.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
