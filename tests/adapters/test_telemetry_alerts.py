"""Telemetry under load and into the alert rules: an overloaded receiver answers 429 or 503
and the SDK sends again; an after-hours burst fires its rule within five minutes, and the
backend's later daily figure replaces the estimate without a second firing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from opentelemetry.sdk.metrics.export import MetricExportResult
from sqlalchemy import delete, text

from bot.scheduling.scheduler import Intervals
from bot.telemetry import TelemetryReceiver
from store.tables import UsageDailyRow, UsageHourlyRow, table
from tests.adapters.claude_code import ClaudeCode, Interval
from tests.adapters.conftest import TOM, Served, serve
from tests.adapters.test_slack_story import text_of
from tests.now import NOW
from workflows.admin import DailyUsage
from workflows.alerts.calendar import after_hours_starts
from workflows.alerts.digest import send_digests

pytestmark = pytest.mark.anyio

TOKEN = "otlp-secret"
ONE = Interval(cost_usd=0.5, tokens={"input": 1000})


def _database(served: Served) -> Path:
    return Path(str(served.app.engine.url.database))


@pytest.fixture
async def served(tmp_path: Path, synced_store: Path) -> AsyncIterator[Served]:
    async with serve(tmp_path, synced_store, env={"CAPDESK_OTLP_TOKEN": TOKEN}) as running:
        yield running


async def _receiver(
    served: Served, statuses: list[int], **options: int
) -> tuple[TelemetryReceiver, web.AppRunner, str]:
    """A receiver of its own (a queue of one batch), answering Retry-After: 1."""
    receiver = TelemetryReceiver(served.app, retry_after=1, **options)

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        statuses.append(response.status)
        return response

    app = web.Application(middlewares=[record])
    receiver.add_routes(app)
    await receiver.start()
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return receiver, runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


def _session(endpoint: str, email: str = TOM, session: str = "s-1") -> ClaudeCode:
    return ClaudeCode(endpoint=endpoint, email=email, session=session, started=NOW)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError("the condition never held")


def _cost(served: Served, email: str = TOM) -> int:
    # Figures are kept by the hour they fall in, which may start before NOW.
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    with served.app.uow() as uow:
        return sum(f.values.get("cost_micros", 0) for f in uow.telemetry.hours(email, hour))


async def test_a_full_queue_answers_429_and_the_sdk_sends_again(served: Served) -> None:
    statuses: list[int] = []
    receiver, runner, endpoint = await _receiver(served, statuses, queue_size=1)
    # The database is held by another writer: the worker waits on it with one batch, one more
    # waits in the queue, and the SDK's batch finds the queue full.
    lock = sqlite3.connect(_database(served), isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        others = [_session(endpoint, session=f"other-{n}") for n in range(2)]
        waiting = [asyncio.create_task(asyncio.to_thread(o.export, ONE, NOW)) for o in others]
        await _until(lambda: receiver.waiting == 1)
        exported = asyncio.create_task(asyncio.to_thread(_session(endpoint).export, ONE, NOW))
        await _until(lambda: 429 in statuses)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    results = await asyncio.gather(exported, *waiting)
    await runner.cleanup()
    await receiver.close()
    assert results == [MetricExportResult.SUCCESS] * 3
    assert statuses.count(429) >= 1
    assert statuses.count(200) == 3
    assert _cost(served) == 3 * 500_000


async def test_a_failing_database_answers_503_and_the_sdk_sends_again(served: Served) -> None:
    statuses: list[int] = []
    receiver, runner, endpoint = await _receiver(served, statuses)
    with served.app.engine.begin() as connection:
        connection.execute(text("ALTER TABLE telemetry_batch RENAME TO telemetry_batch_away"))
    exported = asyncio.create_task(asyncio.to_thread(_session(endpoint).export, ONE, NOW))
    await _until(lambda: 503 in statuses)
    with served.app.engine.begin() as connection:
        connection.execute(text("ALTER TABLE telemetry_batch_away RENAME TO telemetry_batch"))
    result = await exported
    await runner.cleanup()
    await receiver.close()
    assert result is MetricExportResult.SUCCESS
    assert statuses[0] == 503
    assert statuses[-1] == 200
    assert _cost(served) == 500_000


async def _status_of(served: Served, who: str) -> str:
    reply = await served.emu.slash_command(who, "status")
    assert reply.status == 200
    await served.settle()
    ack = served.emu.last_ephemeral_for(who)
    assert ack is not None
    return text_of(ack)


async def test_an_after_hours_burst_fires_within_five_minutes_and_the_backend_figure_wins_later(
    tmp_path: Path, synced_store: Path
) -> None:
    intervals = Intervals(after_telemetry=timedelta(milliseconds=200))
    async with serve(
        tmp_path,
        synced_store,
        env={"CAPDESK_OTLP_TOKEN": TOKEN},
        runtime={"scheduled": True, "intervals": intervals},
    ) as served:
        app = served.app
        hour = after_hours_starts(NOW - timedelta(days=1), NOW, app.policy.org)[-1]
        # The backend has not reported that day yet (its figures come an hour or more late).
        with app.engine.begin() as connection:
            daily, hourly = table(UsageDailyRow), table(UsageHourlyRow)
            member = connection.execute(
                text("SELECT id FROM member WHERE email = :e"), {"e": TOM}
            ).scalar()
            connection.execute(delete(daily).where(daily.c.member_id == member))
            connection.execute(delete(hourly).where(hourly.c.member_id == member))
        arrived = hour + timedelta(minutes=20)
        served.clock.set(arrived)
        claude = ClaudeCode(
            endpoint=served.emu.request_url.removesuffix("/slack/events"),
            email=TOM,
            session="late-night",
            started=hour + timedelta(minutes=1),
        )
        burst = Interval(cost_usd=7.5, tokens={"input": 90_000, "output": 12_000})
        assert await asyncio.to_thread(claude.export, burst, arrived) is MetricExportResult.SUCCESS
        assert await asyncio.to_thread(claude.events, 40, 25, arrived)

        def fired() -> list[tuple[str, str]]:
            with app.uow() as uow:
                return [
                    (r.period, r.fired_at.isoformat())
                    for r in uow.alerts.fired("after-hours", [TOM])
                ]

        await _until(lambda: bool(fired()))
        [(period, at)] = fired()
        assert period == f"{hour:%Y-%m-%dT%H:00Z}"
        assert served.clock.now() - arrived < timedelta(minutes=5)

        def posted_in_admins() -> list[str]:
            found = [text_of(m) for m in served.emu.messages_in("C0ADMINS")]
            return [t for t in found if "Tom Becker: 65 commands" in t]

        await _until(lambda: bool(posted_in_admins()))
        [posted] = posted_in_admins()
        assert "65 commands, $7.50" in posted
        assert "estimated" in posted
        status = await _status_of(served, TOM)
        assert "$7.50 of it estimated" in status
        assert "Claude Code today" in status
        assert "40 prompts, 25 tool runs" in status

        # The backend's own figure for that day arrives (what it bills: a little less than the
        # telemetry's list-price estimate): it replaces telemetry's for the day.
        with app.uow() as uow:
            day = DailyUsage(
                email=TOM, day=hour.astimezone(UTC).date(), spend_cents=712, commands=65
            )
            uow.usage.replace_daily([day])
            uow.commit()
        assert "of it estimated" not in await _status_of(served, TOM)
        assert served.runtime.scheduler is not None
        await served.runtime.scheduler.run_now("alert-rules")
        await served.settle()
        assert fired() == [(period, at)]
        assert posted_in_admins() == [posted]


async def test_telemetry_from_an_unknown_e_mail_is_shown_to_the_admins(served: Served) -> None:
    endpoint = served.emu.request_url.removesuffix("/slack/events")
    stranger = _session(endpoint, email="Stranger@Elsewhere.example", session="s-9")
    assert await asyncio.to_thread(stranger.export, ONE, NOW) is MetricExportResult.SUCCESS
    await asyncio.to_thread(
        send_digests, served.app.uow, served.app.policy, now=NOW, budget=served.app.digest_budget
    )
    await served.settle()
    [digest] = [m for m in served.emu.messages_in("C0ADMINS") if "digest" in m.text]
    assert "stranger@elsewhere.example: 2 data points, $0.50 estimated" in text_of(digest)


async def test_without_a_token_only_loopback_peers_are_served(served: Served) -> None:
    served.app.settings = served.app.settings.model_copy(update={"otlp_token": None})
    statuses: list[int] = []
    receiver, runner, endpoint = await _receiver(served, statuses)
    try:
        async with (
            aiohttp.ClientSession() as client,
            client.post(
                endpoint + "/v1/metrics",
                data=b"",
                headers={"Content-Type": "application/x-protobuf"},
            ) as answer,
        ):
            assert answer.status == 200
    finally:
        await runner.cleanup()
        await receiver.close()
