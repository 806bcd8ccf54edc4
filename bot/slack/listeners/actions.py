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

from bot.chat.replies import FAILED
from bot.slack.forms import open_form
from bot.slack.home import publish_home
from bot.slack.payloads import Action, BlockActions
from bot.slack.surface import Surface, read
from bot.slack.views import result_modal
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
        click = read(BlockActions, body, "a block_actions payload")
        pressed = read(Action, action, "an action")
        if click is not None and pressed is not None:
            surface.background.spawn(_click(surface, click, pressed), name="button click")


async def _click(surface: Surface, click: BlockActions, action: Action) -> None:
    async def answer(message: Message) -> None:
        if click.on_home or click.response_url is None:
            view = result_modal(title=message.title, text=message.text)
            await surface.client.views_open(trigger_id=click.trigger_id, view=view)
        else:
            await surface.reply(click.response_url, message)

    try:
        await _act(surface, click, action, answer)
    except Exception:
        # The ack is long gone: without this answer the person would hear nothing at all.
        log.exception("click on %s failed", action.action_id)
        await answer(FAILED)


async def _act(
    surface: Surface,
    click: BlockActions,
    action: Action,
    answer: Callable[[Message], Awaitable[None]],
) -> None:
    if await surface.replayed(click.trigger_id, "button click"):
        return
    email = await surface.directory.email_of(click.user.id)
    clicked = await surface.desk.click(email, Verb(action.action_id), action.value or "")
    if isinstance(clicked.reply, Form):
        await open_form(surface, click.trigger_id, clicked.reply)
        return
    await answer(clicked.reply)
    if click.on_home and clicked.acted:
        await publish_home(surface, user_id=click.user.id, email=email)
