"""`capdesk serve` pinned by CAPDESK_NOW: the sandbox day, the playground's workspace and the
scheduled digest all go by capdesk's clock, which runs on from there."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from bot.server.runtime import Runtime
from bot.settings import load_settings
from tests.adapters.conftest import EVE
from workflows.clock import ShiftedClock

pytestmark = pytest.mark.anyio

# 00:30 on Tuesday 1 December in Berlin: still 30 November in UTC.
PINNED = "2026-12-01T00:30"
START = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


async def test_serve_runs_on_capdesk_now(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        {"CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CAPDESK_NOW": PINNED}
    )
    app = bootstrap(settings)
    clock = app.clock
    assert isinstance(clock, ShiftedClock)
    assert START <= clock.now() < START + timedelta(minutes=5)  # it runs on from there
    assert app.sandbox is not None
    assert app.sandbox.today == date(2026, 12, 1)  # the sandbox's own (Berlin) day

    runtime = Runtime(app)
    await runtime.start(host="127.0.0.1", port=0)
    try:
        assert runtime.playground is not None
        workspace = runtime.playground.emulator
        reply = await workspace.slash_command(EVE, "status")
        assert reply.status == 200
        await runtime.settle()
        shown = workspace.ephemerals_for(EVE)[-1]
        assert START <= datetime.fromtimestamp(float(shown.ts), UTC) < START + timedelta(minutes=5)

        assert runtime.scheduler is not None
        digest = runtime.scheduler.next_runs()["digest"]
        assert digest is not None
        # The digest's 09:00 on capdesk's clock (the built-in policy's weekdays, Berlin time).
        on_capdesks_clock = (digest + clock.offset).astimezone(app.policy.org.zone)
        assert on_capdesks_clock.strftime("%a %d %b %H:%M") == "Tue 01 Dec 09:00"
    finally:
        await runtime.stop()
        app.engine.dispose()
