"""What every Slack listener needs, built once with the adapter."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.background import Background
from bot.chat.desk import Desk
from bot.chat.directory import Directory
from bot.metrics import Metrics
from bot.slack.blocks import fallback_text, message_blocks
from bot.slack.payloads import P, PayloadError, checked
from workflows.messages import Message

log = logging.getLogger(__name__)


@dataclass
class Surface:
    """capdesk's desk, the Web API client, the directory and the background runner, as the
    listeners see them."""

    desk: Desk
    client: AsyncWebClient
    directory: Directory
    background: Background
    metrics: Metrics

    async def replayed(self, trigger_id: str, what: str) -> bool:
        """Whether this command or interaction was handled before, by its `trigger_id`.

        Slack gives every command and interaction a trigger id of its own and never resends
        one (it retries only events), so a second copy is a replay within the signature's five
        minutes, or a proxy's double send: it is acknowledged and not acted on again.
        """
        if await self.desk.first_time(f"trigger:{trigger_id}"):
            return False
        log.warning("ignored a replayed Slack %s (its trigger_id was handled before)", what)
        return True

    async def reply(self, response_url: str, message: Message) -> None:
        """Answer only the person, through the `response_url` Slack gave with their request.

        The client's session is reused: a session per answer costs more than the answer.
        """
        webhook = AsyncWebhookClient(response_url, session=self.client.session, timeout=10)
        response = await webhook.send_dict(ephemeral(message))
        if response.status_code >= 400:
            self.metrics.slack_api_error("response_url", str(response.status_code))


def ephemeral(message: Message) -> dict[str, Any]:
    """A reply only the person sees, as `respond()` (the `response_url`) takes it."""
    return {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": fallback_text(message),
        "blocks": message_blocks(message),
    }


def read(model: type[P], body: dict[str, Any], what: str) -> P | None:
    """A listener's body as its model; None (logged) for one that does not hold, which only
    Socket Mode can bring: over HTTP the edge refused it already."""
    try:
        return checked(model, body, what)
    except PayloadError as exc:
        log.warning("ignored a Slack request: %s", exc)
        return None
