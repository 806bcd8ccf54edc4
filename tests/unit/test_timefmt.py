"""Days and times as people read them: in the org's zone, with the year only when it differs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tests.fakes import ALICE, World
from workflows.requests.texts import lasting
from workflows.timefmt import day_label, last_day, local_day, local_stamp

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_day_of_this_year_has_no_year_and_any_other_has_one() -> None:
    today = date(2026, 11, 23)
    assert day_label(date(2026, 12, 31), today=today) == "Thu 31 Dec"
    assert day_label(date(2027, 12, 31), today=today) == "Fri 31 Dec 2027"
    assert day_label(date(2025, 12, 31), today=today) == "Wed 31 Dec 2025"


def test_the_year_is_the_readers_in_the_orgs_zone() -> None:
    # 23:30 UTC on 31 Dec is already New Year's Day in Berlin: the reader's year is 2027.
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert local_day(datetime(2027, 1, 5, 12, tzinfo=UTC), BERLIN, now=new_year) == "Tue 5 Jan"
    assert local_stamp(NOW, BERLIN, now=new_year) == "Mon 23 Nov 2026 10:00"


def test_a_grant_ending_at_midnight_shows_the_day_before_with_its_year() -> None:
    ends = datetime(2027, 1, 1, 0, 0, tzinfo=BERLIN)
    assert last_day(ends, BERLIN, now=NOW) == "Thu 31 Dec"
    assert last_day(datetime(2028, 1, 1, tzinfo=BERLIN), BERLIN, now=NOW) == "Fri 31 Dec 2027"


def test_a_request_into_next_year_says_which_year() -> None:
    world = World()
    request = world.ask(ALICE, "raise 50 until 2027-01-03 new year release")
    assert lasting(request, BERLIN, now=world.now) == "until Sun 3 Jan 2027"
