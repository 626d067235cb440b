"""Search across transcripts: hits grouped by interview, each in context with the match in
bold; Enter opens a hit in the transcript; "Code all hits…" codes them in one undo step.

The panel searches as the researcher types (after a short pause, so typing stays smooth)
and again whenever transcripts change, so offsets never go stale under the list.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QIcon,
    QKeyEvent,
    QPainter,
    QPalette,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
    QTextDocument,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.format import plural
from gui.undo import push
from gui.undo_notes import AutoCode
from study.errors import StudyError
from study.model import Changes, Code, SearchHit
from study.store import Store

DEBOUNCE_MS = 250
SHOWN_LIMIT = 1000  # more would slow the list; coding all hits still codes every one
CONTEXT_CHARS = 50
HIT_ROLE = Qt.ItemDataRole.UserRole + 1  # the row in SearchPanel.hits
HTML_ROLE = Qt.ItemDataRole.UserRole + 2
CODE_ID_ROLE = Qt.ItemDataRole.UserRole + 3
AnyIndex = QModelIndex | QPersistentModelIndex

HELP = ("Type words to find them in every transcript. Enter on a hit opens it in the "
        "transcript; “Code all hits…” codes every hit in one step.")


def in_context(hit: SearchHit, width: int = CONTEXT_CHARS) -> tuple[str, str]:
    """The hit with some words either side, as plain text and as HTML with the match bold."""
    text = hit.text
    left = max(0, hit.start - width)
    right = min(len(text), hit.end + width)
    if left > 0:  # start at a word boundary, not mid-word
        space = text.find(" ", left, hit.start)
        left = space + 1 if space >= 0 else left
    if right < len(text):
        space = text.rfind(" ", hit.end, right)
        right = space if space >= 0 else right
    before = ("…" if left > 0 else "") + text[left:hit.start]
    after = text[hit.end:right] + ("…" if right < len(text) else "")
    match = text[hit.start:hit.end]
    flat = " ".join(f"{before}{match}{after}".split())
    rich = f"{html.escape(before)}<b>{html.escape(match)}</b>{html.escape(after)}"
    return flat, " ".join(rich.split())


def swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class RichTextDelegate(QStyledItemDelegate):
    """Draws an item's HTML_ROLE (a line with the match in bold) in the palette's colours."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        rich = index.data(HTML_ROLE)
        if rich is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        doc = QTextDocument()
        doc.setDefaultFont(opt.font)
        doc.setDocumentMargin(0)
        doc.setHtml(rich)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        group = (QPalette.ColorGroup.Active if opt.state & QStyle.StateFlag.State_Active
                 else QPalette.ColorGroup.Inactive)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, opt.palette.color(group, role))
        rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, opt.widget)
        painter.save()
        painter.translate(rect.left(), rect.top() + (rect.height() - doc.size().height()) / 2)
        painter.setClipRect(0, 0, rect.width(), rect.height())
        doc.documentLayout().draw(painter, context)
        painter.restore()


class CodeChooser(QDialog):
    """Pick the code for all hits from a list filtered as you type; Enter accepts."""

    def __init__(self, codes: Sequence[Code], hits: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Code all hits")
        self.model = QStandardItemModel(self)
        by_id = {c.id: c for c in codes}
        for c in codes:
            item = QStandardItem(swatch(c.colour), self._path(c, by_id))
            item.setEditable(False)
            item.setData(c.id, CODE_ID_ROLE)
            item.setToolTip(c.definition)
            self.model.appendRow(item)
        self.model.sort(0)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter = QLineEdit()
        self.filter.setObjectName("codeFilter")
        self.filter.setPlaceholderText("Filter codes")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter)
        self.filter.installEventFilter(self)
        self.list = QListView()
        self.list.setObjectName("codeChoices")
        self.list.setModel(self.proxy)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.activated.connect(lambda _index: self.accept())
        self.list.selectionModel().currentChanged.connect(self._update_ok)
        self.whole_segments = QCheckBox("Code &whole segments")
        self.whole_segments.setObjectName("wholeSegments")
        self.whole_segments.setToolTip("Code the whole turn each hit is in, not only the words.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            f"Code {plural(hits, 'hit')}")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        intro = QLabel("&Code:" if codes else
                       "The codebook is empty: add a code first, then code the hits with it.")
        intro.setBuddy(self.filter)
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        layout.addWidget(self.whole_segments)
        layout.addWidget(self.buttons)
        self._filter("")

    @staticmethod
    def _path(code: Code, by_id: dict[int | None, Code]) -> str:
        names, seen = [code.name], {code.id}
        parent = by_id.get(code.parent_id)
        while parent is not None and parent.id not in seen:
            names.insert(0, parent.name)
            seen.add(parent.id)
            parent = by_id.get(parent.parent_id)
        return " / ".join(names)

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        if self.proxy.rowCount() and not self.list.currentIndex().isValid():
            self.list.setCurrentIndex(self.proxy.index(0, 0))
        self._update_ok()

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            self.code_id() is not None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Up and Down in the filter move through the codes; Enter takes the current one."""
        if watched is self.filter and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            row = self.list.currentIndex().row() + (1 if event.key() == Qt.Key.Key_Down else -1)
            if 0 <= row < self.proxy.rowCount():
                self.list.setCurrentIndex(self.proxy.index(row, 0))
            return True
        return super().eventFilter(watched, event)

    def code_id(self) -> int | None:
        index = self.list.currentIndex()
        return index.data(CODE_ID_ROLE) if index.isValid() else None

    def accept(self) -> None:
        if self.code_id() is not None:
            super().accept()


class SearchPanel(QWidget):
    """Search across transcripts. Connect `on_changed` to the study's change signal and
    `jump` to the transcript; call `set_current_interview` when the open interview changes."""

    jump = Signal(int, int, int, int)  # interview id, segment id, start, end (end exclusive)
    message = Signal(str)  # for the status bar

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.hits: list[SearchHit] = []
        self.truncated = False
        self.current_interview: int | None = None
        self.chooser: CodeChooser | None = None

        self.query = QLineEdit()
        self.query.setObjectName("searchQuery")
        self.query.setPlaceholderText("Search transcripts")
        self.query.setClearButtonEnabled(True)
        self.query.textEdited.connect(lambda _text: self.timer.start())
        self.query.textChanged.connect(self._cleared)
        self.query.returnPressed.connect(self.search_now)
        self.query.installEventFilter(self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.search_now)

        self.whole_words = QCheckBox("&Whole words")
        self.whole_words.setChecked(True)
        self.match_case = QCheckBox("Match c&ase")
        self.this_interview = QCheckBox("This &interview only")
        self.this_interview.setEnabled(False)
        for box in (self.whole_words, self.match_case, self.this_interview):
            box.toggled.connect(self.search_now)

        self.model = QStandardItemModel(self)
        self.results = QTreeView()
        self.results.setObjectName("searchResults")
        self.results.setModel(self.model)
        self.results.setHeaderHidden(True)
        self.results.setUniformRowHeights(True)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setItemDelegate(RichTextDelegate(self.results))
        self.results.activated.connect(self._activated)
        self.count = QLabel(HELP)
        self.count.setObjectName("searchCount")
        self.count.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("searchStatus")
        self.status.setWordWrap(True)

        self.setFocusProxy(self.query)  # focusing the panel means: type a search
        self.code_all_action = make_action(self, "&Code all hits…", self.code_all,
                                           "Ctrl+Shift+H")
        toolbar = QToolBar()
        toolbar.addAction(self.code_all_action)
        options = QHBoxLayout()
        for box in (self.whole_words, self.match_case, self.this_interview):
            options.addWidget(box)
        options.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.query)
        layout.addLayout(options)
        layout.addWidget(self.count)
        layout.addWidget(self.results, 1)
        layout.addWidget(toolbar)
        layout.addWidget(self.status)
        self._update_actions()

    # --- searching ---------------------------------------------------------------------------

    def set_current_interview(self, interview_id: int | None) -> None:
        """The interview open in the workspace, for "This interview only"."""
        if interview_id == self.current_interview:
            return
        self.current_interview = interview_id
        self.this_interview.setEnabled(interview_id is not None)
        if self.this_interview.isChecked():
            self.search_now()

    def scope(self) -> list[int] | None:
        if self.this_interview.isChecked() and self.current_interview is not None:
            return [self.current_interview]
        return None

    def _search(self, limit: int | None) -> list[SearchHit]:
        return self.store.search_text(
            self.query.text(), interview_ids=self.scope(),
            whole_words=self.whole_words.isChecked(),
            case_sensitive=self.match_case.isChecked(), limit=limit)

    @Slot()
    def search_now(self) -> None:
        """Search at once (Return, an option toggled, the pause after typing)."""
        self.timer.stop()
        found = self._search(SHOWN_LIMIT + 1) if self.query.text().strip() else []
        self.truncated = len(found) > SHOWN_LIMIT
        self.hits = found[:SHOWN_LIMIT]
        self._fill()

    def _cleared(self, text: str) -> None:
        if not text.strip():  # the clear button or Select all + Delete: no wait needed
            self.search_now()

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        """Transcripts or titles changed: search again, so no hit points at stale text."""
        if changes.kinds() & {"segment", "interview"} and self.query.text().strip():
            self.timer.start()

    def _fill(self) -> None:
        titles = {i.id: i.title for i in self.store.interviews()}
        self.model.clear()
        groups: dict[int, QStandardItem] = {}
        for row, hit in enumerate(self.hits):
            group = groups.get(hit.interview_id)
            if group is None:
                group = QStandardItem(titles.get(hit.interview_id, "(deleted interview)"))
                group.setEditable(False)
                font = group.font()
                font.setBold(True)
                group.setFont(font)
                groups[hit.interview_id] = group
                self.model.appendRow(group)
            flat, rich = in_context(hit)
            item = QStandardItem(flat)
            item.setEditable(False)
            item.setData(row, HIT_ROLE)
            item.setData(rich, HTML_ROLE)
            item.setToolTip(hit.text)
            group.appendRow(item)
        for group in groups.values():
            group.setText(f"{group.text()} ({group.rowCount()})")
        self.results.expandAll()
        if self.model.rowCount():
            self.results.setCurrentIndex(self.model.index(0, 0, self.model.index(0, 0)))
        if not self.query.text().strip():
            self.count.setText(HELP)
        elif not self.hits:
            self.count.setText(f"No hits for “{self.query.text().strip()}”.")
        elif self.truncated:
            self.count.setText(f"More than {SHOWN_LIMIT} hits; the first {SHOWN_LIMIT} are "
                               f"shown. Add words to narrow the search.")
        else:
            self.count.setText(f"{plural(len(self.hits), 'hit')} in "
                               f"{plural(len(groups), 'interview')}")
        self._update_actions()

    def _update_actions(self) -> None:
        self.code_all_action.setEnabled(bool(self.hits))

    def focus_query(self) -> None:
        self.query.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.query.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down in the query moves to the results, so the keyboard never has to Tab."""
        if watched is self.query and event.type() == QEvent.Type.KeyPress \
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Down \
                and self.model.rowCount():
            if self.timer.isActive():
                self.search_now()
            self.results.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        return super().eventFilter(watched, event)

    def hit_at(self, index: QModelIndex) -> SearchHit | None:
        row = index.data(HIT_ROLE) if index.isValid() else None
        return self.hits[row] if row is not None else None

    def _activated(self, index: QModelIndex) -> None:
        hit = self.hit_at(index)
        if hit is not None:
            self.jump.emit(hit.interview_id, hit.segment_id, hit.start, hit.end)

    # --- coding all hits ---------------------------------------------------------------------

    def code_all(self) -> CodeChooser | None:
        """Ask for the code (window-modal, non-blocking), then code every hit with it."""
        if not self.hits:
            return None
        if self.timer.isActive():
            self.search_now()
        dialog = CodeChooser(self.store.codes(), len(self.hits), self)
        if self.truncated:
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Code all hits")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._chosen(dialog))
        dialog.finished.connect(lambda _result: setattr(self, "chooser", None))
        self.chooser = dialog
        dialog.open()
        return dialog

    def _chosen(self, dialog: CodeChooser) -> None:
        code_id = dialog.code_id()
        if code_id is not None:
            self.code_hits(code_id, whole_segment=dialog.whole_segments.isChecked())

    def code_hits(self, code_id: int, *, whole_segment: bool = False) -> AutoCode | None:
        """Code every hit of the current search (not only those shown) as one undo step."""
        hits = self._search(None) if self.query.text().strip() else []
        if not hits:
            return None
        command = AutoCode(self.store, code_id, hits, whole_segment)
        try:
            push(self.stack, command)
        except StudyError as e:
            self.status.setText(f"Nothing was coded: {e}")
            self.search_now()
            return None
        unit = "segment" if whole_segment else "hit"
        targets = len({h.segment_id for h in hits} if whole_segment
                      else {(h.segment_id, h.start, h.end) for h in hits})
        added = len(command.coding_ids)
        name = self.store.code(code_id).name
        report = f"Coded {plural(added, unit)} with {name}"
        if targets > added:
            already = targets - added
            report += f"; {already} {'was' if already == 1 else 'were'} already coded"
        self.status.setText(report + ".")
        self.message.emit(report + ".")
        return command
