"""The thematic map as plain data: themes, their codes, and where each sits.

Braun and Clarke draw candidate themes with the codes they group, and redraw the map
as themes are reviewed. The researcher's own placements are kept exactly; everything
else is laid out automatically, so a new study still shows a readable map:

- unplaced themes sit on a circle around the origin (slots are given to *every* theme in
  order, placed or not, so dragging one theme never makes the others jump);
- unplaced member codes sit on square rings of grid cells around their first theme (the
  first theme, in the order given, that lists them), wherever that theme is drawn;
- "unthemed" codes, in no theme, sit in rows below the circle. Only leaf codes count:
  a parent code is a category of the codebook, and on the map themes do that grouping.
  A parent code that belongs to a theme is shown like any other member.

Automatic placement is deterministic and no two automatically placed nodes overlap. They
may overlap a node the researcher placed: moving the others out of the way would make
the map jump under the researcher's hand.

Coordinates are node centres in scene units, y pointing down (as in Qt).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from study.model import Code, Theme

NodeKind = Literal["theme", "code"]
NodeKey = tuple[NodeKind, int]
Point = tuple[float, float]

THEME_SIZE: tuple[float, float] = (170.0, 66.0)
CODE_SIZE: tuple[float, float] = (140.0, 44.0)
GAP = 24.0
# One grid cell holds any node with a gap around it, so distinct cells never overlap.
CELL: tuple[float, float] = (max(THEME_SIZE[0], CODE_SIZE[0]) + GAP,
                             max(THEME_SIZE[1], CODE_SIZE[1]) + GAP)
MIN_ROW_LENGTH = 6


def node_size(kind: NodeKind) -> tuple[float, float]:
    """Width and height of a node of this kind; the view draws nodes this size."""
    return THEME_SIZE if kind == "theme" else CODE_SIZE


@dataclass(frozen=True, slots=True)
class MapNode:
    kind: NodeKind
    id: int
    label: str
    x: float
    y: float
    colour: str = ""  # a code's own colour; themes are drawn in palette colours
    status: str = ""  # a theme's status (candidate, reviewed, final)
    placed: bool = False  # True when the researcher put it there (the position is saved)

    @property
    def key(self) -> NodeKey:
        return (self.kind, self.id)

    @property
    def pos(self) -> Point:
        return (self.x, self.y)

    @property
    def size(self) -> tuple[float, float]:
        return node_size(self.kind)

    def rect(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom)."""
        w, h = self.size
        return (self.x - w / 2, self.y - h / 2, self.x + w / 2, self.y + h / 2)

    def overlaps(self, other: MapNode) -> bool:
        """Whether the two nodes' boxes share any area (touching edges do not count)."""
        return _overlap(self.kind, self.pos, other.kind, other.pos)


@dataclass(frozen=True, slots=True)
class MapEdge:
    """A code's membership of a theme."""

    theme_id: int
    code_id: int


@dataclass(frozen=True, slots=True)
class MapLayout:
    nodes: tuple[MapNode, ...] = ()
    edges: tuple[MapEdge, ...] = ()
    _index: dict[NodeKey, MapNode] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {n.key: n for n in self.nodes})

    def get(self, kind: NodeKind, id_: int) -> MapNode | None:
        return self._index.get((kind, id_))

    def node(self, kind: NodeKind, id_: int) -> MapNode:
        """The node, or KeyError if the map does not show it."""
        return self._index[(kind, id_)]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def theme_nodes(self) -> tuple[MapNode, ...]:
        return tuple(n for n in self.nodes if n.kind == "theme")

    def code_nodes(self) -> tuple[MapNode, ...]:
        return tuple(n for n in self.nodes if n.kind == "code")

    def themes_of(self, code_id: int) -> tuple[int, ...]:
        """The themes a code is drawn connected to, in map order."""
        return tuple(e.theme_id for e in self.edges if e.code_id == code_id)

    def codes_of(self, theme_id: int) -> tuple[int, ...]:
        return tuple(e.code_id for e in self.edges if e.theme_id == theme_id)

    def positions(self) -> dict[NodeKey, Point]:
        return {n.key: n.pos for n in self.nodes}

    def saved_positions(self) -> dict[NodeKey, Point]:
        """Positions the researcher chose (what an undo of a move should put back)."""
        return {n.key: n.pos for n in self.nodes if n.placed}

    def bounds(self) -> tuple[float, float, float, float]:
        """(left, top, right, bottom) around every node; zeros for an empty map."""
        if not self.nodes:
            return (0.0, 0.0, 0.0, 0.0)
        rects = [n.rect() for n in self.nodes]
        return (min(r[0] for r in rects), min(r[1] for r in rects),
                max(r[2] for r in rects), max(r[3] for r in rects))


def drop_membership(layout: MapLayout, code_id: int, theme_id: int, *,
                    add: bool = False) -> tuple[int | None, int] | None:
    """What dropping a code on a theme means: (theme to leave or None, theme to join).

    A code connected to exactly one theme moves from it; with `add` (Ctrl held), or when
    the code is in no theme or in several (which one would it leave?), it is added.
    None when the code is already in that theme: nothing to do.
    """
    current = layout.themes_of(code_id)
    if theme_id in current:
        return None
    if add or len(current) != 1:
        return (None, theme_id)
    return (current[0], theme_id)


# --- layout --------------------------------------------------------------------------------


def build_map(themes: Sequence[Theme], codes: Sequence[Code],
              code_positions: Mapping[int, Point], *,
              include_unthemed: bool = True) -> MapLayout:
    """The map of these themes and codes, keeping every saved position.

    Codes a theme lists but `codes` lacks (deleted since) are ignored; a code in two
    themes is one node with two edges, laid out around the first of them.
    """
    by_id = {c.id: c for c in codes if c.id is not None}
    shown = [(t.id, t) for t in themes if t.id is not None]
    home: dict[int, int] = {}  # code id -> the theme it is laid out around
    edges: list[MapEdge] = []
    for tid, t in shown:
        for cid in dict.fromkeys(t.code_ids):
            if cid in by_id:
                edges.append(MapEdge(tid, cid))
                home.setdefault(cid, tid)
    clusters: dict[int, list[int]] = {tid: [] for tid, _ in shown}
    for cid, tid in home.items():
        clusters[tid].append(cid)
    sizes = [len(clusters[tid]) for tid, _ in shown]

    slots = _theme_slots(sizes)
    placer = _Placer()
    nodes: list[MapNode] = []
    theme_pos: dict[int, Point] = {}
    for (tid, t), slot in zip(shown, slots, strict=True):
        if t.map_x is not None and t.map_y is not None:
            xy, placed = (float(t.map_x), float(t.map_y)), True
        else:
            xy, placed = placer.place("theme", slot), False
        theme_pos[tid] = xy
        nodes.append(MapNode("theme", tid, t.name, *xy, status=t.status.value, placed=placed))

    for tid, _ in shown:
        cx, cy = theme_pos[tid]
        for cid, (i, j) in zip(clusters[tid], _ring_cells(len(clusters[tid])), strict=True):
            nodes.append(_code_node(by_id[cid], code_positions, placer,
                                    (cx + i * CELL[0], cy + j * CELL[1])))
    if include_unthemed:
        parents = {c.parent_id for c in codes if c.parent_id is not None}
        loose = [c for c in codes
                 if c.id is not None and c.id not in home and c.id not in parents]
        top = _circle_bottom(slots, sizes)
        width = max((abs(x) for x, _ in slots), default=0.0) * 2 + CELL[0]
        per_row = max(MIN_ROW_LENGTH, int(width // CELL[0]))
        for n, c in enumerate(loose):
            row, col = divmod(n, per_row)
            in_row = min(per_row, len(loose) - row * per_row)
            x = (col - (in_row - 1) / 2) * CELL[0]
            y = top + (row + 0.5) * CELL[1]
            nodes.append(_code_node(c, code_positions, placer, (x, y)))
    return MapLayout(tuple(nodes), tuple(edges))


def _code_node(c: Code, saved: Mapping[int, Point], placer: _Placer, slot: Point) -> MapNode:
    assert c.id is not None
    if c.id in saved:
        x, y = saved[c.id]
        return MapNode("code", c.id, c.name, float(x), float(y), c.colour, placed=True)
    return MapNode("code", c.id, c.name, *placer.place("code", slot), c.colour)


def _ring_cells(count: int) -> list[tuple[int, int]]:
    """Grid offsets for `count` codes around a theme: full square rings from the inside
    out, clockwise from the top; the last ring's codes spread evenly round it."""
    cells: list[tuple[int, int]] = []
    k = 1
    while len(cells) < count:
        ring = list(_square_ring(k))
        left = count - len(cells)
        if left >= len(ring):
            cells += ring
        else:
            cells += [ring[(n * len(ring)) // left] for n in range(left)]
        k += 1
    return cells


def _square_ring(k: int) -> Iterator[tuple[int, int]]:
    """The 8k cells at Chebyshev distance k, clockwise from the top middle (y down)."""
    for i in range(0, k + 1):
        yield (i, -k)
    for j in range(-k + 1, k + 1):
        yield (k, j)
    for i in range(k - 1, -k - 1, -1):
        yield (i, k)
    for j in range(k - 1, -k - 1, -1):
        yield (-k, j)
    for i in range(-k + 1, 0):
        yield (i, -k)


def _rings(count: int) -> int:
    """How many square rings `count` codes need (ring k holds 8k)."""
    k = filled = 0
    while filled < count:
        k += 1
        filled += 8 * k
    return k


def _extent(count: int) -> Point:
    """Half width and height of a theme with `count` codes around it, with a margin so
    that neighbouring clusters read as separate groups."""
    k = _rings(count)
    return ((k + 0.5) * CELL[0] + GAP, (k + 0.5) * CELL[1] + GAP)


def _theme_slots(cluster_sizes: list[int]) -> list[Point]:
    """Centres on a circle, clockwise from the top, with a radius just large enough
    that no two themes' clusters (each theme with its ring of codes) overlap."""
    n = len(cluster_sizes)
    if n <= 1:
        return [(0.0, 0.0)] * n
    angles = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]
    units = [(math.cos(a), math.sin(a)) for a in angles]
    extents = [_extent(s) for s in cluster_sizes]
    radius = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = abs(units[i][0] - units[j][0])
            dy = abs(units[i][1] - units[j][1])
            need_x = (extents[i][0] + extents[j][0]) / dx if dx > 1e-9 else math.inf
            need_y = (extents[i][1] + extents[j][1]) / dy if dy > 1e-9 else math.inf
            radius = max(radius, min(need_x, need_y))
    radius = math.ceil(radius)  # whole units, and a hair more than the bare minimum
    return [(round(radius * ux, 3), round(radius * uy, 3)) for ux, uy in units]


def _circle_bottom(slots: list[Point], cluster_sizes: list[int]) -> float:
    """Where the rows of unthemed codes start: below every theme's slot and ring,
    wherever the researcher has moved things (so the rows never jump)."""
    if not slots:
        return -CELL[1] / 2
    return max(y + _extent(s)[1] for (_, y), s in zip(slots, cluster_sizes, strict=True))


def _overlap(kind_a: NodeKind, a: Point, kind_b: NodeKind, b: Point) -> bool:
    wa, ha = node_size(kind_a)
    wb, hb = node_size(kind_b)
    return abs(a[0] - b[0]) < (wa + wb) / 2 and abs(a[1] - b[1]) < (ha + hb) / 2


class _Placer:
    """Keeps automatically placed nodes apart: a node whose slot is taken goes to the
    nearest free grid cell around it, searched in a fixed order (so it is deterministic).

    A spatial hash on the grid keeps each check to the nine cells nearby: nodes are
    smaller than a cell, so only centres less than a cell apart can overlap.
    """

    def __init__(self) -> None:
        self._buckets: dict[tuple[int, int], list[tuple[NodeKind, Point]]] = {}

    def _bucket(self, p: Point) -> tuple[int, int]:
        return (round(p[0] / CELL[0]), round(p[1] / CELL[1]))

    def _free(self, kind: NodeKind, p: Point) -> bool:
        bx, by = self._bucket(p)
        return not any(_overlap(kind, p, k, q)
                       for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                       for k, q in self._buckets.get((bx + dx, by + dy), ()))

    def place(self, kind: NodeKind, slot: Point) -> Point:
        p = slot
        k = 0
        cells: Iterator[tuple[int, int]] = iter(())
        while not self._free(kind, p):
            step = next(cells, None)
            if step is None:
                k += 1
                cells = _square_ring(k)
                step = next(cells)
            p = (slot[0] + step[0] * CELL[0], slot[1] + step[1] * CELL[1])
        self._buckets.setdefault(self._bucket(p), []).append((kind, p))
        return p
