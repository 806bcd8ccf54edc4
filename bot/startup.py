"""Where a process's time starts, and the start-up failures an operator can act on.

Apart from the composition root so that the parts that only need these (the emulators' own
`__main__`, the CLI's `--at`) do not load the store.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.settings import Settings
from workflows.clock import Clock, ManualClock, ShiftedClock, SystemClock, in_zone


class StartupError(Exception):
    """Start-up cannot go on; `str()` is one line an operator can act on."""


def clock_for(settings: Settings, zone: tzinfo, *, at: datetime | None = None) -> Clock:
    """The clock a process runs on; CAPDESK_NOW is the one way to pin it for all of it.

    `at` (a command's `--at`) is that instant, standing still: the same `--at` gives the same
    answer. Else CAPDESK_NOW: time starts there and runs on at real speed, so leases, retries
    and the scheduler still work. Else the real time.
    """
    start = start_of_clock(settings, zone, at=at)
    if start is None:
        return SystemClock()
    return ManualClock(start) if at is not None else ShiftedClock(start)


def start_of_clock(
    settings: Settings, zone: tzinfo, *, at: datetime | None = None
) -> datetime | None:
    """Where time starts: `at`, else CAPDESK_NOW; None for the real time.

    Either is read on `zone`'s wall clock (the organisation's) unless it carries an offset; a
    time a DST change skips or repeats stops start-up, naming where it came from.
    """
    source, start = ("--at", at) if at is not None else ("CAPDESK_NOW", settings.now)
    if start is None:
        return None
    try:
        return in_zone(start, zone)
    except ValueError as exc:
        raise StartupError(f"{source}: {exc}") from None
