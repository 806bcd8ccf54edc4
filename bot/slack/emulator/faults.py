"""Injected failures: the next N calls of a method answer 429 or 5xx, as Slack does under load.

A 429 carries `Retry-After` and `{"ok": false, "error": "ratelimited"}` (docs.slack.dev,
"Rate limits"); a 5xx carries Slack's transient error codes. slack_sdk's retry handlers
react to exactly these statuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.emulator.state import Json

_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


@dataclass
class Fault:
    """A failure still to be served `remaining` more times."""

    status: int
    retry_after: int | None
    remaining: int

    @property
    def body(self) -> Json:
        """The JSON Slack sends with this status."""
        return {"ok": False, "error": _ERRORS.get(self.status, "fatal_error")}

    @property
    def headers(self) -> dict[str, str]:
        """`Retry-After` for rate limits."""
        if self.status == 429 and self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        return {}


class Faults:
    """Pending failures per method, served first-in first-out."""

    def __init__(self) -> None:
        self._pending: dict[str, list[Fault]] = {}

    def add(self, method: str, *, status: int, retry_after: int | None, times: int) -> None:
        """Makes the next `times` calls of `method` fail with `status`."""
        if status != 429 and not 500 <= status <= 599:
            raise ValueError(f"inject 429 or a 5xx, not {status}")
        self._pending.setdefault(method, []).append(Fault(status, retry_after, times))

    def take(self, method: str) -> Fault | None:
        """The failure to serve for this call of `method`, if any is pending."""
        queue = self._pending.get(method) or []
        while queue and queue[0].remaining <= 0:
            queue.pop(0)
        if not queue:
            return None
        queue[0].remaining -= 1
        return queue[0]

    def clear(self) -> None:
        """Drops every pending failure."""
        self._pending.clear()
