"""What a Nudge button carries: whom the alert was about, and what it was about.

A nudge says what the alert was about. Its value is the member's email for their spend this
month (the forecast alert), or `after_hours <hour> <email>` for an after-hours spike, the hour
in UTC (`2026-11-21T21:00Z`). Emails hold no spaces, so the forms cannot be confused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from workflows.errors import INVALID_BUTTON, Refusal

_AFTER_HOURS = "after_hours"
_HOUR = "%Y-%m-%dT%H:%MZ"


@dataclass(frozen=True, slots=True)
class Nudge:
    """Whom a Nudge button is about, and for an after-hours spike, which hour (UTC start)."""

    email: str
    hour: datetime | None = None

    @property
    def topic(self) -> str:
        """What the nudge is about, as the once-a-day key of a nudge names it."""
        return "spend" if self.hour is None else f"{_AFTER_HOURS} {self.hour:{_HOUR}}"


def nudge_value(email: str, *, hour: datetime | None = None) -> str:
    """The value of a Nudge button about `email`'s spend, or about the after-hours `hour`."""
    return email if hour is None else f"{_AFTER_HOURS} {hour.astimezone(UTC):{_HOUR}} {email}"


def read_nudge(value: str) -> Nudge:
    """What a Nudge button's value says; Refusal for one capdesk did not write."""
    parts = value.split(" ")
    if len(parts) == 1 and parts[0]:
        return Nudge(email=parts[0].lower())
    if len(parts) == 3 and parts[0] == _AFTER_HOURS:
        try:
            hour = datetime.strptime(parts[1], _HOUR).replace(tzinfo=UTC)
        except ValueError as exc:
            raise Refusal(INVALID_BUTTON) from exc
        return Nudge(email=parts[2].lower(), hour=hour)
    raise Refusal(INVALID_BUTTON)
