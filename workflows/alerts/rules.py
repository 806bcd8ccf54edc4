"""The five rule kinds: which candidates fire, under which key, and how urgently.

The store returns candidates (members and groups past a limit, found in SQL); this module
decides what each firing is: its key (rule, subject, period), its one-line summary, its
urgency and the button that acts on it. Periods: a month for `cap_near`, `group_budget` and
`forecast_overrun` (the condition holds while the month lasts, and repeats after the rule's
cooldown); the hour for `after_hours_spike` (an event, reported once; the cooldown is the least
gap between two reports about one person); the idle spell and its stage for `idle_seat`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from workflows.alerts.calendar import after_hours_starts, local_today, month_key, month_start
from workflows.alerts.forecast import Projection, month_projection
from workflows.alerts.nudges import nudge_value
from workflows.alerts.records import (
    GroupStanding,
    HourSpike,
    MemberQuery,
    MemberStanding,
    Standings,
)
from workflows.messages import Action, Verb
from workflows.money import cents_from_usd, format_usd, percent_of
from workflows.policy.model import (
    AfterHoursSpikeRule,
    AlertRule,
    CapNearRule,
    ForecastOverrunRule,
    GroupBudgetRule,
    IdleSeatRule,
    Policy,
)
from workflows.ports import UnitOfWork
from workflows.timefmt import day_label

KIND_ORDER = ("cap_near", "after_hours_spike", "group_budget", "forecast_overrun", "idle_seat")
"""Most urgent first: people about to be stopped, possible misuse, money, forecasts, waste."""

WARN, RECLAIM, KEPT, RELEASED = "warn", "reclaim", "kept", "released"
GROUP_PREFIX = "group:"


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule that fires for one subject: what people are told and what they can do about it."""

    rule: AlertRule
    subject: str
    period: str
    summary: str
    urgency: float
    group: str | None = None
    member: str | None = None
    action: Action | None = None
    stage: str = ""
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.rule.kind

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule.id, self.subject, self.period)

    @property
    def repeats(self) -> bool:
        """Whether the same key fires again after the cooldown (a condition that persists)."""
        return self.kind in ("cap_near", "group_budget", "forecast_overrun")


@dataclass(frozen=True, slots=True)
class Moment:
    """Everything about `now` the rules share: the local day, the month, the forecast factor."""

    now: datetime
    today: date
    month: date
    projection: Projection

    @classmethod
    def of(cls, now: datetime, policy: Policy) -> Moment:
        today = local_today(now, policy.org)
        return cls(
            now=now,
            today=today,
            month=month_start(today),
            projection=month_projection(now, policy.org),
        )


def basis_points(threshold_pct: Decimal) -> int:
    """85 → 8500, 84.95 → 8495: thresholds compared in integers, so 84.9 % is not 85 %."""
    return int((threshold_pct * 100).to_integral_value())


def evaluate(uow: UnitOfWork, policy: Policy, moment: Moment) -> list[Firing]:
    """Every firing the rules call for now, before keys and cooldowns are checked."""
    uow.alerts.note_new_seats(moment.today)
    wants_groups = any(r.kind in ("group_budget", "forecast_overrun") for r in policy.rules)
    standings = _standings(uow, policy, moment, group_totals=wants_groups)
    members, groups = standings.members, standings.groups
    firings: list[Firing] = []
    for rule in policy.rules:
        excluded = set(rule.exclude)
        found: list[Firing]
        if isinstance(rule, CapNearRule):
            found = _cap_near(rule, members, moment)
        elif isinstance(rule, GroupBudgetRule):
            found = _group_budget(rule, groups, moment)
        elif isinstance(rule, ForecastOverrunRule):
            found = _forecast(rule, members, groups, moment)
        elif isinstance(rule, IdleSeatRule):
            found = _idle(uow, rule, members, moment)
        else:
            found = _after_hours(uow, policy, rule, moment)
        firings += [f for f in found if f.member is None or f.member not in excluded]
    return firings


def _standings(uow: UnitOfWork, policy: Policy, moment: Moment, *, group_totals: bool) -> Standings:
    near = [basis_points(r.threshold_pct) for r in policy.rules if isinstance(r, CapNearRule)]
    idle = [r.warn_after_days for r in policy.rules if isinstance(r, IdleSeatRule)]
    forecast = any(isinstance(r, ForecastOverrunRule) for r in policy.rules)
    query = MemberQuery(
        month_start=moment.month,
        today=moment.today,
        near_cap_bp=min(near) if near else None,
        forecast_factor=moment.projection.factor if forecast and moment.projection.ready else None,
        idle_since=moment.today - timedelta(days=min(idle)) if idle else None,
        group_totals=group_totals,
    )
    if query.near_cap_bp is None and query.forecast_factor is None and query.idle_since is None:
        if not group_totals:
            return Standings(members=())
        return Standings(
            members=(), groups=uow.alerts.groups(month_start=moment.month, today=moment.today)
        )
    return uow.alerts.standings(query)


def estimate_note(estimated_cents: int) -> str:
    """` ($12.30 of it estimated)` when part of a figure is telemetry's list-price estimate."""
    if not estimated_cents:
        return ""
    return f" ({format_usd(estimated_cents)} of it estimated)"


def _pct(part: int, whole: int) -> str:
    return f"{percent_of(part, whole)}%" if whole else "—"


def _cap_near(rule: CapNearRule, members: Sequence[MemberStanding], moment: Moment) -> list[Firing]:
    bp = basis_points(rule.threshold_pct)
    return [
        Firing(
            rule=rule,
            subject=m.email,
            period=month_key(moment.month),
            summary=f"{m.name}: {format_usd(m.spent_cents)} of {format_usd(m.cap_cents)}"
            f" ({_pct(m.spent_cents, m.cap_cents)}){estimate_note(m.estimated_cents)}",
            urgency=m.spent_cents / m.cap_cents,
            group=m.group,
            member=m.email,
            action=Action(verb=Verb.RAISE_CAP, label="Raise cap", value=m.email),
            figures={
                "spent": m.spent_cents,
                "cap": m.cap_cents,
                "name": m.name,
                "estimated": m.estimated_cents,
            },
        )
        for m in members
        if m.cap_cents > 0 and m.spent_cents * 10000 >= m.cap_cents * bp
    ]


def _group_budget(
    rule: GroupBudgetRule, groups: Sequence[GroupStanding], moment: Moment
) -> list[Firing]:
    bp = basis_points(rule.threshold_pct)
    return [
        Firing(
            rule=rule,
            subject=GROUP_PREFIX + g.name,
            period=month_key(moment.month),
            summary=f"{g.name}: {format_usd(g.spent_cents)} of its"
            f" {format_usd(g.budget_cents)} budget ({_pct(g.spent_cents, g.budget_cents)})",
            urgency=g.spent_cents / g.budget_cents,
            group=g.name,
            action=Action(verb=Verb.OPEN_REQUESTS, label="Open requests", value=g.name),
            figures={"spent": g.spent_cents, "budget": g.budget_cents},
        )
        for g in groups
        if g.budget_cents > 0 and g.spent_cents * 10000 >= g.budget_cents * bp
    ]


def _forecast(
    rule: ForecastOverrunRule,
    members: Sequence[MemberStanding],
    groups: Sequence[GroupStanding],
    moment: Moment,
) -> list[Firing]:
    projection = moment.projection
    if not projection.ready:
        return []
    factor = projection.factor
    firings = []
    for m in members:
        projected = round(m.spent_cents * factor)
        if m.cap_cents > 0 and m.spent_cents * factor > m.cap_cents:
            firings.append(
                Firing(
                    rule=rule,
                    subject=m.email,
                    period=month_key(moment.month),
                    summary=f"{m.name}: on course for {format_usd(projected)}"
                    f" against a {format_usd(m.cap_cents)} cap",
                    urgency=projected / m.cap_cents,
                    group=m.group,
                    member=m.email,
                    action=Action(verb=Verb.NUDGE, label="Nudge", value=nudge_value(m.email)),
                    figures={
                        "spent": m.spent_cents,
                        "cap": m.cap_cents,
                        "projected": projected,
                        "name": m.name,
                    },
                )
            )
    for g in groups:
        projected = round(g.spent_cents * factor)
        if g.budget_cents > 0 and g.spent_cents * factor > g.budget_cents:
            firings.append(
                Firing(
                    rule=rule,
                    subject=GROUP_PREFIX + g.name,
                    period=month_key(moment.month),
                    summary=f"{g.name}: on course for {format_usd(projected)}"
                    f" against a {format_usd(g.budget_cents)} budget",
                    urgency=projected / g.budget_cents,
                    group=g.name,
                    action=Action(verb=Verb.OPEN_REQUESTS, label="Open requests", value=g.name),
                    figures={
                        "spent": g.spent_cents,
                        "budget": g.budget_cents,
                        "projected": projected,
                    },
                )
            )
    return firings


def spell(last_active: date) -> str:
    """The idle spell a seat is in, named by its last active day."""
    return last_active.isoformat()


def _idle(
    uow: UnitOfWork, rule: IdleSeatRule, members: Sequence[MemberStanding], moment: Moment
) -> list[Firing]:
    idle = [
        (m, (moment.today - m.last_active).days)
        for m in members
        if m.last_active is not None
        and (moment.today - m.last_active).days >= rule.warn_after_days
        and m.email not in rule.exclude
    ]
    if not idle:
        return []
    done: dict[str, dict[str, datetime]] = defaultdict(dict)
    for record in uow.alerts.fired(rule.id, [m.email for m, _ in idle]):
        done[record.subject][record.period] = record.fired_at
    grace = timedelta(days=rule.reclaim_after_days - rule.warn_after_days)
    firings = []
    for m, days in idle:
        assert m.last_active is not None
        name = spell(m.last_active)
        since = day_label(m.last_active, today=moment.today)
        seen = done[m.email]
        figures = {"days": days, "since": m.last_active.isoformat(), "name": m.name}
        reclaim_action = Action(
            verb=Verb.RECLAIM_SEAT, label="Reclaim seat", value=m.email, style="danger"
        )
        firings.append(
            Firing(
                rule=rule,
                subject=m.email,
                period=f"{name}/{WARN}",
                summary=f"{m.name}: idle for {days} days, since {since}",
                urgency=days / rule.reclaim_after_days,
                group=m.group,
                member=m.email,
                action=reclaim_action,
                stage=WARN,
                figures=figures,
            )
        )
        if days < rule.reclaim_after_days or {f"{name}/{KEPT}", f"{name}/{RELEASED}"} & set(seen):
            continue
        warned = seen.get(f"{name}/{WARN}")
        # Automatic reclaiming only after the holder was asked and had the policy's grace time.
        if rule.auto and (warned is None or moment.now - warned < grace):
            continue
        firings.append(
            Firing(
                rule=rule,
                subject=m.email,
                period=f"{name}/{RECLAIM}",
                summary=f"{m.name}: idle for {days} days, since {since}"
                + (" — reclaimed by the policy" if rule.auto else " — past the time to reclaim"),
                urgency=days / rule.reclaim_after_days,
                group=m.group,
                member=m.email,
                action=None if rule.auto else reclaim_action,
                stage=RECLAIM,
                figures=figures,
            )
        )
    return firings


def hour_key(hour: datetime) -> str:
    return f"{hour.astimezone(UTC):%Y-%m-%dT%H:00Z}"


def _after_hours(
    uow: UnitOfWork, policy: Policy, rule: AfterHoursSpikeRule, moment: Moment
) -> list[Firing]:
    hours = after_hours_starts(moment.now - rule.lookback, moment.now, policy.org)
    spend = (
        None if rule.min_spend_usd_per_hour is None else cents_from_usd(rule.min_spend_usd_per_hour)
    )
    spikes = uow.alerts.hourly_spikes(
        hours, min_commands=rule.min_commands_per_hour, min_spend_cents=spend
    )
    if not spikes:
        return []
    gap = rule.cooldown or timedelta(0)
    reported: dict[str, list[datetime]] = defaultdict(list)
    for record in uow.alerts.fired(rule.id, {s.email for s in spikes}):
        reported[record.subject].append(datetime.fromisoformat(record.period))
    firings = []
    for spike in spikes:
        earlier = reported[spike.email]
        if any(abs(spike.hour - hour) < gap for hour in earlier if hour != spike.hour):
            continue
        earlier.append(spike.hour)
        firings.append(_spike(policy, rule, spike, spend, today=moment.today))
    return firings


def _spike(
    policy: Policy,
    rule: AfterHoursSpikeRule,
    spike: HourSpike,
    min_spend: int | None,
    *,
    today: date,
) -> Firing:
    local = spike.hour.astimezone(policy.org.zone)
    ratios = []
    if rule.min_commands_per_hour:
        ratios.append(spike.commands / rule.min_commands_per_hour)
    if min_spend:
        ratios.append(spike.spend_cents / min_spend)
    return Firing(
        rule=rule,
        subject=spike.email,
        period=hour_key(spike.hour),
        summary=f"{spike.name}: {spike.commands} commands, {format_usd(spike.spend_cents)}"
        f" at {local:%H:%M} on {day_label(local.date(), today=today)}"
        + (" (telemetry, estimated)" if spike.estimated else ""),
        urgency=max(ratios, default=1.0),
        group=spike.group,
        member=spike.email,
        action=Action(
            verb=Verb.NUDGE, label="Nudge", value=nudge_value(spike.email, hour=spike.hour)
        ),
        figures={
            "commands": spike.commands,
            "spent": spike.spend_cents,
            "hour": local.isoformat(),
            "name": spike.name,
            "estimated": spike.estimated,
        },
    )
