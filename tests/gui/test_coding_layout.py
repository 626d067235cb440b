"""The coding view's geometry without Qt: anchors to document positions and back,
word snapping, and stripe lanes that never overlap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gui.coding_layout import DocumentMap, lay_out, snap_to_words, spans_at
from study.model import Coding, Segment


def segs(*texts: str) -> list[Segment]:
    return [Segment(1, n, n * 1000, n * 1000 + 900, t, id=10 + n) for n, t in enumerate(texts)]


def test_positions_and_anchors_round_trip() -> None:
    doc = DocumentMap(segs("Hello there", "", "General Kenobi"))
    assert doc.starts == [0, 12, 13]
    assert doc.position(12, 3) == 16
    assert doc.anchor(16) == (12, 3)
    assert doc.anchor(11) == (10, 11)  # the end of the first block
    assert doc.position(99, 0) is None


def test_selection_ending_at_the_start_of_a_block_stays_in_the_one_before() -> None:
    doc = DocumentMap(segs("Hello there", "General Kenobi"))
    assert doc.selection(6, 12) == ((10, 6), (10, 11))
    assert doc.selection(6, 19) == ((10, 6), (11, 7))
    assert doc.selection(5, 5) is None


def test_snap_grows_to_words_and_sheds_spaces() -> None:
    text = "we don't share the care plan"
    assert snap_to_words(text, 4, 7) == (3, 8)  # "on'" -> "don't"
    assert snap_to_words(text, 8, 16) == (9, 18)  # " share t" -> "share the"
    assert snap_to_words(text, 8, 9) == (9, 9)  # only a space: nothing


def test_lanes_separate_overlapping_codings() -> None:
    doc = DocumentMap(segs("one two three four", "five six"))
    a = Coding(1, 1, 10, 0, 10, 7, id=1)
    b = Coding(2, 1, 10, 4, 11, 4, id=2)  # overlaps a, crosses into the next block
    c = Coding(3, 1, 11, 5, 11, 8, id=3)  # after a: may reuse a's lane
    spans = {s.coding.id: s for s in lay_out([a, b, c], doc)}
    assert (spans[1].lane, spans[2].lane, spans[3].lane) == (0, 1, 0)
    assert spans[2].start == 4 and spans[2].end == doc.position(11, 4)
    assert [s.coding.id for s in spans_at(list(spans.values()), 5)] == [1, 2]


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 60)), max_size=40))
def test_no_two_spans_in_one_lane_overlap(raw: list[tuple[int, int]]) -> None:
    doc = DocumentMap(segs("x" * 300))
    codings = [Coding(1, 1, 10, a, 10, a + n, id=i) for i, (a, n) in enumerate(raw)]
    spans = lay_out(codings, doc)
    assert len(spans) == len(codings)
    for s in spans:
        for t in spans:
            if s is not t and s.lane == t.lane:
                assert s.end <= t.start or t.end <= s.start
