"""The global shortcut "Request more AI usage": the request form from anywhere in Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.forms import open_form
from bot.slack.payloads import Shortcut
from bot.slack.surface import Surface, read
from workflows.forms.model import Form, told

SHORTCUT = "request_more"


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for the shortcut."""

    @bolt.shortcut(SHORTCUT)
    async def request_more(ack: AsyncAck, body: dict[str, Any]) -> None:
        """Acknowledge, then open the form at once: its trigger expires in 3 seconds.

        The work is the background's, as every listener's is, so shutdown (and a test's
        settle) waits for it.
        """
        await ack()
        shortcut = read(Shortcut, body, "a shortcut payload")
        if shortcut is not None:
            surface.background.spawn(_open(surface, shortcut), name="shortcut")


async def _open(surface: Surface, shortcut: Shortcut) -> None:
    if await surface.replayed(shortcut.trigger_id, "shortcut"):
        return
    email = await surface.directory.email_of(shortcut.user.id)
    reply = await surface.desk.request_form(email)
    form = reply if isinstance(reply, Form) else told(reply.title, reply.text)
    await open_form(surface, shortcut.trigger_id, form)
