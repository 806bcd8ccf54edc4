"""Submitted forms (`view_submission`): checked before the answer, so errors show inline.

This is the one place where domain work runs before the ack: Slack shows field errors only
from the ack itself (`response_action: errors`). The work is one short transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.surface import FAILED, UNKNOWN_PERSON, Surface
from bot.slack.views import (
    DENY_CALLBACK,
    RAISE_CAP_CALLBACK,
    REQUEST_CALLBACK,
    read_deny_form,
    read_raise_cap_form,
    read_request_form,
    result_modal,
)
from workflows.alerts.forms import raise_cap
from workflows.clicks import Click, press
from workflows.errors import Refusal
from workflows.messages import Message, Verb
from workflows.model import RequestKind
from workflows.requests.asking import submit_request
from workflows.requests.form import RequestForm, draft_from_form

log = logging.getLogger(__name__)

_REASON = "reason"


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for the request form, the raise-cap form and the deny form."""

    @bolt.view(REQUEST_CALLBACK)
    async def request_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Send the request, or show what is wrong next to the field at fault."""
        fields = {block.get("block_id") for block in view.get("blocks", [])}

        async def work() -> None:
            form = read_request_form(view["state"]["values"], kind=_kind(view))
            email = await _email(surface, body)
            await surface.run(_submit, surface, email, form)

        def field(exc: Refusal) -> str:
            return exc.field if exc.field is not None and exc.field in fields else _REASON

        if await _answer(surface, ack, body, work, field=field):
            surface.wake_outbox()

    @bolt.view(RAISE_CAP_CALLBACK)
    async def cap_raised(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Queue the new cap and say so in the form; a bad amount is shown next to it."""

        async def work() -> dict[str, Any]:
            amount = read_raise_cap_form(view["state"]["values"])
            email = await _email(surface, body)
            member = view.get("private_metadata") or ""
            done = await surface.run(_raise_cap, surface, email, member, amount)
            return {"response_action": "update", "view": result_modal(done.title, done.text)}

        if await _answer(surface, ack, body, work, field=lambda _: "amount"):
            surface.wake_outbox()

    @bolt.view(DENY_CALLBACK)
    async def deny_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Deny with the reason given; a request decided meanwhile is said so in the form."""

        async def work() -> None:
            note = read_deny_form(view["state"]["values"])
            email = await _email(surface, body)
            if len(note.strip()) < 3:
                raise Refusal("Say why, in a few words: the requester will read it.")
            app = surface.app
            click = Click(
                actor=email,
                verb=Verb.DENY,
                value=view.get("private_metadata") or "",
                now=app.clock.now(),
                note=note,
            )
            await surface.run(press, app.uow, app.policy, click)

        if await _answer(surface, ack, body, work, field=lambda _: _REASON):
            surface.metrics.decision("deny")
            surface.wake_outbox()


async def _answer(
    surface: Surface,
    ack: AsyncAck,
    body: dict[str, Any],
    work: Callable[[], Awaitable[dict[str, Any] | None]],
    *,
    field: Callable[[Refusal], str],
) -> bool:
    """Do a submission's work and answer Slack with its outcome; True when it was done.

    The answer is what `work` returns (nothing closes the form), or the refusal next to the
    field `field` picks. A submission handled before (the same trigger_id) closes the form
    and is not acted on again.
    """
    try:
        with _failure_as_refusal():
            if await surface.replayed(body["trigger_id"], "form submission"):
                await ack()
                return False
            answer = await work()
    except Refusal as exc:
        await ack(response_action="errors", errors={field(exc): str(exc)[:150]})
        return False
    await ack(**(answer or {}))
    return True


def _kind(view: dict[str, Any]) -> RequestKind:
    """The kind of request the form asks for, which capdesk put in its metadata."""
    try:
        kind = json.loads(view.get("private_metadata") or "{}").get("kind")
        return RequestKind(kind)
    except (ValueError, AttributeError) as exc:
        raise Refusal("This form is not one capdesk made; open it again.") from exc


def _raise_cap(surface: Surface, actor: str, member: str, amount: str) -> Message:
    app = surface.app
    return raise_cap(
        app.uow(), app.policy, actor=actor, email=member, new_cap=amount, now=app.clock.now()
    )


@contextmanager
def _failure_as_refusal() -> Iterator[None]:
    """An unexpected failure becomes a refusal the form shows; Slack would otherwise only say
    it had trouble connecting."""
    try:
        yield
    except Refusal:
        raise
    except Exception as exc:
        log.exception("form submission failed")
        raise Refusal(f"{FAILED.title}: {FAILED.text}") from exc


async def _email(surface: Surface, body: dict[str, Any]) -> str:
    email = await surface.directory.email_of(body["user"]["id"])
    if email is None:
        raise Refusal(UNKNOWN_PERSON.text)
    return email


def _submit(surface: Surface, email: str, form: RequestForm) -> None:
    app = surface.app
    draft = draft_from_form(form, zone=app.policy.org.zone)
    submit_request(app.uow(), app.policy, requester=email, draft=draft, now=app.clock.now())
