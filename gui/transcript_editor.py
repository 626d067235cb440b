"""The transcript editor: correct a transcript against its audio, by keyboard.

Click a segment's time (or press F5) to hear it; the playing segment and word are
highlighted and followed. Text edits, splits, merges and speaker changes go through
the undo stack and are saved as they are made. Hotkeys are configurable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QTextDocument, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.format import clock
from gui.player import Player
from gui.settings import Settings
from gui.transcript_model import HTML_ROLE, SPEAKER, TEXT, TIME, TranscriptModel
from gui.undo import push
from gui.undo_transcript import (
    AddSpeaker,
    EditSegmentText,
    MergeSegments,
    RenameSpeaker,
    SetSpeaker,
    SplitSegment,
)
from study.errors import StudyError
from study.folder import Study
from study.model import Speaker, SpeakerRole

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True, slots=True)
class Hotkey:
    name: str
    label: str
    default: str


HOTKEYS = (
    Hotkey("play_pause", "Play / pause", "Ctrl+Space"),
    Hotkey("play_segment", "Play from the selected segment", "F5"),
    Hotkey("back", "Back 5 seconds", "Alt+Left"),
    Hotkey("forward", "Forward 5 seconds", "Alt+Right"),
    Hotkey("slower", "Slower", "Alt+Down"),
    Hotkey("faster", "Faster", "Alt+Up"),
    Hotkey("timestamp", "Insert a timestamp", "Ctrl+Shift+T"),
    Hotkey("next_flag", "Next flagged passage", "F8"),
    Hotkey("previous_flag", "Previous flagged passage", "Shift+F8"),
    Hotkey("split", "Split the segment at the cursor", "Ctrl+Return"),
    Hotkey("merge", "Merge with the next segment", "Ctrl+Shift+M"),
    Hotkey("find", "Find and replace", "Ctrl+F"),
)
SKIP_MS = 5000


class SegmentEditor(QPlainTextEdit):
    """The in-place editor of one segment: Enter saves, Esc cancels, the split hotkey
    splits at the cursor."""

    commit = Signal()
    split_here = Signal(int)

    def __init__(self, split_keys: QKeySequence, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.split_keys = split_keys
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        pressed = QKeySequence(event.keyCombination())
        if pressed.matches(self.split_keys) == QKeySequence.SequenceMatch.ExactMatch:
            self.split_here.emit(self.textCursor().position())
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.commit.emit()
            return
        super().keyPressEvent(event)


class TextDelegate(QStyledItemDelegate):
    """Paints the text column as rich text (marks) and edits it in a SegmentEditor."""

    def __init__(self, editor_view: TranscriptEditor) -> None:
        super().__init__(editor_view)
        self.view = editor_view
        self.active: SegmentEditor | None = None

    def _document(self, option: QStyleOptionViewItem, index: Index) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setHtml(index.data(HTML_ROLE) or "")
        doc.setTextWidth(max(50, option.rect.width() - 8))
        return doc

    def paint(self, painter, option: QStyleOptionViewItem, index: Index) -> None:  # type: ignore[no-untyped-def]
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        text_option = QStyleOptionViewItem(option)
        text_option.text = ""
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, text_option, painter,
                              option.widget)
        doc = self._document(option, index)
        painter.save()
        painter.translate(option.rect.left() + 4, option.rect.top() + 2)
        doc.drawContents(painter)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        width = self.view.table.columnWidth(TEXT) or 400
        option.rect.setWidth(width)
        doc = self._document(option, index)
        return QSize(width, int(doc.size().height()) + 8)

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: Index) -> QWidget:
        editor = SegmentEditor(self.view.shortcut("split"), parent)
        editor.commit.connect(lambda: self._finish(editor))
        editor.split_here.connect(lambda at: self.view.split_at(index.row(), editor, at))
        self.active = editor
        return editor

    def _finish(self, editor: SegmentEditor) -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)

    def destroyEditor(self, editor: QWidget, index: Index) -> None:
        if editor is self.active:
            self.active = None
        super().destroyEditor(editor, index)

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        assert isinstance(editor, SegmentEditor)
        editor.setPlainText(index.data(Qt.ItemDataRole.EditRole))

    def setModelData(self, editor: QWidget, model, index: Index) -> None:  # type: ignore[no-untyped-def]
        assert isinstance(editor, SegmentEditor)
        model.setData(index, " ".join(editor.toPlainText().split()), Qt.ItemDataRole.EditRole)

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem,
                             index: Index) -> None:
        rect = option.rect
        rect.setHeight(max(rect.height(), 60))
        editor.setGeometry(rect)


class TranscriptEditor(QWidget):
    message = Signal(str)

    def __init__(self, study: Study, stack: QUndoStack, settings: Settings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study, self.store, self.stack, self.settings = study, study.store, stack, settings
        self.model = TranscriptModel(self.store, self)
        self.model.on_edit = self.edit_text
        self.player = Player(settings.rewind_ms(), self)
        self.table = QTableView()
        self.table.setObjectName("transcriptTable")
        self.table.setModel(self.model)
        self.delegate = TextDelegate(self)
        self.table.setItemDelegateForColumn(TEXT, self.delegate)
        self.table.setWordWrap(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TIME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SPEAKER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TEXT, QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        self.model.modelReset.connect(self.table.resizeRowsToContents)
        self.table.clicked.connect(self._clicked)

        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playButton")
        self.play_button.clicked.connect(self.player.toggle)
        self.rate_label = QLabel("1.0×")
        self.position_label = QLabel("00:00")
        self.follow = QCheckBox("Follow playback")
        self.follow.setChecked(True)
        self.notice = QLabel()
        self.notice.setObjectName("playerNotice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.player.notice.connect(self._notice)
        self.player.playing_changed.connect(
            lambda playing: self.play_button.setText("Pause" if playing else "Play"))
        self.player.rate_changed.connect(lambda r: self.rate_label.setText(f"{r:.2g}×"))
        self.player.position_changed.connect(self._position)

        self.speakers = QListWidget()
        self.speakers.setObjectName("speakersList")
        self.speakers.setMaximumWidth(200)
        self.speakers.itemDoubleClicked.connect(lambda _item: self.rename_speaker())
        add_speaker = QPushButton("Add speaker")
        add_speaker.clicked.connect(self.add_speaker_dialog)
        rename = QPushButton("Rename")
        rename.clicked.connect(self.rename_speaker)
        self.model.modelReset.connect(self._fill_speakers)

        self.find_bar = FindBar(self)
        self.find_bar.hide()

        self.actions_by_name: dict[str, QAction] = {}
        handlers: dict[str, Callable[[], object]] = {
            "play_pause": self.player.toggle, "play_segment": self.play_selected,
            "back": lambda: self.player.skip(-SKIP_MS),
            "forward": lambda: self.player.skip(SKIP_MS), "slower": self.player.slower,
            "faster": self.player.faster, "timestamp": self.insert_timestamp,
            "next_flag": lambda: self.jump_to_flag(1),
            "previous_flag": lambda: self.jump_to_flag(-1),
            "split": self.split_selected, "merge": self.merge_with_next,
            "find": self.find_bar.open,
        }
        for hotkey in HOTKEYS:
            action = QAction(hotkey.label, self)
            action.setShortcut(self.shortcut(hotkey.name))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(handlers[hotkey.name])
            self.addAction(action)
            self.actions_by_name[hotkey.name] = action
        self.speaker_actions: list[QAction] = []
        for n in range(1, 10):
            action = QAction(f"Assign speaker {n}", self)
            action.setShortcut(QKeySequence(f"Alt+{n}"))
            action.triggered.connect(lambda _checked=False, n=n: self.assign_speaker(n))
            self.addAction(action)
            self.speaker_actions.append(action)

        toolbar = QToolBar()
        toolbar.addWidget(self.play_button)
        for name in ("back", "forward", "slower", "faster", "next_flag"):
            toolbar.addAction(self.actions_by_name[name])
        toolbar.addWidget(self.rate_label)
        toolbar.addWidget(self.position_label)
        toolbar.addWidget(self.follow)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("Speakers (Alt+number assigns)"))
        side_layout.addWidget(self.speakers)
        row = QHBoxLayout()
        row.addWidget(add_speaker)
        row.addWidget(rename)
        side_layout.addLayout(row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.find_bar)

    # --- loading -----------------------------------------------------------------------------

    def shortcut(self, name: str) -> QKeySequence:
        default = next(h.default for h in HOTKEYS if h.name == name)
        return QKeySequence(self.settings.hotkey(name, default))

    def apply_hotkeys(self) -> None:
        """Take up hotkeys and rewind changed in the settings."""
        for name, action in self.actions_by_name.items():
            action.setShortcut(self.shortcut(name))
        self.player.rewind_ms = self.settings.rewind_ms()

    def load(self, interview_id: int | None) -> None:
        self.model.load(interview_id)
        audio = None
        if interview_id is not None:
            interview = self.store.interview(interview_id)
            if interview.media_id is not None:
                audio = self.study.folder.media / self.store.media(interview.media_id).filename
        self.player.load(audio)
        self.play_button.setEnabled(audio is not None)

    def _notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    def _fill_speakers(self) -> None:
        self.speakers.clear()
        for n, s in enumerate(self.model.speakers(), 1):
            self.speakers.addItem(f"{n}  {s.label}" if n < 10 else s.label)

    # --- playback ----------------------------------------------------------------------------

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == TIME:
            self.player.play_from(self.model.segment(index.row()).start_ms)

    def play_selected(self) -> None:
        row = self.current_row()
        if row >= 0:
            self.player.play_from(self.model.segment(row).start_ms)

    def _position(self, ms: int) -> None:
        self.position_label.setText(clock(ms))
        before = self.model.playing_row
        row = self.model.set_playing(ms)
        if row >= 0 and row != before and self.follow.isChecked() and \
                self.delegate.active is None:
            self.table.scrollTo(self.model.index(row, TEXT))

    # --- editing -----------------------------------------------------------------------------

    def current_row(self) -> int:
        return self.table.currentIndex().row()

    def selected_rows(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return rows or ([self.current_row()] if self.current_row() >= 0 else [])

    def _push(self, command: object) -> bool:
        try:
            push(self.stack, command)  # type: ignore[arg-type]
        except StudyError as e:
            self.message.emit(str(e))
            return False
        return True

    def edit_text(self, segment_id: int, text: str) -> None:
        self._push(EditSegmentText(self.store, segment_id, text))

    def split_at(self, row: int, editor: SegmentEditor | None, at: int) -> None:
        """Split the segment at `at` characters, first saving what is typed in it."""
        seg = self.model.segment(row)
        if editor is not None:
            text = editor.toPlainText()
            self.delegate.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)
            if text != seg.text:
                self.edit_text(seg.id, text)  # type: ignore[arg-type]
                seg = self.store.segment(seg.id)  # type: ignore[arg-type]
        assert seg.id is not None
        if self._push(SplitSegment(self.store, seg.id, at)):
            self.table.setCurrentIndex(self.model.index(row + 1, TEXT))

    def split_selected(self) -> None:
        """Split at the cursor of the segment being edited (the hotkey's usual case)."""
        row = self.current_row()
        active = self.delegate.active
        if row < 0:
            return
        if active is None:
            self.message.emit("Edit a segment and put the cursor where it should split.")
            return
        self.split_at(row, active, active.textCursor().position())

    def merge_with_next(self) -> None:
        rows = self.selected_rows()
        if not rows or rows[0] + 1 >= self.model.rowCount():
            self.message.emit("Select a segment that has another after it to merge.")
            return
        first, second = self.model.segment(rows[0]), self.model.segment(rows[0] + 1)
        assert first.id is not None and second.id is not None
        if self._push(MergeSegments(self.store, first.id, second.id)):
            self.table.setCurrentIndex(self.model.index(rows[0], TEXT))

    def insert_timestamp(self) -> None:
        stamp = f"[{clock(self.player.position())}]"
        if self.delegate.active is not None:
            self.delegate.active.insertPlainText(stamp + " ")
        else:
            self.message.emit("Start editing a segment (Enter or double-click) to insert "
                              f"the time {stamp}.")

    def jump_to_flag(self, direction: int) -> int:
        """Select (and play) the next flagged segment; returns its row or -1."""
        rows = range(self.current_row() + 1, self.model.rowCount()) if direction > 0 else \
            range(self.current_row() - 1, -1, -1)
        for row in rows:
            seg = self.model.segment(row)
            if seg.flags:
                self.table.setCurrentIndex(self.model.index(row, TEXT))
                self.table.scrollTo(self.model.index(row, TEXT))
                self.player.play_from(min(f.start_ms for f in seg.flags))
                return row
        self.message.emit("No more flagged passages" + (" below." if direction > 0 else
                                                         " above."))
        return -1

    # --- speakers ----------------------------------------------------------------------------

    def assign_speaker(self, n: int) -> None:
        speakers = self.model.speakers()
        rows = self.selected_rows()
        if not 0 < n <= len(speakers) or not rows:
            return
        ids = [self.model.segment(r).id for r in rows]
        self._push(SetSpeaker(self.store, [i for i in ids if i is not None], speakers[n - 1]))

    def add_speaker(self, label: str, role: SpeakerRole = SpeakerRole.OTHER) -> bool:
        if self.model.interview_id is None:
            return False
        return self._push(AddSpeaker(self.store, Speaker(self.model.interview_id, label, role)))

    def add_speaker_dialog(self) -> None:
        label, ok = QInputDialog.getText(self, "Add speaker", "Label (e.g. Interviewer):")
        if ok and label.strip():
            role = SpeakerRole.INTERVIEWER if label.strip().lower().startswith("interviewer") \
                else SpeakerRole.OTHER
            self.add_speaker(label, role)

    def rename_speaker(self, label: str | None = None) -> bool:
        row = self.speakers.currentRow()
        speakers = self.model.speakers()
        if not 0 <= row < len(speakers):
            return False
        if label is None:
            label, ok = QInputDialog.getText(self, "Rename speaker", "New label:",
                                             text=speakers[row].label)
            if not ok:
                return False
        return self._push(RenameSpeaker(self.store, speakers[row], label))


class FindBar(QWidget):
    """Find and replace across the open transcript; replace-all is one undo step."""

    def __init__(self, editor: TranscriptEditor) -> None:
        super().__init__(editor)
        self.editor = editor
        self.find = QLineEdit()
        self.find.setObjectName("findText")
        self.find.setPlaceholderText("Find")
        self.find.returnPressed.connect(self.next)
        self.replace = QLineEdit()
        self.replace.setObjectName("replaceText")
        self.replace.setPlaceholderText("Replace with")
        self.case = QCheckBox("Match case")
        self.whole = QCheckBox("Whole words")
        self.status = QLabel()
        buttons = [("Next", self.next), ("Replace", self.replace_one),
                   ("Replace all", self.replace_all), ("Close", self.hide)]
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.find)
        layout.addWidget(self.replace)
        layout.addWidget(self.case)
        layout.addWidget(self.whole)
        for text, slot in buttons:
            button = QPushButton(text)
            button.clicked.connect(slot)
            layout.addWidget(button)
        layout.addWidget(self.status)
        self.find.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) and \
                event.key() == Qt.Key.Key_Escape:
            self.hide()
            return True
        return super().eventFilter(watched, event)

    def open(self) -> None:
        self.show()
        self.find.setFocus()
        self.find.selectAll()

    def _pattern(self) -> re.Pattern[str] | None:
        needle = self.find.text()
        if not needle:
            return None
        body = re.escape(needle)
        if self.whole.isChecked():
            body = rf"(?<!\w){body}(?!\w)"
        return re.compile(body, 0 if self.case.isChecked() else re.IGNORECASE)

    def _matches(self, text: str) -> bool:
        pattern = self._pattern()
        return pattern is not None and pattern.search(text) is not None

    def _replaced(self, text: str, count: int = 0) -> str:
        pattern = self._pattern()
        if pattern is None:
            return text
        by = self.replace.text()
        return pattern.sub(lambda _m: by, text, count=count)

    def next(self) -> int:
        model = self.editor.model
        n = model.rowCount()
        first = self.editor.current_row() + 1
        for step in range(n):
            row = (first + step) % n
            if self._matches(model.segment(row).text):
                self.editor.table.setCurrentIndex(model.index(row, TEXT))
                self.editor.table.scrollTo(model.index(row, TEXT))
                self.status.setText(f"Found at {clock(model.segment(row).start_ms)}")
                return row
        self.status.setText(f"No “{html.escape(self.find.text())}”")
        return -1

    def replace_one(self) -> None:
        row = self.editor.current_row()
        model = self.editor.model
        if row < 0 or not self._matches(model.segment(row).text):
            row = self.next()
            if row < 0:
                return
        seg = model.segment(row)
        self.editor.edit_text(seg.id, self._replaced(seg.text, 1))  # type: ignore[arg-type]
        self.next()

    def replace_all(self) -> int:
        model = self.editor.model
        hits = [s for s in model.segments() if self._matches(s.text)]
        if not hits:
            self.status.setText(f"No “{html.escape(self.find.text())}”")
            return 0
        stack = self.editor.stack
        stack.beginMacro(f"Replace “{self.find.text()}” ({len(hits)} segments)")
        try:
            for seg in hits:
                self.editor.edit_text(seg.id, self._replaced(seg.text))  # type: ignore[arg-type]
        finally:
            stack.endMacro()
        self.status.setText(f"Replaced in {len(hits)} segments")
        return len(hits)
