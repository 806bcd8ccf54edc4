"""`capdesk alerts run` and `capdesk digest` on the sandbox org, as people run them.

Every run is pinned to one Monday morning in Berlin: all five kinds of alert fire only once a
working day of the month has gone by (the forecast waits for it), so the real date must not
decide what these tests see.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import _clean_environment, capdesk, ok, sqlite_url

AT = ("--at", "2026-11-23T10:30")

KINDS = (
    "Near their cap",
    "After-hours spikes",
    "Groups near their budget",
    "Forecast to overrun",
    "Idle seats",
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    _clean_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    return {"CAPDESK_DATABASE_URL": sqlite_url(tmp_path / "capdesk.db")}


def test_a_dry_run_shows_all_five_kinds_and_records_nothing(env: dict[str, str]) -> None:
    first = ok(capdesk("alerts", "run", "--dry-run", *AT, env=env)).output
    assert all(kind in first for kind in KINDS), first
    assert "Dry run: nothing was recorded or sent." in first
    again = ok(capdesk("alerts", "run", "--dry-run", *AT, env=env)).output
    assert again == first


def test_a_second_run_repeats_nothing_and_the_digest_goes_once(env: dict[str, str]) -> None:
    first = ok(capdesk("alerts", "run", *AT, env=env)).output
    assert all(kind in first for kind in KINDS)
    assert "DM to " in first  # near-cap nudges and idle-seat questions, delivered
    second = ok(capdesk("alerts", "run", *AT, env=env)).output
    assert second.strip().startswith("Nothing fires.")
    assert "held back by their key or cooldown" in second
    digest = ok(capdesk("digest", "--channel", "admin", *AT, env=env)).output
    assert "#admin channel" in digest
    assert "capdesk digest for the admins" in digest
    assert "Posted 1 digest(s): admin (" in digest
    owners = ok(capdesk("digest", *AT, env=env)).output
    assert "group:software" in owners  # the owners' digests were still waiting
    assert (
        ok(capdesk("digest", *AT, env=env)).output.strip() == "Nothing to report: no digest sent."
    )


def test_an_unknown_digest_channel_is_a_usage_error(env: dict[str, str]) -> None:
    result = capdesk("digest", "--channel", "nowhere", *AT, env=env)
    assert result.exit_code == 2
    assert "no channel 'nowhere'" in result.output
