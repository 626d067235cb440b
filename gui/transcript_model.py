"""A read-only table model over one interview's transcript: time, speaker, text."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Slot,
)
from PySide6.QtGui import QFont

from gui.format import clock
from study.model import Changes, Segment, SpeakerRole
from study.store import Store

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Time", "Speaker", "Text")


class TranscriptModel(QAbstractTableModel):
    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.interview_id: int | None = None
        self._segments: list[Segment] = []
        self._speakers: dict[int, tuple[str, SpeakerRole]] = {}

    def load(self, interview_id: int | None) -> None:
        self.beginResetModel()
        self.interview_id = interview_id
        if interview_id is None:
            self._segments, self._speakers = [], {}
        else:
            self._segments = self._store.segments(interview_id)
            self._speakers = {s.id: (s.label, s.role)
                              for s in self._store.speakers(interview_id) if s.id is not None}
        self.endResetModel()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if self.interview_id is None:
            return
        if "interview" in changes.kinds() and self.interview_id in changes.ids(
                "interview", "removed"):
            self.load(None)
        elif changes.kinds() & {"segment", "speaker"}:
            self.load(self.interview_id)

    def segment(self, row: int) -> Segment:
        return self._segments[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._segments)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        seg = self._segments[index.row()]
        label, speaker_role = self._speakers.get(seg.speaker_id or -1, ("", SpeakerRole.OTHER))
        if role == Qt.ItemDataRole.DisplayRole:
            return (clock(seg.start_ms), label, seg.text)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return f"{clock(seg.start_ms)} – {clock(seg.end_ms)}"
        if role == Qt.ItemDataRole.FontRole and index.column() == 1 and \
                speaker_role is SpeakerRole.PARTICIPANT:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() < 2:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        return None
