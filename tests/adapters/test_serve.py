"""`capdesk serve` as an operator meets it: start-up checks, health, readiness, metrics, jobs."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

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
    assert status == 200
    assert json.loads(body) == {
        "status": "ready",
        "checks": {"database": "ok", "admin_backend": "not synced by this process yet"},
    }

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


def _runtime(tmp_path: Path, **env: str) -> Runtime:
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", **env})
    return Runtime(bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True))


async def test_teams_alone_stops_start_up_saying_there_is_no_teams_adapter(tmp_path: Path) -> None:
    runtime = _runtime(
        tmp_path,
        MICROSOFT_APP_ID="2b1e7c0a-app",
        MICROSOFT_APP_PASSWORD="secret",
        MICROSOFT_APP_TENANT_ID="c0ffee00-tenant",
    )

    with pytest.raises(StartupError) as stopped:
        await runtime.start(host="127.0.0.1", port=0)

    assert str(stopped.value) == (
        "this release has no Teams adapter, so capdesk cannot serve Teams: set SLACK_BOT_TOKEN"
        " for Slack, or unset MICROSOFT_APP_ID for the playground (MICROSOFT_APP_ID=2b1e7c0a-app)"
    )
    assert runtime.playground is None  # it did not start as if nothing were configured


async def test_teams_beside_slack_is_one_warning_and_slack_serves(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    settings = served.app.settings.model_copy(update={"microsoft_app_id": "2b1e7c0a-app"})
    app = dataclasses.replace(served.app, settings=settings)
    runtime = Runtime(app, scheduled=False)
    try:
        await runtime.start(host="127.0.0.1", port=0)
        assert runtime.slack is not None
    finally:
        await runtime.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "this release has no Teams adapter: serving Slack only (MICROSOFT_APP_ID=2b1e7c0a-app)"
    ]


async def test_a_port_in_use_stops_start_up_before_anything_starts(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        runtime = _runtime(tmp_path, CAPDESK_HTTP_PORT=str(port))

        with pytest.raises(StartupError) as stopped:
            await runtime.start(host="127.0.0.1", port=port)

    assert str(stopped.value) == (
        f"port {port} on 127.0.0.1 is in use by another program: stop it, or choose another"
        f" port (CAPDESK_HTTP_PORT={port})"
    )
    assert (runtime.playground, runtime.slack, runtime.scheduler) == (None, None, None)


async def test_a_failure_after_listening_stops_what_had_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = _runtime(tmp_path)

    async def refuse(self: web.SockSite) -> None:
        raise RuntimeError("site failed")

    monkeypatch.setattr(web.SockSite, "start", refuse)
    with pytest.raises(RuntimeError, match="site failed"):
        await runtime.start(host="127.0.0.1", port=0)

    # The playground's workspace and Slack's client session were opened, and are closed again.
    assert runtime.playground is not None
    with pytest.raises(RuntimeError, match="not started"):
        assert runtime.playground.emulator.base_url
    assert runtime.slack is not None
    session = runtime.slack.surface.client.session
    assert session is None or session.closed
