"""The scheduler: job options, failing jobs, and one leader among replicas on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, text

from bot.bootstrap import Capdesk
from bot.scheduling import build_scheduler
from bot.scheduling.leadership import AdvisoryLock, SoleLeader, leadership_for, lock_key
from bot.scheduling.scheduler import CapdeskScheduler, Job
from bot.settings import load_settings
from store.engine import make_engine
from tests.fakes import FakeConnector, FakeNotifier
from tests.integration.test_alert_store import NOW, POLICY, _scenario
from tests.integration.world import Org
from workflows.clock import ManualClock, ShiftedClock

LEADER_JOBS = {
    "usage-sync",
    "alert-rules",
    "digest",
    "request-sweep",
    "grant-expiry",
    "native-requests",
    "inbound-ids",
    "quarterly-review",
}
SHARED_JOBS = {"operations", "notifications", "usage-sync-retry"}
TAKEOVER_SECONDS = 10.0


def _app(org: Org) -> Capdesk:
    settings = load_settings({"CAPDESK_DATABASE_URL": org.url})
    return Capdesk(
        settings=settings,
        engine=org.engine,
        policy=POLICY,
        connector=FakeConnector(),
        clock=ManualClock(NOW),
    )


def _wait_for(condition: Callable[[], bool], seconds: float = TAKEOVER_SECONDS) -> bool:
    """Poll an outside event (another process, the database) until it happens or time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_every_job_coalesces_has_a_grace_time_and_the_digest_follows_the_policy(org: Org) -> None:
    async def scenario() -> None:
        scheduler = build_scheduler(_app(org), notifier=FakeNotifier())
        await scheduler.start()
        try:
            assert scheduler.leading
            runs = scheduler.next_runs()
            assert set(runs) == LEADER_JOBS | SHARED_JOBS | {"leadership"}
            assert all(runs[name] is not None for name in LEADER_JOBS)
            for name in LEADER_JOBS | SHARED_JOBS:
                options = scheduler.job_options(name)
                assert options["coalesce"] is True
                assert options["max_instances"] == 1
                assert options["misfire_grace_time"] >= 60
            digest = scheduler.job_options("digest")
            assert digest["misfire_grace_time"] == 3600
            next_digest = digest["trigger"].get_next_fire_time(None, NOW)
            local = next_digest.astimezone(POLICY.org.zone)
            assert (local.strftime("%a %H:%M"), local.day) == ("Tue 09:00", 31)
        finally:
            await scheduler.stop()

    expected = SoleLeader if org.dialect == "sqlite" else AdvisoryLock
    assert isinstance(leadership_for(org.engine), expected)
    asyncio.run(scenario())


def test_the_digest_fires_by_capdesks_clock_when_capdesk_now_moved_it(org: Org) -> None:
    # APScheduler reads the wall clock; here it says 17:00 on 5 May 2031, while capdesk's
    # clock started at 08:00 in Berlin on Tuesday 31 March 2026, an hour before the digest.
    wall = datetime(2031, 5, 5, 17, 0, tzinfo=UTC)
    start = datetime(2026, 3, 31, 8, 0, tzinfo=POLICY.org.zone)
    app = dataclasses.replace(_app(org), clock=ShiftedClock(start, real=ManualClock(wall)))

    async def scenario() -> None:
        scheduler = build_scheduler(app, notifier=FakeNotifier(), leadership=SoleLeader())
        trigger = scheduler.job_options("digest")["trigger"]
        first = trigger.get_next_fire_time(None, wall)
        assert first == wall + timedelta(hours=1)
        second = trigger.get_next_fire_time(first, first)
        assert second == first + timedelta(days=1)  # Wednesday's, at 09:00 on capdesk's clock
        interval = scheduler.job_options("alert-rules")["trigger"]
        assert isinstance(interval, IntervalTrigger)  # every 15 minutes is the same on any clock

    asyncio.run(scenario())


def test_the_alert_job_evaluates_and_delivers_at_once(org: Org) -> None:
    _scenario(org.engine)
    notifier = FakeNotifier()

    async def scenario() -> None:
        scheduler = build_scheduler(_app(org), notifier=notifier, leadership=SoleLeader())
        await scheduler.start()
        try:
            await scheduler.run_now("alert-rules")
            await scheduler.run_now("digest")
        finally:
            await scheduler.stop()

    asyncio.run(scenario())
    kinds = sorted(d.outgoing.message.kind for d in notifier.delivered)
    # The admins' digest, and the embedded owners' (the group budget) to each of its two owners.
    assert kinds == [
        "alert",
        "alert_cap_near",
        "alert_cap_near",
        "alert_idle_seat",
        "digest",
        "digest",
        "digest",
    ]


def test_the_inbound_ids_job_forgets_what_is_a_day_old(org: Org) -> None:
    app = _app(org)
    with app.uow() as uow:
        for key, age in (("Ev-old", timedelta(hours=25)), ("trigger:new", timedelta(hours=23))):
            assert uow.inbound.first_time("slack", key, at=NOW - age)
        uow.commit()

    async def scenario() -> None:
        scheduler = build_scheduler(app, notifier=FakeNotifier(), leadership=SoleLeader())
        await scheduler.start()
        try:
            await scheduler.run_now("inbound-ids")
        finally:
            await scheduler.stop()

    asyncio.run(scenario())
    with app.uow() as uow:
        assert uow.inbound.first_time("slack", "Ev-old", at=NOW)
        assert not uow.inbound.first_time("slack", "trigger:new", at=NOW)


def test_a_job_that_raises_is_logged_with_its_name_and_the_others_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran = {"boom": 0, "steady": 0}

    def boom() -> None:
        ran["boom"] += 1
        raise RuntimeError("the backend is down")

    def steady() -> None:
        ran["steady"] += 1

    every = IntervalTrigger(seconds=0.05, timezone=UTC)

    async def scenario() -> None:
        scheduler = CapdeskScheduler(
            jobs=[Job("boom", boom, every), Job("steady", steady, every)],
            leadership=SoleLeader(),
        )
        await scheduler.start()
        try:
            for _ in range(200):  # until both ran a few times, at most ~10 s
                if ran["boom"] >= 3 and ran["steady"] >= 3:
                    break
                await asyncio.sleep(0.05)
        finally:
            await scheduler.stop()

    with caplog.at_level(logging.ERROR, logger="bot.scheduling.scheduler"):
        asyncio.run(scenario())
    assert ran["boom"] >= 3
    assert ran["steady"] >= 3
    failures = [r for r in caplog.records if "scheduled job boom failed" in r.getMessage()]
    assert len(failures) >= 3
    assert all(r.exc_info is not None for r in failures)


def _postgres_only(org: Org) -> None:
    if org.dialect != "postgresql":
        pytest.skip("leader election is for PostgreSQL; SQLite runs one process")


def _backend_pid(engine: Engine) -> int:
    """The session holding this schema's scheduler lock (other suites on the same server may
    hold advisory locks of their own)."""
    with engine.connect() as connection:
        where = connection.execute(text("SELECT current_database(), current_schema()")).one()
        key = lock_key(*where)
        # A bigint key shows in pg_locks as its high and low 32 bits, objsubid 1.
        return int(
            connection.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid = :high AND objid = :low AND objsubid = 1"
                ),
                {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF},
            ).scalar_one()
        )


def test_one_replica_leads_and_another_takes_over_when_its_session_dies(org: Org) -> None:
    _postgres_only(org)
    first, second = AdvisoryLock(org.engine), AdvisoryLock(org.engine)
    try:
        assert first.hold()
        assert first.hold()  # still ours
        assert not second.hold()
        with org.engine.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": _backend_pid(org.engine)}
            )
        assert _wait_for(second.hold)
        assert not first.hold()
    finally:
        first.dispose()
        second.dispose()


def test_killing_the_lock_holders_process_hands_the_jobs_to_another_replica(org: Org) -> None:
    _postgres_only(org)
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("lock_holder.py")), org.url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    follower = AdvisoryLock(org.engine)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "leading"
        assert not follower.hold()
        child.kill()
        child.wait(timeout=10)
        assert _wait_for(follower.hold)
    finally:
        child.kill()
        follower.dispose()


def test_a_follower_scheduler_runs_the_leaders_jobs_once_the_leader_stops(org: Org) -> None:
    _postgres_only(org)
    other = make_engine(org.url)

    async def scenario() -> None:
        app = _app(org)
        leader = build_scheduler(app, notifier=FakeNotifier())
        follower = build_scheduler(
            Capdesk(
                settings=app.settings,
                engine=other,
                policy=POLICY,
                connector=FakeConnector(),
                clock=ManualClock(NOW),
            ),
            notifier=FakeNotifier(),
        )
        await leader.start()
        await follower.start()
        try:
            assert leader.leading
            assert not follower.leading
            runs = follower.next_runs()
            assert all(runs[name] is None for name in LEADER_JOBS)
            assert all(runs[name] is not None for name in SHARED_JOBS)
            await leader.stop()
            await follower.elect()
            assert follower.leading
            assert all(follower.next_runs()[name] is not None for name in LEADER_JOBS)
        finally:
            await follower.stop()
            await leader.stop()

    try:
        asyncio.run(scenario())
    finally:
        other.dispose()


def test_the_lock_is_per_database_and_schema() -> None:
    assert lock_key("test", "a") != lock_key("test", "b")
    assert lock_key("test", "a") == lock_key("test", "a")
