"""Cron expressions of the policy as APScheduler 3 understands them, on capdesk's clock.

APScheduler 3 numbers weekdays from Monday = 0, where cron has Sunday = 0 (and 7); weekday
numbers are rewritten as names, so `0 9 * * 1-5` means Monday to Friday as it does in cron.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from workflows.clock import Clock, ShiftedClock

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _day(token: str) -> int:
    return 0 if token == "7" else int(token)


def _weekdays(field: str) -> str:
    parts = []
    for part in field.split(","):
        span, _, step = part.partition("/")
        if not any(c.isdigit() for c in span) and not (step and span == "*"):
            parts.append(part)  # names and a plain `*` mean the same to both
            continue
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-")
            low, high = _day(first), _day(last)
        else:
            low = high = _day(span)
        if not step and "-" not in span:
            parts.append(_NAMES[low])
        elif not step:
            parts.append(f"{_NAMES[low]}-{_NAMES[high]}")
        else:
            parts += [_NAMES[d % 7] for d in range(low, high + 1, int(step))]
    return ",".join(parts)


def cron_trigger(expression: str, zone: tzinfo) -> CronTrigger:
    """A trigger firing as cron would at `expression`, in the org's timezone."""
    minute, hour, day, month, weekday = expression.split()
    return CronTrigger.from_crontab(
        f"{minute} {hour} {day} {month} {_weekdays(weekday)}", timezone=zone
    )


class _Shifted(BaseTrigger):  # type: ignore[misc]  # APScheduler 3 has no types
    """`trigger`'s fire times read on a clock `offset` away from the wall clock APScheduler
    itself reads."""

    def __init__(self, trigger: Any, offset: timedelta) -> None:
        self._trigger, self._offset = trigger, offset

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> Any:
        previous = None if previous_fire_time is None else previous_fire_time + self._offset
        fire = self._trigger.get_next_fire_time(previous, now + self._offset)
        return None if fire is None else fire - self._offset

    def __str__(self) -> str:
        return f"{self._trigger} on a clock {self._offset} from the real one"


def on_clock(trigger: Any, clock: Clock) -> Any:
    """`trigger` firing by capdesk's clock: `0 9 * * MON-FRI` at 09:00 on a clock that
    CAPDESK_NOW moved, not at 09:00 real time. Intervals need no moving."""
    return _Shifted(trigger, clock.offset) if isinstance(clock, ShiftedClock) else trigger
