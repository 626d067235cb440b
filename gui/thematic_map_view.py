"""The thematic map: themes as boxes, their codes as ellipses in the codes' own colours,
memberships as lines, laid out by analysis.thematic_map.build_map.

The researcher arranges the map by dragging (a release saves every node that moved, as
one undo step) and regroups codes by dropping a code on a theme. Redrawing comes from
the store's changes (`on_changed`), so an undo anywhere redraws the map.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
    QShowEvent,
    QUndoStack,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QStyleOptionGraphicsItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from analysis.thematic_map import MapLayout, MapNode, NodeKey, Point, build_map, drop_membership
from gui.actions import make_action
from gui.theme_dialog import ThemeDialog, confirm_delete_theme, open_theme_dialog
from gui.undo import push
from gui.undo_themes import EditTheme, MoveCodeBetweenThemes, MoveMapNodes
from study.errors import StudyError
from study.model import Changes, ThemeStatus
from study.store import Store

WATCHED = frozenset({"theme", "code"})
STEP = 10.0  # an arrow key moves a node this far; with Shift, five times as far
ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.1, 5.0
MARGIN = 400.0  # room around the map to drag nodes into
EXPORT_SCALE = 2  # PNG pixels per scene unit, sharp enough for print
STATUS_PEN = {ThemeStatus.CANDIDATE: (Qt.PenStyle.DashLine, 1.5),
              ThemeStatus.REVIEWED: (Qt.PenStyle.SolidLine, 1.5),
              ThemeStatus.FINAL: (Qt.PenStyle.SolidLine, 3.0)}


def _palette(item: QGraphicsItem) -> QPalette:
    scene = item.scene()
    return scene.palette() if scene is not None else QPalette()


def readable_on(colour: QColor) -> QColor:
    """Black or white, whichever reads better on a code's own colour."""
    r, g, b = colour.redF(), colour.greenF(), colour.blueF()
    return QColor(Qt.GlobalColor.black if 0.299 * r + 0.587 * g + 0.114 * b > 0.55
                  else Qt.GlobalColor.white)


def wrap_label(text: str, metrics: QFontMetricsF, width: float, max_lines: int) -> list[str]:
    """Word-wrap a name into at most `max_lines` lines, eliding the last if it is too long."""
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines - 1:
        line = words.pop(0)
        while words and metrics.horizontalAdvance(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        if metrics.horizontalAdvance(line) > width:  # one long word: the rest goes last
            words.insert(0, line)
            break
        lines.append(line)
    if words:
        lines.append(metrics.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width))
    return lines


class NodeItem(QGraphicsItem):
    """A theme or code on the map, centred on its position."""

    def __init__(self, node: MapNode) -> None:
        super().__init__()
        self.node = node
        w, h = node.size
        self.rect = QRectF(-w / 2, -h / 2, w, h)
        self.edges: list[EdgeItem] = []
        self.followers: list[NodeItem] = []  # unplaced codes dragged along with a theme
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setPos(node.x, node.y)
        self.setZValue(2 if node.kind == "theme" else 1)
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    @property
    def key(self) -> NodeKey:
        return self.node.key

    def boundingRect(self) -> QRectF:
        return self.rect.adjusted(-3, -3, 3, 3)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and self.followers:
            delta = QPointF(value) - self.pos()  # type: ignore[call-overload]
            for f in self.followers:
                f.setPos(f.pos() + delta)
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for e in self.edges:
                e.update_line()
        return super().itemChange(change, value)

    def _label(self, painter: QPainter, text: str, rect: QRectF, font: QFont,
               max_lines: int = 1) -> None:
        painter.setFont(font)
        lines = wrap_label(text, QFontMetricsF(font), rect.width(), max_lines)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "\n".join(lines))


class ThemeItem(NodeItem):
    """A rounded box: the border says the status (dashed candidate, solid reviewed,
    thick final), and the status is written under the name."""

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.rect, 10, 10)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        palette = _palette(self)
        status = ThemeStatus(self.node.status or ThemeStatus.CANDIDATE)
        style, width = STATUS_PEN[status]
        pen = QPen(palette.color(QPalette.ColorRole.Highlight) if self.isSelected()
                   else palette.color(QPalette.ColorRole.ButtonText), width, style)
        if self.isSelected():
            pen.setWidthF(width + 1)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(palette.color(QPalette.ColorRole.Button))
        painter.drawRoundedRect(self.rect, 10, 10)
        painter.setPen(palette.color(QPalette.ColorRole.ButtonText))
        inner = self.rect.adjusted(8, 4, -8, -4)
        name = QFont(painter.font())
        name.setBold(True)
        self._label(painter, self.node.label, QRectF(inner.x(), inner.y(), inner.width(),
                                                     inner.height() * 0.7), name, 2)
        small = QFont(painter.font())
        small.setItalic(True)
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        self._label(painter, status.value, QRectF(inner.x(), inner.y() + inner.height() * 0.7,
                                                  inner.width(), inner.height() * 0.3), small)


class CodeItem(NodeItem):
    """An ellipse in the code's own colour with its name in black or white."""

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self.rect)
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        palette = _palette(self)
        fill = QColor(self.node.colour)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.isSelected():
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 3))
        else:
            painter.setPen(QPen(fill.darker(160), 1))
        painter.setBrush(fill)
        painter.drawEllipse(self.rect)
        painter.setPen(readable_on(fill))
        self._label(painter, self.node.label, self.rect.adjusted(16, 2, -16, -2),
                    QFont(painter.font()), 2)


class EdgeItem(QGraphicsLineItem):
    """A code's membership of a theme; selectable, so it can be removed with Delete."""

    def __init__(self, theme: NodeItem, code: NodeItem) -> None:
        super().__init__()
        self.theme, self.code = theme, code
        theme.edges.append(self)
        code.edges.append(self)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.update_line()

    @property
    def key(self) -> tuple[int, int]:
        return (self.theme.node.id, self.code.node.id)

    def update_line(self) -> None:
        self.setLine(self.theme.pos().x(), self.theme.pos().y(),
                     self.code.pos().x(), self.code.pos().y())

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.moveTo(self.line().p1())
        path.lineTo(self.line().p2())
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(path)

    def boundingRect(self) -> QRectF:
        return self.shape().boundingRect()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        palette = _palette(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.isSelected():
            pen = QPen(palette.color(QPalette.ColorRole.Highlight), 3)
        else:
            colour = QColor(palette.color(QPalette.ColorRole.Text))
            colour.setAlpha(150)
            pen = QPen(colour, 1.5)
        painter.setPen(pen)
        painter.drawLine(self.line())


class _MapGraphicsView(QGraphicsView):
    """Hands mouse, wheel and key input to the map widget, which decides what it means."""

    def __init__(self, owner: ThematicMapView) -> None:
        super().__init__(owner.scene)
        self.owner = owner
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.owner._pressed(self.itemAt(event.position().toPoint()))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.owner._released(self.mapToScene(event.position().toPoint()),
                                 bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.owner.zoom(ZOOM_STEP ** steps)
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
                  Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
        key = Qt.Key(event.key())
        if key in arrows and self.owner.selected_nodes():
            step = STEP * (5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1)
            dx, dy = arrows[key]
            self.owner.nudge(dx * step, dy * step)
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.owner.menu_for(self.itemAt(event.pos()))
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())


class ThematicMapView(QWidget):
    message = Signal(str)  # for the status bar
    theme_selected = Signal(int)  # a theme node was clicked (for the memo panel)

    def __init__(self, store: Store, stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.stack = store, stack
        self.include_unthemed = True
        self.scene = QGraphicsScene(self)
        self.view = _MapGraphicsView(self)
        self.view.setObjectName("thematicMap")
        self.layout_map = MapLayout()
        self.nodes: dict[NodeKey, NodeItem] = {}
        self.edges: dict[tuple[int, int], EdgeItem] = {}
        self._pressed_item: NodeItem | None = None

        self.reset_action = make_action(self, "&Reset layout", self.reset_layout,
                                        "Ctrl+Shift+L")
        self.fit_action = make_action(self, "&Fit to view", self.fit_to_view, "Ctrl+0")
        self.zoom_in_action = make_action(self, "Zoom &in", lambda: self.zoom(ZOOM_STEP),
                                          QKeySequence.StandardKey.ZoomIn)
        self.zoom_out_action = make_action(self, "Zoom &out", lambda: self.zoom(1 / ZOOM_STEP),
                                           QKeySequence.StandardKey.ZoomOut)
        self.export_action = make_action(self, "&Export map…", self.export_dialog,
                                         "Ctrl+Shift+E")
        self.remove_action = make_action(self, "Re&move from theme", self.remove_selected,
                                         QKeySequence.StandardKey.Delete)
        self.unthemed_action = make_action(self, "Show &unthemed codes",
                                           self._toggle_unthemed, "Ctrl+Shift+U")
        self.unthemed_action.setCheckable(True)
        self.unthemed_action.setChecked(True)
        for a in (self.reset_action, self.fit_action, self.zoom_in_action,
                  self.zoom_out_action, self.export_action, self.remove_action,
                  self.unthemed_action):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        toolbar = QToolBar()
        toolbar.addActions([self.fit_action, self.zoom_in_action, self.zoom_out_action,
                            self.reset_action, self.unthemed_action, self.export_action])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(toolbar)
        layout.addWidget(self.view)
        self.scene.selectionChanged.connect(self._selection_changed)
        self._fitted = False
        self.rebuild()

    def showEvent(self, event: QShowEvent) -> None:
        """The first time the map is shown, it is fitted to the view."""
        super().showEvent(event)
        if not self._fitted:
            self._fitted = True
            self.fit_to_view()

    # --- drawing ---------------------------------------------------------------------------

    @Slot(object)
    def on_changed(self, changes: Changes) -> None:
        if changes.kinds() & WATCHED:
            self.rebuild()

    def rebuild(self) -> None:
        """Redraw from the store, keeping the scroll position, zoom and selection."""
        selected = {getattr(i, "key", None) for i in self.scene.selectedItems()}
        h, v = self.view.horizontalScrollBar().value(), self.view.verticalScrollBar().value()
        old_rect = self.scene.sceneRect() if self.nodes else QRectF()
        self.scene.blockSignals(True)
        try:
            self.scene.clear()
        finally:
            self.scene.blockSignals(False)
        themes, codes = self.store.themes(), self.store.codes()
        self.layout_map = build_map(themes, codes, self.store.code_map_positions(),
                                    include_unthemed=self.include_unthemed)
        tips = {("theme", t.id): f"{t.name} ({t.status.value})\n{t.definition}" for t in themes}
        tips.update({("code", c.id): f"{c.name}\n{c.definition}" for c in codes})
        self.nodes, self.edges = {}, {}
        for node in self.layout_map.nodes:
            item: NodeItem = ThemeItem(node) if node.kind == "theme" else CodeItem(node)
            item.setToolTip(tips[node.key].strip())
            self.scene.addItem(item)
            self.nodes[node.key] = item
        for e in self.layout_map.edges:
            edge = EdgeItem(self.nodes[("theme", e.theme_id)], self.nodes[("code", e.code_id)])
            self.scene.addItem(edge)
            self.edges[(e.theme_id, e.code_id)] = edge
        self.scene.blockSignals(True)
        try:
            for key, node_item in [*self.nodes.items(), *self.edges.items()]:
                if key in selected:
                    node_item.setSelected(True)
        finally:
            self.scene.blockSignals(False)
        rect = self.scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        self.scene.setSceneRect(rect.united(old_rect) if not old_rect.isNull() else rect)
        self.view.horizontalScrollBar().setValue(h)
        self.view.verticalScrollBar().setValue(v)
        self._update_actions()

    def _toggle_unthemed(self) -> None:
        self.include_unthemed = self.unthemed_action.isChecked()
        self.rebuild()

    def _update_actions(self) -> None:
        items = self.scene.selectedItems()
        memberships = any(isinstance(i, EdgeItem) or (isinstance(i, CodeItem)
                                                      and self.layout_map.themes_of(i.node.id))
                          for i in items)
        theme = any(isinstance(i, ThemeItem) for i in items)
        self.remove_action.setEnabled(memberships or theme)
        self.remove_action.setText("Re&move from theme" if memberships or not theme
                                   else "&Delete theme…")

    def _selection_changed(self) -> None:
        self._update_actions()
        themes = [i for i in self.scene.selectedItems() if isinstance(i, ThemeItem)]
        if len(themes) == 1 and len(self.scene.selectedItems()) == 1:
            self.theme_selected.emit(themes[0].node.id)

    def selected_nodes(self) -> list[NodeItem]:
        return [i for i in self.scene.selectedItems() if isinstance(i, NodeItem)]

    def select(self, keys: Iterable[NodeKey | tuple[int, int]]) -> None:
        """Select these nodes (by node key) and edges (by (theme id, code id))."""
        self.scene.clearSelection()
        for key in keys:
            item = self.nodes.get(key) or self.edges.get(key)  # type: ignore[arg-type]
            if item is not None:
                item.setSelected(True)

    # --- moving ----------------------------------------------------------------------------

    def _saved(self, key: NodeKey) -> Point | None:
        node = self.layout_map.get(*key)
        return node.pos if node is not None and node.placed else None

    def _pressed(self, item: QGraphicsItem | None) -> None:
        """Remember what the drag started on; unplaced codes of dragged themes follow."""
        self._pressed_item = item if isinstance(item, NodeItem) else None
        for node_item in self.nodes.values():
            node_item.followers = []
        if self._pressed_item is None:
            return
        dragged = {i.key for i in self.selected_nodes()}
        for node_item in self.selected_nodes():
            if isinstance(node_item, ThemeItem):
                node_item.followers = [
                    self.nodes[("code", cid)]
                    for cid in self.layout_map.codes_of(node_item.node.id)
                    if ("code", cid) not in dragged
                    and not self.layout_map.node("code", cid).placed
                    and self.layout_map.themes_of(cid)[:1] == (node_item.node.id,)]

    def _moved(self) -> dict[NodeKey, Point]:
        """Dragged nodes (not followers) that are no longer where the map put them."""
        followers = {f.key for i in self.nodes.values() for f in i.followers}
        moved = {}
        for key, item in self.nodes.items():
            node = self.layout_map.node(*key)
            if key not in followers and (item.pos().x(), item.pos().y()) != node.pos:
                moved[key] = (round(item.pos().x(), 2), round(item.pos().y(), 2))
        return moved

    def _released(self, scene_pos: QPointF, add: bool) -> None:
        pressed, self._pressed_item = self._pressed_item, None
        moved = self._moved()
        for node_item in self.nodes.values():
            node_item.followers = []
        if not moved:
            return
        target = next((i for i in self.scene.items(scene_pos)
                       if isinstance(i, ThemeItem) and i is not pressed), None)
        if isinstance(pressed, CodeItem) and pressed.key in moved and target is not None:
            code_id, theme_id = pressed.node.id, target.node.id
            change = drop_membership(self.layout_map, code_id, theme_id, add=add)
            del moved[pressed.key]
            if change is not None:
                self._drop(code_id, change, moved)
                return
        if moved:
            self.move_nodes(moved)
        else:
            self.rebuild()  # dropped on a theme it is in already: back where it was

    def _drop(self, code_id: int, change: tuple[int | None, int],
              others: dict[NodeKey, Point]) -> None:
        """A code dropped on a theme joins it (leaving its old theme unless Ctrl was held),
        and goes back to the automatic layout, around its new theme; one undo step."""
        from_theme, to_theme = change
        command = MoveCodeBetweenThemes(self.store, code_id, from_theme, to_theme)
        self.stack.beginMacro(command.text())
        try:
            push(self.stack, command)
            before = {k: self._saved(k) for k in others}
            after: dict[NodeKey, Point | None] = dict(others)
            if self._saved(("code", code_id)) is not None:
                before[("code", code_id)] = self._saved(("code", code_id))
                after[("code", code_id)] = None
            if after:
                push(self.stack, MoveMapNodes(self.store, before, after))
        finally:
            self.stack.endMacro()
        self.message.emit(command.text() + ".")

    def move_nodes(self, positions: dict[NodeKey, Point]) -> None:
        """Save new positions for these nodes as one undo step."""
        before = {k: self._saved(k) for k in positions}
        n = len(positions)
        text = (f"Move {self.layout_map.node(*next(iter(positions))).label} on the map"
                if n == 1 else f"Move {n} nodes on the map")
        push(self.stack, MoveMapNodes(self.store, before, dict(positions), text))

    def nudge(self, dx: float, dy: float) -> None:
        """Move the selected nodes a step (the arrow keys), as one undo step."""
        chosen = self.selected_nodes()
        if chosen:
            self.move_nodes({i.key: (round(i.pos().x() + dx, 2), round(i.pos().y() + dy, 2))
                             for i in chosen})

    def reset_layout(self) -> None:
        """Forget every saved position, so the whole map is laid out automatically again."""
        before: dict[NodeKey, Point | None] = {
            ("theme", t.id): (t.map_x, t.map_y) for t in self.store.themes()
            if t.id is not None and t.map_x is not None and t.map_y is not None}
        before.update({("code", cid): xy for cid, xy in self.store.code_map_positions().items()})
        if not before:
            self.message.emit("The map is already laid out automatically.")
            return
        push(self.stack, MoveMapNodes(self.store, before, dict.fromkeys(before),
                                      "Reset the thematic map's layout"))
        self.message.emit("Reset the map's layout. Undo puts the nodes back.")

    # --- memberships -----------------------------------------------------------------------

    def remove_selected(self) -> QWidget | None:
        """Delete: selected edges and code nodes leave their themes (one undo step); a
        selected theme node asks first, and the confirmation box is returned."""
        items = self.scene.selectedItems()
        pairs = [(e.key[1], e.key[0]) for e in items if isinstance(e, EdgeItem)]
        for i in items:
            if isinstance(i, CodeItem):
                pairs += [(i.node.id, t) for t in self.layout_map.themes_of(i.node.id)]
        pairs = list(dict.fromkeys(pairs))
        if pairs:
            self.remove_memberships(pairs)
            return None
        themes = [i for i in items if isinstance(i, ThemeItem)]
        if themes:
            return confirm_delete_theme(self, self.store, self.stack, themes[0].node.id)
        return None

    def remove_memberships(self, pairs: list[tuple[int, int]]) -> None:
        """Take each (code, theme) membership away, as one undo step."""
        if len(pairs) == 1:
            push(self.stack, MoveCodeBetweenThemes(self.store, pairs[0][0], pairs[0][1], None))
            return
        self.stack.beginMacro(f"Remove {len(pairs)} codes from their themes")
        try:
            for code_id, theme_id in pairs:
                push(self.stack, MoveCodeBetweenThemes(self.store, code_id, theme_id, None))
        finally:
            self.stack.endMacro()

    def edit_theme(self, theme_id: int) -> ThemeDialog:
        return open_theme_dialog(self, self.store, self.stack, theme_id)

    def set_status(self, theme_id: int, status: ThemeStatus) -> None:
        before = self.store.theme(theme_id)
        if before.status != status:
            push(self.stack, EditTheme(self.store, before,
                                       dataclasses.replace(before, status=status)))

    def menu_for(self, item: QGraphicsItem | None) -> QMenu:
        """The context menu for a node, an edge or the background."""
        menu = QMenu(self)
        if isinstance(item, ThemeItem):
            theme_id = item.node.id
            menu.addAction("&Edit theme…", lambda: self.edit_theme(theme_id))
            status_menu = menu.addMenu("Set &status")
            for status in ThemeStatus:
                action = status_menu.addAction(
                    status.value.capitalize(),
                    lambda s=status: self.set_status(theme_id, s))
                action.setCheckable(True)
                action.setChecked(item.node.status == status.value)
            menu.addAction("&Delete theme…", lambda: confirm_delete_theme(
                self, self.store, self.stack, theme_id))
        elif isinstance(item, CodeItem):
            code_id = item.node.id
            themes = self.layout_map.themes_of(code_id)
            for t in themes:
                name = self.layout_map.node("theme", t).label
                menu.addAction(f"Remove from theme “{name}”",
                               lambda t=t: self.remove_memberships([(code_id, t)]))
            if not themes:
                menu.addAction("In no theme: drop it on a theme to add it").setEnabled(False)
        elif isinstance(item, EdgeItem):
            code_id, theme_id = item.key[1], item.key[0]
            menu.addAction(f"Remove “{item.code.node.label}” from theme "
                           f"“{item.theme.node.label}”",
                           lambda: self.remove_memberships([(code_id, theme_id)]))
        else:
            menu.addActions([self.fit_action, self.zoom_in_action, self.zoom_out_action])
            menu.addSeparator()
            menu.addActions([self.reset_action, self.unthemed_action, self.export_action])
        return menu

    # --- zoom and export -------------------------------------------------------------------

    def zoom_level(self) -> float:
        return self.view.transform().m11()

    def zoom(self, factor: float) -> None:
        """Scale the view by `factor`, kept between 10% and 500%."""
        current = self.zoom_level()
        target = min(MAX_ZOOM, max(MIN_ZOOM, current * factor))
        if target != current:
            self.view.scale(target / current, target / current)

    def fit_to_view(self) -> None:
        rect = self.scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
        if rect.isEmpty():
            return
        self.view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom_level() > 1.5:  # a small map is not blown up
            self.zoom(1.5 / self.zoom_level())
            self.view.centerOn(rect.center())

    def export(self, path: Path) -> None:
        """Write the map as PNG or SVG (by the suffix), without selection marks."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ValueError(f"Export the map as .png or .svg, not {path.suffix or path.name}")
        source = self.scene.itemsBoundingRect().adjusted(-20, -20, 20, 20)
        if source.isEmpty():
            source = QRectF(0, 0, 200, 100)
        selected = self.scene.selectedItems()
        self.scene.clearSelection()
        background = self.scene.palette().color(QPalette.ColorRole.Base)
        try:
            if suffix == ".png":
                size = (source.size() * EXPORT_SCALE).toSize()
                image = QImage(size, QImage.Format.Format_ARGB32)
                image.fill(background)
                painter = QPainter(image)
                self._render(painter, QRectF(image.rect()), source)
                if not image.save(str(path), "PNG"):
                    raise StudyError(f"Could not write the image to {path}.")
            else:
                self._export_svg(path, source, background)
        finally:
            for item in selected:
                item.setSelected(True)

    def _export_svg(self, path: Path, source: QRectF, background: QColor) -> None:
        try:
            from PySide6.QtSvg import QSvgGenerator
        except ImportError as e:  # an install without the Qt SVG module
            raise StudyError("SVG export needs the Qt SVG module; export as PNG.") from e
        if not path.parent.is_dir():
            raise StudyError(f"Could not write the drawing: {path.parent} is not a folder.")
        size = source.size().toSize()
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(size)
        generator.setViewBox(QRect(QPoint(0, 0), size))
        generator.setTitle("Thematic map")
        generator.setDescription("Themes and the codes they group, exported from Verbatim")
        painter = QPainter(generator)
        painter.fillRect(QRectF(QPointF(0, 0), source.size()), background)
        self._render(painter, QRectF(QPointF(0, 0), source.size()), source)
        if not path.exists():
            raise StudyError(f"Could not write the drawing to {path}.")

    def _render(self, painter: QPainter, target: QRectF, source: QRectF) -> None:
        painter.setRenderHints(QPainter.RenderHint.Antialiasing
                               | QPainter.RenderHint.TextAntialiasing)
        try:
            self.scene.render(painter, target, source)
        finally:
            painter.end()

    def export_dialog(self) -> None:
        folder = self.store.path.parent / "exports"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the thematic map", str(folder / "thematic map.png"),
            "PNG image (*.png);;SVG drawing (*.svg)")
        if path:
            self.export(Path(path))
            self.message.emit(f"Exported the map to {path}.")

