"""The coding page: pick an interview, select text, apply codes by click, key or name;
codes, search and memos in a side panel. Every change goes through the undo stack."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gui.actions import make_action
from gui.code_dialog import next_colour
from gui.code_tree import CodeTree
from gui.coding_layout import Span
from gui.coding_view import CodingView
from gui.memo_panel import MemoPanel
from gui.quick_code_bar import QuickCodeBar
from gui.search_panel import SearchPanel
from gui.undo import push
from gui.undo_codebook import AddCode, AddCodings, RemoveCodings
from study.errors import StudyError
from study.model import Changes, Code, Coding, MemoTarget
from study.store import Store


class CodingPage(QWidget):
    message = Signal(str)

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.interviews = QComboBox()
        self.interviews.setObjectName("codingInterview")
        self.interviews.currentIndexChanged.connect(self._interview_chosen)
        self.view = CodingView(store)
        self.text = self.view.text
        self.quick = QuickCodeBar()
        self.codes = CodeTree(quick_keys=True)
        self.codes.setObjectName("codingCodes")
        self.memos = MemoPanel(store, stack)
        self.search = SearchPanel(store, stack)
        self.search.jump.connect(self.jump)
        self.current_coding: Coding | None = None
        self._wanted: int | None = None
        self._loaded = False

        self.apply_action = make_action(self, "&Apply current code to selection",
                                        self.apply_current, "Ctrl+Shift+C")
        self.quick_action = make_action(self, "Code selection &as…", self.start_quick, "Ctrl+K")
        self.uncode_action = make_action(self, "&Remove coding at cursor", self.uncode,
                                         "Ctrl+Shift+U")
        self.search_action = make_action(self, "&Search transcripts…", self.show_search,
                                         "Ctrl+Shift+F")
        for action in (self.apply_action, self.quick_action, self.uncode_action,
                       self.search_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.codes.code_activated.connect(self.apply_code)
        self.text.quick_key.connect(self._quick_key)
        self.text.type_to_code.connect(self.start_quick)
        self.text.uncode_requested.connect(self.uncode)
        self.text.coding_selected.connect(self._coding_selected)
        self.text.context_requested.connect(self._context_menu)
        self.quick.chosen.connect(self.apply_code)
        self.quick.create.connect(self.create_and_apply)
        self.quick.closed.connect(self.text.setFocus)

        apply_button = QPushButton("Apply to selection")
        apply_button.clicked.connect(self.apply_current)
        codes_box = QWidget()
        codes_layout = QVBoxLayout(codes_box)
        codes_layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel("Select text, then double-click a code, press its number, "
                      "or type its name.")
        hint.setWordWrap(True)
        codes_layout.addWidget(hint)
        codes_layout.addWidget(self.codes)
        codes_layout.addWidget(apply_button)
        self.side = QTabWidget()
        self.side.addTab(codes_box, "Codes")
        self.side.addTab(self.search, "Search")
        self.side.addTab(self.memos, "Memos")

        top = QHBoxLayout()
        top.addWidget(QLabel("&Interview:", buddy=self.interviews))
        top.addWidget(self.interviews, 1)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.addLayout(top)
        centre_layout.addWidget(self.view, 1)
        centre_layout.addWidget(self.quick)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(centre)
        splitter.addWidget(self.side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([700, 320])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.reload_interviews()
        self.reload_codes()

    # --- loading -----------------------------------------------------------------------------

    def reload_interviews(self) -> None:
        current = self.view.interview_id
        self.interviews.blockSignals(True)
        self.interviews.clear()
        for summary in self.store.interview_summaries():
            i = summary.interview
            label = f"{i.title} — {summary.participant_code}" if summary.participant_code \
                else i.title
            self.interviews.addItem(label, i.id)
        self.interviews.blockSignals(False)
        index = self.interviews.findData(current) if current is not None else 0
        self.interviews.setCurrentIndex(max(index, 0))
        self._interview_chosen(self.interviews.currentIndex())

    def _counts(self) -> dict[int, int]:
        """Codings per code in this interview."""
        counts: dict[int, int] = {}
        for c in self.text.spans:
            counts[c.coding.code_id] = counts.get(c.coding.code_id, 0) + 1
        return counts

    def reload_codes(self) -> None:
        self.codes.reload(self.store.codes(), self._counts())

    def _interview_chosen(self, index: int) -> None:
        self._wanted = self.interviews.itemData(index) if index >= 0 else None
        if self.isVisible():
            self._load_wanted()

    def showEvent(self, event: QShowEvent) -> None:
        """Interviews load when the page is shown, so opening a study stays quick."""
        super().showEvent(event)
        self._load_wanted()

    def _load_wanted(self) -> None:
        if self._loaded and self._wanted == self.view.interview_id:
            return
        self._loaded = True
        self.view.load(self._wanted)
        self.search.set_current_interview(self._wanted)
        self.reload_codes()
        self._coding_selected(None)

    def open_interview(self, interview_id: int) -> None:
        index = self.interviews.findData(interview_id)
        if index >= 0 and index != self.interviews.currentIndex():
            self.interviews.setCurrentIndex(index)

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        kinds = changes.kinds()
        if "interview" in kinds or "participant" in kinds:
            self.reload_interviews()
        self.view.on_changed(changes)
        if "code" in kinds:
            self.reload_codes()
        elif kinds & {"coding", "segment"}:
            self.codes.set_counts(self._counts())
        if self.current_coding is not None and \
                self.current_coding.id in changes.ids("coding", "removed"):
            self._coding_selected(None)
        self.memos.on_changed(changes)
        self.search.on_changed(changes)

    # --- coding ------------------------------------------------------------------------------

    def apply_current(self) -> None:
        code_id = self.codes.current_code_id()
        if code_id is None:
            self.message.emit("Choose a code in the list first.")
            return
        self.apply_code(code_id)

    @Slot(int)
    def apply_code(self, code_id: int) -> bool:
        sel = self.view.selection()
        if sel is None:
            self.message.emit("Select some text in the transcript first.")
            return False
        coding = self.view.coding_for(code_id, sel)
        if any(s.coding.code_id == code_id and
               (s.coding.start_segment_id, s.coding.start_offset, s.coding.end_segment_id,
                s.coding.end_offset) == (coding.start_segment_id, coding.start_offset,
                                         coding.end_segment_id, coding.end_offset)
               for s in self.text.spans):
            self.message.emit("That text already has this code.")
            return False
        code = self.store.code(code_id)
        try:
            push(self.stack, AddCodings(self.store, [coding], f"Code as {code.name}"))
        except StudyError as e:
            self.message.emit(str(e))
            return False
        self.message.emit(f"Coded as {code.name}.")
        self.text.setFocus()
        return True

    def create_and_apply(self, name: str) -> None:
        if self.view.selection() is None:
            self.message.emit("Select some text in the transcript first.")
            return
        codes = self.store.codes()
        self.stack.beginMacro(f"Code as new code {name}")
        try:
            command = AddCode(self.store, Code(name, colour=next_colour(codes)))
            push(self.stack, command)
            assert command.code.id is not None
            self.apply_code(command.code.id)
        except StudyError as e:
            self.message.emit(str(e))
        finally:
            self.stack.endMacro()

    def _quick_key(self, key: int) -> None:
        code_id = self.codes.quick_code(key)
        if code_id is None:
            self.message.emit(f"No code has key {key}: the first nine codes listed do.")
            return
        self.apply_code(code_id)

    def start_quick(self, typed: str = "") -> None:
        self.quick.start(self.store.codes(), typed if isinstance(typed, str) else "")

    def uncode(self) -> None:
        """Remove the coding under the cursor: of the current code when several overlap."""
        under = self.text.codings_at_cursor()
        current = self.codes.current_code_id()
        if len(under) > 1 and current is not None:
            under = [c for c in under if c.code_id == current] or under
        if not under:
            self.message.emit("There is no coding at the cursor.")
            return
        if len(under) > 1:
            self.message.emit(f"{len(under)} codings overlap here: choose their code in the "
                              "list, or right-click to pick one.")
            return
        self.remove([under[0]])

    def remove(self, codings: list[Coding]) -> None:
        names = {self.store.code(c.code_id).name for c in codings}
        push(self.stack, RemoveCodings(self.store, codings,
                                       f"Remove coding {', '.join(sorted(names))}"))
        self.message.emit("Coding removed.")

    # --- memos, search, menus ----------------------------------------------------------------

    def _coding_selected(self, coding: Coding | None) -> None:
        self.current_coding = coding
        if coding is not None and coding.id is not None:
            code = self.store.code(coding.code_id)
            self.memos.set_target(MemoTarget.CODING, coding.id, f"Coding: {code.name}")
            self.codes.set_current(coding.code_id)
        elif self.view.interview_id is not None:
            self.memos.set_target(MemoTarget.INTERVIEW, self.view.interview_id,
                                  f"Interview: {self.interviews.currentText()}")

    def show_search(self) -> None:
        self.side.setCurrentWidget(self.search)
        self.search.setFocus()

    @Slot(int, int, int, int)
    def jump(self, interview_id: int, segment_id: int, start: int, end: int,
             end_segment_id: int | None = None) -> None:
        """Show an interview with a span selected (from search or a codings list)."""
        self.open_interview(interview_id)
        self.text.select_span(segment_id, start, end_segment_id or segment_id, end)
        self.text.setFocus()

    def _context_menu(self, where: QPoint, spans: list[Span]) -> None:
        menu = self.context_menu(spans)
        menu.popup(where)

    def context_menu(self, spans: list[Span]) -> QMenu:
        menu = QMenu(self)
        menu.addAction(self.quick_action)
        menu.addAction(self.apply_action)
        for span in spans:
            code = self.text.codes.get(span.coding.code_id)
            if code is None:
                continue
            menu.addSeparator()
            menu.addAction(f"Select coding “{code.name}”",
                           lambda _checked=False, s=span: self.text.select_coding(s.coding))
            menu.addAction(f"Remove coding “{code.name}”",
                           lambda _checked=False, s=span: self.remove([s.coding]))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        return menu
