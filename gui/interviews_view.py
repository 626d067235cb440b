"""The interviews page: the list with status on the left, the selected interview's
transcript (speaker, time, text) on the right."""

from __future__ import annotations

import html

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.format import clock
from gui.interviews_model import INTERVIEW_ID_ROLE, InterviewsModel
from gui.transcript_model import TranscriptModel
from study.store import Store


class InterviewsView(QWidget):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = InterviewsModel(store, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.list = QTableView()
        self.list.setObjectName("interviewsTable")
        self.list.setModel(self.proxy)
        self.list.setSortingEnabled(True)
        self.list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.list.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.verticalHeader().hide()
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        self.transcript = TranscriptModel(store, self)
        self.header = QLabel("Select an interview to read its transcript.")
        self.header.setObjectName("transcriptHeader")
        self.header.setWordWrap(True)
        self.text = QTableView()
        self.text.setObjectName("transcriptTable")
        self.text.setModel(self.transcript)
        self.text.setWordWrap(True)
        self.text.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.text.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.text.verticalHeader().hide()
        header = self.text.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.transcript.modelReset.connect(self.text.resizeRowsToContents)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.header)
        right_layout.addWidget(self.text)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([420, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.list.selectionModel().currentRowChanged.connect(lambda current, _prev:
                                                              self._show_row(current.row()))
        self.model.modelReset.connect(self._reselect)

    def _show_row(self, proxy_row: int) -> None:
        if proxy_row < 0:
            self.open_interview(None)
            return
        interview_id = self.proxy.index(proxy_row, 0).data(INTERVIEW_ID_ROLE)
        self.open_interview(interview_id)

    def _reselect(self) -> None:
        if self.transcript.interview_id is not None:
            self.select(self.transcript.interview_id)

    def select(self, interview_id: int) -> None:
        row = self.model.row_of(interview_id)
        if row < 0:
            self.open_interview(None)
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.list.selectRow(index.row())
        self.list.setCurrentIndex(index)
        self.open_interview(interview_id)

    def open_interview(self, interview_id: int | None) -> None:
        """Show one interview's transcript (or none)."""
        if interview_id == self.transcript.interview_id and interview_id is not None:
            return
        self.transcript.load(interview_id)
        if interview_id is None:
            self.header.setText("Select an interview to read its transcript.")
            return
        summary = self.model.summary(self.model.row_of(interview_id))
        i = summary.interview
        parts = [f"<b>{html.escape(i.title)}</b>", f"Status: {i.status.value}"]
        if i.duration_ms:
            parts.append(f"Length {clock(i.duration_ms)}")
        parts.append("audio attached" if summary.media_filename else "no audio")
        parts.append(f"{summary.segment_count} segments, {summary.word_count:,} words")
        self.header.setText(" · ".join(parts))
