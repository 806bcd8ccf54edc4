"""Injected trouble on a route: the next N calls fail with 429 or a 5xx, or wait for a release.

A 429 carries `Retry-After` (seconds), as the Bot Connector sends under throttling; a stall
holds the route's answers until the test releases it, to see what the bot does meanwhile
(and, unreleased, how its timeout behaves). Routes are named as the emulator names them:
`openid`, `keys`, `token`, `create_conversation`, `send_to_conversation`, `reply_to_activity`,
`update_activity`, `get_members`, `get_member`, `paged_members`.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

# How long a stalled call waits at most before it is answered anyway.
STALL_LIMIT = 60.0

ROUTES = frozenset(
    {
        "openid",
        "keys",
        "token",
        "create_conversation",
        "send_to_conversation",
        "reply_to_activity",
        "update_activity",
        "get_members",
        "get_member",
        "paged_members",
    }
)


@dataclass
class Fault:
    """A failure still to be served `remaining` more times."""

    status: int
    retry_after: int | None
    remaining: int

    @property
    def headers(self) -> dict[str, str]:
        """`Retry-After` when one was asked for."""
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class Stall:
    """Holds a route's answers until `release()`."""

    def __init__(self) -> None:
        self._released = threading.Event()
        self.waiting = threading.Event()

    def release(self) -> None:
        """Lets the held calls (and every later one) through."""
        self._released.set()

    def wait(self, timeout: float) -> bool:
        """Blocks a call until released or `timeout`; whether it was released."""
        self.waiting.set()
        return self._released.wait(timeout)


class Faults:
    """Pending failures and stalls per route; failures are served first-in first-out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[Fault]] = {}
        self._stalls: dict[str, Stall] = {}

    def add(self, route: str, *, status: int, retry_after: int | None, times: int) -> None:
        """Makes the next `times` calls of `route` fail with `status`."""
        _check(route)
        if status != 429 and not 500 <= status <= 599:
            raise ValueError(f"inject 429 or a 5xx, not {status}")
        with self._lock:
            self._pending.setdefault(route, []).append(Fault(status, retry_after, times))

    def take(self, route: str) -> Fault | None:
        """The failure to serve for this call of `route`, if any is pending."""
        with self._lock:
            queue = self._pending.get(route) or []
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].remaining -= 1
            return queue[0]

    def stall(self, route: str) -> Stall:
        """Holds the calls of `route` from now until the returned stall is released."""
        _check(route)
        with self._lock:
            stall = self._stalls[route] = Stall()
            return stall

    def stall_of(self, route: str) -> Stall | None:
        """The stall holding `route`, if one is unreleased."""
        with self._lock:
            return self._stalls.get(route)

    async def intercept(self, route: str) -> Fault | None:
        """Waits out a stall of `route` (off the event loop, so other routes still answer),
        then the failure to serve, if any."""
        stall = self.stall_of(route)
        if stall is not None:
            await asyncio.to_thread(stall.wait, STALL_LIMIT)
        return self.take(route)

    def clear(self) -> None:
        """Drops every pending failure and releases every stall."""
        with self._lock:
            self._pending.clear()
            for stall in self._stalls.values():
                stall.release()
            self._stalls.clear()


def _check(route: str) -> None:
    if route not in ROUTES:
        raise ValueError(f"no route {route!r}; one of {', '.join(sorted(ROUTES))}")
