"""A table model over the interviews list (no transcript text is loaded for it)."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Slot,
)

from gui.format import clock
from study.model import Changes, InterviewSummary
from study.store import Store

Index = QModelIndex | QPersistentModelIndex
INTERVIEW_ID_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Participant", "Title", "Date", "Length", "Status", "Words", "Codings", "Audio")
RELOAD = frozenset({"participant", "media"})
CODINGS_COLUMN = 6


class InterviewsModel(QAbstractTableModel):
    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._rows: list[InterviewSummary] = []
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = self._store.interview_summaries()
        self.endResetModel()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        """Reload when interviews come and go; otherwise refresh only the rows whose
        transcript changed and the coding counts, which stays quick on a large study."""
        kinds = changes.kinds()
        only_removed = changes.ids("segment", "removed") and not (
            changes.ids("segment", "added") or changes.ids("segment", "updated"))
        interviews_came_or_went = (changes.ids("interview", "added")
                                   or changes.ids("interview", "removed"))
        if kinds & RELOAD or interviews_came_or_went or only_removed:
            self.reload()
            return
        updated = changes.ids("interview", "updated")
        if updated:  # a status, title or date: those rows only
            self._replace(self._store.interview_summaries(sorted(updated)))
        if "segment" in kinds:
            touched = self._store.interviews_of_segments(
                [*changes.ids("segment", "added"), *changes.ids("segment", "updated")])
            self._replace(self._store.interview_summaries(sorted(touched)))
        if "coding" in kinds:
            counts = self._store.coding_counts_by_interview()
            self._replace([dataclasses.replace(s, coding_count=counts.get(s.interview.id, 0))
                           for s in self._rows
                           if s.coding_count != counts.get(s.interview.id or -1, 0)],
                          CODINGS_COLUMN)

    def _replace(self, summaries: list[InterviewSummary], column: int | None = None) -> None:
        """Put in fresher rows; `column` when only that column's value changed."""
        first, last = (column, column) if column is not None else (0, len(COLUMNS) - 1)
        for summary in summaries:
            row = self.row_of(summary.interview.id or -1)
            if row >= 0:
                self._rows[row] = summary
                self.dataChanged.emit(self.index(row, first), self.index(row, last))

    def summary(self, row: int) -> InterviewSummary:
        return self._rows[row]

    def row_of(self, interview_id: int) -> int:
        for row, s in enumerate(self._rows):
            if s.interview.id == interview_id:
                return row
        return -1

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

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
        s = self._rows[index.row()]
        if role == INTERVIEW_ID_ROLE:
            return s.interview.id
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (3, 5, 6):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 7 and s.media_filename:
            return f"media/{s.media_filename}"
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        i = s.interview
        return (
            s.participant_code or "—",
            i.title,
            i.date.isoformat() if i.date else "",
            clock(i.duration_ms) if i.duration_ms else "",
            i.status.value.capitalize(),
            f"{s.word_count:,}",
            str(s.coding_count),
            "Yes" if s.media_filename else "No",
        )[index.column()]
