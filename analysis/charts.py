"""Charts of a comparison, as matplotlib Figure objects the GUI shows on a Qt canvas and
the exporter saves: the same figure on screen and on paper.

No pyplot: each figure is its own object with no global state, so charts can be built
in any thread and never leak into one another. Colours come from a ChartStyle (light or
dark, to match the window) with the Okabe–Ito palette, which readers with any common
colour-vision deficiency can tell apart; small groups are also hatched, so the warning
survives printing in grey.

Every label drawn from study data passes through the `labels` hook, and chart_texts()
lists every text a figure draws, so an export can be checked for leaked identifiers.
chart_data() reads back what a figure drew (bar heights, heatmap cells), which is how the
tests check that a chart shows the comparison's numbers.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator, PercentFormatter

from analysis.compare import Comparison, Cooccurrence, PresenceMatrix
from study.errors import ValidationError

Labels = Callable[[str], str]

BARS = "verbatim:grouped-bars"
PRESENCE = "verbatim:presence-heatmap"
COOCCURRENCE = "verbatim:cooccurrence-heatmap"
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
HATCH = "///"
WRAP = 16  # characters per line of a row label under a bar group


@dataclass(frozen=True, slots=True)
class ChartStyle:
    """Colours for one palette of the window; charts never hard-code a colour."""

    text: str
    background: str
    grid: str
    palette: tuple[str, ...]

    @classmethod
    def light(cls) -> ChartStyle:
        # Okabe–Ito, without black; the darker colours first for contrast on white.
        return cls("#222222", "#ffffff", "#d9d9d9",
                   ("#0072b2", "#e69f00", "#009e73", "#d55e00", "#56b4e9", "#cc79a7",
                    "#f0e442"))

    @classmethod
    def dark(cls) -> ChartStyle:
        # The same hues, the lighter ones first for contrast on a dark window.
        return cls("#e6e6e6", "#1e1e1e", "#4a4a4a",
                   ("#56b4e9", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#f0e442",
                    "#0072b2"))

    def colour(self, n: int) -> str:
        return self.palette[n % len(self.palette)]


@dataclass(frozen=True, slots=True)
class ChartData:
    """What a chart drew: values[row][column], with the labels as drawn (line breaks
    of wrapped labels read back as spaces)."""

    kind: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]


def _same(text: str) -> str:
    return text


def _figure(style: ChartStyle, width: float, height: float) -> Figure:
    # Constrained layout, not a tight bounding box on save: the saved size is exactly
    # figsize x dpi, as a journal's column width asks.
    return Figure(figsize=(width, height), facecolor=style.background, layout="constrained")


def _axes(fig: Figure, style: ChartStyle, kind: str) -> Axes:
    ax = fig.add_subplot()
    ax.set_label(kind)  # how chart_data finds it; an axes label is never drawn
    ax.set_facecolor(style.background)
    ax.tick_params(colors=style.text, labelcolor=style.text)
    for spine in ax.spines.values():
        spine.set_color(style.grid)
    return ax


def _title(ax: Axes, style: ChartStyle, title: str) -> None:
    ax.set_title(title, color=style.text, loc="left", fontsize=11)


def _empty(ax: Axes, style: ChartStyle, message: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", color=style.text,
            transform=ax.transAxes)


def _wrap(text: str, width: int = WRAP) -> str:
    """Break a label between words, so a line break reads back as the space it was."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


# --- grouped bars -------------------------------------------------------------------------------


def grouped_bars(comparison: Comparison, style: ChartStyle, *,
                 labels: Labels | None = None) -> Figure:
    """k/n as a percentage per row, one bar per group, n in the legend; groups under the
    comparison's small-n threshold are hatched and marked in the legend."""
    label = labels or _same
    rows, groups = comparison.rows, comparison.groups
    width = min(16.0, max(6.0, 2.2 + len(rows) * (0.3 * len(groups) + 0.5)))
    fig = _figure(style, width, 4.8)
    ax = _axes(fig, style, BARS)
    what = "theme" if comparison.row_kind == "theme" else "code"
    by = "group" if comparison.attribute == "group" else label(comparison.attribute)
    _title(ax, style, f"Participants who raised each {what}, by {by}")
    if not rows or not groups:
        _empty(ax, style, "Nothing to compare yet")
        return fig
    small = {g.name for g in comparison.small_groups()}
    step = 0.8 / len(groups)
    x = np.arange(len(rows), dtype=float)
    annotate = len(rows) * len(groups) <= 40
    for g, group in enumerate(groups):
        colour = style.colour(g)
        centres = x - 0.4 + step * (g + 0.5)
        heights = [row.cells[g].percent for row in rows]
        name = label(group.name)
        ax.bar(centres, heights, step * 0.92, color=colour, edgecolor=style.background,
               linewidth=0.6, hatch=HATCH if group.name in small else None, zorder=2,
               label=f"{name} (n={group.n}{', small n' if group.name in small else ''})")
        if annotate:
            for centre, height, row in zip(centres, heights, rows, strict=True):
                # k/n above the bar, or inside its top when the bar reaches the top.
                inside = height > 90
                ax.text(centre, height - 1.5 if inside else height + 1.5,
                        f"{row.cells[g].k}/{row.cells[g].n}", ha="center",
                        va="top" if inside else "bottom", fontsize=7, zorder=3,
                        color=_ink(to_rgb(colour)) if inside else style.text,
                        bbox={"boxstyle": "square,pad=0.1", "facecolor": colour,
                              "linewidth": 0} if inside else None)
    ax.set_xticks(x, [_wrap(label(row.label)) for row in rows], fontsize=8)
    ax.set_xlim(-0.5, len(rows) - 0.5)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0))
    ax.set_ylabel("Participants who raised it (k/n)", color=style.text)
    ax.grid(axis="y", color=style.grid, linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    handles, names = ax.get_legend_handles_labels()
    if small:
        handles.append(Patch(facecolor=style.background, edgecolor=style.text, hatch=HATCH,
                             linewidth=0))
        names.append(f"hatched: n < {comparison.small_n}")
    legend = ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                       frameon=False, fontsize=8, title=None if by == "group" else by)
    for text in [*legend.get_texts(), legend.get_title()]:
        text.set_color(style.text)
    return fig


# --- heatmaps ----------------------------------------------------------------------------------


def _ramp(style: ChartStyle) -> LinearSegmentedColormap:
    """From the background (zero: nothing there) to the first palette colour."""
    ramp = LinearSegmentedColormap.from_list("verbatim", [style.background, style.palette[0]])
    return ramp.with_extremes(bad=style.grid)


def _ink(rgb: tuple[float, ...]) -> str:
    """Black or white, whichever reads on a cell of this colour."""
    r, g, b = rgb[:3]
    return "#000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "#ffffff"


def _heatmap(fig: Figure, ax: Axes, style: ChartStyle, values: np.ndarray,
             mask: np.ndarray | None, row_labels: Sequence[str],
             column_labels: Sequence[str], bar_label: str) -> None:
    data = np.ma.masked_array(values, mask=mask if mask is not None else False)
    top = max(1, int(data.max()) if data.count() else 1)
    image = ax.imshow(data, cmap=_ramp(style), vmin=0, vmax=top, aspect="auto",
                      interpolation="nearest")
    steep = len(column_labels) > 12
    ax.set_xticks(range(len(column_labels)), column_labels, rotation=90 if steep else 40,
                  ha="center" if steep else "right", rotation_mode="anchor" if not steep
                  else "default", fontsize=8)
    ax.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    ax.tick_params(length=0)
    colour_bar = fig.colorbar(image, ax=ax, shrink=min(1.0, 6 / max(6, len(row_labels)) + 0.3),
                              pad=0.06)
    colour_bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    colour_bar.ax.tick_params(colors=style.text, labelcolor=style.text)
    colour_bar.outline.set_edgecolor(style.grid)
    colour_bar.set_label(bar_label, color=style.text)
    # Numbers in the cells while they stay legible (and cheap: each one is a text to draw).
    if len(row_labels) <= 60 and len(column_labels) <= 30:
        cmap, size = image.get_cmap(), 7 if len(row_labels) <= 40 else 6
        for (r, c), value in np.ndenumerate(values):
            if mask is not None and mask[r, c]:
                ax.text(c, r, str(int(value)), ha="center", va="center", fontsize=size,
                        color=style.text, fontstyle="italic")
            elif value:
                ax.text(c, r, str(int(value)), ha="center", va="center", fontsize=size,
                        color=_ink(cmap(min(1.0, value / top))))


def presence_heatmap(matrix: PresenceMatrix, style: ChartStyle, *,
                     labels: Labels | None = None) -> Figure:
    """Participants (rows, by group) by codes or themes: how many references each made;
    a line separates the groups, named on the right."""
    label = labels or _same
    participants, rows = matrix.participants, matrix.rows
    width = min(16.0, max(5.5, 3.2 + 0.6 * len(rows)))
    height = min(40.0, max(3.5, 2.2 + 0.22 * len(participants)))
    fig = _figure(style, width, height)
    ax = _axes(fig, style, PRESENCE)
    what = "theme" if rows and rows[0][0] == "theme" else "code"
    _title(ax, style, f"References by participant and {what}")
    if not participants or not rows:
        _empty(ax, style, "Nothing to show yet")
        return fig
    values = np.array(matrix.counts, dtype=float).reshape(len(participants), len(rows))
    _heatmap(fig, ax, style, values, None, [label(code) for _, code, _ in participants],
             [label(text) for _, _, text in rows], "References")
    # The groups: a rule between blocks, the name at the block's middle on the right.
    blocks: list[tuple[str, int, int]] = []
    for n, (_, _, group) in enumerate(participants):
        if blocks and blocks[-1][0] == group:
            blocks[-1] = (group, blocks[-1][1], n)
        else:
            blocks.append((group, n, n))
    for group, first, last in blocks:
        if first:
            ax.axhline(first - 0.5, color=style.text, linewidth=1.2)
        ax.text(1.01, 1 - (first + last + 1) / 2 / len(participants), label(group),
                transform=ax.transAxes, rotation=-90, ha="left", va="center", fontsize=8,
                color=style.text)
    return fig


def cooccurrence_heatmap(co: Cooccurrence, style: ChartStyle, *,
                         labels: Labels | None = None, hide_empty: bool = True) -> Figure:
    """Codes by codes: how often their codings overlap. The diagonal (each code's own
    codings) is greyed and written in italics, so it does not swamp the colour scale;
    codes with no codings are left out unless hide_empty is False."""
    label = labels or _same
    keep = [n for n in range(len(co.codes)) if not hide_empty or co.counts[n][n]]
    size = min(20.0, max(5.5, 3.0 + 0.32 * len(keep)))
    fig = _figure(style, size + 1.0, size)
    ax = _axes(fig, style, COOCCURRENCE)
    _title(ax, style, "Codes that overlap in the text")
    if not keep:
        _empty(ax, style, "No codings yet")
        return fig
    values = np.array([[co.counts[i][j] for j in keep] for i in keep], dtype=float)
    names = [label(co.codes[n][1]) for n in keep]
    _heatmap(fig, ax, style, values, np.eye(len(keep), dtype=bool), names, names,
             "Overlapping codings")
    return fig


# --- reading a chart back, and saving it ----------------------------------------------------


def _chart_axes(fig: Figure) -> Axes:
    for ax in fig.axes:
        if ax.get_label() in (BARS, PRESENCE, COOCCURRENCE):
            return ax
    raise ValueError("This figure was not drawn by analysis.charts.")


def _tick_texts(texts: Sequence[Text]) -> tuple[str, ...]:
    return tuple(t.get_text().replace("\n", " ") for t in texts)


def chart_data(fig: Figure) -> ChartData:
    """The numbers a chart drew, read back from its bars or heatmap cells."""
    ax = _chart_axes(fig)
    kind = str(ax.get_label())
    fig.draw_without_rendering()  # lay out ticks, so their labels are as drawn
    if kind == BARS:
        containers = [c for c in ax.containers if isinstance(c, BarContainer)]
        columns = tuple(str(c.get_label()) for c in containers)
        heights = [[float(p.get_height()) for p in c.patches] for c in containers]
        rows = _tick_texts(ax.get_xticklabels()) if containers else ()
        return ChartData(kind, rows, columns,
                         tuple(tuple(h[r] for h in heights) for r in range(len(rows))))
    if not ax.images:
        return ChartData(kind, (), (), ())
    array = np.ma.getdata(ax.images[0].get_array())
    return ChartData(kind, _tick_texts(ax.get_yticklabels()),
                     _tick_texts(ax.get_xticklabels()),
                     tuple(tuple(float(v) for v in row) for row in array))


def chart_texts(fig: Figure) -> list[str]:
    """Every text the figure draws (titles, ticks, legend, annotations), for the leak
    check an export runs before writing."""
    fig.draw_without_rendering()
    found = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_title().get_text():
            found.append(legend.get_title().get_text())
    return list(dict.fromkeys(found))


def save(fig: Figure, path: Path, *, dpi: int = 300) -> Path:
    """Write the figure as PNG, SVG or PDF (by suffix) at `dpi`; the file appears whole
    or not at all (a temporary file beside it, then a rename)."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationError(f"Charts can be saved as PNG, SVG or PDF, not {path.suffix!r}.")
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)
    temporary = path.with_name(f".{path.stem}-{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        with temporary.open("wb") as f:
            fig.savefig(f, format=fmt, dpi=dpi, facecolor=fig.get_facecolor(),
                        metadata=metadata)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            temporary.unlink()
        raise
    return path


__all__ = ["ChartData", "ChartStyle", "chart_data", "chart_texts", "cooccurrence_heatmap",
           "grouped_bars", "presence_heatmap", "save"]
