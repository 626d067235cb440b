"""A table model over the study's participants: code, group, each attribute, notes."""

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

from gui.format import attribute_text
from study.model import AttributeDef, AttributeType, Changes, Participant
from study.store import Store

Index = QModelIndex | QPersistentModelIndex
PARTICIPANT_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2


class ParticipantsModel(QAbstractTableModel):
    """Thin adapter over Store.participants(); refreshes on the store's Changes."""

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._rows: list[Participant] = []
        self._attrs: list[AttributeDef] = []
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._attrs = self._store.attribute_defs()
        self._rows = self._store.participants()
        self.endResetModel()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if "attribute" in changes.kinds() or changes.ids("participant", "added") or \
                changes.ids("participant", "removed"):
            self.reload()
            return
        updated = set(changes.ids("participant", "updated"))
        for row, p in enumerate(self._rows):
            if p.id in updated:
                self._rows[row] = self._store.participant(p.id)
                self.dataChanged.emit(self.index(row, 0),
                                      self.index(row, self.columnCount() - 1))

    def participant(self, row: int) -> Participant:
        return self._rows[row]

    def row_of(self, participant_id: int) -> int:
        for row, p in enumerate(self._rows):
            if p.id == participant_id:
                return row
        return -1

    def attribute_defs(self) -> list[AttributeDef]:
        return list(self._attrs)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3 + len(self._attrs)

    def _column_key(self, column: int) -> str | AttributeDef:
        if column == 0:
            return "code"
        if column == 1:
            return "group"
        if column == 2 + len(self._attrs):
            return "notes"
        return self._attrs[column - 2]

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        key = self._column_key(section)
        return key.name if isinstance(key, AttributeDef) else {
            "code": "Code", "group": "Group", "notes": "Notes"}[key]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        p = self._rows[index.row()]
        if role == PARTICIPANT_ROLE:
            return p
        key = self._column_key(index.column())
        if isinstance(key, AttributeDef):
            value = p.attribute(key.name)
            if role == SORT_ROLE:
                return value if key.type is AttributeType.NUMBER and value is not None else (
                    attribute_text(value).lower())
            if role == Qt.ItemDataRole.DisplayRole:
                return attribute_text(value)
            if role == Qt.ItemDataRole.TextAlignmentRole and key.type is AttributeType.NUMBER:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        text = {"code": p.code, "group": p.group, "notes": p.notes}[key]
        if role == Qt.ItemDataRole.DisplayRole:
            return text.splitlines()[0] if key == "notes" and text else text
        if role == SORT_ROLE:
            return text.lower()
        if role == Qt.ItemDataRole.ToolTipRole and key == "notes" and text:
            return text
        return None
