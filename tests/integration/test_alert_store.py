"""The alert rules on a real store (SQLite and PostgreSQL): SQL candidates at their boundaries,
firings that hold across restarts and replicas, digests taken once, and idempotent syncs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from bot.slack.limits import DIGEST
from store.engine import make_engine
from store.tables import AlertFiringRow, NotificationRow, UsageDailyRow, UsageHourlyRow, table
from tests.fakes import FakeConnector
from tests.integration import world
from tests.integration.race import race
from tests.integration.world import EVE, Org, firmware, uows
from workflows.admin import DailyUsage, HourlyUsage, RemoteMember
from workflows.alerts.digest import send_digests
from workflows.alerts.running import run_alerts
from workflows.alerts.syncing import sync_recent
from workflows.policy import Policy, parse_policy
from workflows.ports import GroupRecord
from workflows.sync import sync

POLICY = parse_policy(
    """
org: {timezone: Europe/Berlin, business_hours: "08:00-20:00"}
admins: [ana@example.com]
admin_channel: {slack: C0ADMINS}
groups:
  - name: embedded
    owners: [dana@example.com, olaf@example.com]
    members: [eve@example.com, "*@firmware.example.com"]
    default_cap_usd: 85
    max_cap_usd: 400
    monthly_budget_usd: 250
rules:
  - {id: cap-near, kind: cap_near, threshold_pct: 85, notify: [user, admins], cooldown: 12h}
  - {id: after-hours, kind: after_hours_spike, min_commands_per_hour: 50, notify: [admins],
     cooldown: 1h, mode: immediate}
  - {id: idle-seat, kind: idle_seat, warn_after_days: 14, reclaim_after_days: 30,
     notify: [user, admins]}
  - {id: group-budget, kind: group_budget, threshold_pct: 90, notify: [owners, admins]}
  - {id: forecast, kind: forecast_overrun, notify: [admins]}
"""
)
NOW = datetime(2026, 3, 31, 7, tzinfo=UTC)
"""Tuesday 31 March 2026, 09:00 in Berlin, two days after the change to summer time."""
TODAY = date(2026, 3, 31)
BERLIN = POLICY.org.zone


def _load(engine: Engine, daily: Sequence[DailyUsage], hourly: Sequence[HourlyUsage] = ()) -> None:
    embedded = POLICY.groups[0]
    group = GroupRecord(
        name=embedded.name,
        default_cap_cents=embedded.default_cap_cents,
        max_cap_cents=embedded.max_cap_cents,
        budget_cents=embedded.budget_cents,
        owners=tuple(embedded.owners),
        members=tuple(m.email for m in world.members() if POLICY.group_of(m.email)),
    )
    with uows(engine)() as uow:
        uow.groups.replace_all([group])
        uow.usage.replace_daily(daily)
        uow.usage.replace_hourly(hourly)
        uow.commit()


def _busy(but: tuple[str, ...]) -> list[DailyUsage]:
    return [DailyUsage(m.email, TODAY, 1, 1) for m in world.members() if m.email not in but]


def _keys(
    engine: Engine, now: datetime = NOW, policy: Policy = POLICY, **kw: Any
) -> set[tuple[str, str, str]]:
    return {f.key for f in run_alerts(uows(engine), policy, now=now, **kw).fired}


def _scenario(engine: Engine) -> None:
    """Each rule with one subject just over its limit and one just under."""
    nineteen = datetime(2026, 3, 30, 19, tzinfo=BERLIN).astimezone(UTC)
    _load(
        engine,
        daily=[
            *_busy(but=(firmware(2), firmware(3))),
            DailyUsage(EVE, date(2026, 3, 2), 7225, 10),  # 85.0 % of $85
            DailyUsage(firmware(1), date(2026, 3, 2), 7216, 10),  # 84.9 %
            DailyUsage(firmware(6), date(2026, 3, 2), 8400, 10),  # on course for about $87.50
            DailyUsage(firmware(2), TODAY - timedelta(days=14), 5, 1),
            DailyUsage(firmware(3), TODAY - timedelta(days=13), 5, 1),
        ],
        hourly=[
            HourlyUsage(firmware(4), nineteen, 10, 120),  # 19:00-20:00: business hours
            HourlyUsage(firmware(5), nineteen + timedelta(hours=1), 10, 50),  # 20:00: after
        ],
    )


EXPECTED = {
    ("cap-near", EVE, "2026-03"),
    ("after-hours", firmware(5), "2026-03-30T18:00Z"),
    ("idle-seat", firmware(2), "2026-03-17/warn"),
    ("cap-near", firmware(6), "2026-03"),
    ("forecast", firmware(6), "2026-03"),
    ("group-budget", "group:embedded", "2026-03"),
}


def test_each_rule_fires_at_its_boundary_in_sql(org: Org) -> None:
    _scenario(org.engine)
    assert _keys(org.engine) == EXPECTED


def test_the_cooldown_holds_across_a_restart_and_lapses_after_it(org: Org) -> None:
    _scenario(org.engine)
    assert _keys(org.engine)
    org.engine.dispose()
    restarted = make_engine(org.url)  # a new process would build just this
    try:
        assert _keys(restarted, NOW + timedelta(hours=11)) == set()
        assert _keys(restarted, NOW + timedelta(hours=12)) == {
            ("cap-near", EVE, "2026-03"),
            ("cap-near", firmware(6), "2026-03"),
        }
    finally:
        restarted.dispose()


def _count(engine: Engine, t: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t)).scalar_one())


def test_two_replicas_evaluating_at_once_send_each_firing_once(org: Org) -> None:
    _scenario(org.engine)
    other = make_engine(org.url)
    try:
        runs = race(
            lambda: run_alerts(uows(org.engine), POLICY, now=NOW),
            lambda: run_alerts(uows(other), POLICY, now=NOW),
        )
    finally:
        other.dispose()
    assert not any(isinstance(r, BaseException) for r in runs), runs
    fired = [f.key for r in runs for f in r.fired]
    assert len(fired) == len(set(fired)) == len(EXPECTED)
    # Two near-cap DMs, the idle seat's question and the after-hours post: once each.
    assert _count(org.engine, table(NotificationRow)) == 4
    assert _count(org.engine, table(AlertFiringRow)) == len(fired)


def test_a_digest_is_taken_once_even_when_two_replicas_send_it(org: Org) -> None:
    _scenario(org.engine)
    _keys(org.engine)
    other = make_engine(org.url)
    try:
        sent = race(
            lambda: send_digests(uows(org.engine), POLICY, now=NOW, budget=DIGEST, only={"admin"}),
            lambda: send_digests(uows(other), POLICY, now=NOW, budget=DIGEST, only={"admin"}),
        )
    finally:
        other.dispose()
    assert not any(isinstance(s, BaseException) for s in sent), sent
    assert sorted(d.items for result in sent for d in result) == [0, 5]
    with uows(org.engine)() as uow:
        digests = [
            n
            for n in uow.notifications.claim_due(NOW, lease_until=NOW, limit=50)
            if n.outgoing.message.kind == "digest"
        ]
    assert len(digests) == 1
    assert digests[0].outgoing.message.chart is not None


def test_a_dry_run_leaves_nothing_behind(org: Org) -> None:
    _scenario(org.engine)
    assert _keys(org.engine, dry_run=True) == EXPECTED
    assert _count(org.engine, table(AlertFiringRow)) == 0
    assert _count(org.engine, table(NotificationRow)) == 0


def _totals(engine: Engine) -> tuple[int, ...]:
    d, h = table(UsageDailyRow), table(UsageHourlyRow)
    with engine.connect() as connection:
        return tuple(
            int(connection.execute(q).scalar_one())
            for q in (
                select(func.count()).select_from(d),
                select(func.coalesce(func.sum(d.c.spend_cents), 0)),
                select(func.count()).select_from(h),
                select(func.coalesce(func.sum(h.c.commands), 0)),
            )
        )


def test_syncing_the_same_days_twice_gives_the_same_totals(org: Org) -> None:
    people = [RemoteMember(m.email, m.name, m.tier, m.cap_cents) for m in world.members()]
    daily = [
        DailyUsage(m.email, TODAY - timedelta(days=n), 100 + n, 3)
        for m in people
        for n in range(20)
    ]
    hourly = [
        HourlyUsage(m.email, NOW - timedelta(hours=n), 7, 2) for m in people for n in range(30)
    ]
    backend = FakeConnector(members=people, daily=daily, hourly=hourly)
    sync(uows(org.engine), backend, POLICY, today=TODAY)
    first = _totals(org.engine)
    sync(uows(org.engine), backend, POLICY, today=TODAY)
    sync_recent(uows(org.engine), backend, POLICY, today=TODAY)
    assert _totals(org.engine) == first
    assert first[0] == len(daily)
    assert first[1] == sum(u.spend_cents for u in daily)
