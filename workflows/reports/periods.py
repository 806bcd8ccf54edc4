"""The periods reports cover: a quarter (`2026Q4`), a month (`2026-11`), the last N days.

A period is made of the organisation's local days; its instants run from the first day's
midnight to the midnight after its last day, in the org's timezone, and a period still going
on is reported as far as it has gone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.reports.records import MonthWindow, Window

_QUARTER = re.compile(r"^(\d{4})[-\s]?[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def local(instant: datetime | None, zone: ZoneInfo) -> datetime | None:
    """An instant on the organisation's clock, as the reports show it (None stays None)."""
    return None if instant is None else instant.astimezone(zone)


def local_date(instant: datetime | None, zone: ZoneInfo) -> date | None:
    """The organisation's day an instant falls on."""
    return None if instant is None else instant.astimezone(zone).date()


def last_covered(ends_at: datetime, zone: ZoneInfo) -> date:
    """The last local day something ending at `ends_at` covers (one ending at midnight covers
    the day before)."""
    return (ends_at - timedelta(microseconds=1)).astimezone(zone).date()


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Span:
    """Local days `first_day` up to `after_day` (excluded), named `label`."""

    label: str
    first_day: date
    after_day: date

    @property
    def last_day(self) -> date:
        return self.after_day - timedelta(days=1)

    def window(self, zone: ZoneInfo, now: datetime) -> Window:
        """The span as far as it has gone at `now`: up to now, or its end if that is past."""
        today = now.astimezone(zone).date()
        return Window(
            start=_midnight(self.first_day, zone),
            until=min(_midnight(self.after_day, zone), now),
            first_day=self.first_day,
            last_day=min(self.last_day, today),
        )

    def begun(self, zone: ZoneInfo, now: datetime) -> bool:
        return _midnight(self.first_day, zone) <= now

    def months(self, zone: ZoneInfo, now: datetime) -> list[MonthWindow]:
        """Each month of the span that has begun at `now`, with the instant to read caps at:
        its end, or now."""
        found = []
        day = self.first_day
        while day < self.after_day:
            month = month_span(day)
            if not month.begun(zone, now):
                break
            window = month.window(zone, now)
            found.append(
                MonthWindow(
                    label=month.label,
                    first_day=window.first_day,
                    last_day=window.last_day,
                    cap_at=window.until,
                )
            )
            day = month.after_day
        return found


def quarter_span(year: int, quarter: int) -> Span:
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return Span(label=f"{year}Q{quarter}", first_day=first, after_day=after)


def quarter_of(day: date) -> Span:
    """The quarter `day` is in."""
    return quarter_span(day.year, (day.month - 1) // 3 + 1)


def previous_quarter(day: date) -> Span:
    """The quarter before the one `day` is in."""
    return quarter_of(quarter_of(day).first_day - timedelta(days=1))


def month_span(day: date) -> Span:
    """The month `day` is in."""
    first = day.replace(day=1)
    return Span(label=f"{first:%Y-%m}", first_day=first, after_day=_next_month(first))


def parse_quarter(text: str) -> Span:
    """`2026Q4` (or `2026-Q4`, `2026q4`); ValueError in words a person can act on."""
    found = _QUARTER.match(text.strip())
    if found is None:
        raise ValueError(f"{text!r} is not a quarter; write it as 2026Q4")
    return quarter_span(int(found[1]), int(found[2]))


def parse_month(text: str) -> Span:
    """`2026-11`; ValueError in words a person can act on."""
    found = _MONTH.match(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12:
        raise ValueError(f"{text!r} is not a month; write it as 2026-11")
    return month_span(date(int(found[1]), int(found[2]), 1))
