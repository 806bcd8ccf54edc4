"""The org's calendar: working days, business hours and months, all in the org's timezone.

Weekends and the policy's `org.holidays` are days off. An hour of usage counts as after hours
when it begins outside business hours or on a day off, in local time, so the hours around a
DST change are judged by the clock people saw on the wall.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta

from workflows.policy.model import OrgSettings

HOUR = timedelta(hours=1)


def is_working_day(day: date, org: OrgSettings) -> bool:
    """Monday to Friday, and not one of the policy's holidays."""
    return day.weekday() < 5 and day not in org.holidays


def local_today(now: datetime, org: OrgSettings) -> date:
    return now.astimezone(org.zone).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_days(day: date) -> list[date]:
    """Every day of the month `day` is in."""
    length = calendar.monthrange(day.year, day.month)[1]
    first = month_start(day)
    return [first + timedelta(days=n) for n in range(length)]


def month_key(day: date) -> str:
    """`2026-11`: the period of a rule that holds for a month."""
    return f"{day:%Y-%m}"


def within_business_hours(instant: datetime, org: OrgSettings) -> bool:
    """Whether the local wall clock at `instant` is inside business hours on a working day."""
    local = instant.astimezone(org.zone)
    if not is_working_day(local.date(), org):
        return False
    return org.business_start <= local.time() < org.business_end


def after_hours_starts(since: datetime, until: datetime, org: OrgSettings) -> list[datetime]:
    """The UTC starts of whole hours in [since, until) that begin outside business hours."""
    start = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if start < since:
        start += HOUR
    hours = []
    while start < until:
        if not within_business_hours(start, org):
            hours.append(start)
        start += HOUR
    return hours


def business_fraction(now: datetime, org: OrgSettings) -> float:
    """How much of today's business hours (of the whole day, on a day off) has gone by."""
    local = now.astimezone(org.zone)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    if not is_working_day(local.date(), org):
        return seconds / 86400
    begin = _seconds(org.business_start)
    # "24:00" is time.max: the end of the day.
    end = 86400 if org.business_end == time.max else _seconds(org.business_end)
    return min(1.0, max(0.0, (seconds - begin) / (end - begin)))


def _seconds(clock: time) -> int:
    return clock.hour * 3600 + clock.minute * 60
