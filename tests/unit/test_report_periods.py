"""Quarters, months and the windows a report covers, on the organisation's calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.fakes import org_policy
from workflows.reports.periods import (
    month_span,
    parse_month,
    parse_quarter,
    previous_quarter,
    quarter_of,
)
from workflows.reports.posting import due_quarter

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN).astimezone(UTC)


@pytest.mark.parametrize("text", ["2026Q4", "2026q4", "2026-Q4", " 2026Q4 "])
def test_a_quarter_is_written_as_2026q4(text: str) -> None:
    span = parse_quarter(text)
    assert (span.label, span.first_day, span.last_day) == (
        "2026Q4",
        date(2026, 10, 1),
        date(2026, 12, 31),
    )


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "Q4 2026", "26Q4", "2026", ""])
def test_anything_else_is_not_a_quarter(text: str) -> None:
    with pytest.raises(ValueError, match="is not a quarter; write it as 2026Q4"):
        parse_quarter(text)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026/11", "Nov 2026", "2026-1"])
def test_a_month_is_written_as_2026_11(text: str) -> None:
    assert parse_month("2026-02").last_day == date(2026, 2, 28)
    with pytest.raises(ValueError, match="is not a month; write it as 2026-11"):
        parse_month(text)


def test_quarters_follow_each_other_across_a_year() -> None:
    assert quarter_of(date(2026, 2, 14)).label == "2026Q1"
    assert previous_quarter(date(2027, 1, 1)).label == "2026Q4"
    assert previous_quarter(date(2026, 4, 30)).label == "2026Q1"
    assert month_span(date(2026, 12, 31)).after_day == date(2027, 1, 1)


def test_a_window_runs_from_local_midnight_to_now_or_its_end() -> None:
    span = parse_quarter("2026Q4")
    now = berlin(2026, 11, 23, 10)
    window = span.window(BERLIN, now)
    # 1 October 00:00 in Berlin is 22:00 UTC the day before (summer time).
    assert window.start == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert (window.until, window.last_day) == (now, date(2026, 11, 23))
    ended = span.window(BERLIN, berlin(2027, 1, 5, 9))
    assert ended.until == datetime(2026, 12, 31, 23, tzinfo=UTC)  # winter time
    assert ended.last_day == date(2026, 12, 31)


def test_a_quarters_months_so_far_read_caps_at_their_end_or_now() -> None:
    now = berlin(2026, 11, 23, 10)
    months = parse_quarter("2026Q4").months(BERLIN, now)
    assert [(m.label, m.first_day, m.last_day) for m in months] == [
        ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        ("2026-11", date(2026, 11, 1), date(2026, 11, 23)),
    ]
    assert months[0].cap_at == berlin(2026, 11, 1)
    assert months[1].cap_at == now
    assert not parse_quarter("2027Q1").begun(BERLIN, now)


@pytest.mark.parametrize(
    ("local", "due"),
    [
        ((2027, 1, 1, 8, 59), None),
        ((2027, 1, 1, 9, 0), "2026Q4"),
        ((2027, 1, 7, 23, 0), "2026Q4"),
        ((2027, 1, 8, 9, 0), None),
        ((2026, 11, 23, 10, 0), None),
        ((2026, 4, 1, 9, 30), "2026Q1"),
    ],
)
def test_the_review_is_due_from_nine_on_a_quarters_first_day_for_a_week(
    local: tuple[int, ...], due: str | None
) -> None:
    policy = org_policy()
    span = due_quarter(policy, berlin(*local))
    assert (span.label if span else None) == due
