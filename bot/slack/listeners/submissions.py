"""Submitted forms (`view_submission`): checked before the answer, so errors show inline.

This is the one place where domain work runs before the ack: Slack shows field errors only
from the ack itself (`response_action: errors`). The work is one short transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack.surface import FAILED, UNKNOWN_PERSON, Surface
from bot.slack.views import CALLBACKS, read_values, result_modal
from workflows.errors import Refusal
from workflows.forms.flows import on_form, submit_form
from workflows.forms.model import FormId, Submitted

log = logging.getLogger(__name__)


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for each form capdesk opens: the request, deny and raise-cap forms."""
    for form_id, callback_id in CALLBACKS.items():
        bolt.view(callback_id)(_listener(surface, form_id))


def _listener(surface: Surface, form_id: FormId) -> Any:
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Do what the form asks, or show what is wrong next to the field at fault."""
        context = str(view.get("private_metadata") or "")
        try:
            with _failure_as_refusal():
                if await surface.replayed(body["trigger_id"], "form submission"):
                    await ack()
                    return
                done = await _submit(surface, body, view, form_id, context)
        except Refusal as exc:
            placed = on_form(exc, form_id, context)
            await ack(response_action="errors", errors={str(placed.field): str(placed)[:150]})
            return
        if done.elsewhere:
            await ack()
        else:
            message = done.message
            await ack(response_action="update", view=result_modal(message.title, message.text))
        if form_id is FormId.DENY:
            surface.metrics.decision("deny")
        surface.wake_outbox()

    return submitted


async def _submit(
    surface: Surface, body: dict[str, Any], view: dict[str, Any], form_id: FormId, context: str
) -> Submitted:
    email = await surface.directory.email_of(body["user"]["id"])
    if email is None:
        raise Refusal(UNKNOWN_PERSON.text)
    app = surface.app
    return await surface.run(
        submit_form,
        app.uow,
        app.policy,
        actor=email,
        form_id=form_id,
        context=context,
        values=read_values(view["state"]["values"]),
        now=app.clock.now(),
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
