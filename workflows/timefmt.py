"""Times as people in the organisation read them: in the org's timezone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def local_time(instant: datetime, zone: ZoneInfo) -> str:
    """`14:02` in the org's zone."""
    return instant.astimezone(zone).strftime("%H:%M")


def local_day(instant: datetime, zone: ZoneInfo) -> str:
    """`Sun 6 Dec` in the org's zone."""
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def last_day(ends_at: datetime, zone: ZoneInfo) -> str:
    """The last local day a grant covers: one ending at midnight covers the day before."""
    return local_day(ends_at - timedelta(microseconds=1), zone)


def local_stamp(instant: datetime, zone: ZoneInfo) -> str:
    """`Sun 6 Dec 14:02` in the org's zone."""
    return f"{local_day(instant, zone)} {local_time(instant, zone)}"
