"""Opening a form as a modal, from a command, a button or a shortcut."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.slack.surface import Surface
from bot.slack.views import modal
from workflows.forms.model import Form


async def open_form(surface: Surface, trigger_id: str, form: Form) -> None:
    """Open the form's modal for the person whose request carried `trigger_id` (a form with
    no fields is a modal that only tells)."""
    try:
        await surface.client.views_open(trigger_id=trigger_id, view=modal(form))
    except SlackApiError as exc:
        surface.metrics.slack_api_error("views.open", str(exc.response.get("error")))
        raise
