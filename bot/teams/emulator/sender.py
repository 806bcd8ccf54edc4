"""Posts activities to the bot's messaging endpoint the way the Bot Framework does: JSON, with
a signed channel token in `Authorization` and the Bot Framework's User-Agent.

The Bot Framework gives a bot 15 seconds to answer; the same timeout applies here by default,
and every reply carries how long the bot took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.teams.emulator.state import Json

USER_AGENT = "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)"


class BotTimeout(Exception):
    """The bot did not answer within the timeout."""


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one activity: `body` is the parsed JSON, the text when not JSON,
    None when empty."""

    status: int
    body: Any
    headers: Mapping[str, str]
    elapsed: float

    @property
    def json(self) -> Json:
        """The body if it is a JSON object, else an empty dict."""
        return self.body if isinstance(self.body, dict) else {}


class Sender:
    """An HTTP client towards the bot's messaging endpoint (`.../api/messages`)."""

    def __init__(self, *, messaging_endpoint: str | None, timeout: float) -> None:
        self.messaging_endpoint = messaging_endpoint
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Opens the HTTP session on the running loop."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, activity: Json, authorization: str | None) -> Reply:
        """POSTs `activity` with `authorization` as its Authorization header (None: none)."""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if authorization is not None:
            headers["Authorization"] = authorization
        return await self.send_raw(json.dumps(activity).encode(), headers)

    async def send_raw(self, body: bytes | str, headers: Mapping[str, str]) -> Reply:
        """POSTs exactly `body` and `headers` (plus the User-Agent): for broken requests."""
        if self._session is None:
            raise RuntimeError("the emulator is not started")
        if not self.messaging_endpoint:
            raise RuntimeError("set the bot's messaging endpoint before sending it activities")
        data = body.encode() if isinstance(body, str) else body
        started = time.perf_counter()
        try:
            async with self._session.post(
                self.messaging_endpoint,
                data=data,
                headers={"User-Agent": USER_AGENT, **headers},
            ) as response:
                text = await response.text()
                return Reply(
                    status=response.status,
                    body=_parse(text),
                    headers=dict(response.headers),
                    elapsed=time.perf_counter() - started,
                )
        except TimeoutError as timeout:
            raise BotTimeout(f"no answer from {self.messaging_endpoint} in time") from timeout


def _parse(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
