"""The sandbox org gives every alert rule something to show, whatever the moment it starts at.

The forecast rule alone waits, by design, until a working day of the month has passed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from bot.settings import load_settings
from workflows.alerts.forecast import month_projection
from workflows.alerts.running import run_alerts
from workflows.clock import ManualClock

KINDS = {"cap_near", "after_hours_spike", "idle_seat", "group_budget", "forecast_overrun"}
INSTANTS = {
    "first working day, 08:30 Berlin": datetime(2026, 12, 1, 7, 30, tzinfo=UTC),
    "first working day, 23:30": datetime(2026, 12, 1, 22, 30, tzinfo=UTC),
    "a Sunday the 1st, 12:00": datetime(2026, 11, 1, 11, 0, tzinfo=UTC),
    "mid-month Monday, 10:00": datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    "a Sunday, 03:00": datetime(2026, 11, 29, 2, 0, tzinfo=UTC),
    "last day of a month, 23:30": datetime(2026, 11, 30, 22, 30, tzinfo=UTC),
    "the DST change, 12:00": datetime(2026, 10, 25, 11, 0, tzinfo=UTC),
}
NO_FORECAST_YET = {"first working day, 08:30 Berlin", "a Sunday the 1st, 12:00"}


@pytest.mark.parametrize("moment", INSTANTS)
def test_every_rule_fires_on_the_sandbox_once_it_can(tmp_path: Path, moment: str) -> None:
    now = INSTANTS[moment]
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"})
    app = bootstrap(settings, clock=ManualClock(now), builtin_policy_only=True)
    try:
        app.ensure_synced()
        fired = {f.kind for f in run_alerts(app.uow, app.policy, now=now, dry_run=True).fired}
    finally:
        app.engine.dispose()
    ready = month_projection(now, app.policy.org).ready
    assert ready is (moment not in NO_FORECAST_YET)
    assert fired == (KINDS if ready else KINDS - {"forecast_overrun"}), fired
