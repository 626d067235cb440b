"""A table model over one interview's transcript: time, speaker, text.

The text column is editable (edits go through the undo stack via `on_edit`), marks
low-confidence words and flagged passages, and highlights the word being played.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

from gui.format import clock
from study.model import Changes, FlagKind, Segment, Speaker, SpeakerRole
from study.store import Store

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Time", "Speaker", "Text")
TIME, SPEAKER, TEXT = range(3)
HTML_ROLE = Qt.ItemDataRole.UserRole + 10
SEGMENT_ROLE = Qt.ItemDataRole.UserRole + 11
FLAG_NOTES = {FlagKind.MISSED_SPEECH: "Speech may be missing here",
              FlagKind.REPETITION: "The recogniser may have looped here",
              FlagKind.LOW_CONFIDENCE: "Uncertain words", FlagKind.NOTE: "Note"}


def segment_html(seg: Segment, active_word: int | None = None) -> str:
    """The segment's text as HTML: uncertain words underlined, the played word marked.

    Word marks need the word timings to still match the text; after an edit they are
    gone and the plain text is shown.
    """
    palette = QApplication.palette()
    mark = palette.color(QPalette.ColorRole.Highlight).name()
    mark_text = palette.color(QPalette.ColorRole.HighlightedText).name()
    if not seg.words:
        body = html.escape(seg.text)
        if not seg.text and seg.flags:
            body = "<i>[no words recognised: listen again]</i>"
        return body
    parts = []
    for n, w in enumerate(seg.words):
        text = html.escape(w.text)
        if n == active_word:
            text = f'<span style="background:{mark}; color:{mark_text}">{text}</span>'
        elif w.probability < 0.4:
            text = f'<span style="text-decoration: underline dotted">{text}</span>'
        parts.append(text)
    return "".join(parts).strip()


class TranscriptModel(QAbstractTableModel):
    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.interview_id: int | None = None
        self._segments: list[Segment] = []
        self._speakers: dict[int, Speaker] = {}
        self.on_edit: Callable[[int, str], None] | None = None
        self.playing_row = -1
        self.playing_word: int | None = None

    def load(self, interview_id: int | None) -> None:
        self.beginResetModel()
        self.interview_id = interview_id
        self.playing_row, self.playing_word = -1, None
        if interview_id is None:
            self._segments, self._speakers = [], {}
        else:
            self._segments = self._store.segments(interview_id)
            self._speakers = {s.id: s for s in self._store.speakers(interview_id)
                              if s.id is not None}
        self.endResetModel()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if self.interview_id is None:
            return
        kinds = changes.kinds()
        if self.interview_id in changes.ids("interview", "removed"):
            self.load(None)
        elif "speaker" in kinds or changes.ids("segment", "added") or \
                changes.ids("segment", "removed") or 0 in changes.ids("segment", "updated"):
            self.load(self.interview_id)
        elif "segment" in kinds:
            self._refresh_rows(set(changes.ids("segment", "updated")))

    def _refresh_rows(self, ids: set[int]) -> None:
        for row, seg in enumerate(self._segments):
            if seg.id in ids:
                self._segments[row] = self._store.segment(seg.id)
                self.dataChanged.emit(self.index(row, 0), self.index(row, TEXT))

    # --- lookups -----------------------------------------------------------------------------

    def segment(self, row: int) -> Segment:
        return self._segments[row]

    def segments(self) -> list[Segment]:
        return list(self._segments)

    def speakers(self) -> list[Speaker]:
        return list(self._speakers.values())

    def row_of(self, segment_id: int) -> int:
        for row, seg in enumerate(self._segments):
            if seg.id == segment_id:
                return row
        return -1

    def row_at(self, ms: int) -> int:
        """The segment playing at `ms`: the last one that started at or before it."""
        found = -1
        for row, seg in enumerate(self._segments):
            if seg.start_ms <= ms:
                found = row
            else:
                break
        return found

    def set_playing(self, ms: int) -> int:
        """Mark the segment and word playing at `ms`; returns the row."""
        row = self.row_at(ms)
        word = None
        if row >= 0:
            word = next((n for n, w in enumerate(self._segments[row].words)
                         if w.start_ms <= ms < w.end_ms), None)
        if (row, word) != (self.playing_row, self.playing_word):
            changed = {r for r in (row, self.playing_row) if r >= 0}
            self.playing_row, self.playing_word = row, word
            for r in changed:
                self.dataChanged.emit(self.index(r, 0), self.index(r, TEXT))
        return row

    # --- Qt model ----------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._segments)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.column() == TEXT else base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        seg = self._segments[index.row()]
        speaker = self._speakers.get(seg.speaker_id or -1)
        column = index.column()
        if role == SEGMENT_ROLE:
            return seg
        if role == HTML_ROLE:
            active = self.playing_word if index.row() == self.playing_row else None
            return segment_html(seg, active)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return (clock(seg.start_ms), speaker.label if speaker else "", seg.text)[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == TIME:
                return f"{clock(seg.start_ms)} – {clock(seg.end_ms)}. Click to play from here."
            if seg.flags:
                return "\n".join(f"{FLAG_NOTES[f.kind]}: {f.note}".rstrip(": ")
                                 for f in seg.flags)
            return None
        if role == Qt.ItemDataRole.FontRole and column == SPEAKER and speaker and \
                speaker.role is SpeakerRole.PARTICIPANT:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.DecorationRole and column == TIME and seg.flags:
            return QApplication.style().standardIcon(
                QApplication.style().StandardPixmap.SP_MessageBoxWarning)
        if role == Qt.ItemDataRole.BackgroundRole and index.row() == self.playing_row:
            return QApplication.palette().color(QPalette.ColorRole.AlternateBase)
        if role == Qt.ItemDataRole.TextAlignmentRole and column < TEXT:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return None

    def setData(self, index: Index, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or index.column() != TEXT or self.on_edit is None:
            return False
        seg = self._segments[index.row()]
        if seg.id is None or str(value) == seg.text:
            return False
        self.on_edit(seg.id, str(value))
        return True
