"""The clocks, and times as `--at` and CAPDESK_NOW write them, DST changes included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workflows.clock import ManualClock, ShiftedClock, in_zone, parse_instant

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_shifted_clock_starts_where_told_and_then_runs_at_real_speed() -> None:
    real = ManualClock(datetime(2031, 5, 5, 17, 0, tzinfo=UTC))
    start = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)

    clock = ShiftedClock(start, real=real)

    assert clock.now() == start
    real.advance(timedelta(seconds=90))
    assert clock.now() == start + timedelta(seconds=90)
    assert clock.offset == start - datetime(2031, 5, 5, 17, 0, tzinfo=UTC)
    assert clock.now().tzinfo is not None


def test_a_shifted_clock_needs_an_aware_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ShiftedClock(datetime(2026, 12, 1, 8, 30))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T08:30", datetime(2026, 12, 1, 8, 30)),
        ("2026-12-01T07:30Z", datetime(2026, 12, 1, 7, 30, tzinfo=UTC)),
        ("2026-12-01T08:30+01:00", datetime(2026, 12, 1, 7, 30, tzinfo=UTC)),
        (" 2026-12-01T08:30 ", datetime(2026, 12, 1, 8, 30)),
    ],
)
def test_instants_are_written_one_way_with_an_optional_offset(
    text: str, expected: datetime
) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert (parsed.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-12-01", "must be YYYY-MM-DDTHH:MM"),
        ("2026-12-01 08:30", "must be YYYY-MM-DDTHH:MM"),
        ("1796117400", "must be YYYY-MM-DDTHH:MM"),
        ("2026-12-01T08:30:15", "must be YYYY-MM-DDTHH:MM"),
        ("tomorrow", "must be YYYY-MM-DDTHH:MM"),
        ("2026-02-29T08:30", "must be a real date and time"),
        ("2026-12-01T24:30", "must be a real date and time"),
    ],
)
def test_anything_else_is_refused_saying_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_instant(text)


def test_a_bare_time_is_read_on_the_org_wall_clock_winter_and_summer() -> None:
    assert in_zone(datetime(2026, 12, 1, 8, 30), BERLIN) == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
    assert in_zone(datetime(2027, 3, 28, 3, 30), BERLIN) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert in_zone(datetime(2027, 3, 28, 1, 59), BERLIN) == datetime(2027, 3, 28, 0, 59, tzinfo=UTC)


def test_a_time_with_an_offset_keeps_it_whatever_the_zone() -> None:
    at = datetime(2026, 12, 1, 8, 30, tzinfo=ZoneInfo("America/New_York"))
    assert in_zone(at, BERLIN) == datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    assert in_zone(at, BERLIN).tzinfo == UTC


def test_a_time_the_clocks_skip_is_refused_with_the_offset_to_write() -> None:
    with pytest.raises(ValueError, match="does not exist") as skipped:
        in_zone(datetime(2027, 3, 28, 2, 30), BERLIN)
    assert str(skipped.value) == (
        "2027-03-28T02:30 does not exist in Europe/Berlin (the clocks go forward then);"
        " write it with an offset, e.g. 2027-03-28T02:30+01:00"
    )


def test_a_time_the_clocks_repeat_is_refused_with_both_offsets() -> None:
    with pytest.raises(ValueError, match="happens twice") as twice:
        in_zone(datetime(2026, 10, 25, 2, 30), BERLIN)
    assert str(twice.value) == (
        "2026-10-25T02:30 happens twice in Europe/Berlin (the clocks go back then);"
        " write it with an offset: 2026-10-25T02:30+02:00 or 2026-10-25T02:30+01:00"
    )
    first, second = (parse_instant(f"2026-10-25T02:30{o}") for o in ("+02:00", "+01:00"))
    assert second - first == timedelta(hours=1)
