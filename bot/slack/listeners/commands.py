"""`/capdesk`: answered at once, worked on in the background, replied to via `response_url`."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.forms import open_form
from bot.slack.surface import FAILED, UNKNOWN_PERSON, Surface, refusal
from workflows.commands import run_command
from workflows.errors import Refusal
from workflows.forms.model import Form

log = logging.getLogger(__name__)

COMMAND = "/capdesk"


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for the slash command."""

    @bolt.command(COMMAND)
    async def capdesk(ack: AsyncAck, command: dict[str, Any]) -> None:
        """Acknowledge within Slack's 3 seconds; the reply follows as an ephemeral message."""
        await ack()
        surface.background.spawn(
            _run(
                surface,
                user_id=command["user_id"],
                text=command.get("text") or "",
                trigger_id=command["trigger_id"],
                response_url=command["response_url"],
            ),
            name="slash command",
        )


async def _run(
    surface: Surface, *, user_id: str, text: str, trigger_id: str, response_url: str
) -> None:
    try:
        await _command(
            surface, user_id=user_id, text=text, trigger_id=trigger_id, response_url=response_url
        )
    except Exception:
        # The ack is long gone: without this answer the person would hear nothing at all.
        log.exception("/capdesk %s failed", text.split(" ", 1)[0][:20])
        await surface.reply(response_url, FAILED)


async def _command(
    surface: Surface, *, user_id: str, text: str, trigger_id: str, response_url: str
) -> None:
    if await surface.replayed(trigger_id, "slash command"):
        return
    email = await surface.directory.email_of(user_id)
    if email is None:
        await surface.reply(response_url, UNKNOWN_PERSON)
        return
    app = surface.app
    try:
        reply = await surface.run(
            run_command, app.uow, app.policy, email=email, text=text, now=app.clock.now()
        )
    except Refusal as exc:
        await surface.reply(response_url, refusal(str(exc)))
        return
    if isinstance(reply, Form):
        await open_form(surface, trigger_id, reply)
        return
    await surface.reply(response_url, reply)
    surface.wake_outbox()
