"""`--at` and CAPDESK_NOW: which instant a command runs at, read in the organisation's timezone.

The sandbox lays its usage out on Berlin days up to the day it is generated on, so the last day
in the store and the month `members list` sums tell which day a command thought it was.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

# `workdir` (autouse) runs each test in an empty folder without the caller's settings.
from tests.e2e.test_cli import POLICY, capdesk, ok, sqlite_url, workdir  # noqa: F401


def last_day(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        (day,) = connection.execute("SELECT max(day) FROM usage_daily").fetchone()
    connection.close()
    return str(day)


def spent_since(path: Path, first: str) -> int:
    with sqlite3.connect(path) as connection:
        (cents,) = connection.execute(
            "SELECT coalesce(sum(spend_cents), 0) FROM usage_daily WHERE day >= ?", (first,)
        ).fetchone()
    connection.close()
    return int(cents)


def members_spend(*args: str, path: Path, env: dict[str, str] | None = None) -> int:
    """`members list --json ARGS` on a fresh database: the month-to-date spend of everyone."""
    result = ok(
        capdesk(
            "members",
            "list",
            "--json",
            *args,
            env={"CAPDESK_DATABASE_URL": sqlite_url(path)} | (env or {}),
        )
    )
    return round(sum(person["spent_usd"] for person in json.loads(result.stdout)) * 100)


def test_at_without_an_offset_is_the_org_wall_clock(tmp_path: Path) -> None:
    # 23:30 on 30 November in Berlin: November's spend, the sandbox up to that day.
    november = tmp_path / "november.db"
    assert members_spend("--at", "2026-11-30T23:30", path=november) == spent_since(
        november, "2026-11-01"
    )
    assert last_day(november) == "2026-11-30"
    # The same wall-clock time in UTC is 00:30 on 1 December in Berlin: a new month.
    december = tmp_path / "december.db"
    assert members_spend("--at", "2026-11-30T23:30Z", path=december) == spent_since(
        december, "2026-12-01"
    )
    assert last_day(december) == "2026-12-01"


def test_at_is_read_in_the_policy_files_timezone(tmp_path: Path) -> None:
    (Path.cwd() / "capdesk.yaml").write_text(
        POLICY.replace("timezone: Europe/Berlin", "timezone: Pacific/Auckland"), "utf-8"
    )
    path = tmp_path / "auckland.db"
    # 10:30 on 1 December in Auckland (UTC+13) is still 30 November in Berlin.
    members_spend("--at", "2026-12-01T10:30", path=path)
    assert last_day(path) == "2026-11-30"


def test_capdesk_now_pins_every_command_and_at_overrides_it(tmp_path: Path) -> None:
    synced = tmp_path / "synced.db"
    ok(
        capdesk(
            "sync",
            env={"CAPDESK_DATABASE_URL": sqlite_url(synced), "CAPDESK_NOW": "2027-03-28T03:30"},
        )
    )
    assert last_day(synced) == "2027-03-28"  # the Berlin DST day, after the change
    listed = tmp_path / "listed.db"
    members_spend("--at", "2026-12-01T08:30", path=listed, env={"CAPDESK_NOW": "2027-03-28T03:30"})
    assert last_day(listed) == "2026-12-01"


@pytest.mark.parametrize(
    ("args", "env", "line"),
    [
        pytest.param(
            ["alerts", "run", "--dry-run", "--at", "2027-03-28T02:30"],
            {},
            "Error: --at: 2027-03-28T02:30 does not exist in Europe/Berlin (the clocks go"
            " forward then); write it with an offset, e.g. 2027-03-28T02:30+01:00",
            id="alerts-at-in-the-gap",
        ),
        pytest.param(
            ["digest"],
            {"CAPDESK_NOW": "2026-10-25T02:30"},
            "Error: CAPDESK_NOW: 2026-10-25T02:30 happens twice in Europe/Berlin (the clocks go"
            " back then); write it with an offset: 2026-10-25T02:30+02:00 or"
            " 2026-10-25T02:30+01:00",
            id="digest-now-repeated",
        ),
        pytest.param(
            ["requests", "list"],
            {"CAPDESK_NOW": "2026-12-01"},
            "Error: CAPDESK_NOW: must be YYYY-MM-DDTHH:MM in the organisation's timezone, or with"
            " an offset: 2026-12-01T08:30+01:00, got '2026-12-01'",
            id="requests-now-unreadable",
        ),
    ],
)
def test_a_time_that_cannot_be_told_stops_with_one_line_and_creates_nothing(
    args: list[str], env: dict[str, str], line: str
) -> None:
    result = capdesk(*args, env=env)

    assert result.exit_code == 1
    assert result.stderr == line + "\n"
    assert result.stdout == ""
    assert list(Path.cwd().iterdir()) == []  # no ./capdesk.db


@pytest.mark.parametrize("command", [["alerts", "run"], ["digest"], ["members", "list"]])
def test_an_unreadable_at_is_a_usage_error_naming_the_format(command: list[str]) -> None:
    result = capdesk(*command, "--at", "2026-11-31T08:30")

    assert result.exit_code == 2
    assert "Invalid value for '--at': '2026-11-31T08:30': must be a real date and time" in (
        result.stderr
    )
    assert list(Path.cwd().iterdir()) == []


@pytest.mark.parametrize("command", [["alerts", "run"], ["digest"], ["members", "list"]])
def test_help_says_which_timezone_at_is_read_in(command: list[str]) -> None:
    shown = " ".join(ok(capdesk(*command, "--help")).stdout.split())
    assert "--at YYYY-MM-DDTHH:MM" in shown
    assert "read in the organisation's timezone (the policy's org.timezone)" in shown
    assert "unless an offset follows" in shown
