"""The main window: a welcome page when no study is open, otherwise the study navigator
(participants, interviews, codebook and themes) beside the page it selects."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.anonymisation_view import AnonymisationView
from gui.codebook_view import CodebookView
from gui.coding_page import CodingPage
from gui.compare_view import CompareView
from gui.errors import show_error
from gui.exchange_actions import ExchangeActions
from gui.interviews_view import InterviewsView
from gui.job_runner import JobRunner
from gui.journal_view import JournalView
from gui.participants_view import ParticipantsView
from gui.settings import Settings
from gui.study_signals import StudySignals
from gui.thematic_map_view import ThematicMapView
from gui.undo import set_error_reporter
from study import __version__
from study.errors import NotAStudyError, StudyDamagedError, StudyError
from study.folder import SUFFIX, Study, create_study, open_study
from study.model import Coding, MemoTarget
from study.store.checks import damage_as_study_error

SECTIONS = ("Participants", "Interviews", "Coding", "Codebook and themes", "Thematic map",
            "Journal", "Anonymise", "Compare groups")
CODING_PAGE = 2


class WelcomePage(QWidget):
    """What the researcher sees with no study open: start one, open one, or try the demo."""

    open_path = Signal(Path)

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h2>Verbatim</h2><p>Interview studies, offline: transcribe, "
                       "anonymise, code and compare, on this computer only.</p>")
        title.setWordWrap(True)
        column = QWidget()  # a readable column in the middle, not buttons a screen wide
        column.setMaximumWidth(560)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(0, 40, 0, 20)
        layout.addWidget(title)
        for action in actions:
            button = QPushButton(action.text().replace("&", ""))
            button.setToolTip(action.toolTip())
            button.clicked.connect(action.trigger)
            layout.addWidget(button)
        layout.addSpacing(12)
        layout.addWidget(QLabel("<b>Recent studies</b> (double-click or Return to open)"))
        self.recent = QListWidget()
        self.recent.setObjectName("recentList")
        self.recent.itemActivated.connect(
            lambda item: self.open_path.emit(Path(item.data(Qt.ItemDataRole.UserRole))))
        layout.addWidget(self.recent, 3)
        self.none_yet = QLabel("None yet: start a new study, open one, or try the demo.")
        self.none_yet.setEnabled(False)
        layout.addWidget(self.none_yet)
        layout.addStretch(1)  # holds the column up when the list is hidden
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(column, 4)
        outer.addStretch(1)

    def set_recent(self, paths: list[Path]) -> None:
        self.recent.clear()
        self.recent.setVisible(bool(paths))
        self.none_yet.setVisible(not paths)
        for p in paths:
            item = QListWidgetItem(f"{p.name.removesuffix(SUFFIX)}  —  {p.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(p))
            self.recent.addItem(item)


class StudyWorkspace(QWidget):
    """The pages of one open study, built over its store."""

    def __init__(self, study: Study, stack: QUndoStack, settings: Settings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study = study
        self.signals = StudySignals(study.store, self)
        self.runner = JobRunner(study.store, study.folder.root, self)
        self.participants = ParticipantsView(study.store, stack)
        self.interviews = InterviewsView(study, self.runner, settings, stack)
        self.coding = CodingPage(study.store, stack)
        self.codebook = CodebookView(study.store, stack)
        self.map = ThematicMapView(study.store, stack)
        self.journal = JournalView(study.store, stack)
        self.anonymise = AnonymisationView(study, self.runner, stack)
        self.compare = CompareView(study.store, runner=self.runner)
        self.exchange = ExchangeActions(self, study, self.current_interview, runner=self.runner,
                                        announce=self.signals.changed.emit)
        self.codebook.open_coding.connect(self.open_coding)
        self.compare.open_coding.connect(self.open_coding)
        self.anonymise.open_place.connect(self.open_place)
        for receiver in (self.participants.model.on_changed, self.interviews.model.on_changed,
                         self.interviews.transcript.on_changed, self.coding.on_changed,
                         self.codebook.on_changed, self.map.on_changed,
                         self.journal.on_changed, self.anonymise.on_changed,
                         self.compare.on_changed):
            self.signals.changed.connect(receiver)
            # apply and reverse write through the worker's own connection: tell every view
            self.anonymise.study_changed.connect(receiver)
        self.navigator = QListWidget()
        self.navigator.setObjectName("navigator")
        self.navigator.addItems(list(SECTIONS))
        # wide enough for its longest name whatever the pages ask for, never scrolling
        self.navigator.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.navigator.setMinimumWidth(self.navigator.sizeHintForColumn(0)
                                       + 2 * self.navigator.frameWidth() + 12)
        self.navigator.setMaximumWidth(max(200, self.navigator.minimumWidth()))
        self.pages = QStackedWidget()
        for page in (self.participants, self.interviews, self.coding, self.codebook, self.map,
                     self.journal, self.anonymise, self.compare):
            self.pages.addWidget(page)
        self.navigator.currentRowChanged.connect(self.pages.setCurrentIndex)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.navigator)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([170, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.navigator.setCurrentRow(0)

    def show_section(self, index: int) -> None:
        self.navigator.setCurrentRow(index)

    def open_coding(self, coding: Coding) -> None:
        """Show a coding in its interview on the coding page, its text selected."""
        self.show_section(CODING_PAGE)
        self.coding.jump(coding.interview_id, coding.start_segment_id, coding.start_offset,
                         coding.end_offset, coding.end_segment_id)
        self.coding.text.select_coding(coding)

    def open_place(self, interview_id: int, segment_id: int, start: int, end: int) -> None:
        self.show_section(CODING_PAGE)
        self.coding.jump(interview_id, segment_id, start, end)

    def current_interview(self) -> int | None:
        """The interview the researcher is looking at: on the coding page, or the one
        selected in the interviews list."""
        if self.pages.currentWidget() is self.coding and self.coding.view.interview_id:
            return self.coding.view.interview_id
        ids = self.interviews.selected_ids()
        return ids[0] if ids else self.coding.view.interview_id

    def detach(self) -> None:
        """Save what is typed but not yet saved, stop background work, stop listening."""
        for editor in (self.coding.memos, self.codebook.memos, self.journal):
            editor.commit()
        self.anonymise.shutdown()
        self.runner.shutdown()
        self.signals.detach()


class MainWindow(QMainWindow):
    study_opened = Signal()

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.study: Study | None = None
        self.workspace: StudyWorkspace | None = None
        self.is_demo = False
        self._demo_dirs: list[tempfile.TemporaryDirectory[str]] = []
        self.undo_stack = QUndoStack(self)
        set_error_reporter(self._report_undo_error)
        self._build_actions()
        self._build_menus()
        self.welcome = WelcomePage([self.new_action, self.open_action, self.demo_action])
        self.welcome.open_path.connect(self.open_study)
        self.central = QStackedWidget()
        self.central.addWidget(self.welcome)
        self.setCentralWidget(self.central)
        self.statusBar()
        geometry = self.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1100, 720)
        self._refresh()

    # --- actions and menus -----------------------------------------------------------------


    def _build_actions(self) -> None:
        self.new_action = make_action(self, "&New study…", self.new_study_dialog,
                                       QKeySequence.StandardKey.New)
        self.open_action = make_action(self, "&Open study…", self.open_study_dialog,
                                        QKeySequence.StandardKey.Open)
        self.demo_action = make_action(self, "Open &demo study", self.open_demo)
        self.close_action = make_action(self, "&Close study", self.close_study,
                                         QKeySequence.StandardKey.Close)
        self.quit_action = make_action(self, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Redo),
                                       QKeySequence("Ctrl+Y")])
        self.section_actions = [
            make_action(self, f"&{n + 1} {name}",
                         lambda _checked=False, n=n: self.show_section(n), f"Ctrl+{n + 1}")
            for n, name in enumerate(SECTIONS)
        ]
        self.about_action = make_action(self, "&About Verbatim", self.about)
        self.restore_action = make_action(self, "Restore from &backup…", self.restore_from_backup)
        self.transcription_settings_action = make_action(self, "Transcription &settings…",
                                                          self.transcription_settings)
        self.glossary_action = make_action(self, "Study &glossary…", self.glossary)
        self.hotkeys_action = make_action(self, "Transcription &hotkeys…", self.hotkeys)
        self.study_memo_action = make_action(self, "Study &memo…", self.study_memo)
        self.record_action = make_action(self, "&Record interview…", self.record_interview,
                                          "Ctrl+Shift+R")
        self._recording: QDialog | None = None

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = QMenu("Open &recent", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addActions([self.demo_action, self.close_action])
        file_menu.addSeparator()
        self.export_menu = QMenu("&Export", self)
        self.import_menu = QMenu("I&mport", self)
        file_menu.addMenu(self.export_menu)
        file_menu.addMenu(self.import_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        self.view_menu = bar.addMenu("&View")
        self.view_menu.addActions(self.section_actions)
        self.participants_menu = bar.addMenu("&Participants")
        self.interviews_menu = bar.addMenu("&Interviews")
        self.anonymise_menu = bar.addMenu("&Anonymise")
        self.codes_menu = bar.addMenu("&Codes")
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.restore_action, self.about_action])

    def _refresh(self) -> None:
        has = self.study is not None
        self.close_action.setEnabled(has)
        for a in self.section_actions:
            a.setEnabled(has)
        self.participants_menu.clear()
        self.participants_menu.setEnabled(has)
        if self.workspace is not None:
            p = self.workspace.participants
            self.participants_menu.addActions([p.add_action, p.edit_action, p.delete_action,
                                               p.attribute_action])
        self.interviews_menu.clear()
        self.interviews_menu.setEnabled(has)
        if self.workspace is not None:
            i = self.workspace.interviews
            self.interviews_menu.addActions([self.record_action, i.import_action,
                                             i.import_transcript_action,
                                             i.transcribe_action, i.cancel_action])
            self.interviews_menu.addSeparator()
            self.interviews_menu.addActions([self.glossary_action,
                                             self.transcription_settings_action,
                                             self.hotkeys_action])
        self.export_menu.clear()
        self.import_menu.clear()
        self.export_menu.setEnabled(has)
        self.import_menu.setEnabled(has)
        self.anonymise_menu.clear()
        self.anonymise_menu.setEnabled(has)
        if self.workspace is not None:
            x, cmp = self.workspace.exchange, self.workspace.compare
            self.export_menu.addActions(x.export_actions)
            self.export_menu.addSeparator()
            self.export_menu.addActions([cmp.export_report_action, cmp.export_csv_action,
                                         cmp.export_chart_action])
            self.import_menu.addActions(x.import_actions)
            self.anonymise_menu.addActions(self.workspace.anonymise.page_actions)
        self.codes_menu.clear()
        self.codes_menu.setEnabled(has)
        if self.workspace is not None:
            c, b = self.workspace.coding, self.workspace.codebook
            self.codes_menu.addActions([c.quick_action, c.apply_action, c.uncode_action,
                                        c.search_action])
            self.codes_menu.addSeparator()
            self.codes_menu.addActions(b.actions_)
            self.codes_menu.addSeparator()
            t, m = b.themes, self.workspace.map
            self.codes_menu.addActions([t.new_action, t.edit_action, t.delete_action,
                                        m.export_action, m.reset_action])
            self.codes_menu.addSeparator()
            self.codes_menu.addActions([self.study_memo_action, self.workspace.journal.new_action])
        recent = self.settings.recent_studies()
        self.recent_menu.clear()
        for path in recent:
            self.recent_menu.addAction(path.name.removesuffix(SUFFIX),
                                       lambda _checked=False, path=path: self.open_study(path))
        self.recent_menu.setEnabled(bool(recent))
        self.welcome.set_recent(recent)
        if self.study is None:
            self.setWindowTitle("Verbatim")
        else:
            suffix = " (demo copy: changes are discarded on exit)" if self.is_demo else ""
            self.setWindowTitle(f"{self.study.name}{suffix} — Verbatim")

    # --- studies -------------------------------------------------------------------------------

    def new_study_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "New study", str(Path.home() / f"My study{SUFFIX}"),
            f"Verbatim study (*{SUFFIX})")
        if path:
            self.new_study(Path(path))

    def open_study_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open study (a .verbatim folder)",
                                                str(Path.home()))
        if path:
            self.open_study(Path(path))

    def new_study(self, path: Path) -> bool:
        try:
            study = create_study(path)
        except StudyError as e:
            show_error(self, "Could not create the study", str(e))
            return False
        self._show_study(study, demo=False)
        return True

    @Slot(Path)
    def open_study(self, path: Path) -> bool:
        if self.study is not None and self.study.folder.root == Path(path).resolve():
            return True
        try:
            study = open_study(path)
        except StudyError as e:
            if isinstance(e, StudyDamagedError | NotAStudyError):
                from gui.backups_dialog import offer_restore

                restored = offer_restore(self, Path(path))  # None: not offered, or declined
                if restored is not None:
                    return restored
            show_error(self, "Could not open the study", str(e))
            return False
        if study.damage is not None:  # opened, but the check of its backup copy failed
            from gui.backups_dialog import offer_restore_of_damage

            restored = offer_restore_of_damage(self, study)
            if restored is not None:
                return restored
        try:
            with damage_as_study_error(study.folder.database):  # the pages read the study
                self._show_study(study, demo=False)
        except StudyDamagedError as e:
            if self.workspace is not None:
                self.close_study()
            else:  # the workspace was never made: its pages failed as they read the study
                self.study, self.is_demo = None, False
                study.close()
                self._refresh()
            show_error(self, "Could not open the study", str(e))
            return False
        return True

    def open_demo(self) -> bool:
        """Open a fresh copy of the bundled demo study in a temporary folder."""
        from study.demo import build_demo_study

        folder = tempfile.TemporaryDirectory(prefix="verbatim-demo-")
        try:
            study = build_demo_study(Path(folder.name) / f"Demo{SUFFIX}")
        except (StudyError, OSError, ValueError) as e:
            folder.cleanup()
            show_error(self, "Could not build the demo study", str(e))
            return False
        self._demo_dirs.append(folder)
        self._show_study(study, demo=True)
        return True

    def _show_study(self, study: Study, *, demo: bool) -> None:
        self.close_study()
        self.study, self.is_demo = study, demo
        if not demo:
            self.settings.add_recent_study(study.folder.root)
        self.workspace = StudyWorkspace(study, self.undo_stack, self.settings)
        ws = self.workspace
        for view in (ws.participants, ws.interviews, ws.coding, ws.codebook, ws.map, ws.journal,
                     ws.coding.search, ws.coding.memos, ws.anonymise, ws.compare, ws.exchange):
            view.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.workspace.interviews.error.connect(lambda title, text: show_error(self, title, text))
        self.central.addWidget(self.workspace)
        self.central.setCurrentWidget(self.workspace)
        self.statusBar().showMessage(f"Opened {study.folder.root}", 5000)
        self._refresh()
        self.study_opened.emit()
        QTimer.singleShot(0, self._recover_recordings)

    def _recover_recordings(self) -> None:
        """Offer recordings a crash or kill left unfinished (kept up to their last sync)."""
        from transcription.wav_writer import unfinished_recordings

        if self.study is None or not unfinished_recordings(self.study.folder):
            return  # the usual case: nothing to offer, and no audio libraries to load
        from gui.recording_dialog import offer_recovery

        recovered = offer_recovery(self.study, self)
        if recovered and self.workspace is not None:
            self.show_section(1)
            self.workspace.interviews.select(recovered[-1])

    def close_study(self) -> None:
        if self.study is None:
            return
        self.undo_stack.clear()
        assert self.workspace is not None
        self.workspace.detach()
        self.central.removeWidget(self.workspace)
        self.workspace.deleteLater()
        self.workspace = None
        self.study.close()
        self.study = None
        self.is_demo = False
        self.central.setCurrentWidget(self.welcome)
        self._refresh()

    def show_section(self, index: int) -> None:
        if self.workspace is not None:
            self.workspace.show_section(index)

    # --- misc --------------------------------------------------------------------------------

    def _report_undo_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)
        show_error(self, "Verbatim", message)

    def record_interview(self) -> None:
        from gui.recording_dialog import RecordingDialog

        if self.study is None:
            return
        if self._recording is not None:
            self._recording.raise_()
            return
        dialog = RecordingDialog(self.study, self)
        self._recording = dialog
        dialog.finished.connect(lambda _result: setattr(self, "_recording", None))
        if self.workspace is not None:
            workspace = self.workspace
            dialog.recorded.connect(lambda interview_id: (
                self.show_section(1), workspace.interviews.select(interview_id)))
        self._open(dialog)

    @staticmethod
    def _open(dialog: QDialog) -> None:
        """Window-modal and non-blocking, deleted when closed."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def transcription_settings(self) -> None:
        from gui.transcription_settings import TranscriptionSettingsDialog

        self._open(TranscriptionSettingsDialog(self.settings, self))

    def hotkeys(self) -> None:
        from gui.hotkeys_dialog import HotkeysDialog

        dialog = HotkeysDialog(self.settings, self)
        if self.workspace is not None:
            dialog.accepted.connect(self.workspace.interviews.editor.apply_hotkeys)
        self._open(dialog)

    def glossary(self) -> None:
        from gui.glossary_dialog import GlossaryDialog

        if self.study is None:
            return
        self._open(GlossaryDialog(self.study.store, self))

    def study_memo(self) -> None:
        """Memos on the study as a whole: research questions, decisions, the guide."""
        from gui.memo_panel import MemoPanel

        if self.study is None:
            return
        dialog = QDialog(self)
        dialog.setWindowTitle("Study memos")
        panel = MemoPanel(self.study.store, self.undo_stack)
        panel.set_target(MemoTarget.STUDY, None, f"Study: {self.study.name}")
        if self.workspace is not None:
            self.workspace.signals.changed.connect(panel.on_changed)
        layout = QVBoxLayout(dialog)
        layout.addWidget(panel)
        dialog.resize(560, 480)
        self._open(dialog)

    def restore_from_backup(self) -> None:
        """Help › Restore from backup: the open study's backups, or a chosen study's."""
        from gui.backups_dialog import BackupsDialog, choose_study_folder

        root = self.study.folder.root if self.study is not None else choose_study_folder(self)
        if root is not None:
            self._open(BackupsDialog(root, self, self))

    def about(self) -> None:
        QMessageBox.about(self, "About Verbatim",
                          f"<b>Verbatim {__version__}</b><p>An offline toolkit for interview "
                          "studies. Audio and transcripts never leave this computer.</p>")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.set_window_geometry(self.saveGeometry())
        self.close_study()
        for folder in self._demo_dirs:
            folder.cleanup()
        self._demo_dirs.clear()
        super().closeEvent(event)
