"""The notifications outbox delivered to Slack: posts, in-place updates, chart uploads.

`deliver_pending` is synchronous and runs in a worker thread; each delivery is handed to the
event loop that owns the async Web API client and waited for there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import OnLoop
from bot.chat.addresses import Addresses
from bot.metrics import Metrics
from bot.slack.blocks import fallback_text, message_blocks
from bot.slack.people import NAME, PLATFORM
from workflows.delivery import DeliveryError
from workflows.messages import Chart, Outgoing, Recipient

# Errors that say the message itself, or its address, is wrong: retrying cannot help.
_PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
        "user_not_found",
        "users_not_found",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
    }
)


class SlackNotifier:
    """The `PlatformNotifier` of Slack: posts through the Web API."""

    platform = PLATFORM
    name = NAME

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        addresses: Addresses,
        loop: asyncio.AbstractEventLoop,
        metrics: Metrics,
        chart_png: Callable[[Chart], bytes] | None = None,
    ) -> None:
        self._client = client
        self._addresses = addresses
        self._run = OnLoop(loop)
        self._metrics = metrics
        self._chart_png = chart_png

    def deliver(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        return self._run(self.deliver_async(outgoing, replaces=replaces))

    def reaches(self, recipient: Recipient) -> bool:
        return self._run(self._reaches(recipient))

    async def _reaches(self, recipient: Recipient) -> bool:
        try:
            return await self._addresses.reaches(recipient)
        except SlackApiError as exc:
            raise self._failed("users.lookupByEmail", exc) from exc
        except (ClientError, TimeoutError) as exc:
            self._metrics.slack_api_error("users.lookupByEmail", "connection")
            raise DeliveryError(f"users.lookupByEmail: {exc!r}", transient=True) from exc

    async def deliver_async(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        """Post or update one message; returns `channel:ts` for later updates."""
        message = outgoing.message
        blocks = message_blocks(message)
        text = fallback_text(message)
        method = "chat.update" if replaces else "chat.postMessage"
        try:
            if replaces is not None:
                channel, ts = replaces.split(":", 1)
                await self._client.chat_update(channel=channel, ts=ts, blocks=blocks, text=text)
                return replaces
            # Posting to a user id opens the app's DM with them.
            channel = (await self._addresses.of(outgoing.recipient)).id
            answer = await self._client.chat_postMessage(channel=channel, blocks=blocks, text=text)
            ref = f"{answer['channel']}:{answer['ts']}"
        except SlackApiError as exc:
            raise self._failed(method, exc) from exc
        except (ClientError, TimeoutError) as exc:
            self._metrics.slack_api_error(method, "connection")
            raise DeliveryError(f"{method}: {exc!r}", transient=True) from exc
        if message.chart is not None and self._chart_png is not None:
            await self._upload_chart(answer["channel"], message.chart, self._chart_png)
        return ref

    async def _upload_chart(
        self, channel: str, chart: Chart, render: Callable[[Chart], bytes]
    ) -> None:
        png = await asyncio.to_thread(render, chart)
        try:
            await self._client.files_upload_v2(
                channel=channel, content=png, filename="capdesk-digest.png", title=chart.title
            )
        except SlackApiError as exc:
            # The message is out; a missing picture is not worth posting it twice.
            self._metrics.slack_api_error("files.upload", str(exc.response.get("error")))

    def _failed(self, method: str, exc: SlackApiError) -> DeliveryError:
        error = str(exc.response.get("error") or exc.response.status_code)
        self._metrics.slack_api_error(method, error)
        status = exc.response.status_code
        if error in _PERMANENT:
            return DeliveryError(f"{method}: {error}", transient=False)
        retry_after = exc.response.headers.get("retry-after") if status == 429 else None
        return DeliveryError(
            f"{method}: {error}",
            transient=True,
            retry_after=float(retry_after) if retry_after else None,
        )
