"""What every Slack listener needs, built once by the composition root."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.background import Background, DomainThreads
from bot.bootstrap import Capdesk
from bot.metrics import Metrics
from bot.slack.blocks import fallback_text, message_blocks
from bot.slack.directory import PLATFORM, SlackDirectory
from workflows.messages import Message

log = logging.getLogger(__name__)

UNKNOWN_PERSON = Message(
    kind="unknown_person",
    title="I don't know you yet",
    text=(
        "capdesk looks after the AI-assistant seats of the people in the organisation's "
        "policy, and your Slack account's email is not among them. If you should have a seat, "
        "ask an admin to add you."
    ),
)


FAILED = Message(
    kind="failure",
    title="Something went wrong on our side",
    text=(
        "capdesk could not finish this just now (the failure is logged for the admins). "
        "Please try again in a minute."
    ),
)


@dataclass
class Surface:
    """The domain, the directory and the background runner, as the listeners see them."""

    app: Capdesk
    client: AsyncWebClient
    directory: SlackDirectory
    background: Background
    metrics: Metrics
    wake_outbox: Callable[[], None]
    run: DomainThreads
    """Where the listeners run blocking domain code, off the event loop."""

    async def first_time(self, key: str) -> bool:
        """Record an id Slack gives once (an event id, a trigger id); False when it came
        before, to this replica or another."""

        def record() -> bool:
            with self.app.uow() as uow:
                first = uow.inbound.first_time(PLATFORM, key, at=self.app.clock.now())
                uow.commit()
                return first

        return await self.run(record)

    async def replayed(self, trigger_id: str, what: str) -> bool:
        """Whether this command or interaction was handled before, by its `trigger_id`.

        Slack gives every command and interaction a trigger id of its own and never resends
        one (it retries only events), so a second copy is a replay within the signature's five
        minutes, or a proxy's double send: it is acknowledged and not acted on again.
        """
        if await self.first_time(f"trigger:{trigger_id}"):
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


def refusal(text: str) -> Message:
    """A refusal, as a message of its own."""
    return Message(kind="refusal", title="That didn't work", text=text)
