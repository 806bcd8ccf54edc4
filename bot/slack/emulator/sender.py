"""Sends the bot requests the way Slack does: signed, form- or JSON-encoded, with Slack's UA.

Slack waits 3 seconds for an answer before giving up (docs.slack.dev, "Handling user
interaction": "respond ... within 3000ms"); the same timeout applies here by default, and
every reply carries how long the bot took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.slack.emulator.signing import signed_headers
from bot.slack.emulator.state import Json

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


class AckTimeout(Exception):
    """The bot did not answer within Slack's ack timeout."""


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one request.

    `body` is the parsed JSON when the bot answered JSON, the text otherwise, None when
    empty. `problems` lists what Slack would have refused in it (an ack with invalid blocks,
    an invalid `response_action: update` view), which the emulator then did not apply.
    """

    status: int
    body: Any
    headers: Mapping[str, str]
    elapsed: float
    problems: list[str] = field(default_factory=list)

    @property
    def json(self) -> Json:
        """The body if it is a JSON object, else an empty dict."""
        return self.body if isinstance(self.body, dict) else {}


class Sender:
    """An HTTP client towards the bot's request URL."""

    def __init__(
        self,
        *,
        signing_secret: str,
        now: Callable[[], datetime],
        ack_timeout: float,
        request_url: str | None,
    ) -> None:
        self.signing_secret = signing_secret
        self.request_url = request_url
        self._now = now
        self._timeout = aiohttp.ClientTimeout(total=ack_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Opens the HTTP session (needs the running loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def signed_headers(self, body: bytes, *, timestamp: int | str | None = None) -> dict[str, str]:
        """Signature headers for `body`, stamped now (by the injected clock) unless told."""
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
        if self._session is None:
            raise RuntimeError("the emulator is not started")
        if not self.request_url:
            raise RuntimeError("set the bot's request_url before sending it requests")
        data = body.encode() if isinstance(body, str) else body
        started = time.perf_counter()
        try:
            async with self._session.post(
                self.request_url,
                data=data,
                headers={"User-Agent": USER_AGENT, **headers},
                # Without this aiohttp would add a content type of its own to a body sent bare.
                skip_auto_headers=() if _has_content_type(headers) else ("Content-Type",),
            ) as response:
                text = await response.text()
                return Reply(
                    status=response.status,
                    body=_parse(text, response.content_type),
                    headers=dict(response.headers),
                    elapsed=time.perf_counter() - started,
                )
        except TimeoutError as timeout:
            raise AckTimeout(
                f"no answer from {self.request_url} within the ack timeout"
            ) from timeout


def _has_content_type(headers: Mapping[str, str]) -> bool:
    return any(name.lower() == "content-type" for name in headers)


def _parse(text: str, content_type: str) -> Any:
    if not text:
        return None
    if content_type == "application/json" or text.lstrip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text
