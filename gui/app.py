"""Starting the GUI: the QApplication, the exception hook and the main window."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.errors import install_exception_hook
from gui.main_window import MainWindow


def run(study: Path | None, *, exit_after_show: bool = False,
        started: float | None = None) -> int:
    """Open `study`, or a fresh copy of the demo study when none is given."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Verbatim")
    app.setOrganizationName("Verbatim")
    install_exception_hook()
    window = MainWindow()
    if study is None:
        window.open_demo()
    elif not window.open_study(study):
        window.settings.forget_recent_study(study)
    window.show()
    if exit_after_show:
        # For the launch test and start-up timing: report, then quit through the
        # normal close path once the event loop has painted the window.
        def shown() -> None:
            if started is not None:
                print(f"window shown in {(time.perf_counter() - started) * 1000:.0f} ms",
                      flush=True)
            print(f"study: {window.study.name if window.study else '-'}", flush=True)
            window.close()

        QTimer.singleShot(0, shown)
    return app.exec()
