"""`/capdesk status`: a member's tier, cap, spend this month, projection and open requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from workflows.alerts.forecast import NOT_YET, month_projection
from workflows.alerts.rules import estimate_note
from workflows.errors import Refusal
from workflows.messages import Action, Fact, Message, Progress, Verb
from workflows.model import RequestKind, RequestStatus
from workflows.money import cents_from_micros, format_usd
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import month_start
from workflows.requests.texts import what
from workflows.telemetry.model import HourFigures

_OPEN = (RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.APPLYING)
ESTIMATE = (
    "Estimated: Claude Code's own figures at list prices, for the days your backend has not"
    " reported yet; its figure replaces them when it arrives."
)


def project_month_end(spent_cents: int, *, now: datetime, policy: Policy) -> int | None:
    """Spend so far projected to the month end, weighting working days, as the forecast rule
    does (`workflows.alerts.forecast`); None before a projection can be made."""
    return month_projection(now, policy.org).project(spent_cents)


def _local_midnight(now: datetime, policy: Policy) -> datetime:
    local = now.astimezone(policy.org.zone)
    return datetime.combine(local.date(), time(0), tzinfo=policy.org.zone)


def _live(hours: Sequence[HourFigures]) -> str:
    """Today's telemetry as Claude Code reported it, whichever figure the month counts."""
    total: dict[str, int] = {}
    for figures in hours:
        for name, amount in figures.values.items():
            total[name] = total.get(name, 0) + amount
    cost = format_usd(cents_from_micros(total.get("cost_micros", 0)))
    return (
        f"{cost} estimated, {total.get('prompts', 0)} prompts,"
        f" {total.get('tool_runs', 0)} tool runs (its own telemetry)"
    )


def status_of(
    uow: UnitOfWork,
    policy: Policy,
    *,
    email: str,
    now: datetime,
    with_requests: bool = True,
) -> Message:
    """The status card for one member; `with_requests` lists their open requests too (the App
    Home lists them on their own)."""
    with uow:
        member = uow.members.get(email)
        if member is None:
            raise Refusal("You don't have a seat that capdesk knows of; ask an admin to add you.")
        spent = uow.usage.spend_since(member.email, month_start(now, policy))
        estimated = uow.usage.estimated_since(member.email, month_start(now, policy))
        live = uow.telemetry.hours(member.email, _local_midnight(now, policy))
        mine = uow.requests.list(requester=member.email) if with_requests else []
        open_requests = [r for r in mine if r.status in _OPEN]
    group = policy.group_of_member(member)
    projected = project_month_end(spent, now=now, policy=policy)
    facts = [
        Fact(label="Group", value=group.name if group else "none"),
        Fact(label="Seat", value=member.tier),
        Fact(label="Monthly cap", value=format_usd(member.cap_cents)),
        Fact(label="Spent this month", value=format_usd(spent) + estimate_note(estimated)),
        Fact(
            label="Projected month end",
            value=NOT_YET if projected is None else format_usd(projected),
        ),
    ]
    if live:
        facts.append(Fact(label="Claude Code today", value=_live(live)))
    facts += [
        Fact(label=f"Request {r.ref}", value=f"{what(r)} · {r.status}") for r in open_requests
    ]
    actions = [
        Action(
            verb=Verb.REQUEST_MORE,
            label="Request more",
            value=RequestKind.CAP_INCREASE,
            style="primary",
        )
    ]
    if member.tier != policy.tier_names[-1]:
        actions.append(
            Action(
                verb=Verb.REQUEST_MORE,
                label=f"Request {policy.tier_names[-1]} seat",
                value=RequestKind.SEAT_UPGRADE,
            )
        )
    if projected is None:
        outlook = f"Projected month end: {NOT_YET}."
    else:
        warning = " — on track to exceed your cap" if projected > member.cap_cents else ""
        outlook = f"Projected month end {format_usd(projected)}{warning}."
    if estimated:
        outlook += f" {ESTIMATE}"
    return Message(
        kind="status",
        title=f"{member.name}: {member.tier} seat, {format_usd(member.cap_cents)} a month",
        text=outlook,
        facts=tuple(facts),
        progress=Progress(label="Spent this month", used_cents=spent, limit_cents=member.cap_cents),
        actions=tuple(actions),
    )
