"""Applying anonymisation, and reversing it.

The dialog says what will happen before anything does: how many occurrences of each
category are replaced, in how many segments, how many detected places are still
undecided (left as they are), where the key file goes (beside the study, not in it, by
default) and that the originals leave the study. It then applies in the job runner's
thread, with progress. On success it offers to delete the backups taken before (they
hold the originals) and says what was done; on failure it says why, and that the study
is unchanged (the apply is one transaction, the key file is removed again).

Applying is not on the undo stack: the stack is cleared afterwards, since its steps
name text that is no longer there. Reverse (from the key file, with its passphrase when
it has one) is the way back, and clears the stack too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import errors
from gui.anonymisation_model import CATEGORY_LABELS
from gui.format import plural
from gui.job_runner import JobRunner
from gui.questions import ask_yes_no, inform
from study.errors import StudyError
from study.folder import Study, open_study
from study.model import Changes

Ask = Callable[[str, str], bool]
AskText = Callable[[str, str], str | None]
Inform = Callable[[str, str], None]
ChooseKey = Callable[[Path], Path | None]
PROGRESS_EVERY_S = 0.1
UNCHANGED = "The study is unchanged."


def choose_key_file(expected: Path) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(None, "Where is the key file?", str(expected.parent),
                                          "Verbatim key file (*.key);;All files (*)")
    return Path(path) if path else None


def inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


class StageRelay(QObject):
    """Progress (stage, fraction) from the worker thread to the GUI thread, throttled."""

    progressed = Signal(str, float)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._last = 0.0

    def report(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.progressed.emit(stage, fraction)


class ApplyDialog(QDialog):
    applied = Signal(object)  # Changes: what the apply wrote, for every view to refresh
    message = Signal(str)

    def __init__(self, study: Study, runner: JobRunner, stack: QUndoStack,
                 parent: QWidget | None = None, *, ask: Ask = ask_yes_no) -> None:
        super().__init__(parent)
        self.setWindowTitle("Apply anonymisation")
        self.study, self.runner, self.stack, self.ask = study, runner, stack, ask
        self.plan: Any = None  # the ApplyPlan, worked out in a thread when the dialog opens
        self._open = True
        self.running = False
        self.result: Any = None  # the ApplyResult once applied

        self.summary = QLabel("Working out what will change…")
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.categories = QTableWidget(0, 2)
        self.categories.setObjectName("categories")
        self.categories.setHorizontalHeaderLabels(["Category", "Occurrences"])
        self.categories.verticalHeader().hide()
        self.categories.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.categories.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.warning = QLabel()
        self.warning.setObjectName("warning")
        self.warning.setWordWrap(True)
        self.warning.hide()

        self.key_path = QLineEdit(str(study.folder.key_file))
        self.key_path.setObjectName("keyPath")
        choose = QPushButton("C&hoose…")
        choose.clicked.connect(self._choose_key)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_path, 1)
        key_row.addWidget(choose)
        self.protect = QCheckBox("&Protect the key file with a passphrase")
        self.protect.setObjectName("protect")
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("confirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        for field in (self.passphrase, self.confirm):
            field.setEnabled(False)
            field.textEdited.connect(lambda _t: self.protect.setChecked(True))
        self.protect.toggled.connect(self.passphrase.setEnabled)
        self.protect.toggled.connect(self.confirm.setEnabled)
        form = QFormLayout()
        form.addRow("Key file", key_row)
        form.addRow(self.protect)
        form.addRow("Pa&ssphrase", self.passphrase)
        form.addRow("Con&firm", self.confirm)

        self.statement = QLabel(
            "<b>The originals leave the study.</b> Applying replaces the identifiers "
            "everywhere in one step and moves the originals, with the registry, to the key "
            "file; the study keeps only salted hashes, so exports can still be checked for "
            "leaks. Keep the key file apart from the study (not in the same shared folder, "
            "not sent with it). While you have the key file, and its passphrase if you set "
            "one, Reverse anonymisation puts the originals back. Without it, nobody can. "
            "The undo history is cleared.")
        self.statement.setObjectName("statement")
        self.statement.setWordWrap(True)
        self.stage = QLabel()
        self.stage.setObjectName("stage")
        self.progress = QProgressBar()
        self.progress.setObjectName("applyProgress")
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        self.report = QLabel()
        self.report.setObjectName("report")
        self.report.setWordWrap(True)
        self.report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = QPushButton("&Apply anonymisation")
        self.apply_button.setObjectName("apply")
        self.apply_button.setDefault(True)
        self.apply_button.setEnabled(False)  # until the plan is known
        self.buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.apply_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.categories)
        layout.addWidget(self.warning)
        layout.addLayout(form)
        layout.addWidget(self.statement)
        layout.addWidget(self.stage)
        layout.addWidget(self.progress)
        layout.addWidget(self.error)
        layout.addWidget(self.report)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.resize(620, 560)
        self._plan()

    # --- the plan ------------------------------------------------------------------------------

    def _plan(self) -> None:
        """Work out what an apply would change, off the GUI thread (it reads every
        decided place of the study)."""
        from analysis.anonymise.apply import plan_apply

        root = self.study.folder.root

        def work() -> tuple[Any, bool]:
            with open_study(root, backup=False, recover_jobs=False) as s:
                return plan_apply(s.store), bool(s.store.originals())

        def failed(error: Exception) -> None:
            if not isinstance(error, StudyError):
                raise error
            self.summary.setText(f"Could not work out what would change: {error}")

        def done(result: tuple[Any, bool]) -> None:
            if self._open:  # closed meanwhile: nothing to show
                self.show_plan(*result)

        self.runner.run_in_thread(work, done, lambda e: failed(e) if self._open else None)

    def done(self, result: int) -> None:
        self._open = False
        super().done(result)

    def show_plan(self, plan: Any, originals_held: bool) -> None:
        self.plan = plan
        s = plan.summary
        self.summary.setText(
            f"<b>{plural(s.replacements, 'occurrence')}</b> will be replaced in "
            f"{plural(s.segments, 'segment')} of {plural(s.interviews, 'interview')}; "
            "memos, titles and notes naming the same identifiers are rewritten too.")
        self.categories.setRowCount(len(s.by_category))
        for row, (category, n) in enumerate(s.by_category):
            self.categories.setItem(row, 0, QTableWidgetItem(
                CATEGORY_LABELS.get(category, category)))
            count = QTableWidgetItem(str(n))
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.categories.setItem(row, 1, count)
        self.categories.resizeRowsToContents()
        rows = sum(self.categories.rowHeight(r) for r in range(self.categories.rowCount()))
        self.categories.setMaximumHeight(rows + self.categories.horizontalHeader().height() + 4)
        warnings = []
        if s.undecided:
            unregistered = (f", {s.unregistered} of them not registered"
                            if s.unregistered else "")
            stays = "it stays as it is" if s.undecided == 1 else "they stay as they are"
            warnings.append(
                f"⚠ {plural(s.undecided, 'detected place')} "
                f"{'is' if s.undecided == 1 else 'are'} still undecided{unregistered}: "
                f"{stays}, not replaced. Review them first, or anonymise again later.")
        if s.stale:
            warnings.append(f"⚠ {plural(s.stale, 'marked place')} no longer "
                            f"{'matches' if s.stale == 1 else 'match'} the transcript and "
                            "will be left out; run Find identifiers again to review them.")
        if s.overlapping:
            warnings.append(f"{plural(s.overlapping, 'shorter place')} inside a longer "
                            "replaced one will go with it.")
        self.warning.setText("<br>".join(warnings))
        self.warning.setVisible(bool(warnings))
        self.apply_button.setEnabled(s.replacements > 0 or originals_held)
        if not self.apply_button.isEnabled():
            self.summary.setText("Nothing to apply yet: no place is marked to be replaced and "
                                 "no identifier is registered.")

    # --- input -------------------------------------------------------------------------------

    def _choose_key(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the key file as",
                                              self.key_path.text(),
                                              "Verbatim key file (*.key)")
        if path:
            self.key_path.setText(path)

    def entered_passphrase(self) -> str | None:
        """The passphrase, None without one; raises StudyError if the two differ."""
        if not self.protect.isChecked():
            return None
        first, second = self.passphrase.text(), self.confirm.text()
        if not first:
            raise StudyError("Type a passphrase, or untick “Protect the key file”.")
        if first != second:
            raise StudyError("The passphrases do not match; type them again.")
        return first

    def entered_key_path(self) -> Path:
        text = self.key_path.text().strip()
        if not text:
            raise StudyError("Say where the key file goes.")
        path = Path(text).expanduser()
        if inside(path, self.study.folder.root):
            raise StudyError("The key file must not go inside the study folder: keep it "
                             "apart, e.g. beside the study or on another drive.")
        if not path.parent.is_dir():
            raise StudyError(f"The folder {path.parent} does not exist.")
        return path

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    # --- running -----------------------------------------------------------------------------

    def start(self) -> bool:
        """Check what was entered and apply in the runner's thread; False if refused."""
        from analysis.anonymise.apply import apply_anonymisation

        if self.running or self.result is not None or self.plan is None:
            return False
        try:
            passphrase = self.entered_passphrase()
            key_path = self.entered_key_path()
        except StudyError as e:
            self._show_error(str(e))
            return False
        self.error.hide()
        self._set_running(True)
        root, plan = self.study.folder.root, self.plan
        relay = StageRelay(self)
        relay.progressed.connect(self._progressed)

        def work() -> Any:
            with open_study(root, backup=False, recover_jobs=False) as s:
                return apply_anonymisation(s.store, s.folder, passphrase=passphrase, plan=plan,
                                           progress=relay.report, key_path=key_path)

        def done(result: Any) -> None:
            relay.deleteLater()
            self._set_running(False)
            self._applied(result, protected=passphrase is not None)

        def failed(error: Exception) -> None:
            relay.deleteLater()
            self._set_running(False)
            if not isinstance(error, StudyError):
                self._show_error(f"Verbatim hit a bug while applying. {UNCHANGED}")
                raise error
            self._show_error(f"{error} {UNCHANGED}")
            errors.show_error(self, "Could not apply the anonymisation", f"{error}\n\n{UNCHANGED}")

        self.runner.run_in_thread(work, done, failed)
        return True

    def _set_running(self, running: bool) -> None:
        self.running = running
        for widget in (self.key_path, self.protect, self.apply_button):
            widget.setEnabled(not running)
        for widget in (self.passphrase, self.confirm):
            widget.setEnabled(not running and self.protect.isChecked())
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(not running)
        self.progress.setVisible(running)
        if running:
            self.progress.setValue(0)
            self.stage.setText("Starting…")
        else:
            self.stage.clear()

    @Slot(str, float)
    def _progressed(self, stage: str, fraction: float) -> None:
        self.stage.setText(stage)
        self.progress.setValue(int(max(0.0, min(fraction, 1.0)) * 1000))

    def _applied(self, result: Any, *, protected: bool) -> None:
        from analysis.anonymise.apply import purge_backups_before

        self.result = result
        self.stack.clear()  # its steps name text that is gone
        self.applied.emit(result.changes)
        lines = [f"Replaced {plural(result.replaced, 'occurrence')} in "
                 f"{plural(result.segments, 'segment')}"
                 + (f" and {plural(result.fields, 'other text')}" if result.fields else "")
                 + ".",
                 f"The originals ({result.moved_originals}) are in {result.key_file}"
                 + (", protected by your passphrase." if protected else ".")
                 + " Keep it apart from the study.",
                 "The undo history was cleared."]
        if result.timings_dropped:
            lines.append(f"{plural(result.timings_dropped, 'segment')} lost "
                         f"{'its' if result.timings_dropped == 1 else 'their'} word timings "
                         "(the text no longer matched them).")
        if not result.compacted:
            lines.append("Freed space could not be cleared yet (the study was busy); it "
                         "will be the next time the study is anonymised or checked.")
        backups = list(result.backups_with_originals)
        if backups:
            if self.ask("Delete old backups?",
                        f"{plural(len(backups), 'backup')} of the study made before the "
                        "anonymisation still hold the original names. Delete "
                        f"{'it' if len(backups) == 1 else 'them'} now? Keep backups only if "
                        "you store them as safely as the key file."):
                try:
                    removed = purge_backups_before(self.study.folder, result.applied_at)
                except StudyError as e:
                    lines.append(f"Could not delete the backups: {e}")
                else:
                    lines.append(f"Deleted {plural(len(removed), 'backup')} holding originals.")
            else:
                lines.append(f"Kept {plural(len(backups), 'backup')} holding originals in "
                             f"{self.study.folder.backups}.")
        self.report.setText("\n".join(lines))
        self.report.show()
        self.apply_button.hide()
        close = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        close.setText("Close")
        close.setEnabled(True)
        self.message.emit(lines[0])

    def reject(self) -> None:
        if self.running:
            return  # one transaction: it finishes, it cannot be left half done
        super().reject()


class ReverseFlow(QObject):
    """Reverse every apply in force from the key file: confirm, ask for the passphrase
    if the key file has one, run in the runner's thread, report."""

    finished = Signal(object)  # the ReverseResult (Changes), or None if not done
    message = Signal(str)

    def __init__(self, study: Study, runner: JobRunner, stack: QUndoStack,
                 parent: QWidget | None = None, *, ask: Ask = ask_yes_no,
                 ask_passphrase: AskText | None = None, inform: Inform = inform,
                 choose_key: ChooseKey = choose_key_file) -> None:
        super().__init__(parent)
        self.study, self.runner, self.stack = study, runner, stack
        self.widget = parent
        self.ask, self.ask_passphrase, self.inform = ask, ask_passphrase, inform
        self.choose_key = choose_key
        self.running = False

    def start(self, key_path: Path | None = None) -> bool:
        """False when nothing was started (refused, cancelled or nothing to reverse)."""
        from study.store.key_file import KeyFile

        if self.running:
            return False
        store = self.study.store
        if not store.is_anonymised():
            errors.show_error(self.widget, "Nothing to reverse",
                              "The study is not anonymised, so there is nothing to reverse.")
            return False
        key = key_path or self.study.folder.key_file
        if not key.exists():
            chosen = self.choose_key(key)
            if chosen is None:
                return False
            key = chosen
        if not self.ask("Reverse anonymisation",
                        f"Put the originals back into the study from {key.name}? The "
                        "transcripts get the real names again, and so will every backup made "
                        "from now on. The key file is kept. The undo history is cleared."):
            return False
        passphrase = None
        if KeyFile.is_sealed(key):
            if self.ask_passphrase is None:
                return False
            passphrase = self.ask_passphrase("Key file passphrase",
                                             f"{key.name} is protected. Its passphrase:")
            if passphrase is None:
                return False
        self._run(key, passphrase)
        return True

    def _run(self, key: Path, passphrase: str | None) -> None:
        from analysis.anonymise.apply import reverse_anonymisation

        root = self.study.folder.root
        self.running = True
        self.message.emit("Reversing the anonymisation…")

        def work() -> Changes:
            with open_study(root, backup=False, recover_jobs=False) as s:
                return reverse_anonymisation(s.store, s.folder, passphrase=passphrase,
                                             key_path=key)

        def done(result: Any) -> None:
            self.running = False
            self.stack.clear()
            text = f"Put back {plural(result.restored, 'original')}."
            if result.not_found:
                text += (f" {plural(result.not_found, 'replacement')} could not be found "
                         "(the text was edited or deleted since) and stayed as "
                         f"{'it is' if result.not_found == 1 else 'they are'}.")
            text += " The undo history was cleared."
            self.finished.emit(result)
            self.message.emit(text)
            self.inform("Anonymisation reversed", text)

        def failed(error: Exception) -> None:
            self.running = False
            self.finished.emit(None)
            if not isinstance(error, StudyError):
                raise error
            errors.show_error(self.widget, "Could not reverse the anonymisation",
                              f"{error}\n\n{UNCHANGED}")

        self.runner.run_in_thread(work, done, failed)
