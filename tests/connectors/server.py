"""Serving a fake backend for real: an aiohttp app on 127.0.0.1, an ephemeral port, a thread.

`FakeBackend` is the base of the three fakes: it records every call and plays faults armed
by the test (`fail_next`): an error status with an optional Retry-After, a malformed body, or
a stall that lasts until the server stops (for timeouts; nothing sleeps on a clock).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any
    headers: dict[str, str]

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)


@dataclass(frozen=True)
class Answer:
    """One answer the fake gave from its own routes (not an injected fault)."""

    method: str
    route: str
    """The route's pattern, such as `/v1/organizations/users/{id}`."""
    status: int
    body: Any


@dataclass
class Fault:
    """What the next matching request gets instead of an answer."""

    status: int = 500
    body: Any = None
    retry_after: str | None = None
    raw: bytes | None = None
    """A body sent as it is (with status 200 unless `status` says otherwise)."""
    stall: bool = False
    path: str = ""
    """Only requests whose path starts with this."""


@dataclass
class FakeBackend:
    """The common part of the fakes: calls, faults, and the server around `routes()`."""

    calls: list[Call] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def authorised(self, request: web.Request) -> web.Response | None:
        """None when the credentials are right, else the backend's own refusal."""
        return None

    def error(self, status: int, message: str, kind: str = "error") -> web.Response:
        """An error in the backend's own format."""
        return web.json_response({"error": {"code": kind, "message": message}}, status=status)

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def calls_to(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]

    def app(self, released: asyncio.Event) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            self.calls.append(
                Call(
                    request.method,
                    request.path,
                    list(request.query.items()),
                    body,
                    {k.lower(): v for k, v in request.headers.items()},
                )
            )
            fault = next((f for f in self.faults if request.path.startswith(f.path)), None)
            if fault is not None:
                self.faults.remove(fault)
                return await self._play(fault, released)
            refused = self.authorised(request)
            if refused is not None:
                return refused
            response = await handler(request)
            if isinstance(response, web.Response) and response.text is not None:
                route = request.match_info.route.resource
                self.answers.append(
                    Answer(
                        request.method,
                        route.canonical if route is not None else request.path,
                        response.status,
                        json.loads(response.text),
                    )
                )
            return response

        app = web.Application(middlewares=[record])
        app.add_routes(self.routes())
        return app

    async def _play(self, fault: Fault, released: asyncio.Event) -> web.StreamResponse:
        if fault.stall:
            await released.wait()
            return web.Response(status=503)
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        if fault.raw is not None:
            status = fault.status if fault.status != 500 else 200
            return web.Response(
                body=fault.raw, status=status, headers=headers, content_type="application/json"
            )
        if fault.body is not None:
            return web.json_response(fault.body, status=fault.status, headers=headers)
        response = self.error(fault.status, f"injected {fault.status}")
        response.headers.update(headers)
        return response


B = TypeVar("B", bound=FakeBackend)


class Served(Generic[B]):
    """A fake backend served on an ephemeral port until the block ends."""

    def __init__(self, backend: B) -> None:
        self.backend = backend
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._released: asyncio.Event | None = None

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        self._released = asyncio.Event()
        self._runner = web.AppRunner(self.backend.app(self._released))
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def _stop(self) -> None:
        assert self._released is not None
        self._released.set()
        assert self._runner is not None
        await self._runner.cleanup()
