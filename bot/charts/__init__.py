"""Charts of chat-neutral messages drawn as images, for platforms that show pictures."""

from __future__ import annotations

from workflows.messages import Chart


def render_png(chart: Chart) -> bytes:
    """The chart as PNG bytes.

    Matplotlib is imported on the first chart, not at start-up: it adds about 40 MB to a
    server that may draw one chart a day.
    """
    from bot.charts.png import render_png as render

    return render(chart)


__all__ = ["render_png"]
