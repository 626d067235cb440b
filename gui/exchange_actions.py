"""File › Export and Import: transcripts (txt, srt, vtt, Word), the codebook (Word,
REFI-QDA .qdc), codings and participants (CSV), and the whole project (REFI-QDA .qdpx).

Every export goes through the leak checker inside the exporter; a refusal shows where
the identifier is and writes nothing. Paths are chosen here and the work is done by
the functions below, which tests call directly.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from gui import errors
from gui.actions import make_action
from study.errors import StudyError
from study.folder import Study

TRANSCRIPT_FORMATS = {"txt": "Text with times (*.txt)", "srt": "SubRip subtitles (*.srt)",
                      "vtt": "WebVTT subtitles (*.vtt)", "docx": "Word document (*.docx)"}


class ExchangeActions(QObject):
    message = Signal(str)
    imported = Signal()

    def __init__(self, owner: QWidget, study: Study,
                 current_interview: Callable[[], int | None]) -> None:
        super().__init__(owner)
        self.owner, self.study, self.store = owner, study, study.store
        self.current_interview = current_interview
        self.transcript_action = make_action(owner, "Export &transcript…",
                                             self.transcript_dialog, "Ctrl+Alt+T")
        self.codebook_action = make_action(owner, "Export code&book (Word)…",
                                           lambda: self._dialog("codebook.docx", "docx",
                                                                self.export_codebook_docx),
                                           "Ctrl+Alt+B")
        self.codings_action = make_action(owner, "Export &codings (CSV)…",
                                          lambda: self._dialog("codings.csv", "csv",
                                                               self.export_codings_csv),
                                          "Ctrl+Alt+C")
        self.participants_action = make_action(owner, "Export &participants (CSV)…",
                                               lambda: self._dialog("participants.csv", "csv",
                                                                    self.export_participants),
                                               "Ctrl+Alt+P")
        self.qdpx_action = make_action(owner, "Export project (REFI-QDA .&qdpx)…",
                                       lambda: self._dialog(f"{study.name}.qdpx", "qdpx",
                                                            self.export_qdpx),
                                       "Ctrl+Alt+E")
        self.qdc_action = make_action(owner, "Export codebook (REFI-QDA .q&dc)…",
                                      lambda: self._dialog("codebook.qdc", "qdc",
                                                           self.export_qdc), "Ctrl+Alt+D")
        self.import_qdpx_action = make_action(owner, "Import REFI-QDA project (.qdpx)…",
                                              lambda: self._open_dialog("qdpx",
                                                                        self.import_qdpx),
                                              "Ctrl+Alt+I")
        self.import_qdc_action = make_action(owner, "Import REFI-QDA codebook (.qdc)…",
                                             lambda: self._open_dialog("qdc", self.import_qdc),
                                             "Ctrl+Alt+O")
        self.export_actions = [self.transcript_action, self.codebook_action,
                               self.codings_action, self.participants_action,
                               self.qdpx_action, self.qdc_action]
        self.import_actions = [self.import_qdpx_action, self.import_qdc_action]

    def actions(self) -> list:
        return [*self.export_actions, *self.import_actions]

    # --- dialogs ----------------------------------------------------------------------------

    def _dialog(self, name: str, suffix: str, write: Callable[[Path], object]) -> None:
        path, _ = QFileDialog.getSaveFileName(self.owner, "Export",
                                              str(self.study.folder.exports / name),
                                              f"*.{suffix}")
        if path:
            self.run(lambda: write(Path(path)), f"Exported {Path(path).name}.")

    def _open_dialog(self, suffix: str, read: Callable[[Path], object]) -> None:
        path, _ = QFileDialog.getOpenFileName(self.owner, "Import", str(Path.home()),
                                              f"REFI-QDA (*.{suffix})")
        if path:
            self.run(lambda: read(Path(path)), "")

    def transcript_dialog(self) -> None:
        interview_id = self.current_interview()
        if interview_id is None:
            self.message.emit("Choose an interview first.")
            return
        title = self.store.interview(interview_id).title
        path, chosen = QFileDialog.getSaveFileName(
            self.owner, "Export transcript", str(self.study.folder.exports / f"{title}.txt"),
            ";;".join(TRANSCRIPT_FORMATS.values()))
        if not path:
            return
        fmt = next((f for f, label in TRANSCRIPT_FORMATS.items() if label == chosen),
                   Path(path).suffix.lstrip(".") or "txt")
        self.run(lambda: self.export_transcript(interview_id, Path(path), fmt),
                 f"Exported {Path(path).name}.")

    def run(self, work: Callable[[], object], done: str) -> bool:
        """Do an export or import; known errors (a leak, a hostile file) get a message."""
        try:
            result = work()
        except StudyError as e:
            errors.show_error(self.owner, "Export or import refused", str(e))
            return False
        except OSError as e:
            errors.show_error(self.owner, "Could not read or write the file",
                              f"{e.filename or ''}: {e.strerror}.")
            return False
        self.message.emit(done or str(result))
        return True

    # --- the work ------------------------------------------------------------------------------

    def export_transcript(self, interview_id: int, path: Path, fmt: str) -> Path:
        if fmt == "docx":
            from analysis.exports.word import transcript_docx

            return transcript_docx(self.store, interview_id, path)
        from analysis.exports.transcript import export_transcript

        return export_transcript(self.store, interview_id, path, fmt)

    def export_codebook_docx(self, path: Path) -> Path:
        from analysis.exports.word import codebook_docx

        return codebook_docx(self.store, path)

    def export_codings_csv(self, path: Path) -> Path:
        from analysis.exports.tables import codings_csv

        return codings_csv(self.store, path)

    def export_participants(self, path: Path) -> Path:
        from analysis.exports.tables import participants_csv

        return participants_csv(self.store, path)

    def export_qdpx(self, path: Path) -> object:
        from analysis.refi import export_qdpx

        return export_qdpx(self.study, path)

    def export_qdc(self, path: Path) -> object:
        from analysis.refi import export_qdc

        return export_qdc(self.store, path)

    def import_qdpx(self, path: Path) -> str:
        from analysis.refi import import_qdpx

        report = import_qdpx(self.study, path)
        self.imported.emit()
        return _summary(report.imported, report.skipped)

    def import_qdc(self, path: Path) -> str:
        from analysis.refi import import_qdc

        report = import_qdc(self.store, path)
        self.imported.emit()
        return _summary(report.imported, report.skipped)


def _summary(imported: dict[str, int], skipped: list[str]) -> str:
    done = ", ".join(f"{n} {kind}" for kind, n in imported.items() if n) or "nothing"
    return f"Imported {done}" + (f"; skipped {len(skipped)} item(s)." if skipped else ".")
