"""The global shortcut "Request more AI usage": the request form from anywhere in Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.forms import open_form
from bot.slack.surface import UNKNOWN_PERSON, Surface
from bot.slack.views import result_modal
from workflows.forms.request import request_form
from workflows.model import Member, RequestKind

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
        surface.background.spawn(_open(surface, body), name="shortcut")


async def _open(surface: Surface, body: dict[str, Any]) -> None:
    trigger_id = body["trigger_id"]
    if await surface.replayed(trigger_id, "shortcut"):
        return
    email = await surface.directory.email_of(body["user"]["id"])
    if email is None:
        view = result_modal(title=UNKNOWN_PERSON.title, text=UNKNOWN_PERSON.text)
        await surface.client.views_open(trigger_id=trigger_id, view=view)
        return
    member = await surface.run(_member, surface, email)
    form = request_form(RequestKind.CAP_INCREASE, surface.app.policy, member=member)
    await open_form(surface, trigger_id, form)


def _member(surface: Surface, email: str) -> Member | None:
    with surface.app.uow() as uow:
        return uow.members.get(email)
