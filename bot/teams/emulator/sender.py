"""Posts activities to the bot's messaging endpoint the way the Bot Framework does: JSON, with
a signed channel token in `Authorization` and the Bot Framework's User-Agent.

The Bot Framework gives a bot 15 seconds to answer; the same timeout applies here by default,
and every reply carries how long the bot took.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.emulation.client import Answer, BotClient
from bot.teams.emulator.state import Json

USER_AGENT = "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)"

Reply = Answer


class BotTimeout(Exception):
    """The bot did not answer within the timeout."""


class Sender(BotClient):
    """An HTTP client towards the bot's messaging endpoint (`.../api/messages`)."""

    def __init__(self, *, messaging_endpoint: str | None, timeout: float) -> None:
        super().__init__(user_agent=USER_AGENT, timeout=timeout)
        self.messaging_endpoint = messaging_endpoint

    async def send(self, activity: Json, authorization: str | None) -> Reply:
        """POSTs `activity` with `authorization` as its Authorization header (None: none)."""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if authorization is not None:
            headers["Authorization"] = authorization
        return await self.send_raw(json.dumps(activity).encode(), headers)

    async def send_raw(self, body: bytes | str, headers: Mapping[str, str]) -> Reply:
        """POSTs exactly `body` and `headers` (plus the User-Agent): for broken requests."""
        if not self.messaging_endpoint:
            raise RuntimeError("set the bot's messaging endpoint before sending it activities")
        try:
            return await self.post(self.messaging_endpoint, body, headers)
        except TimeoutError as timeout:
            raise BotTimeout(f"no answer from {self.messaging_endpoint} in time") from timeout
