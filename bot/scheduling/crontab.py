"""Cron expressions of the policy as APScheduler 3 understands them.

APScheduler 3 numbers weekdays from Monday = 0, where cron has Sunday = 0 (and 7); weekday
numbers are rewritten as names, so `0 9 * * 1-5` means Monday to Friday as it does in cron.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

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
