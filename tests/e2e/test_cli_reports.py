"""`capdesk seats` and `capdesk report ...` on the sandbox org, as people and scripts run them;
and the full premium pool a newcomer meets on an upgrade's card."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from bot.settings import load_settings
from tests.e2e.test_cli import (
    SAM,
    TOM,
    _clean_environment,
    capdesk,
    copy_database,
    ok,
    sqlite_url,
    table_rows,
)
from workflows.clock import ManualClock
from workflows.commands import run_command
from workflows.messages import Recipient

NOW = "2026-11-23T10:30"
"""Every command runs then, whatever instant the e2e suite is pinned to: the sandbox org is
generated around its day, and the figures below are of that Monday."""
AT = ("--at", NOW)
REPORTS = (
    ("report", "review"),
    ("report", "chargeback"),
    ("report", "access"),
    ("report", "review", "--quarter", "2026Q4", "--group", "software"),
    ("report", "chargeback", "--month", "2026-10", "--by", "group"),
    ("report", "access", "--days", "30"),
)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox org synced once into a SQLite database."""
    folder = tmp_path_factory.mktemp("reports")
    path = folder / "capdesk.db"
    with pytest.MonkeyPatch.context() as mp:
        _clean_environment(mp)
        mp.chdir(folder)
        ok(capdesk("sync", env={"CAPDESK_DATABASE_URL": sqlite_url(path), "CAPDESK_NOW": NOW}))
    return path


@pytest.fixture
def env(synced: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "CAPDESK_DATABASE_URL": copy_database(synced, tmp_path / "capdesk.db"),
        "CAPDESK_NOW": NOW,
    }


def _premium(env: dict[str, str]) -> dict[str, object]:
    document = json.loads(ok(capdesk("seats", "--json", *AT, env=env)).stdout)
    assert document["idle_after_days"] == 14  # the sandbox's idle_seat rule warns at 14 days
    tiers = {t["tier"]: t for t in document["tiers"]}
    assert list(tiers) == ["standard", "premium"]
    assert tiers["standard"]["seats"] is None
    assert tiers["standard"]["free"] is None
    assert tiers["standard"]["monthly_usd"] == 25.0
    return tiers["premium"]


def test_seats_shows_the_sandbox_pool_full_and_who_left_theirs_idle(env: dict[str, str]) -> None:
    premium = _premium(env)
    assert premium["seats"] == premium["in_use"] == 22  # the sandbox hands out every one
    assert (premium["free"], premium["held_temporarily"], premium["monthly_usd"]) == (0, 0, 125.0)
    idle = premium["idle_holders"]
    assert isinstance(idle, list)
    assert idle
    assert all(h["idle_days"] >= 14 for h in idle)
    assert [h["idle_days"] for h in idle] == sorted((h["idle_days"] for h in idle), reverse=True)
    table = ok(capdesk("seats", *AT, env=env)).output
    rows = {row[0]: row for row in table_rows(table)}
    assert rows["premium"][1:6] == ["22", "22", "0", "0", "$125/month"]
    assert rows["standard"][1] == "no pool"
    assert idle[0]["name"] in rows["premium"][6]


def test_an_upgrade_in_the_sandbox_meets_the_full_pool(env: dict[str, str]) -> None:
    app = bootstrap(load_settings(env), clock=ManualClock(_instant()))
    reply = run_command(
        app.uow, app.policy, email=TOM, text="upgrade premium for 14d profiling", now=_instant()
    )
    assert reply.title.startswith("Request #1: premium seat (now standard)")
    with app.uow() as uow:
        cards = uow.notifications.recipients_of("approval:1")
        assert Recipient.member(SAM) in cards
        pool = uow.notifications.recipients_of("pool-full:1")
    assert pool == [Recipient.channel("admin")]
    # What the owners and the admins read, as the terminal prints it when delivering.
    delivered = ok(capdesk("digest", "--channel", "admin", *AT, env=env)).output
    assert "Premium seats" in delivered
    assert "none free, all 22 in use; idle longest:" in delivered
    assert "No premium seat free for Tom Becker (request #1)" in delivered
    assert "[ Reclaim ]" in delivered
    # The request's seat is not taken before it is approved.
    assert _premium(env)["in_use"] == 22


def _instant() -> datetime:
    return datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("command", REPORTS, ids=" ".join)
def test_every_report_prints_in_every_format(env: dict[str, str], command: tuple[str, ...]) -> None:
    table = ok(capdesk(*command, *AT, env=env)).output
    assert "as of 2026-11-23 10:30 CET" in table
    document = json.loads(ok(capdesk(*command, "--format", "json", *AT, env=env)).stdout)
    assert document["report"] == command[1]
    assert document["at"] == "2026-11-23T10:30:00+01:00"
    name, rows = next(iter(document["tables"].items()))
    spreadsheet = ok(capdesk(*command, "--format", "csv", *AT, env=env)).stdout
    assert spreadsheet.startswith("\ufeff")
    read = list(csv.DictReader(io.StringIO(spreadsheet.removeprefix("\ufeff"), newline="")))
    assert len(read) == len(rows)
    if rows:
        assert list(read[0]) == list(rows[0])
    markdown = ok(capdesk(*command, "--format", "md", *AT, env=env)).stdout
    assert markdown.startswith(f"# {document['title']}\n")
    one = json.loads(
        ok(capdesk(*command, "--format", "json", "--table", name, *AT, env=env)).stdout
    )
    assert list(one["tables"]) == [name]


def test_the_sandbox_chargeback_adds_up_its_cost_centres(env: dict[str, str]) -> None:
    document = json.loads(
        ok(capdesk("report", "chargeback", "--format", "json", *AT, env=env)).stdout
    )
    rows = {r["cost_center"]: r for r in document["tables"]["chargeback"]}
    assert list(rows) == ["ENG-HW", "ENG-SW", "ENG-SYS", "PMO"]
    assert rows["ENG-HW"]["groups"] == "electronics, embedded"
    assert sum(r["seats_premium"] for r in rows.values()) == 22
    for row in rows.values():
        cost = row["seats_standard"] * 25 + row["seats_premium"] * 125
        assert row["seat_cost_usd"] == cost
        assert row["total_usd"] == pytest.approx(cost + row["spend_usd"])


def test_the_same_at_gives_the_same_report(env: dict[str, str]) -> None:
    first = ok(capdesk("report", "review", "--format", "json", *AT, env=env)).stdout
    assert ok(capdesk("report", "review", "--format", "json", *AT, env=env)).stdout == first


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("report", "review", "--quarter", "2026Q5"),
            "'2026Q5' is not a quarter; write it as 2026Q4",
        ),
        (
            ("report", "review", "--quarter", "2027Q1"),
            "2027Q1 has not begun yet (today is 2026-11-23)",
        ),
        (("report", "review", "--group", "sales"), "no group 'sales'; the groups are electronics,"),
        (
            ("report", "chargeback", "--month", "2026-13"),
            "'2026-13' is not a month; write it as 2026-11",
        ),
        (("report", "chargeback", "--month", "2027-01"), "2027-01 has not begun yet"),
        (("report", "chargeback", "--by", "team"), "'team' is not one of 'cost_center', 'group'"),
        (("report", "access", "--days", "0"), "0 is not in the range 1<=x<=3660"),
        (
            ("report", "access", "--table", "people"),
            "no table 'people' in this report; it has holders, elevations",
        ),
        (
            ("report", "review", "--format", "xlsx"),
            "'xlsx' is not one of 'table', 'csv', 'json', 'md'",
        ),
        (("seats", "--at", "2026-11-31T10:00"), "must be a real date and time"),
    ],
)
def test_bad_input_is_one_line_and_no_traceback(
    env: dict[str, str], args: tuple[str, ...], said: str
) -> None:
    result = capdesk(*args, *(AT if "--at" not in args else ()), env=env)
    assert result.exit_code == 2, result.output
    assert said in result.stderr
    assert "Traceback" not in result.output + result.stderr
