"""One bounded HTTP exchange with Microsoft's login endpoints: the key documents, the token.

Blocking on purpose (httpx's synchronous client): the outgoing token has a synchronous caller
(msrest's `signed_session`), and every asynchronous caller runs the exchange in a worker thread,
so the event loop never waits on Microsoft. Each exchange has a deadline and a size cap.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx

MAX_BODY_BYTES = 1024 * 1024

T = TypeVar("T")


class FetchError(Exception):
    """The exchange failed; `str()` is one line naming the URL and the cause."""


@dataclass(frozen=True, slots=True)
class JsonAnswer:
    """An HTTP status and the JSON object that came with it."""

    status: int
    document: dict[str, Any]


def fetch_json(
    method: str, url: str, *, timeout: float, form: Mapping[str, str] | None = None
) -> JsonAnswer:
    """`method url` (with `form` url-encoded), answered within `timeout` seconds with a JSON
    object of at most 1 MiB, whatever the status; FetchError otherwise."""
    deadline = time.monotonic() + timeout
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream(
                method,
                url,
                data=dict(form) if form else None,
                headers={"Accept": "application/json"},
            ) as response,
        ):
            answer = _read_capped(response, url, deadline)
            status = response.status_code
    except httpx.TimeoutException:
        raise FetchError(f"{url} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"{url}: {exc or type(exc).__name__}") from None
    try:
        document = json.loads(answer)
    except ValueError:
        raise FetchError(f"{url} answered HTTP {status} without JSON") from None
    if not isinstance(document, dict):
        raise FetchError(f"{url} answered HTTP {status} with JSON that is not an object")
    return JsonAnswer(status, document)


class SharedCall(Generic[T]):
    """`func` run in a worker thread, once for every coroutine that asks while it runs.

    The default executor is small and botbuilder's connector calls run in it too, so waiting
    callers share one thread rather than each parking one. Shielded: a caller that goes away
    does not cancel the call the others wait for.
    """

    def __init__(self, func: Callable[[], T]) -> None:
        self._func = func
        self._running: asyncio.Task[T] | None = None

    async def __call__(self) -> T:
        loop = asyncio.get_running_loop()
        task = self._running
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._running = loop.create_task(asyncio.to_thread(self._func))
        return await asyncio.shield(task)


def _read_capped(response: httpx.Response, url: str, deadline: float) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise FetchError(f"{url} answered more than {MAX_BODY_BYTES} bytes")
        # httpx's timeout bounds each read; a server trickling bytes meets this one.
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("deadline passed", request=response.request)
    return bytes(body)
