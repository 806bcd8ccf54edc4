"""The terminal as a chat surface: chat-neutral messages drawn with rich."""

from bot.console.render import plain_text, render_delivery, render_message

__all__ = ["plain_text", "render_delivery", "render_message"]
