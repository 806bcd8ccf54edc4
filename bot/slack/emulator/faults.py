"""Injected failures: the next N calls of a method answer 429 or 5xx, as Slack does under load.

A 429 carries `Retry-After` and `{"ok": false, "error": "ratelimited"}` (docs.slack.dev,
"Rate limits"); a 5xx carries Slack's transient error codes. slack_sdk's retry handlers
react to exactly these statuses.
"""

from __future__ import annotations

from bot.emulation.faults import Fault, FaultQueue
from bot.slack.emulator.state import Json

_ERRORS = {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}


class Faults(FaultQueue):
    """Pending failures per Web API method."""

    @staticmethod
    def body(fault: Fault) -> Json:
        """The JSON Slack sends with the fault's status."""
        return {"ok": False, "error": _ERRORS.get(fault.status, "fatal_error")}
