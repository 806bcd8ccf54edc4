"""Injected trouble on a route: the next N calls fail with 429 or a 5xx, or wait for a release.

A 429 carries `Retry-After` (seconds) when asked, as the Bot Connector sends it; a stall
holds the route's answers until the test releases it, to see what the bot does meanwhile
(and, unreleased, how its timeout behaves). Routes are named as the emulator names them:
`openid`, `keys`, `token`, `create_conversation`, `send_to_conversation`, `reply_to_activity`,
`update_activity`, `get_members`, `get_member`, `paged_members`.
"""

from __future__ import annotations

import asyncio
import threading

from bot.emulation.faults import Fault, FaultQueue

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


class Faults(FaultQueue):
    """Pending failures and stalls per route; failures are served first-in first-out."""

    def __init__(self) -> None:
        super().__init__()
        self._stalls: dict[str, Stall] = {}

    def add(self, name: str, *, status: int, retry_after: int | None, times: int) -> None:
        """Makes the next `times` calls of route `name` fail with `status`."""
        _check(name)
        super().add(name, status=status, retry_after=retry_after, times=times)

    def stall(self, route: str) -> Stall:
        """Holds the calls of `route` from now until the returned stall is released."""
        _check(route)
        stall = self._stalls[route] = Stall()
        return stall

    async def intercept(self, route: str) -> Fault | None:
        """Waits out a stall of `route` (off the event loop, so other routes still answer),
        then the failure to serve, if any."""
        stall = self._stalls.get(route)
        if stall is not None:
            await asyncio.to_thread(stall.wait, STALL_LIMIT)
        return self.take(route)

    def clear(self) -> None:
        """Drops every pending failure and releases every stall."""
        super().clear()
        for stall in list(self._stalls.values()):
            stall.release()
        self._stalls.clear()


def _check(route: str) -> None:
    if route not in ROUTES:
        raise ValueError(f"no route {route!r}; one of {', '.join(sorted(ROUTES))}")
