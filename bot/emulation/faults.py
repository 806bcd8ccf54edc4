"""Injected failures: the next N calls of a method or route answer 429 or a 5xx, as the real
services do under load. A 429 carries `Retry-After` when one is asked for; each emulator
writes the error body its platform sends."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class Fault:
    """A failure still to be served `remaining` more times."""

    status: int
    retry_after: int | None
    remaining: int

    @property
    def headers(self) -> dict[str, str]:
        """`Retry-After` for a rate limit that names one."""
        if self.status == 429 and self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        return {}


class FaultQueue:
    """Pending failures per method or route name, served first-in first-out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, list[Fault]] = {}

    def add(self, name: str, *, status: int, retry_after: int | None, times: int) -> None:
        """Makes the next `times` calls of `name` fail with `status`."""
        if status != 429 and not 500 <= status <= 599:
            raise ValueError(f"inject 429 or a 5xx, not {status}")
        with self._lock:
            self._pending.setdefault(name, []).append(Fault(status, retry_after, times))

    def take(self, name: str) -> Fault | None:
        """The failure to serve for this call of `name`, if any is pending."""
        with self._lock:
            queue = self._pending.get(name) or []
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].remaining -= 1
            return queue[0]

    def clear(self) -> None:
        """Drops every pending failure."""
        with self._lock:
            self._pending.clear()
