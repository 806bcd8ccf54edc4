"""What every Slack listener needs, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.background import Background, DomainThreads
from bot.bootstrap import Capdesk
from bot.metrics import Metrics
from bot.slack.blocks import fallback_text, message_blocks
from bot.slack.directory import SlackDirectory
from workflows.messages import Message

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
