"""What the commands print to a file or a pipe: whole lines, and JSON with documented keys."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import bot.cli.context
from bot.bootstrap import Capdesk, bootstrap
from bot.cli.lists import request_json
from bot.settings import Settings
from tests.e2e.test_cli import capdesk, ok, sqlite_url
from tests.fakes import ALICE, World
from workflows.clock import ManualClock

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning in Berlin, mid-month
DOCS = Path(__file__).parents[2] / "docs" / "json-output.md"
KINDS = {"cap_near", "after_hours_spike", "idle_seat", "group_budget", "forecast_overrun"}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The sandbox at `AT`, printing to what rich would take for an 80-column terminal."""

    def pinned(settings: Settings, **kwargs: Any) -> Capdesk:
        return bootstrap(settings, **{**kwargs, "clock": ManualClock(AT)})

    monkeypatch.setattr(bot.cli.context, "bootstrap", pinned)
    return {"CAPDESK_DATABASE_URL": sqlite_url(tmp_path / "capdesk.db"), "COLUMNS": "80"}


def documented(section: str) -> set[str]:
    """The keys docs/json-output.md lists in the tables under `section`."""
    text = DOCS.read_text().split(f"## `{section}`", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", text, re.M))


def test_alerts_run_piped_keeps_every_row_on_one_line(env: dict[str, str]) -> None:
    fired = json.loads(ok(capdesk("alerts", "run", "--dry-run", "--json", env=env)).stdout)
    table = ok(capdesk("alerts", "run", "--dry-run", env=env)).stdout
    lines = table.splitlines()
    assert max(len(line) for line in lines) > 80
    for firing in fired["fired"]:
        row = [line for line in lines if f" {firing['subject']} " in line]
        assert len(row) >= 1, firing
        assert any(firing["rule"] in r and firing["summary"] in r for r in row), (firing, row)


def test_alerts_run_as_json(env: dict[str, str]) -> None:
    result = ok(capdesk("alerts", "run", "--json", env=env))
    run = json.loads(result.stdout)  # the messages printed instead of sent are on stderr
    assert "DM to " in result.stderr
    assert set(run) == {"at", "dry_run", "fired", "held_back", "delivered"}
    assert (run["at"], run["dry_run"], run["held_back"]) == (AT.isoformat(), False, 0)
    assert run["delivered"] > 0
    assert {f["kind"] for f in run["fired"]} == KINDS
    spike = next(f for f in run["fired"] if f["kind"] == "after_hours_spike")
    assert spike["action"]["verb"] == "nudge"
    assert spike["action"]["value"].startswith("after_hours ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00Z", spike["period"])
    again = json.loads(ok(capdesk("alerts", "run", "--json", env=env)).stdout)
    assert (again["fired"], again["held_back"]) == ([], len(run["fired"]))


def test_the_json_keys_are_the_documented_ones(env: dict[str, str]) -> None:
    run = json.loads(ok(capdesk("alerts", "run", "--dry-run", "--json", env=env)).stdout)
    assert run["delivered"] is None
    firing_keys = set().union(*(f.keys() for f in run["fired"]))
    assert documented("capdesk alerts run --json") == set(run) | firing_keys
    ok(capdesk("members", "list", env=env))
    people = json.loads(ok(capdesk("members", "list", "--json", env=env)).stdout)
    assert documented("capdesk members list --json") == set(people[0])
    requests = json.loads(ok(capdesk("requests", "list", "--json", env=env)).stdout)
    assert requests == []


def test_the_requests_list_json_keys_are_documented() -> None:
    # tests/e2e/test_cli.py runs `requests list --json` on real requests; here, its keys.
    world = World()
    request = world.ask(ALICE, "raise 150 for 14d release prep")
    row = request_json(request, world.policy.org.zone)
    assert documented("capdesk requests list --json") == set(row)
    assert (row["amount_usd"], row["cap_before_usd"], row["cap_after_usd"]) == (150, 85, 235)
    assert row["until"] == "2026-12-04"
