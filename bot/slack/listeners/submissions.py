"""Submitted forms (`view_submission`): checked before the answer, so errors show inline.

This is the one place where domain work runs before the ack: Slack shows field errors only
from the ack itself (`response_action: errors`). The work is one short transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.chat.desk import Desk
from bot.slack.limits import slack_text
from bot.slack.payloads import ViewSubmission
from bot.slack.surface import Surface, read
from bot.slack.views import CALLBACKS, read_values, result_modal
from workflows.errors import Refusal
from workflows.forms.model import FormId

log = logging.getLogger(__name__)

Listener = Callable[[AsyncAck, dict[str, Any]], Awaitable[None]]


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for each form capdesk opens: the request, deny and raise-cap forms."""
    for form_id, callback_id in CALLBACKS.items():
        bolt.view(callback_id)(_listener(surface, form_id))


def _listener(surface: Surface, form_id: FormId) -> Listener:
    async def submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        """Do what the form asks, or show what is wrong next to the field at fault."""
        submission = read(ViewSubmission, body, "a view_submission payload")
        if submission is None:
            await ack()
            return
        context = submission.view.private_metadata
        try:
            if await surface.replayed(submission.trigger_id, "form submission"):
                await ack()
                return
            email = await surface.directory.email_of(submission.user.id)
            values = read_values(submission.view.state.values)
            done = await surface.desk.submit(email, form_id, context, values)
        except Refusal as exc:
            await _errors(ack, exc)
            return
        except Exception:
            log.exception("form submission failed")
            await _errors(ack, Desk.failed(form_id, context))
            return
        if done.elsewhere:
            await ack()
        else:
            view = result_modal(done.message.title, done.message.text)
            await ack(response_action="update", view=view)

    return submitted


async def _errors(ack: AsyncAck, refusal: Refusal) -> None:
    """The refusal next to its field (Slack shows 150 characters of it)."""
    await ack(response_action="errors", errors={str(refusal.field): slack_text(str(refusal))[:150]})
