"""One interview as a document to code: each segment a paragraph, time and speaker in
the left margin, coding stripes in the right margin, coded text tinted in its code's
colour. A selection may run across segments; it becomes a coding anchored to
(segment, offset) pairs, so later edits move it with its words.

Keys in the text (it is read-only, so plain keys are free): 1–9 apply the quick codes,
a letter starts typing a code's name, Delete removes the coding under the cursor.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QVBoxLayout, QWidget

from gui.coding_layout import DocumentMap, Span, lay_out, snap_to_words, spans_at
from gui.format import clock
from study.model import Changes, Code, Coding, MemoTarget, Segment, Speaker, SpeakerRole
from study.store import Store

LANE = 6
MAX_LANES = 14
GUTTER_PAD = 6
TINT_ALPHA = 55


@dataclass(frozen=True, slots=True)
class Selection:
    """A selection in anchor terms: what a new coding would cover."""

    start_segment_id: int
    start_offset: int
    end_segment_id: int
    end_offset: int


class _Margin(QWidget):
    """A margin beside the text; its owner paints it."""

    def __init__(self, view: CodingText, side: str) -> None:
        super().__init__(view)
        self.view, self.side = view, side
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:
        return QSize(self.view.margin_width(self.side), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.view.paint_margin(self, event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.side == "right":
            span = self.view.stripe_at(event.position().toPoint())
            if span is not None:
                self.view.select_coding(span.coding)

    def event(self, e: object) -> bool:
        if isinstance(e, QHelpEvent) and e.type() == QEvent.Type.ToolTip and self.side == "right":
            span = self.view.stripe_at(e.pos())
            if span is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(e.globalPos(), self.view.describe([span]), self)
            return True
        return super().event(e)  # type: ignore[arg-type]


class CodingText(QPlainTextEdit):
    """The read-only transcript with margins; knows nothing of undo or the store."""

    quick_key = Signal(int)  # 1..9
    type_to_code = Signal(str)  # the first letter typed
    uncode_requested = Signal()
    coding_selected = Signal(object)  # Coding | None
    context_requested = Signal(QPoint, object)  # global pos, list of Spans under the mouse

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codingText")
        self.setReadOnly(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setCenterOnScroll(False)
        self.segments: list[Segment] = []
        self.speakers: dict[int, Speaker] = {}
        self.codes: dict[int, Code] = {}
        self.memos: dict[int, str] = {}  # coding id -> first memo line
        self.doc = DocumentMap([])
        self.spans: list[Span] = []
        self.left = _Margin(self, "left")
        self.right = _Margin(self, "right")
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._scroll_margins)
        self._update_margins()

    # --- content -------------------------------------------------------------------------

    def show_segments(self, segments: list[Segment], speakers: dict[int, Speaker]) -> None:
        self.segments, self.speakers = segments, speakers
        self.doc = DocumentMap(segments)
        self.setPlainText("\n".join(s.text for s in segments))
        self._update_margins()

    def show_codings(self, codings: list[Coding], codes: dict[int, Code],
                     memos: dict[int, str]) -> None:
        self.codes, self.memos = codes, memos
        self.spans = lay_out([c for c in codings if c.code_id in codes], self.doc)
        extras = []
        for span in self.spans:
            fmt = QTextCharFormat()
            colour = QColor(codes[span.coding.code_id].colour)
            colour.setAlpha(TINT_ALPHA)
            fmt.setBackground(colour)
            extra = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.document())
            cursor.setPosition(span.start)
            cursor.setPosition(span.end, QTextCursor.MoveMode.KeepAnchor)
            extra.cursor, extra.format = cursor, fmt  # type: ignore[misc]
            extras.append(extra)
        self.setExtraSelections(extras)
        self._update_margins()
        self.right.update()

    # --- selection -----------------------------------------------------------------------

    def selection(self, *, snap: bool = True) -> Selection | None:
        """The current selection as anchors, grown to whole words."""
        cursor = self.textCursor()
        if not cursor.hasSelection() or not self.segments:
            return None
        found = self.doc.selection(cursor.selectionStart(), cursor.selectionEnd())
        if found is None:
            return None
        (s_id, s_off), (e_id, e_off) = found
        if snap:
            s_text = self.segments[self.doc.block_of[s_id]].text
            e_text = self.segments[self.doc.block_of[e_id]].text
            s_off = snap_to_words(s_text, s_off, len(s_text))[0] if s_off < len(s_text) else s_off
            e_off = snap_to_words(e_text, 0, e_off)[1] if e_off > 0 else e_off
            if s_id == e_id and e_off <= s_off:
                return None
        return Selection(s_id, s_off, e_id, e_off)

    def select_span(self, segment_id: int, start: int, end_segment_id: int, end: int) -> None:
        a = self.doc.position(segment_id, start)
        b = self.doc.position(end_segment_id, end)
        if a is None or b is None:
            return
        cursor = self.textCursor()
        cursor.setPosition(a)
        cursor.setPosition(b, QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)
        self.ensureCursorVisible()

    def select_coding(self, coding: Coding) -> None:
        self.select_span(coding.start_segment_id, coding.start_offset,
                         coding.end_segment_id, coding.end_offset)
        self.coding_selected.emit(coding)

    def codings_at_cursor(self) -> list[Coding]:
        """Codings under the cursor, or overlapping the selection when there is one."""
        cursor = self.textCursor()
        a, b = cursor.selectionStart(), cursor.selectionEnd()
        if a == b:
            return [s.coding for s in spans_at(self.spans, a)]
        return [s.coding for s in self.spans if s.start < b and s.end > a]

    # --- describing codings -------------------------------------------------------------

    def describe(self, spans: list[Span]) -> str:
        lines = []
        for span in spans:
            code = self.codes.get(span.coding.code_id)
            if code is None:
                continue
            line = f"<b>{html.escape(code.name)}</b>"
            if code.definition:
                line += f"<br><i>{html.escape(code.definition.splitlines()[0][:160])}</i>"
            memo = self.memos.get(span.coding.id or -1)
            if memo:
                line += f"<br>Memo: {html.escape(memo[:160])}"
            lines.append(line)
        return "<br>".join(lines)

    def event(self, e: object) -> bool:
        if isinstance(e, QHelpEvent) and e.type() == QEvent.Type.ToolTip:
            point = self.viewport().mapFrom(self, e.pos())
            spans = spans_at(self.spans, self.cursorForPosition(point).position())
            if spans:
                QToolTip.showText(e.globalPos(), self.describe(spans), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)  # type: ignore[arg-type]

    # --- keys, clicks and menus ------------------------------------------------------------

    def keyPressEvent(self, e: QKeyEvent) -> None:
        mods = e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        text = e.text()
        if mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            if text in tuple("123456789") and mods == Qt.KeyboardModifier.NoModifier:
                self.quick_key.emit(int(text))
                return
            if e.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.uncode_requested.emit()
                return
            if len(text) == 1 and text.isalpha():
                self.type_to_code.emit(text)
                return
        super().keyPressEvent(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        super().mouseReleaseEvent(e)
        if not self.textCursor().hasSelection():
            under = spans_at(self.spans, self.textCursor().position())
            self.coding_selected.emit(under[-1].coding if under else None)

    def contextMenuEvent(self, e: QContextMenuEvent) -> None:
        position = self.cursorForPosition(e.pos()).position()
        self.context_requested.emit(e.globalPos(), spans_at(self.spans, position))

    # --- margins -------------------------------------------------------------------------

    def margin_width(self, side: str) -> int:
        metrics = QFontMetrics(self.font())
        if side == "left":
            return metrics.horizontalAdvance("00:00:00  MMMMMMMMMM") + GUTTER_PAD
        lanes = min(MAX_LANES, max((s.lane for s in self.spans), default=-1) + 1)
        return max(1, lanes) * LANE + 2 * GUTTER_PAD

    def _update_margins(self) -> None:
        self.setViewportMargins(self.margin_width("left"), 0, self.margin_width("right"), 0)
        self._place_margins()

    def _place_margins(self) -> None:
        rect = self.contentsRect()
        left, right = self.margin_width("left"), self.margin_width("right")
        self.left.setGeometry(QRect(rect.left(), rect.top(), left, rect.height()))
        self.right.setGeometry(QRect(rect.right() - right + 1, rect.top(), right, rect.height()))

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._place_margins()

    @Slot(QRect, int)
    def _scroll_margins(self, rect: QRect, dy: int) -> None:
        for margin in (self.left, self.right):
            if dy:
                margin.scroll(0, dy)
            else:
                margin.update(0, rect.y(), margin.width(), rect.height())

    def _visible_blocks(self) -> list[tuple[int, int, int]]:
        """(block number, top, bottom) of the blocks on screen, in viewport pixels."""
        out = []
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.viewport().height()
        while block.isValid() and top <= height:
            bottom = top + round(self.blockBoundingRect(block).height())
            if block.isVisible():
                out.append((block.blockNumber(), top, bottom))
            block = block.next()
            top = bottom
        return out

    def paint_margin(self, margin: _Margin, event: QPaintEvent) -> None:
        painter = QPainter(margin)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        visible = self._visible_blocks()
        if margin.side == "left":
            self._paint_times(painter, margin, visible)
        elif visible:
            self._paint_stripes(painter, margin, visible)
        painter.end()

    def _paint_times(self, painter: QPainter, margin: _Margin,
                     visible: list[tuple[int, int, int]]) -> None:
        metrics = QFontMetrics(self.font())
        palette = self.palette()
        for number, top, _bottom in visible:
            if number >= len(self.segments):
                continue
            seg = self.segments[number]
            speaker = self.speakers.get(seg.speaker_id or -1)
            label = speaker.label if speaker else ""
            font = painter.font()
            font.setBold(bool(speaker and speaker.role is SpeakerRole.PARTICIPANT))
            painter.setFont(font)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            time = clock(seg.start_ms)
            painter.drawText(2, top + metrics.ascent(), time)
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            x = 2 + metrics.horizontalAdvance("00:00:00  ")
            painter.drawText(x, top + metrics.ascent(),
                             metrics.elidedText(label, Qt.TextElideMode.ElideRight,
                                                margin.width() - x - GUTTER_PAD))

    def stripe_rect(self, span: Span) -> QRect | None:
        """Where a span's stripe is drawn in the right margin (viewport coordinates)."""
        if span.lane >= MAX_LANES:
            return None
        start, end = QTextCursor(self.document()), QTextCursor(self.document())
        start.setPosition(span.start)
        end.setPosition(span.end)
        top, bottom = self.cursorRect(start).top(), self.cursorRect(end).bottom()
        return QRect(GUTTER_PAD + span.lane * LANE, top, LANE - 2, max(4, bottom - top))

    def _visible_spans(self, visible: list[tuple[int, int, int]]) -> list[Span]:
        first, last = visible[0][0], visible[-1][0]
        if first >= len(self.doc.starts):
            return []
        lo = self.doc.starts[first]
        hi = self.doc.starts[min(last, len(self.doc.starts) - 1)] + \
            self.doc.lengths[min(last, len(self.doc.lengths) - 1)] + 1
        return [s for s in self.spans if s.start < hi and s.end >= lo]

    def _paint_stripes(self, painter: QPainter, margin: _Margin,
                       visible: list[tuple[int, int, int]]) -> None:
        for span in self._visible_spans(visible):
            rect = self.stripe_rect(span)
            code = self.codes.get(span.coding.code_id)
            if rect is not None and code is not None:
                painter.fillRect(rect, QColor(code.colour))

    def stripe_at(self, point: QPoint) -> Span | None:
        visible = self._visible_blocks()
        if not visible:
            return None
        for span in self._visible_spans(visible):
            rect = self.stripe_rect(span)
            if rect is not None and rect.adjusted(-1, 0, 1, 0).contains(point):
                return span
        return None


class CodingView(QWidget):
    """CodingText over the store for one interview; refreshes itself from Changes."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.interview_id: int | None = None
        self.text = CodingText()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)

    def load(self, interview_id: int | None) -> None:
        self.interview_id = interview_id
        if interview_id is None:
            self.text.show_segments([], {})
            self.text.show_codings([], {}, {})
            return
        speakers = {s.id: s for s in self.store.speakers(interview_id) if s.id is not None}
        self.text.show_segments(self.store.segments(interview_id), speakers)
        self.refresh_codings()

    def refresh_codings(self) -> None:
        if self.interview_id is None:
            return
        codings = self.store.codings(interview_id=self.interview_id)
        codes = {c.id: c for c in self.store.codes() if c.id is not None}
        memos = {m.target_id: m.text.strip().splitlines()[0] for m in self.store.memos()
                 if m.target is MemoTarget.CODING and m.target_id is not None
                 and m.text.strip()}
        self.text.show_codings(codings, codes, memos)

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if self.interview_id is None:
            return
        kinds = changes.kinds()
        if kinds & {"segment", "speaker", "interview"}:
            self._reload_keeping_place()
        elif kinds & {"coding", "code", "memo"}:
            self.refresh_codings()

    def _reload_keeping_place(self) -> None:
        scroll = self.text.verticalScrollBar().value()
        cursor = self.text.textCursor()
        anchor = (self.text.doc.anchor(cursor.position())
                  if self.text.segments else None)
        self.load(self.interview_id)
        if anchor is not None:
            position = self.text.doc.position(*anchor)
            if position is not None:
                cursor = self.text.textCursor()
                cursor.setPosition(position)
                self.text.setTextCursor(cursor)
        self.text.verticalScrollBar().setValue(scroll)

    def selection(self) -> Selection | None:
        return self.text.selection()

    def coding_for(self, code_id: int, sel: Selection) -> Coding:
        assert self.interview_id is not None
        return Coding(code_id, self.interview_id, sel.start_segment_id, sel.start_offset,
                      sel.end_segment_id, sel.end_offset)
