"""File › Export and Import: transcripts (txt, srt, vtt, Word), the codebook (Word,
REFI-QDA .qdc), codings and participants (CSV), and the whole project (REFI-QDA .qdpx).

Every export goes through the leak checker inside the exporter; a refusal shows where
the identifier is and writes nothing. Paths are chosen here and the work is done by
the functions below, which tests call directly (they write before they return).

The menu actions run the same work in the study process (JobRunner.run_on_study, on
its own connection), with a busy sign in the status bar: a Word report or a .qdpx of a
large study takes seconds, and the window must keep answering meanwhile (no GUI-thread
task over 100 ms, DESIGN.md section 7; why a process and not a thread: gui.job_runner).

Imports run there too. They write in one transaction through that connection (WAL: the
window keeps reading meanwhile), so the GUI's store hears nothing of it; the Changes
they wrote are announced to every view when they finish. The import actions wait while
one runs: a second would only queue behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QWidget,
)

from gui import errors
from gui.actions import make_action
from gui.export_warning import confirm_unanonymised_export
from gui.job_runner import JobRunner
from study.errors import StudyError
from study.folder import Study
from study.model import Changes

TRANSCRIPT_FORMATS = {"txt": "Text with times (*.txt)", "srt": "SubRip subtitles (*.srt)",
                      "vtt": "WebVTT subtitles (*.vtt)", "docx": "Word document (*.docx)"}
BUSY_NAME = "backgroundBusy"

Work = Callable[..., object]  # work(study, *args): a function of a module, so it pickles
Announce = Callable[[Changes], None]


# --- the busy sign ------------------------------------------------------------------------------


class _BusyBox(QWidget):
    """What runs in the background, with a moving bar: one per window, shared by every
    page that starts work, and hidden when nothing runs."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(BUSY_NAME)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # no measure of how far an export is: a moving bar
        self.bar.setMaximumWidth(100)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.running: list[str] = []
        self.hide()

    def begin(self, what: str) -> Callable[[], None]:
        self.running.append(what)
        self._update()

        def end() -> None:
            if what in self.running:
                self.running.remove(what)
            self._update()

        return end

    def _update(self) -> None:
        if self.running:
            more = len(self.running) - 1
            self.label.setText(self.running[-1] + (f" (and {more} more)" if more else ""))
        self.setVisible(bool(self.running))


def busy(widget: QWidget, what: str) -> Callable[[], None]:
    """Show `what` in the window's status bar until the returned function is called. A
    widget outside a main window (a test's lone page) shows nothing."""
    window = widget.window()
    if not isinstance(window, QMainWindow):
        return lambda: None
    status = window.statusBar()
    box = status.findChild(QWidget, BUSY_NAME)
    if not isinstance(box, _BusyBox):
        box = _BusyBox(status)
        status.addPermanentWidget(box)
    return box.begin(what)


def report_error(parent: QWidget, error: Exception, refused: str, unwritable: str) -> None:
    """A known error (a leak, a hostile file, a full disk) gets a message; anything else
    is a bug, raised again for the crash dialog."""
    if isinstance(error, StudyError):
        errors.show_error(parent, refused, str(error))
    elif isinstance(error, OSError):
        errors.show_error(parent, unwritable, f"{error.filename or ''}: {error.strerror}.")
    else:
        raise error


# --- the work, on whichever connection runs it ---------------------------------------------------


def write_transcript(study: Study, interview_id: int, path: Path, fmt: str) -> Path:
    if fmt == "docx":
        from analysis.exports.word import transcript_docx

        return transcript_docx(study.store, interview_id, path)
    from analysis.exports.transcript import export_transcript

    return export_transcript(study.store, interview_id, path, fmt)


def write_codebook_docx(study: Study, path: Path) -> Path:
    from analysis.exports.word import codebook_docx

    return codebook_docx(study.store, path)


def write_codings_csv(study: Study, path: Path) -> Path:
    from analysis.exports.tables import codings_csv

    return codings_csv(study.store, path)


def write_participants_csv(study: Study, path: Path) -> Path:
    from analysis.exports.tables import participants_csv

    return participants_csv(study.store, path)


def write_qdpx(study: Study, path: Path) -> object:
    from analysis.refi import export_qdpx

    return export_qdpx(study, path)


def write_qdc(study: Study, path: Path) -> object:
    from analysis.refi import export_qdc

    return export_qdc(study.store, path)


def read_qdpx(study: Study, path: Path) -> str:
    from analysis.refi import import_qdpx

    report = import_qdpx(study, path)
    return _summary(report.imported, report.skipped)


def read_qdc(study: Study, path: Path) -> str:
    from analysis.refi import import_qdc

    report = import_qdc(study.store, path)
    return _summary(report.imported, report.skipped)


# --- the actions ---------------------------------------------------------------------------------


class ExchangeActions(QObject):
    message = Signal(str)
    imported = Signal()
    finished = Signal(bool)  # a background export or import ended; True if it succeeded

    def __init__(self, owner: QWidget, study: Study,
                 current_interview: Callable[[], int | None], *,
                 runner: JobRunner | None = None, announce: Announce | None = None) -> None:
        super().__init__(owner)
        self.owner, self.study, self.store = owner, study, study.store
        self.current_interview = current_interview
        self.runner = runner
        self.announce = announce
        self.transcript_action = make_action(owner, "Export &transcript…",
                                             self.transcript_dialog, "Ctrl+Alt+T")
        self.codebook_action = make_action(owner, "Export code&book (Word)…",
                                           lambda: self._dialog("codebook.docx", "docx",
                                                                write_codebook_docx),
                                           "Ctrl+Alt+B")
        self.codings_action = make_action(owner, "Export &codings (CSV)…",
                                          lambda: self._dialog("codings.csv", "csv",
                                                               write_codings_csv,
                                                               "the coded passages"),
                                          "Ctrl+Alt+C")
        self.participants_action = make_action(owner, "Export &participants (CSV)…",
                                               lambda: self._dialog("participants.csv", "csv",
                                                                    write_participants_csv),
                                               "Ctrl+Alt+P")
        self.qdpx_action = make_action(owner, "Export project (REFI-QDA .&qdpx)…",
                                       lambda: self._dialog(f"{study.name}.qdpx", "qdpx",
                                                            write_qdpx, "the project"),
                                       "Ctrl+Alt+E")
        self.qdc_action = make_action(owner, "Export codebook (REFI-QDA .q&dc)…",
                                      lambda: self._dialog("codebook.qdc", "qdc",
                                                           write_qdc), "Ctrl+Alt+D")
        self.import_qdpx_action = make_action(owner, "Import REFI-QDA project (.qdpx)…",
                                              lambda: self._open_dialog("qdpx", read_qdpx),
                                              "Ctrl+Alt+I")
        self.import_qdc_action = make_action(owner, "Import REFI-QDA codebook (.qdc)…",
                                             lambda: self._open_dialog("qdc", read_qdc),
                                             "Ctrl+Alt+O")
        self.export_actions = [self.transcript_action, self.codebook_action,
                               self.codings_action, self.participants_action,
                               self.qdpx_action, self.qdc_action]
        self.import_actions = [self.import_qdpx_action, self.import_qdc_action]

    def actions(self) -> list:
        return [*self.export_actions, *self.import_actions]

    # --- dialogs ----------------------------------------------------------------------------

    def _dialog(self, name: str, suffix: str, write: Callable[[Study, Path], object],
                text: str | None = None) -> None:
        """Ask where, then export; `text`: what of the transcripts the file carries, for
        the warning before a study is anonymised."""
        if text is not None and not confirm_unanonymised_export(self.store, text):
            return
        path, _ = QFileDialog.getSaveFileName(self.owner, "Export",
                                              str(self.study.folder.exports / name),
                                              f"*.{suffix}")
        if path:
            self.start_export(Path(path), write, Path(path))

    def _open_dialog(self, suffix: str, read: Callable[[Study, Path], str]) -> None:
        path, _ = QFileDialog.getOpenFileName(self.owner, "Import", str(Path.home()),
                                              f"REFI-QDA (*.{suffix})")
        if path:
            self.start_import(read, Path(path))

    def transcript_dialog(self) -> None:
        interview_id = self.current_interview()
        if interview_id is None:
            self.message.emit("Choose an interview first.")
            return
        if not confirm_unanonymised_export(self.store, "this transcript"):
            return
        title = self.store.interview(interview_id).title
        path, chosen = QFileDialog.getSaveFileName(
            self.owner, "Export transcript", str(self.study.folder.exports / f"{title}.txt"),
            ";;".join(TRANSCRIPT_FORMATS.values()))
        if not path:
            return
        fmt = next((f for f, label in TRANSCRIPT_FORMATS.items() if label == chosen),
                   Path(path).suffix.lstrip(".") or "txt")
        self.start_export(Path(path), write_transcript, interview_id, Path(path), fmt)

    # --- in the background -------------------------------------------------------------------

    def start_export(self, path: Path, write: Work, *args: Any) -> None:
        """Call write(study, *args) in the study process to write `path`; `finished`
        says when (and whether) it was written."""
        self.start(f"Exporting {path.name}…", write, args,
                   lambda _result: f"Exported {path.name}.")

    def start_import(self, read: Callable[[Study, Path], str], path: Path) -> None:
        """Import in the study process, the import actions off until it ends."""
        def done(summary: object) -> str:
            self.imported.emit()
            return str(summary)

        self.start(f"Importing {path.name}…", read, (path,), done, importing=True)

    def start(self, what: str, work: Work, args: tuple[Any, ...], done: Callable[[Any], str],
              *, importing: bool = False) -> None:
        """Run work(study, *args) in the study process; `done` turns its result into the
        message. Without a job runner (a page built on its own) it runs here, as before."""
        runner = self.runner
        if runner is None:
            self.finished.emit(self.run(lambda: done(work(self.study, *args)), ""))
            return
        end = busy(self.owner, what)
        if importing:
            for action in self.import_actions:
                action.setEnabled(False)

        def stop() -> None:
            end()
            if importing:
                for action in self.import_actions:
                    action.setEnabled(True)

        def succeeded(result: object, changes: Changes) -> None:
            stop()
            if changes and self.announce is not None:
                self.announce(changes)  # written on the study process's connection
            self.message.emit(done(result))
            self.finished.emit(True)

        def failed(error: Exception) -> None:
            stop()
            try:
                report_error(self.owner, error, "Export or import refused",
                             "Could not read or write the file")
            finally:
                self.finished.emit(False)

        self.message.emit(what)
        runner.run_on_study(work, args, succeeded, failed)

    # --- the work, here and now ----------------------------------------------------------------

    def run(self, work: Callable[[], object], done: str) -> bool:
        """Do an export or import; known errors (a leak, a hostile file) get a message."""
        try:
            result = work()
        except (StudyError, OSError) as e:
            report_error(self.owner, e, "Export or import refused",
                         "Could not read or write the file")
            return False
        self.message.emit(done or str(result))
        return True

    def export_transcript(self, interview_id: int, path: Path, fmt: str) -> Path:
        return write_transcript(self.study, interview_id, path, fmt)

    def export_codebook_docx(self, path: Path) -> Path:
        return write_codebook_docx(self.study, path)

    def export_codings_csv(self, path: Path) -> Path:
        return write_codings_csv(self.study, path)

    def export_participants(self, path: Path) -> Path:
        return write_participants_csv(self.study, path)

    def export_qdpx(self, path: Path) -> object:
        return write_qdpx(self.study, path)

    def export_qdc(self, path: Path) -> object:
        return write_qdc(self.study, path)

    def import_qdpx(self, path: Path) -> str:
        summary = read_qdpx(self.study, path)
        self.imported.emit()
        return summary

    def import_qdc(self, path: Path) -> str:
        summary = read_qdc(self.study, path)
        self.imported.emit()
        return summary


def _summary(imported: dict[str, int], skipped: list[str]) -> str:
    done = ", ".join(f"{n} {kind}" for kind, n in imported.items() if n) or "nothing"
    return f"Imported {done}" + (f"; skipped {len(skipped)} item(s)." if skipped else ".")
