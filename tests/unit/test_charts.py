"""Charts render headless, save as PNG and SVG at the size asked, and draw the numbers of
the comparison they were built from (read back from the drawn bars and cells)."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from analysis import charts
from analysis.charts import ChartStyle, chart_data, chart_texts
from analysis.compare import compare, cooccurrence, presence_matrix
from study.errors import ValidationError
from study.folder import Study
from tests.unit.test_compare import Hand, hand_study

STYLES = {"light": ChartStyle.light(), "dark": ChartStyle.dark()}


@pytest.fixture
def hand(study: Study) -> Hand:
    return hand_study(study.store)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for the charts (the study lives in tmp_path itself)."""
    folder = tmp_path / "charts"
    folder.mkdir()
    return folder


def builders(hand: Hand) -> dict[str, Callable[[ChartStyle], Figure]]:
    store = hand.store
    return {
        "bars": lambda style: charts.grouped_bars(compare(store), style),
        "code bars": lambda style: charts.grouped_bars(compare(store, rows="codes"), style),
        "presence": lambda style: charts.presence_heatmap(presence_matrix(store), style),
        "cooccurrence": lambda style: charts.cooccurrence_heatmap(cooccurrence(store), style),
    }


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@pytest.mark.parametrize("style", STYLES)
def test_every_chart_saves_as_png_and_svg(hand: Hand, out: Path, style: str) -> None:
    for name, build in builders(hand).items():
        fig = build(STYLES[style])
        png = charts.save(fig, out / f"{name} {style}.png", dpi=100)
        width, height = fig.get_size_inches()
        assert png_size(png) == (round(width * 100), round(height * 100))
        svg = charts.save(fig, out / f"{name} {style}.svg")
        assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    # Nothing but the finished files is left beside them.
    assert sorted(p.suffix for p in out.iterdir()) == [".png"] * 4 + [".svg"] * 4


def test_publication_resolution(hand: Hand, tmp_path: Path) -> None:
    fig = charts.grouped_bars(compare(hand.store), ChartStyle.light())
    width, height = fig.get_size_inches()
    path = charts.save(fig, tmp_path / "bars.png")  # 300 dpi by default
    assert png_size(path) == (round(width * 300), round(height * 300))
    assert width >= 6
    pdf = charts.save(fig, tmp_path / "bars.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_save_refuses_unknown_formats_and_writes_whole_files(hand: Hand, out: Path) -> None:
    fig = charts.grouped_bars(compare(hand.store), ChartStyle.light())
    with pytest.raises(ValidationError, match="PNG, SVG or PDF"):
        charts.save(fig, out / "bars.jpg")
    target = out / "bars.svg"
    target.write_text("old")
    charts.save(fig, target)
    assert target.read_text().startswith("<?xml")
    assert [p.name for p in out.iterdir()] == ["bars.svg"]

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    fig.savefig = disk_full  # type: ignore[method-assign]
    with pytest.raises(OSError):
        charts.save(fig, out / "bars.png")
    assert [p.name for p in out.iterdir()] == ["bars.svg"]  # no partial file left


def test_bars_draw_the_comparison(hand: Hand) -> None:
    c = compare(hand.store)
    data = chart_data(charts.grouped_bars(c, ChartStyle.dark()))
    assert data.kind == charts.BARS
    assert data.rows == tuple(r.label for r in c.rows)
    # n in the legend, small groups (all three, under 5) marked.
    assert data.columns == ("CFSW (n=2, small n)", "MHCC (n=3, small n)",
                            "(not set) (n=1, small n)")
    assert data.values == tuple(tuple(cell.percent for cell in r.cells) for r in c.rows)
    assert data.values[0] == pytest.approx((50.0, 200 / 3, 100.0))
    big = compare(hand.store, small_n=2)
    assert chart_data(charts.grouped_bars(big, ChartStyle.light())).columns == (
        "CFSW (n=2)", "MHCC (n=3)", "(not set) (n=1, small n)")


def test_bars_are_hatched_for_small_groups(hand: Hand) -> None:
    fig = charts.grouped_bars(compare(hand.store, small_n=3), ChartStyle.light())
    ax = fig.axes[0]
    hatches = [[bar.get_hatch() for bar in container] for container in ax.containers]
    assert [set(h) for h in hatches] == [{charts.HATCH}, {None}, {charts.HATCH}]
    assert ax.get_ylim() == (0, 100)
    assert "hatched: n < 3" in chart_texts(fig)


def test_presence_heatmap_draws_the_matrix(hand: Hand) -> None:
    m = presence_matrix(hand.store)
    data = chart_data(charts.presence_heatmap(m, ChartStyle.light()))
    assert data.rows == ("CFSW-1", "CFSW-2", "MHCC-1", "MHCC-2", "MHCC-3", "X-1")
    assert data.columns == ("Holding risk", "Stretched", "Relationships")
    assert data.values == tuple(tuple(float(v) for v in row) for row in m.counts)


def test_cooccurrence_heatmap_draws_the_matrix(hand: Hand) -> None:
    co = cooccurrence(hand.store)
    data = chart_data(charts.cooccurrence_heatmap(co, ChartStyle.dark()))
    # "Unused" has no codings, so is left out; the rest as computed.
    assert data.rows == data.columns == ("Risk", "Risk › Escalation", "Workload", "Trust")
    assert data.values == tuple(tuple(float(v) for v in row[:4]) for row in co.counts[:4])
    everything = chart_data(charts.cooccurrence_heatmap(co, ChartStyle.dark(),
                                                        hide_empty=False))
    assert len(everything.rows) == 5
    assert everything.values == tuple(tuple(float(v) for v in row) for row in co.counts)


def test_labels_pass_through_the_hook(hand: Hand) -> None:
    c = compare(hand.store)
    plain = chart_texts(charts.grouped_bars(c, ChartStyle.light()))
    assert {"Holding risk", "Stretched", "Relationships", "CFSW (n=2, small n)"} <= set(plain)
    assert "2/3" in plain  # k/n over the bars
    shouted = chart_texts(charts.grouped_bars(c, ChartStyle.light(), labels=str.upper))
    assert "HOLDING RISK" in shouted and "Holding risk" not in shouted
    assert "CFSW (n=2, small n)" in shouted  # group names are data too
    heat = chart_texts(charts.presence_heatmap(presence_matrix(hand.store), ChartStyle.light(),
                                               labels=lambda t: f"<{t}>"))
    assert {"<MHCC-1>", "<Holding risk>", "<MHCC>", "<(not set)>"} <= set(heat)
    assert "MHCC-1" not in heat
    co = chart_texts(charts.cooccurrence_heatmap(cooccurrence(hand.store), ChartStyle.dark(),
                                                 labels=str.lower))
    assert "risk › escalation" in co


def test_empty_study_charts(study: Study, tmp_path: Path) -> None:
    store = study.store
    for fig in (charts.grouped_bars(compare(store), ChartStyle.light()),
                charts.presence_heatmap(presence_matrix(store), ChartStyle.dark()),
                charts.cooccurrence_heatmap(cooccurrence(store), ChartStyle.light())):
        assert chart_data(fig).values == ()
        assert charts.save(fig, tmp_path / "empty.png", dpi=50).exists()
        assert any("yet" in t for t in chart_texts(fig))


def test_styles_use_a_colour_blind_safe_palette() -> None:
    okabe_ito = {"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}
    for style in STYLES.values():
        assert set(style.palette) == okabe_ito
    assert ChartStyle.light().background != ChartStyle.dark().background


def test_charts_do_not_touch_pyplot(tmp_path: Path) -> None:
    """No pyplot, so no global figure state: checked in a fresh interpreter."""
    script = (
        "import sys\n"
        "from analysis import charts\n"
        "from analysis.compare import Comparison\n"
        "fig = charts.grouped_bars(Comparison('group', (), (), False, None, 5, ()),"
        " charts.ChartStyle.light())\n"
        f"charts.save(fig, __import__('pathlib').Path({str(tmp_path / 'x.png')!r}))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
