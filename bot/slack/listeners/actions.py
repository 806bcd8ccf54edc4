"""Button clicks (`block_actions`), on messages and on the App Home.

The click is acknowledged first; the decision runs in the background, so a slow database or a
rate-limited Web API never makes Slack show the person an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.forms import open_form
from bot.slack.home import publish_home
from bot.slack.surface import FAILED, UNKNOWN_PERSON, Surface, refusal
from bot.slack.views import result_modal
from workflows.clicks import Click
from workflows.errors import Refusal
from workflows.forms.flows import answer_click
from workflows.forms.model import Form
from workflows.messages import Message, Verb

log = logging.getLogger(__name__)

ACTION_IDS = re.compile("^(" + "|".join(re.escape(verb.value) for verb in Verb) + ")$")


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for every button the domain's messages carry."""

    @bolt.action(ACTION_IDS)
    async def clicked(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        """Acknowledge at once; act, then answer only the person who clicked."""
        await ack()
        surface.background.spawn(_click(surface, body=body, action=action), name="button click")


async def _click(surface: Surface, *, body: dict[str, Any], action: dict[str, Any]) -> None:
    trigger_id = body["trigger_id"]
    on_home = (body.get("view") or {}).get("type") == "home"

    async def answer(message: Message) -> None:
        if on_home:
            view = result_modal(title=message.title, text=message.text)
            await surface.client.views_open(trigger_id=trigger_id, view=view)
        else:
            await surface.reply(body["response_url"], message)

    try:
        await _act(surface, body=body, action=action, answer=answer)
    except Exception:
        # The ack is long gone: without this answer the person would hear nothing at all.
        log.exception("click on %s failed", action.get("action_id"))
        await answer(FAILED)


async def _act(
    surface: Surface,
    *,
    body: dict[str, Any],
    action: dict[str, Any],
    answer: Callable[[Message], Awaitable[None]],
) -> None:
    user_id = body["user"]["id"]
    trigger_id = body["trigger_id"]
    on_home = (body.get("view") or {}).get("type") == "home"
    if await surface.replayed(trigger_id, "button click"):
        return
    email = await surface.directory.email_of(user_id)
    if email is None:
        await answer(UNKNOWN_PERSON)
        return
    verb = Verb(action["action_id"])
    app = surface.app
    click = Click(actor=email, verb=verb, value=str(action.get("value") or ""), now=app.clock.now())
    try:
        reply = await surface.run(answer_click, app.uow, app.policy, click)
    except Refusal as exc:
        await answer(refusal(str(exc)))
        return
    if isinstance(reply, Form):
        await open_form(surface, trigger_id, reply)
        return
    if verb is Verb.APPROVE:
        surface.metrics.decision("approve")
    surface.wake_outbox()
    await answer(reply)
    if on_home:
        await publish_home(surface, user_id=user_id, email=email)
