"""Times as people in the organisation read them: in the org's timezone.

Days are written without their year when it is the reader's year (`Fri 31 Dec`) and with it
otherwise (`Fri 31 Dec 2027`): `now` is when the text is written, in the same zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local_time(instant: datetime, zone: ZoneInfo) -> str:
    """`14:02` in the org's zone."""
    return instant.astimezone(zone).strftime("%H:%M")


def day_label(day: date, *, today: date) -> str:
    """`Sun 6 Dec`, or `Sun 6 Dec 2027` when that is not `today`'s year."""
    label = f"{day:%a} {day.day} {day:%b}"
    return label if day.year == today.year else f"{label} {day.year}"


def local_day(instant: datetime, zone: ZoneInfo, *, now: datetime) -> str:
    """`Sun 6 Dec` in the org's zone (with the year when it is not the year of `now`)."""
    return day_label(instant.astimezone(zone).date(), today=now.astimezone(zone).date())


def last_day(ends_at: datetime, zone: ZoneInfo, *, now: datetime) -> str:
    """The last local day a grant covers: one ending at midnight covers the day before."""
    return local_day(ends_at - timedelta(microseconds=1), zone, now=now)


def local_stamp(instant: datetime, zone: ZoneInfo, *, now: datetime) -> str:
    """`Sun 6 Dec 14:02` in the org's zone (with the year when it is not the year of `now`)."""
    return f"{local_day(instant, zone, now=now)} {local_time(instant, zone)}"
