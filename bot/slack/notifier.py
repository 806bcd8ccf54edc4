"""The notifications outbox delivered to Slack: posts, in-place updates, chart uploads.

`deliver_pending` is synchronous and runs in a worker thread; each delivery is handed to the
event loop that owns the async Web API client and waited for there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.slack.blocks import fallback_text, message_blocks
from bot.slack.directory import SlackDirectory
from workflows.delivery import DeliveryError
from workflows.messages import ADMIN_CHANNEL, Chart, Outgoing, Recipient
from workflows.policy import Policy

T = TypeVar("T")

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
    """A `Notifier` that posts through the Slack Web API."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        directory: SlackDirectory,
        policy: Policy,
        loop: asyncio.AbstractEventLoop,
        metrics: Metrics,
        chart_png: Callable[[Chart], bytes] | None = None,
    ) -> None:
        self._client = client
        self._directory = directory
        self._policy = policy
        self._loop = loop
        self._metrics = metrics
        self._chart_png = chart_png

    def deliver(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        return self._run(self.deliver_async(outgoing, replaces=replaces))

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
            channel = await self._address(outgoing.recipient)
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

    async def _address(self, recipient: Recipient) -> str:
        if recipient.kind == "member":
            user_id = await self._directory.user_id_of(recipient.address)
            if user_id is None:
                raise DeliveryError(
                    f"no Slack user has the email {recipient.address}", transient=False
                )
            # Posting to a user id opens the app's DM with them.
            return user_id
        ref = self._policy.admin_channel if recipient.address == ADMIN_CHANNEL else None
        if recipient.address.startswith("group:"):
            group = self._policy.group(recipient.address.removeprefix("group:"))
            ref = group.channel if group else None
        if ref is None or ref.slack is None:
            raise DeliveryError(
                f"the policy names no Slack channel for {recipient.address}", transient=False
            )
        return ref.slack

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

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=120)
