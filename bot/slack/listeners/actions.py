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

from bot.slack.forms import (
    extension_of,
    open_deny_form,
    open_raise_cap_form,
    open_request_form,
)
from bot.slack.home import publish_home
from bot.slack.surface import FAILED, UNKNOWN_PERSON, Surface, refusal
from bot.slack.views import result_modal
from workflows.alerts.forms import suggested_request
from workflows.clicks import Click, button_value, id_of, press
from workflows.errors import Refusal
from workflows.messages import Message, Verb
from workflows.model import Request, RequestKind
from workflows.requests.form import draft_from_form
from workflows.requests.grammar import RequestDraft

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
    try:
        value = button_value(str(action.get("value") or ""))
        if verb is Verb.DENY:
            await open_deny_form(
                surface, trigger_id=trigger_id, actor=email, request_id=id_of(value)
            )
            return
        if verb in (Verb.REQUEST_MORE, Verb.EXTEND, Verb.RAISE_CAP):
            await _open_form(surface, verb=verb, value=value, email=email, trigger_id=trigger_id)
            return
        app = surface.app
        click = Click(actor=email, verb=verb, value=value, now=app.clock.now())
        reply = await surface.run(press, app.uow, app.policy, click)
    except Refusal as exc:
        await answer(refusal(str(exc)))
        return
    if verb is Verb.APPROVE:
        surface.metrics.decision("approve")
    surface.wake_outbox()
    await answer(reply)
    if on_home:
        await publish_home(surface, user_id=user_id, email=email)


async def _open_form(
    surface: Surface, *, verb: Verb, value: str, email: str, trigger_id: str
) -> None:
    if verb is Verb.RAISE_CAP:
        await open_raise_cap_form(surface, trigger_id=trigger_id, actor=email, member=value)
        return
    if verb is Verb.REQUEST_MORE:
        kind = RequestKind(value) if value in set(RequestKind) else RequestKind.CAP_INCREASE
        draft = None
        if kind is RequestKind.CAP_INCREASE:
            draft = await surface.run(_suggested, surface, email)
        await open_request_form(surface, trigger_id=trigger_id, email=email, kind=kind, draft=draft)
        return
    # An extension asks again for what the ending grant gave.
    request = await surface.run(_request, surface, value)
    if request is None or request.requester != email:
        raise Refusal("You can only extend your own grants.")
    await open_request_form(
        surface,
        trigger_id=trigger_id,
        email=email,
        kind=request.kind,
        draft=extension_of(request),
    )


def _suggested(surface: Surface, email: str) -> RequestDraft | None:
    """What the alerts suggest asking for (enough for the month-end forecast), if anything."""
    app = surface.app
    try:
        form = suggested_request(app.uow(), app.policy, email=email, now=app.clock.now())
        return draft_from_form(form, zone=app.policy.org.zone)
    except Refusal:
        return None


def _request(surface: Surface, value: str) -> Request | None:
    with surface.app.uow() as uow:
        return uow.requests.get(id_of(value))
