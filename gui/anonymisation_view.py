"""The anonymisation page: find identifiers, review them term by term and place by place,
walk the capitalised words and numbers nobody has judged yet, then apply the
pseudonyms (and reverse them while the key file is at hand).

The tool suggests; the researcher decides. Every decision, rule, registration,
replacement and scheme edit is a step on the window's undo stack. Applying is not: it
has its own Reverse, and it clears the undo stack, whose steps name text that is gone.
"""

from __future__ import annotations

import dataclasses
import html
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QFont, QFontMetrics, QPainter, QPalette, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui import errors
from gui.actions import make_action
from gui.anonymisation_model import (
    CATEGORY_LABELS,
    CONTEXT_ROLE,
    TERM_ROLE,
    WATCHED,
    OccurrencesModel,
    Term,
    TermsFilter,
    TermsModel,
    WalkTerm,
    context_of,
    indirect_terms,
    time_of,
)
from gui.format import clock, plural
from gui.identifier_dialog import IdentifierDialog, SchemeDialog
from gui.job_runner import JobRunner
from gui.questions import ask_yes_no, inform
from gui.undo import push
from gui.undo_anonymity import (
    Decide,
    EditIdentifier,
    RegisterIdentifier,
    Registration,
    SetRuleOrRegister,
)
from study.errors import StudyError
from study.folder import Study, open_study
from study.identifiers import normalise, term_hash
from study.model import Category, Changes, Decision, IdentifierRule
from study.store import Store

Index = QModelIndex | QPersistentModelIndex
Ask = Callable[[str, str], bool]
AskText = Callable[[str, str], str | None]

# Ctrl+Shift+I is Interviews › Import transcript and Ctrl+Shift+R is Record interview,
# both window-wide, so the page's own commands take free keys.
DETECT_SHORTCUT = "Ctrl+Shift+D"
REGISTER_SHORTCUT = "Ctrl+Shift+K"
SCHEME_SHORTCUT = "Ctrl+Shift+J"
APPLY_SHORTCUT = "Ctrl+Shift+X"
REVERSE_SHORTCUT = "Ctrl+Shift+O"
PROGRESS_EVERY_S = 0.1


def ask_passphrase(title: str, prompt: str) -> str | None:
    text, ok = QInputDialog.getText(None, title, prompt, QLineEdit.EchoMode.Password)
    return text if ok else None


class ProgressRelay(QObject):
    """Carries progress from a worker thread to the GUI thread (a queued signal),
    at most about ten times a second."""

    progressed = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._last = 0.0

    def report(self, done: int, total: int) -> None:
        """Called in the worker thread."""
        now = time.monotonic()
        if done >= total or now - self._last >= PROGRESS_EVERY_S:
            self._last = now
            self.progressed.emit(done, total)


class ContextDelegate(QStyledItemDelegate):
    """Paints an occurrence's sentence with the term marked in the palette's highlight,
    scrolled so the term is in view however narrow the column."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        context = index.data(CONTEXT_ROLE)
        if not context:
            super().paint(painter, option, index)
            return
        snippet, start, end = context
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette = opt.palette
        normal = QFont(opt.font)
        bold = QFont(opt.font)
        bold.setBold(True)
        fm, bfm = QFontMetrics(normal), QFontMetrics(bold)
        before, term, after = snippet[:start], snippet[start:end], snippet[end:]
        rect = opt.rect.adjusted(4, 0, -4, 0)
        w_before, w_term = fm.horizontalAdvance(before), bfm.horizontalAdvance(term)
        shift = max(0, w_before + w_term // 2 - rect.width() // 2) \
            if w_before + w_term > rect.width() else 0
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setClipRect(rect)
        x = rect.left() - shift
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        painter.setFont(normal)
        painter.setPen(palette.color(text_role))
        painter.drawText(QRect(x, rect.top(), w_before + 1, rect.height()), flags, before)
        x += w_before
        term_rect = QRect(x, rect.top() + 1, w_term + 1, rect.height() - 2)
        painter.setFont(bold)
        if selected:
            bold.setUnderline(True)
            painter.setFont(bold)
        else:
            painter.fillRect(term_rect, palette.color(QPalette.ColorRole.Highlight))
            painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(term_rect, flags, term)
        x += w_term
        painter.setFont(normal)
        painter.setPen(palette.color(text_role))
        painter.drawText(QRect(x, rect.top(), max(rect.right() - x + shift, 0) + 1,
                               rect.height()), flags, after)
        painter.restore()


def _table(name: str) -> QTableView:
    """A read-only list of rows. Columns are sized from the first rows when the list is
    filled, not on every change: measuring thousands of rows at each key press is slow."""
    view = QTableView()
    view.setObjectName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.setWordWrap(False)
    view.setTabKeyNavigation(False)
    header = view.horizontalHeader()
    header.setResizeContentsPrecision(50)
    header.setStretchLastSection(True)
    return view


def _fit_columns(view: QTableView) -> None:
    model = view.model()
    for column in range(model.columnCount() - 1):
        view.resizeColumnToContents(column)


def _button(action: QAction) -> QToolButton:
    """A button for an action; it never takes the focus, so Space and the letter keys stay
    with the list or walk being worked through."""
    button = QToolButton()
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


# --- the review ------------------------------------------------------------------------------


class ReviewPanel(QWidget):
    """Terms on the left, the chosen term's occurrences in context on the right."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.model = TermsModel(store, self, load=False)  # loaded when first shown
        self.filter = TermsFilter(self)
        self.filter.setSourceModel(self.model)
        self.terms = _table("anonymisationTerms")
        self.terms.setModel(self.filter)
        self.terms.setSortingEnabled(True)
        self.terms.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.model.modelReset.connect(lambda: _fit_columns(self.terms))
        self.category = QComboBox()
        self.category.setObjectName("categoryFilter")
        self.category.addItem("All categories", None)
        for c in Category:
            self.category.addItem(CATEGORY_LABELS[c], c.value)
        self.category.currentIndexChanged.connect(
            lambda _i: self.filter.set_category(self.category.currentData()))
        self.undecided_only = QCheckBox("&Undecided only")
        self.undecided_only.setObjectName("undecidedOnly")
        self.undecided_only.toggled.connect(self.filter.set_undecided_only)
        self.occurrences_model = OccurrencesModel(store, self)
        self.occurrences = _table("anonymisationOccurrences")
        self.occurrences.setModel(self.occurrences_model)
        self.occurrences.setItemDelegateForColumn(3, ContextDelegate(self.occurrences))
        self.occurrences_model.modelReset.connect(lambda: _fit_columns(self.occurrences))
        self.heading = QLabel("Choose a term to see where it occurs.")
        self.heading.setObjectName("termHeading")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("&Show:", buddy=self.category))
        filters.addWidget(self.category, 1)
        filters.addWidget(self.undecided_only)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.terms, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.heading)
        right_layout.addLayout(self.buttons)
        right_layout.addWidget(self.occurrences, 1)
        hint = QLabel("Up/Down to move, A to replace, R to keep; the next undecided place "
                      "comes up. Shift+A or Shift+R for every place of the term.")
        hint.setWordWrap(True)
        right_layout.addWidget(hint)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 680])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    def current_term(self) -> Term | None:
        index = self.terms.currentIndex()
        return index.data(TERM_ROLE) if index.isValid() else None

    def select_term(self, key: str) -> bool:
        row = self.model.row_of(key)
        if row < 0:
            return False
        index = self.filter.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.terms.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.terms.scrollTo(index)
        return True

    def visible_terms(self) -> list[Term]:
        return [self.filter.index(r, 0).data(TERM_ROLE) for r in range(self.filter.rowCount())]

    def current_row(self) -> int:
        index = self.occurrences.currentIndex()
        return index.row() if index.isValid() else -1

    def select_row(self, row: int) -> None:
        if row < 0 or row >= self.occurrences_model.rowCount():
            return
        index = self.occurrences_model.index(row, 0)
        self.occurrences.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.occurrences.scrollTo(index)

    def show_heading(self, term: Term | None) -> None:
        if term is None:
            self.heading.setText("Choose a term to see where it occurs.")
            return
        if not term.held:
            self.heading.setText(f"<b>{html.escape(term.replacement)}</b><br>Applied: its "
                                 "original is in the key file. Reverse the anonymisation to "
                                 "review it again.")
            return
        status = ("registered" if term.identifier is not None
                  else "detected, not registered yet")
        rule = {IdentifierRule.ALWAYS: "always replaced", IdentifierRule.NEVER:
                "never replaced (not an identifier)", IdentifierRule.ASK: "asked each time"}
        self.heading.setText(
            f"<b>{html.escape(term.original)}</b> → <b>{html.escape(term.replacement)}</b>"
            f"<br>{html.escape(CATEGORY_LABELS.get(term.category, term.category))}, "
            f"{status}, {rule[term.rule]}: {term.accepted} to replace, {term.rejected} to "
            f"keep, {term.undecided} undecided")


# --- the indirect-identifier walk ------------------------------------------------------------


class IndirectWalk(QWidget):
    """Every capitalised word (not starting a sentence) and every number that no
    candidate, decision or registered identifier covers yet, one at a time."""

    message = Signal(str)
    identify = Signal(object)  # WalkTerm: the researcher says it is an identifier
    fine = Signal(object)  # WalkTerm: not an identifier

    def __init__(self, study: Study, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study, self.runner = study, runner
        self.items: list[WalkTerm] = []
        self.done: set[str] = set()
        self.position = -1
        self.loaded = False
        self.loading = False
        self._stale = False
        self.progress = QLabel()
        self.progress.setObjectName("walkProgress")
        self.word = QLabel()
        self.word.setObjectName("walkWord")
        font = self.word.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.word.setFont(font)
        self.count = QLabel()
        self.contexts = QTextBrowser()
        self.contexts.setObjectName("walkContexts")
        self.contexts.setOpenLinks(False)
        self.contexts.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        self.identifier_action = make_action(self, "This is an &identifier…", self.mark_identifier,
                                             "I")
        self.fine_action = make_action(self, "&Fine, not an identifier", self.mark_fine, "N")
        self.skip_action = make_action(self, "&Skip", self.skip, "Space")
        self.skip_action.setShortcuts(["Space", "Right"])
        self.back_action = make_action(self, "&Back", self.back, "Left")
        self.refresh_action = make_action(self, "&Refresh the walk", self.refresh, "F5")
        self.actions_ = [self.identifier_action, self.fine_action, self.skip_action,
                         self.back_action, self.refresh_action]
        for action in self.actions_:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        buttons = QHBoxLayout()
        for action, label in ((self.identifier_action, "Identifier… (I)"),
                              (self.fine_action, "Fine (N)"),
                              (self.skip_action, "Skip (Space)"),
                              (self.back_action, "Back (←)"),
                              (self.refresh_action, "Refresh (F5)")):
            action.setIconText(label)
            buttons.addWidget(_button(action))
        buttons.addStretch(1)
        intro = QLabel("Indirect identifiers: capitalised words and numbers that nothing "
                       "has flagged. Press I if one could identify someone, N if it is fine, "
                       "Space to skip.")
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.word)
        layout.addWidget(self.count)
        layout.addWidget(self.contexts, 1)
        layout.addLayout(buttons)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._show()

    # --- loading (in a thread: it reads every transcript) ------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self.loaded or self._stale:
            self.refresh()

    def refresh(self) -> None:
        if self.loading:
            return
        self.loading = True
        self._stale = False
        root = self.study.folder.root
        self.progress.setText("Reading the transcripts…")

        def work() -> list[WalkTerm]:
            with open_study(root, backup=False, recover_jobs=False) as s:
                return walk_terms(s.store)

        def done(items: list[WalkTerm]) -> None:
            self.loading, self.loaded = False, True
            current = self.current()
            self.items, self.done = items, set()
            keys = [t.key for t in items]
            self.position = keys.index(current.key) if current and current.key in keys else 0
            self._show()

        def failed(error: Exception) -> None:
            self.loading = False
            if not isinstance(error, StudyError):
                raise error
            self.progress.setText(f"Could not read the transcripts: {error}")

        self.runner.run_in_thread(work, done, failed)

    def mark_stale(self) -> None:
        self._stale = True

    def sync(self, registered: Callable[[str], bool]) -> None:
        """The terms registered now (by any rule) are judged; one whose registration was
        undone comes back into the walk."""
        before = set(self.done)
        self.done = {t.key for t in self.items if registered(t.key)}
        if self.done != before:
            if self.current() is None and 0 <= self.position < len(self.items):
                self._advance(1)
            self._show()

    # --- moving ------------------------------------------------------------------------------

    def current(self) -> WalkTerm | None:
        if 0 <= self.position < len(self.items) and \
                self.items[self.position].key not in self.done:
            return self.items[self.position]
        return None

    def remaining(self) -> int:
        return sum(1 for t in self.items if t.key not in self.done)

    def _advance(self, step: int) -> None:
        """To the next (or previous) term not yet judged; past the end when none."""
        n = len(self.items)
        position = self.position + step
        while 0 <= position < n and self.items[position].key in self.done:
            position += step
        self.position = max(-1, min(position, n))

    def skip(self) -> None:
        if self.position < len(self.items):
            self._advance(1)
        self._show()

    def back(self) -> None:
        """To the previous term not yet judged; nowhere if there is none."""
        before = self.position
        self._advance(-1)
        if self.position < 0:
            self.position = before
        self._show()

    def mark_identifier(self) -> None:
        term = self.current()
        if term is not None:
            self.identify.emit(term)

    def mark_fine(self) -> None:
        term = self.current()
        if term is not None:
            self.fine.emit(term)

    def judged(self, key: str) -> None:
        """The term was registered (identifier or fine): move on."""
        self.done.add(key)
        current = self.current()
        if current is None or current.key == key:
            self._advance(1)
        self._show()

    def undo_judged(self, key: str) -> None:
        self.done.discard(key)
        self._show()

    # --- showing -----------------------------------------------------------------------------

    def _show(self) -> None:
        term = self.current()
        total = len(self.items)
        has = term is not None
        for action in (self.identifier_action, self.fine_action, self.skip_action):
            action.setEnabled(has)
        if not self.loaded:
            self.progress.setText("" if not self.loading else "Reading the transcripts…")
            self.word.setText("")
            self.count.setText("")
            self.contexts.clear()
            return
        if term is None:
            left = self.remaining()
            self.progress.setText(
                f"End of the walk: {plural(total, 'word')} seen, {left} not judged. "
                "Refresh (F5) to walk again over what is still open." if total else
                "Nothing to walk: every capitalised word and number is covered.")
            self.word.setText("")
            self.count.setText("")
            self.contexts.clear()
            return
        self.progress.setText(f"{self.position + 1} of {total}")
        self.word.setText(term.text)
        n = len(term.places)
        self.count.setText(f"{'Number' if term.is_number else 'Word'} found "
                           f"{plural(n, 'time')}" + (", first places shown:" if n > 5 else ":"))
        self.contexts.setHtml(self._contexts_html(term))

    def _contexts_html(self, term: WalkTerm) -> str:
        store = self.study.store
        rows: list[str] = []
        titles: dict[int, str] = {}
        for seg_id, start, end in term.places[:5]:
            try:
                seg = store.segment(seg_id)
            except StudyError:
                continue
            if seg.interview_id not in titles:
                titles[seg.interview_id] = store.interview(seg.interview_id).title
            snippet, s, e = context_of(seg.text, start, end)
            where = f"{titles[seg.interview_id]}, {clock(time_of(seg, start))}"
            rows.append(f"<p><i>{html.escape(where)}</i><br>"
                        f"{html.escape(snippet[:s])}<b><u>{html.escape(snippet[s:e])}</u></b>"
                        f"{html.escape(snippet[e:])}</p>")
        return "".join(rows)


def registered_test(store: Store) -> Callable[[str], bool]:
    """Whether a word is registered (any rule), by its salted hash: this works after an
    apply too, when the originals are in the key file."""
    salt = store.salt()
    hashes = {i.original_hash for i in store.identifiers()}
    return lambda word: term_hash(salt, word) in hashes


def walk_terms(store: Store) -> list[WalkTerm]:
    """What the walk shows for a study: read in a worker thread with its own store."""
    covered = [(c.segment_id, c.start, c.end) for c in store.candidates()]
    covered += [(d.segment_id, d.start_offset, d.end_offset) for d in store.decisions()]
    segments = (seg for i in store.interviews() if i.id is not None
                for seg in store.segments(i.id))
    return indirect_terms(segments, covered, registered_test(store))


# --- the page --------------------------------------------------------------------------------


class AnonymisationView(QWidget):
    """The "Anonymise" page. Wire `on_changed` to the study's change signal and
    `study_changed` (what an apply or reverse wrote from its thread) to every view."""

    message = Signal(str)
    study_changed = Signal(object)  # Changes written outside the GUI's store (apply, reverse)
    open_place = Signal(int, int, int, int)  # interview, segment, start, end: show it there

    def __init__(self, study: Study, runner: JobRunner, stack: QUndoStack,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study, self.store, self.runner, self.stack = study, study.store, runner, stack
        self.use_ner = True
        self.ask: Ask = ask_yes_no
        self.ask_passphrase: AskText = ask_passphrase
        self.inform: Callable[[str, str], None] = inform
        self._reverse: Any = None
        self.dialog: QWidget | None = None  # the dialog last opened, for tests
        self._cancel: threading.Event | None = None
        self._stale = True  # read the study when the page is first shown

        self.review = ReviewPanel(self.store)
        self.walk = IndirectWalk(study, runner)
        self.walk.identify.connect(self._walk_identify)
        self.walk.fine.connect(self._walk_fine)
        self.walk.message.connect(self.message)
        self.review.terms.selectionModel().currentChanged.connect(
            lambda _c, _p: self._term_chosen())
        self.review.terms.doubleClicked.connect(lambda _i: self.edit_current())
        self.review.occurrences.activated.connect(lambda _i: self.open_current_place())
        self.review.occurrences.selectionModel().currentChanged.connect(
            lambda _c, _p: self._update_actions())

        page = self
        self.detect_action = make_action(page, "&Find identifiers", self.detect, DETECT_SHORTCUT)
        self.cancel_detect_action = make_action(page, "&Stop finding identifiers",
                                                self.cancel_detection, "Esc")
        self.register_action = make_action(page, "&Register a name…",
                                           lambda: self.register_dialog(), REGISTER_SHORTCUT)
        self.scheme_action = make_action(page, "Replacement &scheme…", self.scheme_dialog,
                                         SCHEME_SHORTCUT)
        self.apply_action = make_action(page, "&Apply anonymisation…", self.apply_dialog,
                                        APPLY_SHORTCUT)
        self.reverse_action = make_action(page, "Re&verse anonymisation…", self.reverse,
                                          REVERSE_SHORTCUT)
        self.page_actions = [self.detect_action, self.cancel_detect_action,
                             self.register_action, self.scheme_action, self.apply_action,
                             self.reverse_action]
        review = self.review
        self.accept_action = make_action(review, "Re&place this occurrence", self.accept, "A")
        self.reject_action = make_action(review, "&Keep this occurrence (not an identifier here)",
                                         self.reject, "R")
        self.accept_all_action = make_action(review, "Replace &every undecided occurrence",
                                             self.accept_all, "Shift+A")
        self.reject_all_action = make_action(review, "Keep e&very undecided occurrence",
                                             self.reject_all, "Shift+R")
        self.always_action = make_action(review, "&Always replace this term", self.always, "W")
        self.never_action = make_action(review, "&Never replace (not an identifier)",
                                        self.never, "N")
        self.edit_action = make_action(review, "&Edit replacement and category…",
                                       self.edit_current, "F2")
        self.review_actions = [self.accept_action, self.reject_action, self.accept_all_action,
                               self.reject_all_action, self.always_action, self.never_action,
                               self.edit_action]
        self.walk_actions = self.walk.actions_
        for action in (*self.page_actions, *self.review_actions):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.cancel_detect_action.setEnabled(False)
        labels = {self.accept_action: "Replace (A)", self.reject_action: "Keep (R)",
                  self.accept_all_action: "Replace all", self.reject_all_action: "Keep all",
                  self.always_action: "Always (W)", self.never_action: "Never (N)",
                  self.edit_action: "Edit… (F2)"}
        for action, label in labels.items():
            action.setIconText(label)  # what a tool button shows; menus show text()
            action.setToolTip(f"{action.text().replace('&', '')} "
                              f"({action.shortcut().toString()})")
            review.buttons.addWidget(_button(action))
        review.buttons.addStretch(1)

        toolbar = QToolBar()
        toolbar.setObjectName("anonymisationToolbar")
        toolbar.addActions([self.detect_action, self.register_action, self.scheme_action])
        toolbar.addSeparator()
        toolbar.addActions([self.apply_action, self.reverse_action])
        self.progress = QProgressBar()
        self.progress.setObjectName("detectProgress")
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelDetection")
        self.cancel_button.clicked.connect(self.cancel_detection)
        self.busy = QWidget()
        busy_layout = QHBoxLayout(self.busy)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        busy_layout.addWidget(QLabel("Finding identifiers…"))
        busy_layout.addWidget(self.progress, 1)
        busy_layout.addWidget(self.cancel_button)
        self.busy.hide()
        self.status = QLabel()
        self.status.setObjectName("anonymisationStatus")
        self.status.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.review, "Revie&w")
        self.tabs.addTab(self.walk, "In&direct identifiers")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        self._update_actions()

    # --- refresh -----------------------------------------------------------------------------

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        kinds = changes.kinds()
        if not kinds & WATCHED:
            return
        if kinds & {"identifier", "candidate", "segment", "interview"}:
            self.walk.mark_stale()
        if not self.isVisible():
            self._stale = True
            return
        self.reload(changes)
        if "identifier" in kinds and self.walk.items:
            self.walk.sync(registered_test(self.store))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self, changes: Changes | None = None) -> None:
        """Read the terms again (what `changes` touched, or all), keeping the chosen term
        and place."""
        if self._stale:
            changes = None  # never read yet, or changes were missed while hidden
        self._stale = False
        term = self.review.current_term()
        row = self.review.current_row()
        self.review.model.reload(changes)
        if term is not None and not self.review.select_term(term.key):
            self._choose_nearest()
        self._term_chosen(keep_row=row)
        self._update_status()

    def _choose_nearest(self) -> None:
        if self.review.filter.rowCount():
            self.review.terms.setCurrentIndex(self.review.filter.index(0, 0))

    def _term_chosen(self, keep_row: int = -1) -> None:
        term = self.review.current_term()
        self.review.model.hint = term.identifier_id if term is not None else None
        model = self.review.occurrences_model
        same = term is not None and model.term is not None and model.term.key == term.key
        model.update_term(term) if same else model.show_term(term)
        self.review.show_heading(term)
        if model.rowCount():
            if same and 0 <= keep_row < model.rowCount():
                self.review.select_row(keep_row)
            elif not same:
                first = model.next_undecided(-1)
                self.review.select_row(first if first >= 0 else 0)
        self._update_actions()

    def _update_actions(self) -> None:
        term = self.review.current_term()
        has = term is not None and term.held  # an applied one's original is in the key file
        place = has and self.review.current_row() >= 0
        self.accept_action.setEnabled(place)
        self.reject_action.setEnabled(place)
        for action in (self.accept_all_action, self.reject_all_action):
            action.setEnabled(has and bool(term and term.undecided))
        for action in (self.always_action, self.never_action, self.edit_action):
            action.setEnabled(has)

    def _update_status(self) -> None:
        terms = self.review.model.terms()
        undecided = sum(t.undecided for t in terms)
        runs = self._runs()
        applied = [r for r in runs if getattr(r, "reversed_at", None) is None]
        if applied:
            when = getattr(applied[-1], "applied_at", None)
            stamp = f" on {when:%d %b %Y %H:%M}" if when is not None else ""
            self.status.setText(f"Anonymisation was applied{stamp}: the study holds the "
                                "replacements, the originals are in the key file. Reverse it "
                                "to review again.")
        elif terms:
            self.status.setText(f"{plural(len(terms), 'term')}, "
                                f"{plural(undecided, 'place')} undecided.")
        else:
            self.status.setText("Nothing found yet: Find identifiers, or register the names "
                                "you know (participants, staff, places).")
        self.reverse_action.setEnabled(bool(applied) and self._cancel is None)

    def _runs(self) -> list[Any]:
        try:
            return list(self.store.anonymisation_runs())
        except AttributeError:  # not in this version of the store
            return []

    # --- deciding ----------------------------------------------------------------------------

    def _registration(self, term: Term) -> Registration:
        """How a detected term is registered when first decided on: with the replacement
        the list shows for it, while no other identifier has taken it since (else the
        scheme's next)."""
        replacement: str | None = term.replacement or None
        if term.identifier is None and replacement is not None and replacement in {
                i.replacement for i in self.store.identifiers()}:
            replacement = None
        return Registration(term.original, term.category, replacement, term.attributes)

    def _push(self, command: Any) -> bool:
        try:
            push(self.stack, command)
        except StudyError as e:
            errors.show_error(self, "Could not make that change", str(e))
            return False
        return True

    def _decide(self, spots: list[tuple[int, int, int]], decision: Decision) -> bool:
        term = self.review.current_term()
        if term is None or not term.held or not spots:
            return False
        return self._push(Decide(self.store, self._registration(term), spots, decision))

    def _decide_current(self, decision: Decision) -> None:
        row = self.review.current_row()
        if row < 0:
            self.message.emit("Choose an occurrence first.")
            return
        term = self.review.current_term()
        assert term is not None
        place = self.review.occurrences_model.place(row)
        if not self._decide([place.occurrence.spot], decision):
            return
        self._next_undecided(term.key, row)

    def _next_undecided(self, key: str, row: int) -> None:
        """After a decision: the next undecided place of this term, else of the next term
        that has one."""
        model = self.review.occurrences_model
        term = self.review.current_term()
        if term is not None and term.key == key:
            nxt = model.next_undecided(row)
            if nxt >= 0:
                self.review.select_row(nxt)
                return
        terms = self.review.visible_terms()
        keys = [t.key for t in terms]
        start = keys.index(key) + 1 if key in keys else 0
        for t in terms[start:] + terms[:start]:
            if t.undecided and t.key != key:
                self.review.select_term(t.key)
                self.review.occurrences.setFocus()
                self.message.emit(f"On to “{t.original}”.")
                return
        if term is not None and term.key == key:
            self.review.select_row(min(row + 1, model.rowCount() - 1))
        self.message.emit("Every occurrence has a decision.")

    def open_current_place(self) -> None:
        """Ask for the chosen occurrence to be shown in its transcript (Return or a
        double click): the main window connects `open_place` to the coding page."""
        row = self.review.current_row()
        if row >= 0:
            p = self.review.occurrences_model.place(row)
            o = p.occurrence
            self.open_place.emit(p.interview_id, o.segment_id, o.start, o.end)

    def accept(self) -> None:
        self._decide_current(Decision.ACCEPT)

    def reject(self) -> None:
        self._decide_current(Decision.REJECT)

    def _decide_all(self, decision: Decision) -> None:
        term = self.review.current_term()
        if term is None:
            return
        spots = term.undecided_spots()
        if not spots:
            self.message.emit("Every occurrence of this term already has a decision.")
            return
        if self._decide(spots, decision):
            verb = "replaced" if decision is Decision.ACCEPT else "kept"
            self.message.emit(f"{plural(len(spots), 'occurrence')} of “{term.original}” "
                              f"will be {verb}.")
            self._next_undecided(term.key, -1)

    def accept_all(self) -> None:
        self._decide_all(Decision.ACCEPT)

    def reject_all(self) -> None:
        self._decide_all(Decision.REJECT)

    def _rule(self, rule: IdentifierRule) -> None:
        term = self.review.current_term()
        if term is None or not term.held:
            return
        if term.identifier is not None and term.rule is rule:
            self.message.emit("That is already the rule for this term.")
            return
        if self._push(SetRuleOrRegister(self.store, self._registration(term), rule)):
            self.message.emit(f"“{term.original}” will "
                              f"{'always' if rule is IdentifierRule.ALWAYS else 'never'} "
                              "be replaced, except where you decided otherwise.")

    def always(self) -> None:
        self._rule(IdentifierRule.ALWAYS)

    def never(self) -> None:
        self._rule(IdentifierRule.NEVER)

    # --- registering and editing -------------------------------------------------------------

    def register_dialog(self, original: str = "", category: str | None = None
                        ) -> IdentifierDialog:
        dialog = IdentifierDialog(self.store, self._register, original=original,
                                  category=category, parent=self)
        self._open(dialog)
        return dialog

    def _register(self, r: Registration) -> None:
        push(self.stack, RegisterIdentifier(self.store, r))  # a refusal keeps the dialog open
        self.review.select_term(normalise(r.original))
        self.message.emit(f"Registered “{r.original}” as {r.replacement}.")

    def edit_current(self) -> IdentifierDialog | None:
        term = self.review.current_term()
        if term is None or not term.held:
            return None
        if term.identifier is None:
            return self.register_dialog(term.original, term.category)
        before = term.identifier

        def submit(r: Registration) -> None:
            after = dataclasses.replace(before, category=r.category,
                                        replacement=r.replacement or before.replacement,
                                        attributes=r.attributes, rule=r.rule)
            if after != before:
                push(self.stack, EditIdentifier(self.store, term.original, before, after))

        dialog = IdentifierDialog(self.store, submit, identifier=before,
                                  original=term.original, parent=self)
        self._open(dialog)
        return dialog

    def scheme_dialog(self) -> SchemeDialog:
        dialog = SchemeDialog(self.store, self.stack, self)
        self._open(dialog)
        return dialog

    # --- the walk ----------------------------------------------------------------------------

    def _walk_identify(self, term: WalkTerm) -> None:
        category = Category.OTHER.value if term.is_number else Category.PERSON.value

        def submit(r: Registration) -> None:
            self._register(r)
            self.walk.judged(term.key)

        dialog = IdentifierDialog(self.store, submit, original=term.text, category=category,
                                  parent=self)
        self._open(dialog)

    def _walk_fine(self, term: WalkTerm) -> None:
        r = Registration(term.text, Category.OTHER.value, None, (), IdentifierRule.NEVER)
        if self._push(SetRuleOrRegister(self.store, r, IdentifierRule.NEVER,
                                        f"“{term.text}” is not an identifier")):
            self.walk.judged(term.key)
            self.message.emit(f"“{term.text}” is fine: it will not be shown again.")

    # --- detection ---------------------------------------------------------------------------

    def detect(self) -> None:
        """Find identifiers in every transcript, in a thread with its own connection; the
        candidates found replace the earlier ones (decisions are kept)."""
        if self._cancel is not None:
            return
        root, use_ner = self.study.folder.root, self.use_ner
        cancel = threading.Event()
        relay = ProgressRelay(self)
        relay.progressed.connect(self._detect_progress)
        self._cancel = cancel

        def work() -> int:
            from analysis.anonymise.detect import detect_study

            with open_study(root, backup=False, recover_jobs=False) as s:
                found = detect_study(s.store, use_ner=use_ner, progress=relay.report,
                                     cancelled=cancel.is_set)
                s.store.replace_candidates(found)
                return len(found)

        def finish() -> None:
            self._cancel = None
            relay.deleteLater()
            self.busy.hide()
            self.detect_action.setEnabled(True)
            self.cancel_detect_action.setEnabled(False)
            self.apply_action.setEnabled(True)
            self._update_status()

        def done(count: int) -> None:
            finish()
            self.reload()
            self.walk.mark_stale()
            terms = self.review.model.terms()
            self.message.emit(f"Found {plural(count, 'place')} to review "
                              f"({plural(len(terms), 'term')}).")
            if self.review.current_term() is None:
                self._choose_nearest()

        def failed(error: Exception) -> None:
            from analysis.anonymise.detect import DetectionCancelled

            finish()
            if isinstance(error, DetectionCancelled):
                self.message.emit("Stopped finding identifiers; the earlier suggestions "
                                  "are kept.")
                return
            if not isinstance(error, StudyError):
                raise error
            errors.show_error(self, "Could not find identifiers", str(error))

        self.progress.setRange(0, 0)
        self.busy.show()
        self.detect_action.setEnabled(False)
        self.cancel_detect_action.setEnabled(True)
        self.apply_action.setEnabled(False)  # it would rewrite what detection is reading
        self.reverse_action.setEnabled(False)
        self.message.emit("Finding identifiers…")
        self.runner.run_in_thread(work, done, failed)

    @Slot(int, int)
    def _detect_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def detecting(self) -> bool:
        return self._cancel is not None

    def cancel_detection(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def shutdown(self) -> None:
        """Before the study closes: ask a running detection to stop (the runner waits)."""
        self.cancel_detection()

    # --- apply and reverse -------------------------------------------------------------------

    def apply_dialog(self) -> QWidget:
        from gui.apply_dialog import ApplyDialog

        dialog = ApplyDialog(self.study, self.runner, self.stack, self, ask=self.ask)
        dialog.applied.connect(self._after_rewrite)
        dialog.message.connect(self.message)
        self._open(dialog)
        return dialog

    def reverse(self) -> bool:
        """Confirm, ask for the key's passphrase if it has one, reverse in a thread."""
        from gui.apply_dialog import ReverseFlow

        if self._reverse is not None and self._reverse.running:
            return False
        flow = ReverseFlow(self.study, self.runner, self.stack, self, ask=self.ask,
                           ask_passphrase=self.ask_passphrase, inform=self.inform)
        flow.finished.connect(self._after_rewrite)
        flow.message.connect(self.message)
        self._reverse = flow
        return flow.start()

    def _after_rewrite(self, changes: object) -> None:
        """Apply or reverse rewrote the study from a thread: tell every view."""
        if not isinstance(changes, Changes):
            return
        self.study_changed.emit(changes)
        self.reload()
        self.walk.mark_stale()

    def _open(self, dialog: QWidget) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.destroyed.connect(lambda _o=None: self._forget_dialog(dialog))
        dialog.open()  # type: ignore[attr-defined]

    def _forget_dialog(self, dialog: QWidget) -> None:
        if self.dialog is dialog:
            self.dialog = None
