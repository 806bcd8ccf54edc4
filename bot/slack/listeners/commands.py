"""`/capdesk`: answered at once, worked on in the background, replied to via `response_url`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.chat.replies import FAILED
from bot.slack.forms import open_form
from bot.slack.limits import COMMAND
from bot.slack.payloads import SlashCommand
from bot.slack.surface import Surface, read
from workflows.forms.model import Form

log = logging.getLogger(__name__)

__all__ = ["COMMAND", "register"]


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for the slash command."""

    @bolt.command(COMMAND)
    async def capdesk(ack: AsyncAck, command: dict[str, Any]) -> None:
        """Acknowledge within Slack's 3 seconds; the reply follows as an ephemeral message."""
        await ack()
        typed = read(SlashCommand, command, "a slash command")
        if typed is not None:
            surface.background.spawn(_run(surface, typed), name="slash command")


async def _run(surface: Surface, command: SlashCommand) -> None:
    try:
        await _command(surface, command)
    except Exception:
        # The ack is long gone: without this answer the person would hear nothing at all.
        log.exception("/capdesk %s failed", command.text.split(" ", 1)[0][:20])
        await surface.reply(command.response_url, FAILED)


async def _command(surface: Surface, command: SlashCommand) -> None:
    if await surface.replayed(command.trigger_id, "slash command"):
        return
    email = await surface.directory.email_of(command.user_id)
    reply = await surface.desk.command(email, command.text)
    if isinstance(reply, Form):
        await open_form(surface, command.trigger_id, reply)
    else:
        await surface.reply(command.response_url, reply)
