"""Sends the bot requests the way Slack does: signed, form- or JSON-encoded, with Slack's UA.

Slack waits 3 seconds for an answer before giving up (docs.slack.dev, "Handling user
interaction": "respond ... within 3000ms"); the same timeout applies here by default, and
every reply carries how long the bot took.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from bot.emulation.client import Answer, BotClient
from bot.slack.emulator.signing import signed_headers
from bot.slack.emulator.state import Json

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class AckTimeout(Exception):
    """The bot did not answer within Slack's ack timeout."""


@dataclass(frozen=True)
class Reply(Answer):
    """The bot's answer to one request; `problems` lists what Slack would have refused in it
    (an ack with invalid blocks, an invalid `response_action: update` view), which the emulator
    then did not apply."""

    problems: list[str] = field(default_factory=list)


class Sender(BotClient):
    """An HTTP client towards the bot's request URL."""

    def __init__(
        self,
        *,
        signing_secret: str,
        now: Callable[[], datetime],
        ack_timeout: float,
        request_url: str | None,
    ) -> None:
        super().__init__(user_agent=USER_AGENT, timeout=ack_timeout)
        self.signing_secret = signing_secret
        self.request_url = request_url
        self._now = now

    def signed_headers(self, body: bytes, *, timestamp: int | str | None = None) -> dict[str, str]:
        """Signature headers for `body`, stamped now (by the signing clock) unless told."""
        stamp = int(self._now().timestamp()) if timestamp is None else timestamp
        return signed_headers(self.signing_secret, body, stamp)

    async def send_form(
        self, fields: Mapping[str, str], *, headers: Mapping[str, str] | None = None
    ) -> Reply:
        """POSTs form-encoded `fields`, signed."""
        body = urlencode(fields).encode()
        return await self.send_signed(body, "application/x-www-form-urlencoded", headers)

    async def send_json(self, payload: Json, *, headers: Mapping[str, str] | None = None) -> Reply:
        """POSTs a JSON document, signed."""
        body = json.dumps(payload).encode()
        return await self.send_signed(body, "application/json", headers)

    async def send_signed(
        self, body: bytes, content_type: str, extra: Mapping[str, str] | None = None
    ) -> Reply:
        """POSTs `body` with Slack's headers and a fresh signature."""
        headers = {"Content-Type": content_type, **self.signed_headers(body), **(extra or {})}
        return await self.send_raw(body, headers)

    async def send_raw(self, body: bytes | str, headers: Mapping[str, str]) -> Reply:
        """POSTs exactly `body` and `headers` (plus Slack's User-Agent): for broken requests."""
        if not self.request_url:
            raise RuntimeError("set the bot's request_url before sending it requests")
        try:
            answer = await self.post(self.request_url, body, headers)
        except TimeoutError as timeout:
            raise AckTimeout(
                f"no answer from {self.request_url} within the ack timeout"
            ) from timeout
        return Reply(answer.status, answer.body, answer.headers, answer.elapsed)
