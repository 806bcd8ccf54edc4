"""The emulators' HTTP client towards the bot, and the `async with` lifecycle they share."""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp

Json = dict[str, Any]


class Service(ABC):
    """An emulator serving HTTP on `_host:_port` between `start()` and `stop()`:
    `async with service:`."""

    _host: str
    _port: int

    @abstractmethod
    async def start(self) -> None:
        """Starts serving (port 0 picks a free one, then `_port` names it)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stops serving."""

    @abstractmethod
    def serving(self) -> bool:
        """Whether it is started."""

    @property
    def base_url(self) -> str:
        """Where the emulator listens, e.g. "http://127.0.0.1:54321"."""
        if not self.serving():
            raise RuntimeError("the emulator is not started")
        return f"http://{self._host}:{self._port}"

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


@dataclass(frozen=True)
class Answer:
    """The bot's answer to one request: `body` is the parsed JSON when the bot answered JSON,
    the text otherwise, None when empty; `elapsed` how long the bot took, in seconds."""

    status: int
    body: Any
    headers: Mapping[str, str]
    elapsed: float

    @property
    def json(self) -> Json:
        """The body if it is a JSON object, else an empty dict."""
        return self.body if isinstance(self.body, dict) else {}


class BotClient:
    """An aiohttp session towards the bot, opened on the running loop (`start`); requests
    that outlast `timeout` seconds raise `TimeoutError`."""

    def __init__(self, *, user_agent: str, timeout: float) -> None:
        self._user_agent = user_agent
        self._timeout = aiohttp.ClientTimeout(total=timeout)
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

    async def post(self, url: str, body: bytes | str, headers: Mapping[str, str]) -> Answer:
        """POSTs exactly `body` and `headers` (plus the platform's User-Agent) to `url`."""
        if self._session is None:
            raise RuntimeError("the emulator is not started")
        data = body.encode() if isinstance(body, str) else body
        started = time.perf_counter()
        async with self._session.post(
            url,
            data=data,
            headers={"User-Agent": self._user_agent, **headers},
            # Without this aiohttp would add a content type of its own to a body sent bare.
            skip_auto_headers=() if _has_content_type(headers) else ("Content-Type",),
        ) as response:
            text = await response.text()
            return Answer(
                status=response.status,
                body=_parse(text, response.content_type),
                headers=dict(response.headers),
                elapsed=time.perf_counter() - started,
            )


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
