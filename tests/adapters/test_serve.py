"""`capdesk serve` as an operator meets it: start-up checks, health, readiness, metrics, jobs."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.bootstrap import StartupError, bootstrap
from bot.server.runtime import Runtime
from bot.settings import load_settings
from tests.adapters.conftest import T0, TOM, Served
from tests.adapters.test_slack_story import ask
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio


async def get(served: Served, path: str) -> tuple[int, str]:
    base = served.emu.request_url.removesuffix("/slack/events")
    async with aiohttp.ClientSession() as session, session.get(base + path) as response:
        return response.status, await response.text()


async def test_health_readiness_and_metrics(served: Served) -> None:
    assert await get(served, "/healthz") == (200, '{"status": "ok"}')
    status, body = await get(served, "/readyz")
    assert (status, body) == (200, '{"status": "ready"}')

    await ask(served, TOM, "raise 150 for 14d release prep")
    status, metrics = await get(served, "/metrics")
    assert status == 200
    assert 'capdesk_requests_total{kind="command",platform="slack"} 1.0' in metrics
    assert 'capdesk_outbox_depth{outbox="notifications"} 0.0' in metrics
    assert "capdesk_background_tasks 0.0" in metrics


async def test_http_mode_needs_a_signing_secret(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
            "SLACK_BOT_TOKEN": "xoxb-1",
        }
    )
    runtime = Runtime(bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True))
    with pytest.raises(StartupError, match=r"^SLACK_SIGNING_SECRET: must be set"):
        await runtime.start(host="127.0.0.1", port=0)


async def test_socket_mode_needs_the_bot_token(tmp_path: Path) -> None:
    settings = load_settings(
        {"CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "SLACK_APP_TOKEN": "xapp-1"}
    )
    runtime = Runtime(bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True))
    with pytest.raises(StartupError, match=r"^SLACK_BOT_TOKEN: must be set for Socket Mode"):
        await runtime.start(host="127.0.0.1", port=0)


async def test_serve_runs_the_scheduled_jobs(served: Served) -> None:
    runtime = Runtime(served.app)
    try:
        await runtime.start(host="127.0.0.1", port=0)
        assert runtime.scheduler is not None
        assert runtime.scheduler.leading  # SQLite: the one process leads
        names = {job.name for job in runtime.scheduler.jobs}
        assert {"usage-sync", "alert-rules", "digest", "native-requests"} <= names
    finally:
        await runtime.stop()
