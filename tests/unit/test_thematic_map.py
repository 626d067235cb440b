"""The thematic map's model: saved positions kept, automatic placement deterministic and
free of overlaps, memberships drawn as edges, deleted codes ignored."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.thematic_map import (
    CODE_SIZE,
    THEME_SIZE,
    MapEdge,
    MapLayout,
    MapNode,
    build_map,
    drop_membership,
    node_size,
)
from study.model import Code, Theme, ThemeStatus


def codes(n: int, start: int = 1) -> list[Code]:
    return [Code(f"code {i}", colour="#aa0000", id=i) for i in range(start, start + n)]


def overlapping(nodes: tuple[MapNode, ...] | list[MapNode]) -> list[tuple[MapNode, MapNode]]:
    return [(a, b) for a, b in combinations(nodes, 2) if a.overlaps(b)]


def test_saved_positions_are_used_as_they_are() -> None:
    themes = [Theme("Stigma", code_ids=(1, 2), map_x=10.5, map_y=-20.25, id=7),
              Theme("Workload", code_ids=(3,), id=8)]
    layout = build_map(themes, codes(4), {2: (300.0, 400.0), 4: (-5.0, 5.0)})
    assert layout.node("theme", 7).pos == (10.5, -20.25)
    assert layout.node("theme", 7).placed
    assert layout.node("code", 2).pos == (300.0, 400.0)
    assert layout.node("code", 2).placed
    assert layout.node("code", 4).pos == (-5.0, 5.0)  # unthemed, yet placed
    assert not layout.node("theme", 8).placed
    assert not layout.node("code", 1).placed
    assert layout.saved_positions() == {("theme", 7): (10.5, -20.25), ("code", 2): (300.0, 400.0),
                                        ("code", 4): (-5.0, 5.0)}


def test_nodes_carry_labels_colours_and_status() -> None:
    themes = [Theme("Stigma", status=ThemeStatus.FINAL, code_ids=(1,), id=3)]
    layout = build_map(themes, [Code("Shame", colour="#123456", id=1)], {})
    assert layout.node("theme", 3) == MapNode("theme", 3, "Stigma", *layout.node("theme", 3).pos,
                                              status="final")
    code = layout.node("code", 1)
    assert (code.label, code.colour, code.status, code.size) == ("Shame", "#123456", "",
                                                                 CODE_SIZE)
    assert layout.node("theme", 3).size == THEME_SIZE == node_size("theme")
    assert layout.edges == (MapEdge(3, 1),)


def test_automatic_placement_is_deterministic() -> None:
    themes = [Theme(f"Theme {t}", code_ids=tuple(range(t * 6 + 1, t * 6 + 7)), id=100 + t)
              for t in range(5)]
    first = build_map(themes, codes(40), {})
    again = build_map(list(themes), list(codes(40)), {})
    assert first == again
    assert first.positions() == again.positions()


def test_unplaced_themes_sit_on_a_circle_around_the_origin() -> None:
    themes = [Theme(f"Theme {t}", id=t) for t in range(1, 7)]
    layout = build_map(themes, [], {})
    radii = {round((n.x ** 2 + n.y ** 2) ** 0.5, 1) for n in layout.theme_nodes()}
    assert len(radii) == 1 and radii.pop() > 0
    first = layout.node("theme", 1)
    assert first.x == pytest.approx(0) and first.y < 0  # the first at the top
    assert not overlapping(layout.nodes)


def test_one_theme_sits_at_the_origin_with_its_codes_around_it() -> None:
    layout = build_map([Theme("Only", code_ids=(1, 2, 3, 4, 5), id=1)], codes(5), {})
    theme = layout.node("theme", 1)
    assert theme.pos == (0.0, 0.0)
    for code in layout.code_nodes():
        assert max(abs(code.x - theme.x), abs(code.y - theme.y)) < 500  # near its theme
    assert not overlapping(layout.nodes)


def test_member_codes_follow_their_theme_when_the_theme_is_placed() -> None:
    unplaced = build_map([Theme("T", code_ids=(1, 2), id=1)], codes(2), {})
    moved = build_map([Theme("T", code_ids=(1, 2), map_x=1000.0, map_y=500.0, id=1)],
                      codes(2), {})
    for cid in (1, 2):
        before, after = unplaced.node("code", cid), moved.node("code", cid)
        assert (after.x - before.x, after.y - before.y) == (1000.0, 500.0)


def test_placing_one_theme_does_not_move_the_others() -> None:
    themes = [Theme(f"T{t}", code_ids=(t,), id=t) for t in range(1, 5)]
    before = build_map(themes, codes(4), {})
    themes[1] = Theme("T2", code_ids=(2,), map_x=-3000.0, map_y=0.0, id=2)
    after = build_map(themes, codes(4), {})
    for key in [("theme", 1), ("theme", 3), ("theme", 4), ("code", 1), ("code", 3)]:
        assert after.node(*key).pos == before.node(*key).pos


def test_a_code_in_two_themes_is_one_node_with_two_edges() -> None:
    themes = [Theme("A", code_ids=(1, 2), id=10), Theme("B", code_ids=(2, 3), id=20)]
    layout = build_map(themes, codes(3), {})
    assert [n.id for n in layout.code_nodes()].count(2) == 1
    assert layout.themes_of(2) == (10, 20)
    assert layout.codes_of(20) == (2, 3)
    assert set(layout.edges) == {MapEdge(10, 1), MapEdge(10, 2), MapEdge(20, 2), MapEdge(20, 3)}
    # laid out around its first theme: nearer A than B
    a, b, c2 = layout.node("theme", 10), layout.node("theme", 20), layout.node("code", 2)
    assert abs(c2.x - a.x) + abs(c2.y - a.y) < abs(c2.x - b.x) + abs(c2.y - b.y)


def test_deleted_codes_listed_by_a_theme_are_ignored() -> None:
    layout = build_map([Theme("A", code_ids=(1, 99, 2), id=5)], codes(2), {99: (1.0, 1.0)})
    assert ("code", 99) not in layout
    assert layout.get("code", 99) is None
    assert layout.edges == (MapEdge(5, 1), MapEdge(5, 2))
    with pytest.raises(KeyError):
        layout.node("code", 99)


def test_duplicate_members_and_unsaved_objects_are_ignored() -> None:
    layout = build_map([Theme("A", code_ids=(1, 1), id=5), Theme("new")],
                       [*codes(1), Code("unsaved")], {})
    assert layout.edges == (MapEdge(5, 1),)
    assert len(layout.nodes) == 2


def test_unthemed_leaf_codes_sit_in_rows_below_the_themes() -> None:
    parent = Code("Barriers", id=1)
    children = [Code(f"child {i}", parent_id=1, id=i) for i in range(2, 12)]
    layout = build_map([Theme("A", code_ids=(2,), id=50)], [parent, *children], {})
    unthemed = [n for n in layout.code_nodes() if not layout.themes_of(n.id)]
    assert [n.id for n in unthemed] == list(range(3, 12))  # not the parent, not the member
    lowest_themed = max(n.rect()[3] for n in layout.nodes if n not in unthemed)
    assert all(n.rect()[1] > lowest_themed for n in unthemed)
    assert len({n.y for n in unthemed}) >= 2  # wrapped into rows
    assert not overlapping(layout.nodes)
    assert build_map([Theme("A", code_ids=(2,), id=50)], [parent, *children], {},
                     include_unthemed=False).code_nodes() == (layout.node("code", 2),)


def test_a_themed_parent_code_is_shown() -> None:
    layout = build_map([Theme("A", code_ids=(1,), id=50)],
                       [Code("Parent", id=1), Code("Child", parent_id=1, id=2)], {})
    assert {n.id for n in layout.code_nodes()} == {1, 2}


def test_automatic_nodes_avoid_each_other_around_a_moved_theme() -> None:
    """A theme dragged onto another's cluster: its codes find free cells instead."""
    themes = [Theme("A", code_ids=tuple(range(1, 9)), id=1),
              Theme("B", code_ids=tuple(range(9, 17)), id=2)]
    free = build_map(themes, codes(16), {})
    a = free.node("theme", 1)
    themes[1] = Theme("B", code_ids=tuple(range(9, 17)), map_x=a.x + 10, map_y=a.y, id=2)
    layout = build_map(themes, codes(16), {})
    auto = [n for n in layout.nodes if not n.placed]
    assert not overlapping(auto)


def test_an_empty_map() -> None:
    layout = build_map([], [], {})
    assert layout == MapLayout()
    assert layout.bounds() == (0.0, 0.0, 0.0, 0.0)


def test_lookups() -> None:
    layout = build_map([Theme("A", code_ids=(1,), id=5)], codes(2), {})
    assert [n.key for n in layout.theme_nodes()] == [("theme", 5)]
    assert [n.key for n in layout.code_nodes()] == [("code", 1), ("code", 2)]
    assert layout.themes_of(2) == ()
    left, top, right, bottom = layout.bounds()
    assert all(left <= n.rect()[0] and n.rect()[2] <= right and top <= n.rect()[1]
               and n.rect()[3] <= bottom for n in layout.nodes)


def test_dropping_a_code_on_a_theme() -> None:
    layout = build_map([Theme("A", code_ids=(1, 2), id=10), Theme("B", code_ids=(2,), id=20),
                        Theme("C", id=30)], codes(3), {})
    assert drop_membership(layout, 1, 20) == (10, 20)  # moves from its one theme
    assert drop_membership(layout, 1, 20, add=True) == (None, 20)  # Ctrl: adds
    assert drop_membership(layout, 2, 30) == (None, 30)  # in two themes: adds
    assert drop_membership(layout, 3, 30) == (None, 30)  # in none: adds
    assert drop_membership(layout, 1, 10) is None  # already there


memberships = st.lists(st.lists(st.integers(1, 40), max_size=25), max_size=9)
saved = st.dictionaries(st.integers(1, 40),
                        st.tuples(st.floats(-2000, 2000), st.floats(-2000, 2000)), max_size=10)
theme_places = st.lists(st.one_of(st.none(), st.tuples(st.floats(-2000, 2000),
                                                       st.floats(-2000, 2000))), max_size=9)


@given(memberships, saved, theme_places, st.integers(0, 40), st.booleans())
def test_any_map_keeps_saved_positions_and_places_the_rest_apart(
        members: list[list[int]], positions: dict[int, tuple[float, float]],
        places: list[tuple[float, float] | None], n_codes: int, unthemed: bool) -> None:
    all_codes = codes(n_codes)
    themes = []
    for n, ids in enumerate(members):
        xy = places[n] if n < len(places) else None
        themes.append(Theme(f"T{n}", code_ids=tuple(ids), id=100 + n,
                            map_x=xy[0] if xy else None, map_y=xy[1] if xy else None))
    layout = build_map(themes, all_codes, positions, include_unthemed=unthemed)
    assert layout == build_map(themes, all_codes, positions, include_unthemed=unthemed)

    assert [n.id for n in layout.theme_nodes()] == [t.id for t in themes]
    for t in themes:
        node = layout.node("theme", t.id)  # type: ignore[arg-type]
        assert node.placed == (t.map_x is not None)
        if t.map_x is not None:
            assert node.pos == (t.map_x, t.map_y)
    code_ids = [n.id for n in layout.code_nodes()]
    assert len(code_ids) == len(set(code_ids))
    themed = {cid for ids in members for cid in ids if cid <= n_codes}
    assert set(code_ids) == (set(range(1, n_codes + 1)) if unthemed else themed)
    assert set(layout.edges) == {MapEdge(100 + n, cid) for n, ids in enumerate(members)
                                 for cid in ids if cid <= n_codes}
    assert len(layout.edges) == len(set(layout.edges))
    for node in layout.code_nodes():
        assert node.placed == (node.id in positions)
        if node.placed:
            assert node.pos == positions[node.id]
    assert not overlapping([n for n in layout.nodes if not n.placed])
