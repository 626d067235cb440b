"""The compare page: which codes or themes each group raised, in whose words.

A table of k/n, %, references and words per group (interviewer speech left out unless
asked), charts drawn by analysis/charts.py on a Qt canvas, and the quotes behind any
cell; double-clicking a quote opens it in its transcript. matplotlib loads only when
a chart is first shown, so the page costs nothing at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeyEvent, QPalette, QShowEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from analysis.compare import Comparison, Quote, compare, quotes
from gui import errors
from gui.actions import make_action
from gui.format import clock
from study.errors import StudyError
from study.model import Changes, InterviewStatus
from study.store import Store

WATCHED = frozenset({"coding", "code", "theme", "participant", "attribute", "interview",
                     "segment", "speaker"})
CELL_ROLE = Qt.ItemDataRole.UserRole + 40
QUOTE_ROLE = Qt.ItemDataRole.UserRole + 41
METRICS = ("k/n", "%", "Refs", "Words")


class _Table(QTableView):
    open_cell = Signal(QModelIndex)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_cell.emit(self.currentIndex())
            return
        super().keyPressEvent(e)


class CompareView(QWidget):
    message = Signal(str)
    open_coding = Signal(object)  # Coding

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.comparison: Comparison | None = None
        self._stale = True
        self._charts: dict[str, Any] = {}  # tab name -> FigureCanvas, built when first shown

        self.rows_box = QComboBox()
        self.rows_box.setObjectName("compareRows")
        self.rows_box.addItem("Themes", "themes")
        self.rows_box.addItem("Codes", "codes")
        self.by_box = QComboBox()
        self.by_box.setObjectName("compareBy")
        self.interviewer = QCheckBox("Count interviewer speech")
        self.interviewer.setObjectName("compareInterviewer")
        self.small_n = QSpinBox()
        self.small_n.setRange(1, 100)
        self.small_n.setValue(5)
        self.small_n.setToolTip("Groups smaller than this carry a warning")
        self.status_button = QToolButton()
        self.status_button.setText("Interviews: all")
        self.status_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.status_menu = QMenu(self)
        self.status_actions = {}
        for status in InterviewStatus:
            action = self.status_menu.addAction(status.value.capitalize())
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(self._options_changed)
            self.status_actions[status] = action
        self.status_button.setMenu(self.status_menu)
        for box in (self.rows_box, self.by_box):
            box.currentIndexChanged.connect(self._options_changed)
        self.interviewer.toggled.connect(self._options_changed)
        self.small_n.valueChanged.connect(self._options_changed)

        self.warnings = QLabel()
        self.warnings.setObjectName("compareWarnings")
        self.warnings.setWordWrap(True)
        self.model = QStandardItemModel(self)
        self.table = _Table()
        self.table.setObjectName("compareTable")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.clicked.connect(self.show_quotes)
        self.table.open_cell.connect(self.show_quotes)
        self.quote_title = QLabel("Click a cell to read its quotes.")
        self.quote_title.setWordWrap(True)
        self.quote_list = QListWidget()
        self.quote_list.setObjectName("compareQuotes")
        self.quote_list.setWordWrap(True)
        self.quote_list.itemActivated.connect(self._open_quote)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.table, "Table")
        for name in ("Bar chart", "Participants × rows", "Co-occurrence"):
            placeholder = QWidget()
            QVBoxLayout(placeholder).setContentsMargins(0, 0, 0, 0)
            self.tabs.addTab(placeholder, name)
        self.tabs.currentChanged.connect(lambda _i: self._show_chart())

        self.export_csv_action = make_action(self, "Export table as &CSV…", self.export_csv_dialog,
                                             "Ctrl+Shift+S")
        self.export_chart_action = make_action(self, "Export &chart as PNG or SVG…",
                                               self.export_chart_dialog, "Ctrl+Shift+P")
        self.export_report_action = make_action(self, "Export &quotes report (Word)…",
                                                self.export_report_dialog, "Ctrl+Shift+W")
        for action in (self.export_csv_action, self.export_chart_action,
                       self.export_report_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

        options = QHBoxLayout()
        for label, widget in (("&Rows:", self.rows_box), ("&By:", self.by_box)):
            options.addWidget(QLabel(label, buddy=widget))
            options.addWidget(widget)
        options.addWidget(self.status_button)
        options.addWidget(self.interviewer)
        options.addWidget(QLabel("Small n below:"))
        options.addWidget(self.small_n)
        options.addStretch(1)
        for action in (self.export_csv_action, self.export_chart_action,
                       self.export_report_action):
            button = QToolButton()
            button.setDefaultAction(action)
            options.addWidget(button)
        quotes_box = QWidget()
        quotes_layout = QVBoxLayout(quotes_box)
        quotes_layout.setContentsMargins(0, 0, 0, 0)
        quotes_layout.addWidget(self.quote_title)
        quotes_layout.addWidget(self.quote_list)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tabs)
        splitter.addWidget(quotes_box)
        splitter.setSizes([420, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(options)
        layout.addWidget(self.warnings)
        layout.addWidget(splitter, 1)
        self._fill_attributes()

    # --- options and refresh -----------------------------------------------------------------

    def _fill_attributes(self) -> None:
        current = self.by_box.currentData()
        self.by_box.blockSignals(True)
        self.by_box.clear()
        self.by_box.addItem("Group", "group")
        for attr in self.store.attribute_defs():
            self.by_box.addItem(attr.name, attr.name)
        index = self.by_box.findData(current)
        self.by_box.setCurrentIndex(max(index, 0))
        self.by_box.blockSignals(False)

    def statuses(self) -> set[InterviewStatus] | None:
        chosen = {s for s, a in self.status_actions.items() if a.isChecked()}
        return None if len(chosen) == len(self.status_actions) else chosen

    def _options_changed(self, *_args: object) -> None:
        chosen = self.statuses()
        self.status_button.setText("Interviews: all" if chosen is None else
                                   "Interviews: " + ", ".join(sorted(s.value for s in chosen)))
        self.refresh()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        kinds = changes.kinds()
        if "attribute" in kinds:
            self._fill_attributes()
        if kinds & WATCHED:
            self._stale = True
            if self.isVisible():
                QTimer.singleShot(0, self._refresh_if_stale)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        if self._stale:
            self.refresh()

    def options(self) -> dict[str, Any]:
        return {"by": self.by_box.currentData() or "group",
                "include_interviewer": self.interviewer.isChecked(),
                "statuses": self.statuses()}

    def refresh(self) -> None:
        self._stale = False
        try:
            self.comparison = compare(self.store, rows=self.rows_box.currentData(),
                                      small_n=self.small_n.value(), **self.options())
        except StudyError as e:
            self.comparison = None
            self.warnings.setText(str(e))
            return
        self._fill_table(self.comparison)
        self.warnings.setText("<br>".join(self.comparison.warnings))
        self.warnings.setVisible(bool(self.comparison.warnings))
        self._charts.clear()
        for index in range(1, self.tabs.count()):
            self._clear_tab(index)
        self._show_chart()

    def _fill_table(self, c: Comparison) -> None:
        self.model.clear()
        headers = [c.attribute.capitalize() if c.attribute != "group" else "Row"]
        small = {g.name for g in c.small_groups()}
        for group in c.groups:
            mark = " ⚠" if group.name in small else ""
            headers += [f"{group.name} (n={len(group.participant_ids)}){mark}\n{m}"
                        for m in METRICS]
        headers += [f"All (n={c.rows[0].total.n if c.rows else 0})\n{m}" for m in METRICS]
        self.model.setHorizontalHeaderLabels(headers)
        for row in c.rows:
            label = QStandardItem(row.label)
            label.setData((row.kind, row.id, None), CELL_ROLE)
            items = [label]
            for group, cell in [*zip(c.groups, row.cells, strict=True), (None, row.total)]:
                values = (f"{cell.k}/{cell.n}", f"{cell.percent:.0f}%", str(cell.references),
                          str(cell.words))
                for value in values:
                    item = QStandardItem(value)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                    item.setData((row.kind, row.id, group.name if group else None), CELL_ROLE)
                    items.append(item)
            self.model.appendRow(items)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    # --- quotes --------------------------------------------------------------------------------

    def show_quotes(self, index: QModelIndex) -> list[Quote]:
        cell = index.data(CELL_ROLE) if index.isValid() else None
        if cell is None:
            return []
        kind, row_id, group = cell
        kind = "theme" if kind in ("theme", "themes") else "code"
        found = quotes(self.store, kind=kind, row_id=row_id, group=group, **self.options())
        self.quote_list.clear()
        for q in found:
            item = QListWidgetItem(f"“{q.text}”\n({q.participant_code}, {q.group}, "
                                   f"{clock(q.start_ms)}) — {q.interview_title}")
            item.setData(QUOTE_ROLE, q)
            self.quote_list.addItem(item)
        label = self.model.item(index.row(), 0).text()
        where = f" in {group}" if group else ""
        self.quote_title.setText(f"<b>{label}</b>{where}: {len(found)} quotes. "
                                 "Double-click one to read it in its transcript.")
        return found

    def _open_quote(self, item: QListWidgetItem) -> None:
        quote: Quote = item.data(QUOTE_ROLE)
        self.open_coding.emit(quote.coding)

    # --- charts --------------------------------------------------------------------------------

    def chart_style(self) -> Any:
        from analysis.charts import ChartStyle

        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        return ChartStyle.dark() if dark else ChartStyle.light()

    def figure(self, tab: int) -> Any:
        """The figure a chart tab shows, built from the current options."""
        from analysis import charts
        from analysis.compare import cooccurrence, presence_matrix

        style = self.chart_style()
        if tab == 1 and self.comparison is not None:
            return charts.grouped_bars(self.comparison, style)
        if tab == 2:
            return charts.presence_heatmap(presence_matrix(
                self.store, rows=self.rows_box.currentData(), **self.options()), style)
        if tab == 3:
            options = self.options()
            return charts.cooccurrence_heatmap(cooccurrence(
                self.store, statuses=options["statuses"],
                include_interviewer=options["include_interviewer"]), style)
        return None

    def _clear_tab(self, index: int) -> None:
        layout = self.tabs.widget(index).layout()
        while layout.count():
            widget = layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()

    def _show_chart(self) -> None:
        index = self.tabs.currentIndex()
        if index < 1 or not self.isVisible() or str(index) in self._charts:
            return
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

        figure = self.figure(index)
        if figure is None:
            return
        canvas = FigureCanvasQTAgg(figure)
        self.tabs.widget(index).layout().addWidget(canvas)
        self._charts[str(index)] = canvas

    # --- exports -------------------------------------------------------------------------------

    def _ask_path(self, title: str, name: str, filters: str) -> Path | None:
        exports = self.store.path.parent / "exports"
        path, _ = QFileDialog.getSaveFileName(self, title, str(exports / name), filters)
        return Path(path) if path else None

    def export_csv_dialog(self) -> None:
        path = self._ask_path("Export table", "comparison.csv", "CSV (*.csv)")
        if path is not None:
            self.export_csv(path)

    def export_csv(self, path: Path) -> bool:
        from analysis.exports import tables

        if self.comparison is None:
            return False
        return self._export(lambda: tables.comparison_csv(self.store, self.comparison, path),
                            path)

    def export_chart_dialog(self) -> None:
        path = self._ask_path("Export chart", "chart.png", "PNG image (*.png);;SVG (*.svg)")
        if path is not None:
            self.export_chart(path)

    def export_chart(self, path: Path, tab: int | None = None) -> bool:
        from analysis import charts
        from analysis.leak_check import LeakChecker

        figure = self.figure(tab if tab is not None else max(1, self.tabs.currentIndex()))

        def write() -> None:
            LeakChecker.for_store(self.store).ensure_clean(
                [(f"chart label {n + 1}", text)
                 for n, text in enumerate(charts.chart_texts(figure))])
            charts.save(figure, path, dpi=300)

        return self._export(write, path)

    def export_report_dialog(self) -> None:
        path = self._ask_path("Export quotes report", "quotes report.docx",
                              "Word document (*.docx)")
        if path is not None:
            self.export_report(path)

    def export_report(self, path: Path) -> bool:
        from analysis.exports import word

        options = self.options()
        return self._export(lambda: word.quotes_report(self.store, path, **options), path)

    def _export(self, write: Any, path: Path) -> bool:
        try:
            write()
        except StudyError as e:
            errors.show_error(self, "Export refused", str(e))
            return False
        except OSError as e:
            errors.show_error(self, "Could not export", f"Could not write {path}: {e.strerror}.")
            return False
        self.message.emit(f"Exported {path.name} to {path.parent}.")
        return True
