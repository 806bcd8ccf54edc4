"""Each alert rule at its boundary, on the in-memory store with a clock that moves when told."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.console import plain_text
from bot.slack.blocks import progress_line
from tests.fakes import (
    ALICE,
    ANA,
    BOB,
    CARL,
    CLEO,
    DANA,
    SUE,
    FakeUnitOfWork,
    org_members,
    org_policy,
)
from workflows.admin import DailyUsage, HourlyUsage
from workflows.alerts.calendar import after_hours_starts, within_business_hours
from workflows.alerts.forecast import month_projection
from workflows.alerts.running import run_alerts
from workflows.messages import Recipient
from workflows.model import OperationKind
from workflows.policy import Policy
from workflows.ports import GroupRecord

BERLIN_NOON = datetime(2026, 11, 20, 11, tzinfo=UTC)
"""Friday 20 November 2026, 12:00 in Berlin."""


def _policy(*rules: dict[str, Any], **org: Any) -> Policy:
    return org_policy(
        rules=list(rules),
        org={"timezone": "Europe/Berlin", **org},
        admin_channel={"slack": "C0ADMINS"},
    )


def _store(
    policy: Policy, daily: list[DailyUsage] = (), hourly: list[HourlyUsage] = ()
) -> FakeUnitOfWork:  # type: ignore[assignment]
    uow = FakeUnitOfWork(members=org_members())
    with uow:
        uow.groups.replace_all(
            [
                GroupRecord(
                    name=g.name,
                    default_cap_cents=g.default_cap_cents,
                    max_cap_cents=g.max_cap_cents,
                    budget_cents=g.budget_cents,
                    owners=tuple(g.owners),
                    members=tuple(m for m in g.members if "@" in m and not m.startswith("*")),
                )
                for g in policy.groups
            ]
        )
        uow.usage.replace_daily(list(daily))
        uow.usage.replace_hourly(list(hourly))
        uow.commit()
    return uow


def _fired(
    uow: FakeUnitOfWork, policy: Policy, now: datetime, **kw: Any
) -> list[tuple[str, str, str]]:
    return [f.key for f in run_alerts(uow.factory, policy, now=now, **kw).fired]


CAP_NEAR = {
    "id": "cap-near",
    "kind": "cap_near",
    "threshold_pct": 85,
    "notify": ["user", "owners"],
    "cooldown": "24h",
}


# -- cap_near: 84.9 % does not fire, 85 % does -------------------------------------------------


def test_cap_near_fires_at_85_percent_and_not_at_84_9() -> None:
    policy = _policy(CAP_NEAR)
    # Caps are $85: 85 % is $72.25, 84.9 % is $72.16.
    uow = _store(
        policy,
        daily=[
            DailyUsage(ALICE, date(2026, 11, 2), 7225, 100),
            DailyUsage(BOB, date(2026, 11, 2), 7216, 100),
            DailyUsage(SUE, date(2026, 10, 30), 8000, 100),  # last month does not count
        ],
    )
    assert _fired(uow, policy, BERLIN_NOON) == [("cap-near", ALICE, "2026-11")]
    dm = uow.sent(ALICE, kind="alert_cap_near")
    assert len(dm) == 1
    assert [a.label for a in dm[0].outgoing.message.actions] == ["Request more"]
    assert uow.sent(BOB) == []


def test_one_person_has_one_percentage_in_the_digest_the_dm_and_the_bars() -> None:
    # $82.21 of $85 is 96.7 %: the digest said 97 % and the DM 96 %. Down, as the rule compares.
    policy = _policy(CAP_NEAR)
    uow = _store(policy, daily=[DailyUsage(ALICE, date(2026, 11, 2), 8221, 100)])
    [firing] = run_alerts(uow.factory, policy, now=BERLIN_NOON).fired
    assert firing.summary == "Alice Wong: $82.21 of $85 (96%)"
    [dm] = uow.sent(ALICE, kind="alert_cap_near")
    message = dm.outgoing.message
    assert message.title == "You've used 96% of your monthly cap"
    assert message.progress is not None
    assert "96% of $85" in progress_line(message.progress)
    assert "96% of $85" in plain_text(message)


def test_cap_near_repeats_only_after_its_cooldown_and_in_a_new_month() -> None:
    policy = _policy(CAP_NEAR)
    uow = _store(policy, daily=[DailyUsage(ALICE, date(2026, 11, 2), 8000, 100)])
    assert _fired(uow, policy, BERLIN_NOON)
    assert _fired(uow, policy, BERLIN_NOON + timedelta(hours=23, minutes=59)) == []
    assert _fired(uow, policy, BERLIN_NOON + timedelta(hours=24)) == [
        ("cap-near", ALICE, "2026-11")
    ]
    assert len(uow.sent(ALICE, kind="alert_cap_near")) == 2


def test_a_rule_without_cooldown_fires_once_per_month() -> None:
    policy = _policy({**CAP_NEAR, "cooldown": None})
    uow = _store(policy, daily=[DailyUsage(ALICE, date(2026, 11, 2), 8000, 100)])
    assert _fired(uow, policy, BERLIN_NOON)
    assert _fired(uow, policy, BERLIN_NOON + timedelta(days=5)) == []


def test_excluded_people_and_removed_seats_never_fire() -> None:
    policy = _policy({**CAP_NEAR, "exclude": [ALICE]})
    uow = _store(
        policy,
        daily=[
            DailyUsage(ALICE, date(2026, 11, 2), 8000, 100),
            DailyUsage("rita@example.com", date(2026, 11, 2), 8000, 100),
        ],
    )
    assert _fired(uow, policy, BERLIN_NOON) == []


def test_a_dry_run_records_and_sends_nothing() -> None:
    policy = _policy(CAP_NEAR)
    uow = _store(policy, daily=[DailyUsage(ALICE, date(2026, 11, 2), 8000, 100)])
    assert _fired(uow, policy, BERLIN_NOON, dry_run=True) == [("cap-near", ALICE, "2026-11")]
    assert uow.sent() == []
    assert uow.firings.all() == []
    assert _fired(uow, policy, BERLIN_NOON) == [("cap-near", ALICE, "2026-11")]


# -- after_hours_spike: 19:59 is business hours, 20:00 is not, also on a DST day ---------------

AFTER_HOURS = {
    "id": "after-hours",
    "kind": "after_hours_spike",
    "min_commands_per_hour": 50,
    "notify": ["admins", "user"],
    "cooldown": "1h",
    "mode": "immediate",
}
DST_SPRING = date(2026, 3, 29)  # a Sunday: clocks go 02:00 → 03:00 in Berlin
DST_AUTUMN = date(2026, 10, 26)  # a Monday after the change (25 Oct): UTC+1 again
MONDAY_AFTER_SPRING = date(2026, 3, 30)


@pytest.mark.parametrize("day", [MONDAY_AFTER_SPRING, DST_AUTUMN])
def test_business_hours_end_at_20_00_local_to_the_minute(day: date) -> None:
    org = _policy().org
    local = datetime(day.year, day.month, day.day, 19, 59, tzinfo=org.zone)
    assert within_business_hours(local, org)
    assert not within_business_hours(local + timedelta(minutes=1), org)
    assert within_business_hours(local.replace(hour=8, minute=0), org)
    assert not within_business_hours(local.replace(hour=7, minute=59), org)


def test_on_the_dst_change_day_every_hour_is_after_hours_and_there_are_23() -> None:
    org = _policy().org
    start = datetime(2026, 3, 29, tzinfo=org.zone)
    hours = after_hours_starts(start, start + timedelta(days=1), org)
    assert len(hours) == 23  # a Sunday, and 02:00-03:00 never happened


def test_a_holiday_is_after_hours_all_day() -> None:
    org = _policy(holidays=["2026-11-19"]).org
    noon = datetime(2026, 11, 19, 12, tzinfo=org.zone)
    assert not within_business_hours(noon, org)
    assert within_business_hours(noon + timedelta(days=1), org)


def test_a_spike_in_the_19_00_hour_is_not_after_hours_the_20_00_hour_is() -> None:
    policy = _policy(AFTER_HOURS)
    zone = policy.org.zone
    nineteen = datetime(2026, 3, 30, 19, tzinfo=zone).astimezone(UTC)  # 17:00 UTC (CEST)
    uow = _store(
        policy,
        hourly=[
            HourlyUsage(ALICE, nineteen, spend_cents=900, commands=120),
            HourlyUsage(BOB, nineteen + timedelta(hours=1), spend_cents=400, commands=50),
            HourlyUsage(SUE, nineteen + timedelta(hours=1), spend_cents=400, commands=49),
        ],
    )
    now = datetime(2026, 3, 31, 9, tzinfo=zone)
    assert _fired(uow, policy, now) == [("after-hours", BOB, "2026-03-30T18:00Z")]
    posted = uow.sent(Recipient.channel("admin"), kind="alert")
    assert len(posted) == 1
    assert "20:00" in posted[0].outgoing.message.title
    assert [a.label for a in posted[0].outgoing.message.actions] == ["Nudge"]


def test_spikes_of_one_person_within_the_cooldown_are_reported_once() -> None:
    policy = _policy({**AFTER_HOURS, "cooldown": "2h"})
    zone = policy.org.zone
    first = datetime(2026, 11, 18, 22, tzinfo=zone).astimezone(UTC)
    uow = _store(
        policy,
        hourly=[
            HourlyUsage(ALICE, first, spend_cents=900, commands=80),
            HourlyUsage(ALICE, first + timedelta(hours=1), spend_cents=900, commands=80),  # 23:00
            HourlyUsage(ALICE, first + timedelta(hours=3), spend_cents=900, commands=80),  # 01:00
        ],
    )
    now = datetime(2026, 11, 19, 9, tzinfo=zone)
    assert _fired(uow, policy, now) == [
        ("after-hours", ALICE, "2026-11-18T21:00Z"),
        ("after-hours", ALICE, "2026-11-19T00:00Z"),
    ]
    assert _fired(uow, policy, now + timedelta(hours=2)) == []


# -- idle_seat: 13 idle days do not warn, 14 do; reclaiming ------------------------------------

IDLE = {
    "id": "idle-seat",
    "kind": "idle_seat",
    "warn_after_days": 14,
    "reclaim_after_days": 30,
    "notify": ["user", "admins"],
}


def _everyone_busy(day: date, *, but: tuple[str, ...] = ()) -> list[DailyUsage]:
    return [DailyUsage(m.email, day, 100, 10) for m in org_members() if m.email not in but]


def test_idle_seat_warns_at_14_days_not_at_13() -> None:
    policy = _policy(IDLE)
    today = date(2026, 11, 20)
    uow = _store(
        policy,
        daily=[
            *_everyone_busy(today, but=(ALICE, BOB)),
            DailyUsage(ALICE, today - timedelta(days=14), 100, 10),
            DailyUsage(BOB, today - timedelta(days=13), 100, 10),
        ],
    )
    assert _fired(uow, policy, BERLIN_NOON) == [("idle-seat", ALICE, "2026-11-06/warn")]
    ask = uow.sent(ALICE, kind="alert_idle_seat")[0].outgoing.message
    assert [a.label for a in ask.actions] == ["Keep my seat", "Release it"]


def test_an_idle_seat_past_30_days_gets_a_reclaim_button_for_the_admins() -> None:
    policy = _policy(IDLE)
    today = date(2026, 11, 20)
    uow = _store(
        policy,
        daily=[
            *_everyone_busy(today, but=(ALICE,)),
            DailyUsage(ALICE, today - timedelta(days=31), 100, 10),
        ],
    )
    assert _fired(uow, policy, BERLIN_NOON) == [
        ("idle-seat", ALICE, "2026-10-20/reclaim"),
        ("idle-seat", ALICE, "2026-10-20/warn"),
    ]
    assert uow.all_operations() == []  # a person decides


def test_a_seat_never_used_is_idle_from_the_day_it_was_first_seen() -> None:
    policy = _policy(IDLE)
    uow = _store(policy, daily=_everyone_busy(date(2026, 11, 20), but=(ALICE,)))
    assert _fired(uow, policy, BERLIN_NOON) == []
    later = BERLIN_NOON + timedelta(days=14)
    uow2_daily = _everyone_busy(date(2026, 12, 4), but=(ALICE,))
    with uow:
        uow.usage.replace_daily(uow2_daily)
        uow.commit()
    assert _fired(uow, policy, later) == [("idle-seat", ALICE, "2026-11-20/warn")]


def test_auto_reclaim_waits_for_the_grace_period_after_the_warning_then_queues_the_removal() -> (
    None
):
    policy = _policy({**IDLE, "auto": True})
    today = date(2026, 11, 20)
    busy = [b for n in range(17) for b in _everyone_busy(today + timedelta(days=n), but=(ALICE,))]
    uow = _store(policy, daily=[*busy, DailyUsage(ALICE, today - timedelta(days=31), 100, 10)])
    assert _fired(uow, policy, BERLIN_NOON) == [("idle-seat", ALICE, "2026-10-20/warn")]
    assert _fired(uow, policy, BERLIN_NOON + timedelta(days=15)) == []
    assert _fired(uow, policy, BERLIN_NOON + timedelta(days=16)) == [
        ("idle-seat", ALICE, "2026-10-20/reclaim")
    ]
    (operation,) = uow.all_operations()
    assert operation.kind is OperationKind.REMOVE_SEAT
    assert operation.email == ALICE
    assert uow.sent(ALICE, kind="seat_removed")


# -- group_budget and forecast_overrun ---------------------------------------------------------

BUDGET = {
    "id": "group-budget",
    "kind": "group_budget",
    "threshold_pct": 90,
    "notify": ["owners", "admins"],
}
FORECAST = {"id": "forecast", "kind": "forecast_overrun", "notify": ["owners", "admins"]}


def test_group_budget_fires_at_its_threshold() -> None:
    policy = _policy(BUDGET)
    policy = org_policy(
        rules=[BUDGET],
        org={"timezone": "Europe/Berlin"},
        embedded={"monthly_budget_usd": 100},
    )
    at_89 = _store(policy, daily=[DailyUsage(ALICE, date(2026, 11, 3), 8999, 10)])
    at_90 = _store(policy, daily=[DailyUsage(ALICE, date(2026, 11, 3), 9000, 10)])
    assert _fired(at_89, policy, BERLIN_NOON) == []
    assert _fired(at_90, policy, BERLIN_NOON) == [("group-budget", "group:embedded", "2026-11")]


def test_the_forecast_weights_working_days_and_a_holiday_lowers_it() -> None:
    plain = _policy(FORECAST).org
    holiday = _policy(FORECAST, holidays=["2026-11-26"]).org
    # Friday 20 Nov at 20:00: 15 working days and 3 weekend days gone by, 6 working days to come.
    evening = datetime(2026, 11, 20, 20, tzinfo=plain.zone)
    without = month_projection(evening, plain)
    assert without.elapsed == pytest.approx(15 + 5 * 0.1)
    assert without.remaining == pytest.approx(6 + 4 * 0.1)
    with_holiday = month_projection(evening, holiday)
    assert with_holiday.remaining == pytest.approx(5 + 5 * 0.1)
    assert with_holiday.factor < without.factor
    # A weekend adds little: Monday morning expects nearly what Friday evening did.
    monday = month_projection(datetime(2026, 11, 23, 8, tzinfo=plain.zone), plain)
    assert monday.factor == pytest.approx(without.factor, rel=0.02)


def test_a_member_just_over_the_forecast_fires_only_in_the_month_without_the_holiday() -> None:
    evening = datetime(2026, 11, 20, 19, tzinfo=UTC)  # 20:00 Berlin
    factor = month_projection(evening, _policy(FORECAST).org).factor
    spent = int(8500 / factor) + 1  # projects just over the $85 cap
    daily = [DailyUsage(ALICE, date(2026, 11, 2), spent, 10)]
    plain = _policy(FORECAST)
    holiday = _policy(FORECAST, holidays=["2026-11-26"])
    assert _fired(_store(plain, daily), plain, evening) == [("forecast", ALICE, "2026-11")]
    assert _fired(_store(holiday, daily), holiday, evening) == []


def test_no_forecast_before_a_working_day_of_the_month_has_passed() -> None:
    policy = _policy(FORECAST)
    uow = _store(policy, daily=[DailyUsage(ALICE, date(2026, 12, 1), 5000, 10)])
    tuesday_morning = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert _fired(uow, policy, tuesday_morning) == []


def test_owners_hear_of_their_group_only_and_the_admins_of_everything() -> None:
    policy = org_policy(
        rules=[{**CAP_NEAR, "notify": ["owners", "admins"]}],
        org={"timezone": "Europe/Berlin"},
        admin_channel={"slack": "C0ADMINS"},
    )
    uow = _store(
        policy,
        daily=[
            DailyUsage(ALICE, date(2026, 11, 2), 8000, 1),
            DailyUsage(CLEO, date(2026, 11, 2), 8000, 1),
        ],
    )
    _fired(uow, policy, BERLIN_NOON)
    from bot.slack.limits import DIGEST
    from workflows.alerts.digest import send_digests

    sent = {
        d.channel: d.items
        for d in send_digests(uow.factory, policy, now=BERLIN_NOON, budget=DIGEST)
    }
    assert sent == {"admin": 2, "group:embedded": 1, "group:software": 0, "group:hardware": 1}
    assert len(uow.sent(DANA, kind="digest")) == 1  # embedded has no channel: each owner
    assert uow.sent(CARL, kind="digest") == []  # hardware has its channel
    assert len(uow.sent(Recipient.channel("group:hardware"), kind="digest")) == 1
    assert len(uow.sent(Recipient.channel("admin"), kind="digest")) == 1
    assert uow.sent(ANA, kind="digest") == []
    again = send_digests(uow.factory, policy, now=BERLIN_NOON + timedelta(hours=1), budget=DIGEST)
    assert [d for d in again if d.sent] == []
