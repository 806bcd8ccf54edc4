"""A message's chart as a PNG: one horizontal bar panel per `BarPanel`, limits as ticks.

Matplotlib runs on its Agg backend (no display) with an explicit Figure, never pyplot's global
state, so charts can be drawn from several threads at once.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from workflows.messages import BarPanel, Chart

# No display, ever: a server has none, and pyplot would otherwise probe for one.
matplotlib.use("Agg")

_OK, _OVER, _LIMIT = "#4a90d9", "#d9534f", "#333333"
_ROW_INCHES = 0.32
_WIDTH_INCHES = 8.0


def render_png(chart: Chart, *, dpi: int = 110) -> bytes:
    """The chart as PNG bytes."""
    rows = [max(1, len(panel.bars)) for panel in chart.panels] or [1]
    height = 0.9 + sum(0.7 + n * _ROW_INCHES for n in rows)
    figure = Figure(figsize=(_WIDTH_INCHES, height), dpi=dpi, layout="constrained")
    figure.suptitle(chart.title, fontsize=12, fontweight="bold")
    axes = figure.subplots(len(rows), 1, squeeze=False, height_ratios=rows)
    for panel, ax in zip(chart.panels, axes[:, 0], strict=False):
        _draw(panel, ax)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw(panel: BarPanel, ax: Axes) -> None:
    ax.set_title(panel.title, fontsize=10, loc="left")
    bars = list(reversed(panel.bars))  # the first bar on top
    if not bars:
        ax.text(0.5, 0.5, "no spend yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    values = [b.value_cents / 100 for b in bars]
    colours = [
        _OVER if b.limit_cents is not None and b.value_cents > b.limit_cents else _OK for b in bars
    ]
    positions = range(len(bars))
    ax.barh(positions, values, color=colours, height=0.6)
    for y, bar in zip(positions, bars, strict=True):
        if bar.limit_cents is not None:
            ax.vlines(bar.limit_cents / 100, y - 0.4, y + 0.4, colors=_LIMIT, linewidth=2)
    ax.set_yticks(list(positions), [b.label for b in bars], fontsize=8)
    ax.xaxis.set_major_formatter("${x:,.0f}")
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
