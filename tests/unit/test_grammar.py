"""The `/capdesk` command grammar shared by every chat surface (SPEC 8)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from workflows.errors import Refusal
from workflows.messages import written_for
from workflows.model import RequestKind
from workflows.requests.grammar import (
    Cancel,
    CommandError,
    Help,
    ListRequests,
    RequestDraft,
    Status,
    parse_command,
    parse_day,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # Friday, 10:00 in Berlin
LONGEST = 90


def parse(text: str, now: datetime = NOW) -> object:
    return parse_command(text, now=now, zone=BERLIN, longest_days=LONGEST)


def draft(text: str, now: datetime = NOW) -> RequestDraft:
    command = parse(text, now)
    assert isinstance(command, RequestDraft)
    return command


def end_of(day: date) -> datetime:
    """Midnight after `day` in Berlin: a grant `until` a day lasts through it."""
    return datetime(day.year, day.month, day.day, tzinfo=BERLIN) + timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("status", Status()),
        ("STATUS", Status()),
        ("help", Help()),
        ("?", Help()),
        ("", Help()),
        ("   ", Help()),
        ("help me please", Help()),
        ("requests", ListRequests()),
        ("list", ListRequests()),
        ("cancel 42", Cancel(42)),
        ("cancel #42", Cancel(42)),
        ("Cancel   7", Cancel(7)),
    ],
)
def test_simple_commands(text: str, command: object) -> None:
    assert parse(text) == command


def test_raise_for_days_with_a_reason() -> None:
    assert draft("raise 150 for 14d release prep") == RequestDraft(
        RequestKind.CAP_INCREASE,
        "release prep",
        add_cents=15000,
        ends_at=NOW + timedelta(days=14),
    )


def test_raise_with_dollar_sign_thousands_and_cents() -> None:
    got = draft("raise $1,200.50")
    assert got.add_cents == 120050
    assert got.new_cap_cents is None
    assert got.reason == ""
    assert got.ends_at is None


def test_raise_to_a_cap_until_an_iso_date() -> None:
    got = draft("raise to 300 until 2026-12-12 tape-out review")
    assert got.kind is RequestKind.CAP_INCREASE
    assert got.new_cap_cents == 30000
    assert got.add_cents is None
    assert got.reason == "tape-out review"
    assert got.ends_at == end_of(date(2026, 12, 12))
    assert got.ends_at == datetime(2026, 12, 12, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("words", ["12 Dec", "Dec 12", "12 december", "December 12", "dec 12."])
def test_until_a_day_without_a_year_is_the_next_one(words: str) -> None:
    got = draft(f"raise 50 until {words} hardware bring-up")
    assert got.ends_at == end_of(date(2026, 12, 12))
    assert got.reason == "hardware bring-up"


@pytest.mark.parametrize(("words", "year"), [("12 Dec", 2027), ("Jan 5", 2027), ("20 Dec", 2026)])
def test_until_rolls_over_to_next_year_once_the_day_has_passed(words: str, year: int) -> None:
    on_20_dec = datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
    got = draft(f"raise 50 until {words} x", on_20_dec)
    assert got.ends_at is not None
    assert got.ends_at.date() - timedelta(days=1) == date(year, *_month_day(words))


def _month_day(words: str) -> tuple[int, int]:
    day = parse_day(words, today=date(2000, 1, 1))
    return day.month, day.day


def test_until_uses_the_org_zone_for_today() -> None:
    # 23:30 UTC on 31 Dec is already 1 Jan in Berlin: "Dec 31" is then next year's.
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert draft("raise 5 until Dec 31 x", late).ends_at == end_of(date(2027, 12, 31))


@pytest.mark.parametrize(
    ("words", "days"),
    [("for 2w", 14), ("for 14d", 14), ("for 3 days", 3), ("for 1 week", 7), ("for 2 weeks", 14)],
)
def test_durations(words: str, days: int) -> None:
    got = draft(f"raise 20 {words} load tests")
    assert got.ends_at == NOW + timedelta(days=days)
    assert got.reason == "load tests"


def test_upgrade_alone() -> None:
    assert draft("upgrade") == RequestDraft(RequestKind.SEAT_UPGRADE, "")


def test_upgrade_to_a_tier_for_a_while() -> None:
    assert draft("upgrade premium for 30d x") == RequestDraft(
        RequestKind.SEAT_UPGRADE, "x", tier="premium", ends_at=NOW + timedelta(days=30)
    )


def test_upgrade_without_a_tier_but_for_a_while() -> None:
    got = draft("upgrade for 30d profiling work")
    assert got.tier is None
    assert got.reason == "profiling work"
    assert got.ends_at == NOW + timedelta(days=30)


def test_upgrade_tier_is_lowercased() -> None:
    assert draft("upgrade Premium now").tier == "premium"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("raise abc", "is not an amount"),
        ("raise -5", "must be positive"),
        ("raise", "Say how much"),
        ("raise to", "Say how much"),
        ("raise 10 for 3x", "is not a duration"),
        ("raise 10 until someday x", "is not a date"),
        ("raise 10 until 2026-02-30 x", "is not a date"),
        ("raise 10 until 9999-12-31 x", "too far away"),
        ("cancel x", "Say which request"),
        ("cancel", "Say which request"),
        ("cancel 1 2", "Say which request"),
        ("cancel ²", "Say which request"),
        ("cancel " + "9" * 5000, "Say which request"),
        ("upgrade $$$", "is not a seat tier"),
        ("frobnicate", "I don't know `frobnicate`"),
        ("status now", "I don't know `status`"),
    ],
)
def test_errors_say_what_is_wrong(text: str, match: str) -> None:
    with pytest.raises(CommandError, match=match):
        parse(text)


def test_a_command_error_is_a_refusal() -> None:
    assert issubclass(CommandError, Refusal)


def test_an_unknown_verb_shows_the_help() -> None:
    with pytest.raises(CommandError) as info:
        parse("frobnicate 12")
    assert "/capdesk raise 150 for 14d" in written_for(str(info.value), "/capdesk ")


WORDS = st.sampled_from(
    [
        "raise", "to", "upgrade", "cancel", "status", "help", "requests", "for", "until",
        "150", "$1,200.50", "-5", "0", "abc", "14d", "2w", "3 weeks", "3x", "2026-12-12",
        "9999-12-31", "0001-01-01", "12", "Dec", "feb", "29", "#42", "²", "premium", "é",
        "\u0663", "1e9", "99999999999999999999999999999", "", "\n", "?",
    ]
)  # fmt: skip


@given(st.one_of(st.text(), st.lists(WORDS, max_size=8).map(" ".join)))
@example("raise 5 until 9999-12-31 x")
@example("cancel ²")
@example("raise 5 for 9999w x")
def test_any_text_is_a_command_or_a_command_error(text: str) -> None:
    try:
        command = parse(text)
    except CommandError:
        return
    assert isinstance(command, Status | Help | ListRequests | Cancel | RequestDraft)
