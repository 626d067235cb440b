"""The compare page: which codes or themes each group raised, in whose words.

A table of k/n, %, references and words per group (interviewer speech left out unless
asked), charts drawn by analysis/charts.py, and the quotes behind any cell;
double-clicking a quote opens it in its transcript.

The window must keep answering while charts and reports are made (no GUI-thread task
over 100 ms, DESIGN.md section 7). Drawing a chart takes matplotlib from a tenth of a
second (a few rows) to most of a second (100 participants), and importing it a second
more, so charts are built and drawn in the study process (gui.job_runner) at the size of
their tab and shown here as images, drawn again when the page is resized; matplotlib
never loads in the window's process for them. Exports from the menu run there too, with
a busy sign in the status bar; export_csv(), export_chart() and export_report() still
write before they return, here, for tests and scripts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QImage,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QShowEvent,
    QStandardItem,
    QStandardItemModel,
)
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
from gui.exchange_actions import busy
from gui.export_warning import confirm_unanonymised_export
from gui.format import clock
from gui.job_runner import JobRunner
from study.errors import StudyError
from study.folder import Study
from study.model import Changes, InterviewStatus
from study.store import Store

WATCHED = frozenset({"coding", "code", "theme", "participant", "attribute", "interview",
                     "segment", "speaker"})
CELL_ROLE = Qt.ItemDataRole.UserRole + 40
QUOTE_ROLE = Qt.ItemDataRole.UserRole + 41
METRICS = ("k/n", "%", "Refs", "Words")
RESIZE_REDRAW_MS = 300
MIN_CHART_SIZE = QSize(200, 150)

OnStore = Callable[..., object]  # fn(store, *args): a function of a module, so it pickles


@dataclass(frozen=True, eq=False)
class ChartRequest:
    """What a chart shows, read from the page's widgets on the GUI thread, as plain values
    that pickle, so the figure can be built in the study process."""

    tab: int
    rows: str
    options: dict[str, Any]
    comparison: Comparison | None  # None before the page was first shown
    small_n: int
    dark: bool  # the window's palette: the chart's style follows it

    def compared(self, store: Store) -> Comparison:
        """The page's comparison, or one made now (from the menu, before it was shown)."""
        if self.comparison is not None:
            return self.comparison
        return compare(store, rows=self.rows, small_n=self.small_n, **self.options)


@dataclass(frozen=True)
class RenderedChart:
    """A chart drawn in the study process: RGBA pixels and their size, as plain values."""

    pixels: bytes
    width: int
    height: int
    ratio: float

    def image(self) -> QImage:
        image = QImage(self.pixels, self.width, self.height, 4 * self.width,
                       QImage.Format.Format_RGBA8888).copy()  # the copy owns its pixels
        image.setDevicePixelRatio(self.ratio)
        return image


def on_store(study: Study, fn: OnStore, *args: Any) -> object:
    """Work of this page takes a store; in the study process it gets that study's."""
    return fn(study.store, *args)


def chart_style(dark: bool) -> Any:
    from analysis.charts import ChartStyle

    return ChartStyle.dark() if dark else ChartStyle.light()


def build_figure(store: Store, request: ChartRequest) -> Any:
    """The figure of a chart tab (None for the table), on the caller's connection."""
    from analysis import charts
    from analysis.compare import cooccurrence, presence_matrix

    options, style = request.options, chart_style(request.dark)
    if request.tab == 1:
        return charts.grouped_bars(request.compared(store), style)
    if request.tab == 2:
        return charts.presence_heatmap(presence_matrix(store, rows=request.rows, **options),
                                       style)
    if request.tab == 3:
        return charts.cooccurrence_heatmap(cooccurrence(
            store, statuses=options["statuses"],
            include_interviewer=options["include_interviewer"]), style)
    return None


def draw_chart(store: Store, request: ChartRequest, width: int, height: int,
               ratio: float) -> RenderedChart | None:
    """Build the chart and draw it as Qt's matplotlib canvas would on a widget of this
    size (in device-independent pixels) and pixel ratio."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = build_figure(store, request)
    if figure is None:
        return None
    figure.set_dpi(100 * ratio)
    figure.set_size_inches(max(width, MIN_CHART_SIZE.width()) / 100,
                           max(height, MIN_CHART_SIZE.height()) / 100)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    w, h = canvas.get_width_height(physical=True)
    return RenderedChart(bytes(canvas.buffer_rgba()), w, h, ratio)


def write_chart(store: Store, request: ChartRequest, path: Path) -> Path:
    """Build the chart, refuse it if a label holds an original identifier, save it."""
    from analysis import charts
    from analysis.leak_check import LeakChecker

    figure = build_figure(store, request)
    LeakChecker.for_store(store).ensure_clean(
        [(f"chart label {n + 1}", text) for n, text in enumerate(charts.chart_texts(figure))])
    return charts.save(figure, path, dpi=300)


def write_comparison_csv(store: Store, request: ChartRequest, path: Path) -> Path:
    from analysis.exports import tables

    return tables.comparison_csv(store, request.compared(store), path)


def write_quotes_report(store: Store, path: Path, options: dict[str, Any]) -> Path:
    from analysis.exports import word

    return word.quotes_report(store, path, **options)


class _Table(QTableView):
    open_cell = Signal(QModelIndex)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.open_cell.emit(self.currentIndex())
            return
        super().keyPressEvent(e)


class ChartImage(QWidget):
    """A chart drawn in the study process, shown as an image. On a resize it is scaled at
    once, and a fresh drawing at the new size is asked for when the resizing stops."""

    redraw = Signal()

    def __init__(self, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareChartImage")
        self.image = image
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RESIZE_REDRAW_MS)
        self._timer.timeout.connect(self.redraw)

    def set_image(self, image: QImage) -> None:
        self.image = image
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        shown = self.image.deviceIndependentSize().scaled(
            self.size().toSizeF(), Qt.AspectRatioMode.KeepAspectRatio)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        left = (self.width() - shown.width()) / 2
        painter.drawImage(QRectF(left, 0, shown.width(), shown.height()), self.image)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size() != self.image.deviceIndependentSize().toSize():
            self._timer.start()


class CompareView(QWidget):
    message = Signal(str)
    open_coding = Signal(object)  # Coding
    finished = Signal(bool)  # a background export ended; True if the file was written

    def __init__(self, store: Store, parent: QWidget | None = None, *,
                 runner: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner  # None: a page on its own (a test's): work is done here
        self.comparison: Comparison | None = None
        self._stale = True
        # tab number -> the ChartImage on it, made when the tab is first shown
        self._charts: dict[str, ChartImage] = {}
        self._drawing: set[int] = set()  # tabs whose chart the study process is drawing
        self._generation = 0  # bumped when the comparison changes: older drawings are dropped

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
        # one button with a menu: three side by side made the page wider than a laptop
        self.export_menu = QMenu(self)
        self.export_menu.addActions([self.export_csv_action, self.export_chart_action,
                                     self.export_report_action])
        export_button = QToolButton()
        export_button.setObjectName("compareExport")
        export_button.setText("E&xport")
        export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        export_button.setMenu(self.export_menu)
        options.addWidget(export_button)
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
        if kinds & WATCHED and not self._counts_stand(changes):
            self._stale = True
            if self.isVisible():
                QTimer.singleShot(0, self._refresh_if_stale)

    def _counts_stand(self, changes: Changes) -> bool:
        """Whether the comparison cannot have changed: only segments added or edited in
        interviews with no codings (who was heard, and so each group's n, comes from the
        interviews and speakers). A transcription commits such a change every window;
        recomputing each time (over 100 ms on a large study) would stall the window."""
        if changes.kinds() & WATCHED != {"segment"} or changes.ids("segment", "removed"):
            return False
        touched = self.store.interviews_of_segments(
            [*changes.ids("segment", "added"), *changes.ids("segment", "updated")])
        coded = self.store.coding_counts_by_interview()
        return not any(coded.get(i) for i in touched)

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
        self._drawing.clear()
        self._generation += 1
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
        # every column as wide as its contents, theme names whole: the table scrolls sideways
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

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

    def is_dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Window).lightness() < 128

    def chart_style(self) -> Any:
        return chart_style(self.is_dark())

    def chart_request(self, tab: int) -> ChartRequest:
        return ChartRequest(tab, self.rows_box.currentData(), self.options(), self.comparison,
                            self.small_n.value(), self.is_dark())

    def figure(self, tab: int) -> Any:
        """The figure a chart tab shows, built from the current options, here and now."""
        return build_figure(self.store, self.chart_request(tab))

    def _clear_tab(self, index: int) -> None:
        layout = self.tabs.widget(index).layout()
        while layout.count():
            widget = layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()

    def _show_chart(self) -> None:
        index = self.tabs.currentIndex()
        if (index < 1 or not self.isVisible() or str(index) in self._charts
                or index in self._drawing):
            return
        self.tabs.widget(index).layout().addWidget(QLabel("Drawing the chart…"))
        self._draw(index)

    def _draw(self, index: int, shown: ChartImage | None = None) -> None:
        """Draw the chart of tab `index` at the tab's size in the study process; put it on
        the tab (or into `shown`, on a resize) unless the comparison changed since.
        Without a job runner (the page on its own) it is drawn here."""
        page = self.tabs.widget(index)
        args = (self.chart_request(index), page.width(), page.height(),
                page.devicePixelRatioF())
        runner, generation = self.runner, self._generation
        if runner is None:
            self._drawn(index, shown, draw_chart(self.store, *args))
            return
        self._drawing.add(index)
        end = busy(self, "Drawing the chart…")

        def done(chart: RenderedChart | None, _changes: Changes) -> None:
            end()
            if generation == self._generation:  # else a newer drawing is on its way
                self._drawing.discard(index)
                self._drawn(index, shown, chart)

        def failed(error: Exception) -> None:
            end()
            if generation == self._generation:
                self._drawing.discard(index)
                if shown is None:
                    self._clear_tab(index)
                self._report(error, "Could not draw the chart")

        runner.run_on_study(on_store, (draw_chart, *args), done, failed)

    def _drawn(self, index: int, shown: ChartImage | None, chart: RenderedChart | None) -> None:
        if chart is None:
            return
        if shown is not None:
            shown.set_image(chart.image())
            return
        self._clear_tab(index)
        image = ChartImage(chart.image())
        image.redraw.connect(lambda: self._redraw(index, image))
        self.tabs.widget(index).layout().addWidget(image)
        self._charts[str(index)] = image

    def _redraw(self, index: int, chart: ChartImage) -> None:
        if (chart.isVisible() and self._charts.get(str(index)) is chart
                and index not in self._drawing):
            self._draw(index, chart)

    # --- exports -------------------------------------------------------------------------------

    def _ask_path(self, title: str, name: str, filters: str) -> Path | None:
        exports = self.store.path.parent / "exports"
        path, _ = QFileDialog.getSaveFileName(self, title, str(exports / name), filters)
        return Path(path) if path else None

    def export_csv_dialog(self) -> None:
        path = self._ask_path("Export table", "comparison.csv", "CSV (*.csv)")
        if path is not None:
            self.start_export_csv(path)

    def export_csv(self, path: Path) -> bool:
        return self._export(path, write_comparison_csv, self.chart_request(0), path)

    def start_export_csv(self, path: Path) -> bool:
        return self._start_export(path, write_comparison_csv, self.chart_request(0), path)

    def export_chart_dialog(self) -> None:
        path = self._ask_path("Export chart", "chart.png", "PNG image (*.png);;SVG (*.svg)")
        if path is not None:
            self.start_export_chart(path)

    def _chart_tab(self, tab: int | None) -> ChartRequest:
        return self.chart_request(tab if tab is not None else max(1, self.tabs.currentIndex()))

    def export_chart(self, path: Path, tab: int | None = None) -> bool:
        return self._export(path, write_chart, self._chart_tab(tab), path)

    def start_export_chart(self, path: Path, tab: int | None = None) -> bool:
        return self._start_export(path, write_chart, self._chart_tab(tab), path)

    def export_report_dialog(self) -> None:
        if not confirm_unanonymised_export(self.store, "the quotes report"):
            return
        path = self._ask_path("Export quotes report", "quotes report.docx",
                              "Word document (*.docx)")
        if path is not None:
            self.start_export_report(path)

    def export_report(self, path: Path) -> bool:
        return self._export(path, write_quotes_report, path, self.options())

    def start_export_report(self, path: Path) -> bool:
        return self._start_export(path, write_quotes_report, path, self.options())

    def _export(self, path: Path, write: OnStore, *args: Any) -> bool:
        """Write here and now, on the page's own connection."""
        try:
            write(self.store, *args)
        except (StudyError, OSError) as e:
            self._report(e, "Export refused", path)
            return False
        self.message.emit(f"Exported {path.name} to {path.parent}.")
        return True

    def _start_export(self, path: Path, write: OnStore, *args: Any) -> bool:
        """Call write(store, *args) in the study process; `finished` tells when. Without
        a job runner (the page on its own) it writes here and now."""
        runner = self.runner
        if runner is None:
            written = self._export(path, write, *args)
            self.finished.emit(written)
            return written
        end = busy(self, f"Exporting {path.name}…")

        def done(_result: object, _changes: Changes) -> None:
            end()
            self.message.emit(f"Exported {path.name} to {path.parent}.")
            self.finished.emit(True)

        def failed(error: Exception) -> None:
            end()
            try:
                self._report(error, "Export refused", path)
            finally:
                self.finished.emit(False)

        self.message.emit(f"Exporting {path.name}…")
        runner.run_on_study(on_store, (write, *args), done, failed)
        return True

    def _report(self, error: Exception, refused: str, path: Path | None = None) -> None:
        """Known errors (a leak, a full disk) get a message; a bug is raised again."""
        if isinstance(error, StudyError):
            errors.show_error(self, refused, str(error))
        elif isinstance(error, OSError):
            where = path or error.filename or "the file"
            errors.show_error(self, "Could not export", f"Could not write {where}: "
                              f"{error.strerror}.")
        else:
            raise error
