"""Play an interview through the transcript editor in its own process, for the playback
test: Qt connects to the sound server the test started (a null sink) from its first use.

Usage: python playback_driver.py STUDY_FOLDER INTERVIEW_ID
Prints one JSON line of what happened, then exits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.settings import Settings


def main() -> int:
    study, interview_id = Path(sys.argv[1]), int(sys.argv[2])
    app = QApplication(sys.argv[:1])
    window = MainWindow(Settings(study.parent / "playback.ini"))
    window.open_study(study)
    window.show_section(1)
    view = window.workspace.interviews  # type: ignore[union-attr]
    view.select(interview_id)
    editor = view.editor
    player = editor.player
    report: dict[str, object] = {"available": False, "rows": []}
    steps: list[str] = []

    def finish(reason: str) -> None:
        report["end"] = reason
        report["steps"] = steps
        print(json.dumps(report), flush=True)
        window.close()
        app.quit()

    def on_position(ms: int) -> None:
        row = editor.model.playing_row
        rows = report["rows"]
        assert isinstance(rows, list)
        if row >= 0 and (not rows or rows[-1] != row):
            rows.append(row)
        if "played" not in steps and ms >= start + 2500:
            steps.append("played")
            report["position_after_play"] = ms
            player.toggle()  # pause
            report["paused_at"] = player.position()
            player.set_rate(1.5)
            report["rate"] = player.rate
            player.toggle()  # resume: rewinds
            report["resumed_at"] = player.position()
            QTimer.singleShot(300, lambda: finish("done"))

    segment = editor.model.segment(1)
    start = segment.start_ms
    report["available"] = player.available
    player.position_changed.connect(on_position)
    editor.table.setCurrentIndex(editor.model.index(1, 2))
    editor.play_selected()
    QTimer.singleShot(20_000, lambda: finish("timeout"))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
