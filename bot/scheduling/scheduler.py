"""The AsyncIOScheduler of `capdesk serve` and its jobs.

Jobs are thin: each runs domain code in a worker thread (`asyncio.to_thread`), so the event loop
keeps answering Slack within its 3 seconds. Every job coalesces missed runs into one, may start
late by its grace time, and never runs twice at once; a job that raises is logged with its name
and the others carry on. The jobs that must run once for the whole deployment (sync, rules,
digests, request and grant sweeps) run only on the elected leader (`leadership`); the outbox
sweeps are safe to share and run on every replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.scheduling.crontab import cron_trigger, on_clock
from bot.scheduling.leadership import Leadership, leadership_for
from bot.server.readiness import BackendHealth
from workflows.admin import ConnectorError
from workflows.alerts.digest import DigestBudget, send_digests
from workflows.alerts.running import run_alerts
from workflows.alerts.syncing import sync_recent
from workflows.applying.grants import expire_grants, warn_ending_grants
from workflows.delivery import Notifier, Platforms, deliver_pending
from workflows.reports.posting import post_quarterly_reviews
from workflows.requests.native import poll_native_requests
from workflows.requests.sweeping import sweep_pending
from workflows.telemetry.ingest import forget_seen

if TYPE_CHECKING:
    from bot.bootstrap import Capdesk

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Intervals:
    """How often each job runs (the digest follows the policy's `digest.schedule`)."""

    sync: timedelta = timedelta(hours=1)
    sync_retry: timedelta = timedelta(seconds=30)
    """How often a failed sync is looked at; `BackendHealth` says when it is due again."""
    alerts: timedelta = timedelta(minutes=15)
    requests: timedelta = timedelta(minutes=5)
    grants: timedelta = timedelta(minutes=5)
    native_requests: timedelta = timedelta(minutes=5)
    operations: timedelta = timedelta(seconds=10)
    """With the outbox's 15 s lease: what a dead replica held is applied within 30 s."""
    notifications: timedelta = timedelta(seconds=15)
    leadership: timedelta = timedelta(seconds=15)
    inbound_ids: timedelta = timedelta(hours=1)
    after_telemetry: timedelta = timedelta(minutes=2)
    """How soon the rules run after telemetry arrives (`CapdeskScheduler.soon`): later batches
    join that run, so steady telemetry means one evaluation this often, well within five
    minutes of the usage."""
    reviews: timedelta = timedelta(hours=1)
    """The quarterly review goes out in the first hour it is due (once, whatever the replicas)."""


INBOUND_KEPT = timedelta(days=1)
"""How long the ids of received events and triggers are kept: Slack retries an event for
minutes and a signature is good for five, so a day covers both many times over."""


@dataclass(frozen=True, slots=True)
class Job:
    """One scheduled job: what it runs (blocking domain code) and when."""

    name: str
    run: Callable[[], object]
    trigger: Any
    leader_only: bool = True
    grace: timedelta = timedelta(minutes=1)


def standard_jobs(
    app: Capdesk,
    notifier: Notifier | Platforms,
    intervals: Intervals,
    backend: BackendHealth,
    budget: DigestBudget,
) -> list[Job]:
    """The jobs SPEC section 6 and the request workflow need; syncs report to `backend`, and
    digests fit `budget`."""

    def deliver() -> None:
        deliver_pending(app.uow, notifier, app.clock)

    def alerts() -> None:
        run_alerts(app.uow, app.policy, now=app.clock.now())
        deliver()

    def digests() -> None:
        send_digests(app.uow, app.policy, now=app.clock.now(), budget=budget)
        deliver()

    def requests() -> None:
        sweep_pending(app.uow(), app.policy, now=app.clock.now())
        deliver()

    def grants() -> None:
        warn_ending_grants(app.uow(), app.policy, now=app.clock.now())
        expire_grants(app.uow(), now=app.clock.now())
        deliver()

    def sync() -> None:
        backend.watch(lambda: sync_recent(app.uow, app.connector, app.policy, today=app.today()))

    def sync_again() -> None:
        if backend.retry_due():
            sync()

    def native() -> None:
        poll_native_requests(app.uow, app.connector, app.policy, app.clock.now())
        deliver()

    def forget_inbound() -> None:
        with app.uow() as uow:
            uow.inbound.forget_before(app.clock.now() - INBOUND_KEPT)
            forget_seen(uow, now=app.clock.now())
            uow.commit()

    def reviews() -> None:
        post_quarterly_reviews(app.uow, app.policy, now=app.clock.now())
        deliver()

    def every(delta: timedelta) -> IntervalTrigger:
        return IntervalTrigger(seconds=delta.total_seconds(), timezone=UTC)

    return [
        Job("usage-sync", sync, every(intervals.sync), grace=timedelta(minutes=10)),
        # Every replica: one that failed its first sync keeps trying until the backend answers.
        Job("usage-sync-retry", sync_again, every(intervals.sync_retry), leader_only=False),
        Job("alert-rules", alerts, every(intervals.alerts), grace=timedelta(minutes=5)),
        Job(
            "digest",
            digests,
            on_clock(cron_trigger(app.policy.digest.schedule, app.policy.org.zone), app.clock),
            grace=timedelta(hours=1),
        ),
        Job("request-sweep", requests, every(intervals.requests)),
        Job("grant-expiry", grants, every(intervals.grants)),
        Job("native-requests", native, every(intervals.native_requests)),
        Job("inbound-ids", forget_inbound, every(intervals.inbound_ids)),
        Job("quarterly-review", reviews, every(intervals.reviews), grace=timedelta(minutes=30)),
        Job("operations", app.worker().drain, every(intervals.operations), leader_only=False),
        Job("notifications", deliver, every(intervals.notifications), leader_only=False),
    ]


@dataclass
class CapdeskScheduler:
    """The scheduler with its jobs and the replica's leadership; `start()` and `stop()` it."""

    jobs: list[Job]
    leadership: Leadership
    every: timedelta = timedelta(seconds=15)
    leading: bool = False
    _scheduler: AsyncIOScheduler = field(init=False)

    def __post_init__(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        for job in self.jobs:
            self._scheduler.add_job(
                self._runner(job),
                job.trigger,
                id=job.name,
                name=job.name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(job.grace.total_seconds()),
            )
        self._scheduler.add_job(
            self.elect,
            IntervalTrigger(seconds=self.every.total_seconds(), timezone=UTC),
            id="leadership",
            name="leadership",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(self.every.total_seconds()),
        )

    def _runner(self, job: Job) -> Callable[[], Any]:
        async def run() -> None:
            try:
                await asyncio.to_thread(job.run)
            except ConnectorError as exc:
                # Expected while a backend is down: one line, the outbox and retries carry on.
                log.warning("scheduled job %s failed: %s", job.name, exc)
            except Exception:
                log.exception("scheduled job %s failed", job.name)

        return run

    def _on_event(self, event: Any) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "scheduled job %s missed its run at %s", event.job_id, event.scheduled_run_time
            )
        else:
            log.error("scheduled job %s failed: %r", event.job_id, event.exception)

    async def start(self) -> None:
        """Start the jobs; those for the leader wait until this replica leads."""
        self._scheduler.start(paused=True)
        for job in self.jobs:
            if job.leader_only:
                self._scheduler.pause_job(job.name)
        self._scheduler.resume()
        await self.elect()

    async def stop(self) -> None:
        """Stop scheduling, let running jobs be, and hand the lead over."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self.leading:
            self.leading = False
            await asyncio.to_thread(self.leadership.release)

    async def elect(self) -> None:
        """Take (or keep) the lead, and run or pause the leader's jobs to match."""
        try:
            leads = await asyncio.to_thread(self.leadership.hold)
        except Exception:
            log.exception("leader election failed; acting as a follower until the next try")
            leads = False
        if leads == self.leading:
            return
        self.leading = leads
        log.info("this replica %s the scheduled jobs", "now runs" if leads else "no longer runs")
        for job in self.jobs:
            if job.leader_only:
                if leads:
                    self._scheduler.resume_job(job.name)
                else:
                    self._scheduler.pause_job(job.name)

    def soon(self, name: str, *, after: timedelta) -> bool:
        """Run job `name` once, `after` from now, unless such a run is waiting already (then
        this call joins it); False when it joined.

        For work that something which just happened calls for (telemetry arrived: the rules),
        on this replica whether it leads or not: the jobs it is used for are safe to run
        anywhere, since their effects are keyed.
        """
        soon_id = f"{name}-soon"
        if self._scheduler.get_job(soon_id) is not None:
            return False
        job = next(j for j in self.jobs if j.name == name)
        self._scheduler.add_job(
            self._runner(job),
            DateTrigger(run_date=datetime.now(UTC) + after, timezone=UTC),
            id=soon_id,
            name=soon_id,
            misfire_grace_time=int(job.grace.total_seconds()),
        )
        return True

    async def run_now(self, name: str) -> None:
        """Run one job at once, as the scheduler would (errors are logged, not raised)."""
        job = next(j for j in self.jobs if j.name == name)
        await self._runner(job)()

    def next_runs(self) -> dict[str, datetime | None]:
        """Each job's next run; None while paused (a follower's leader-only jobs)."""
        return {j.id: j.next_run_time for j in self._scheduler.get_jobs()}

    def job_options(self, name: str) -> dict[str, Any]:
        job = self._scheduler.get_job(name)
        return {
            "coalesce": job.coalesce,
            "max_instances": job.max_instances,
            "misfire_grace_time": job.misfire_grace_time,
            "trigger": job.trigger,
        }


def build_scheduler(
    app: Capdesk,
    *,
    notifier: Notifier | Platforms,
    backend: BackendHealth | None = None,
    intervals: Intervals | None = None,
    leadership: Leadership | None = None,
    budget: DigestBudget | None = None,
) -> CapdeskScheduler:
    """The scheduler of `capdesk serve`: `await s.start()` in the event loop, `await s.stop()`.

    Digests fit `budget` (the platforms served), capdesk's own `digest_budget` by default."""
    intervals = intervals or Intervals()
    return CapdeskScheduler(
        jobs=standard_jobs(
            app,
            notifier,
            intervals,
            backend or BackendHealth(app.settings, app.clock),
            budget or app.digest_budget,
        ),
        leadership=leadership or leadership_for(app.engine),
        every=intervals.leadership,
    )
