"""Time as a port: the domain never reads the wall clock, so tests and the demo can drive it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

INSTANT_FORMAT = "YYYY-MM-DDTHH:MM"
"""How `--at` and CAPDESK_NOW are written; an offset (`Z`, `+01:00`) may follow."""

_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?")


class Clock(Protocol):
    """Tells the current time, always timezone-aware in UTC."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """The real clock set to start at `start`: from there it runs at real speed.

    For a whole process pinned to another day (CAPDESK_NOW, `--at`): leases, timeouts, retries
    and the scheduler keep working because time still passes. `offset` is constant, so what
    reads the real clock (the scheduler) can be moved by exactly as much.
    """

    def __init__(self, start: datetime, *, real: Clock | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs a timezone-aware start")
        self._real = real or SystemClock()
        self.offset: timedelta = start - self._real.now()

    def now(self) -> datetime:
        return self._real.now() + self.offset


class ManualClock:
    """A clock that moves only when told to: for tests, the demo and benchmarks."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        self._now += delta
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to `instant` (timezone-aware)."""
        self._now = instant.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """`2026-12-01T08:30` (naive: `in_zone` reads it later) or with an offset (`Z`, `+01:00`).

    ValueError, in words a person can act on, for anything else.
    """
    written = text.strip()
    if _INSTANT.fullmatch(written) is None:
        raise ValueError(
            f"must be {INSTANT_FORMAT} in the organisation's timezone,"
            " or with an offset: 2026-12-01T08:30+01:00"
        )
    try:
        return datetime.fromisoformat(written)
    except ValueError:
        raise ValueError("must be a real date and time") from None


def in_zone(at: datetime, zone: tzinfo) -> datetime:
    """`at` as an instant in UTC; a time without an offset is read on `zone`'s wall clock.

    A wall-clock time that a DST change skips or repeats is refused (ValueError) rather than
    guessed: the message asks for the offset, which says which one is meant.
    """
    if at.tzinfo is not None:
        return at.astimezone(UTC)
    first, second = at.replace(tzinfo=zone, fold=0), at.replace(tzinfo=zone, fold=1)
    written = at.strftime("%Y-%m-%dT%H:%M")
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != at:
        raise ValueError(
            f"{written} does not exist in {zone} (the clocks go forward then); "
            f"write it with an offset, e.g. {written}{_offset(first)}"
        )
    raise ValueError(
        f"{written} happens twice in {zone} (the clocks go back then); "
        f"write it with an offset: {written}{_offset(first)} or {written}{_offset(second)}"
    )


def _offset(local: datetime) -> str:
    return local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
