"""Charts of chat-neutral messages drawn as images, for platforms that show pictures."""

from bot.charts.png import render_png

__all__ = ["render_png"]
