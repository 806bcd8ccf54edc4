"""One evaluation of every rule: find what fires, record it under its key, tell people.

Everything happens in one transaction: the firings claimed, the direct messages and immediate
posts queued, the seats reclaimed. Two replicas evaluating at once claim each key once, so each
firing is sent once. A dry run does all of it and rolls back, so it shows exactly what a real
run would send, and records nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from workflows.alerts.calendar import local_today
from workflows.alerts.records import NewFiring
from workflows.alerts.rules import RECLAIM, Firing, Moment, evaluate
from workflows.alerts.seats import remove_seat
from workflows.alerts.texts import alert_card, to_member
from workflows.messages import ADMIN_CHANNEL, Message, Outgoing, Recipient, group_channel
from workflows.model import POLICY_ACTOR
from workflows.policy import Policy
from workflows.policy.model import IdleSeatRule
from workflows.ports import UnitOfWork
from workflows.requests.announce import tell


@dataclass
class AlertRun:
    """What one evaluation fired (in key order) and how many candidates were held back."""

    at: datetime
    dry_run: bool
    fired: list[Firing] = field(default_factory=list)
    held_back: int = 0


def admin_recipients(policy: Policy) -> list[Recipient]:
    """The admin channel if the policy names one, else each admin directly."""
    if policy.admin_channel is not None:
        return [Recipient.channel(ADMIN_CHANNEL)]
    return [Recipient.member(a) for a in policy.admins]


def owner_recipients(policy: Policy, group_name: str) -> list[Recipient]:
    """The group's channel if it has one, else each of its owners directly."""
    group = policy.group(group_name)
    if group is None:
        return []
    if group.channel is not None:
        return [Recipient.channel(group_channel(group.name))]
    return [Recipient.member(o) for o in group.owners]


def details(firing: Firing) -> dict[str, Any]:
    """What the digest needs of a firing, kept with it in the store."""
    return {
        "kind": firing.kind,
        "summary": firing.summary,
        "urgency": round(firing.urgency, 4),
        "stage": firing.stage,
        "member": firing.member,
        "action": None if firing.action is None else firing.action.model_dump(mode="json"),
        "estimated": bool(firing.figures.get("estimated")),
    }


def _new(firing: Firing) -> NewFiring:
    rule = firing.rule
    digest = rule.mode == "digest"
    return NewFiring(
        rule_id=rule.id,
        subject=firing.subject,
        period=firing.period,
        group=firing.group,
        details=details(firing),
        admins=digest and "admins" in rule.notify,
        owners=digest and "owners" in rule.notify and firing.group is not None,
    )


def claim(uow: UnitOfWork, firings: list[Firing], now: datetime) -> tuple[list[Firing], int]:
    """The firings whose keys fire now, and how many were held back by key or cooldown."""
    fired: list[Firing] = []
    ordered = sorted(firings, key=lambda f: f.key)
    for _rule_id, batch in groupby(ordered, key=lambda f: f.rule.id):
        found = list(batch)
        first = found[0]
        again = first.rule.cooldown if first.repeats else None
        keys = set(uow.alerts.claim([_new(f) for f in found], now=now, again_after=again))
        fired += [f for f in found if f.key in keys]
    return fired, len(firings) - len(fired)


def _post(uow: UnitOfWork, recipients: list[Recipient], message: Message, now: datetime) -> None:
    for recipient in recipients:
        uow.notifications.add(Outgoing(recipient=recipient, message=message), at=now)


def dispatch(uow: UnitOfWork, policy: Policy, firing: Firing, now: datetime) -> None:
    """Tell everyone a fired alert concerns, now; digest items wait in the store."""
    rule = firing.rule
    if firing.member is not None and "user" in rule.notify:
        message = to_member(firing, today=local_today(now, policy.org))
        if message is not None:
            tell(uow, firing.member, message, now)
    if rule.mode == "immediate":
        card = alert_card(firing)
        if "admins" in rule.notify:
            _post(uow, admin_recipients(policy), card, now)
        if "owners" in rule.notify and firing.group is not None:
            _post(uow, owner_recipients(policy, firing.group), card, now)
    if isinstance(rule, IdleSeatRule) and rule.auto and firing.stage == RECLAIM:
        assert firing.member is not None
        remove_seat(
            uow,
            policy,
            email=firing.member,
            actor=POLICY_ACTOR,
            why=f"It was not used for {firing.figures['days']} days, and the policy reclaims"
            " idle seats by itself. Ask an admin if you need it back.",
            now=now,
        )


def run_alerts(
    uow_factory: Callable[[], UnitOfWork],
    policy: Policy,
    *,
    now: datetime,
    dry_run: bool = False,
) -> AlertRun:
    """Evaluate every rule once; with `dry_run`, report without recording or sending."""
    run = AlertRun(at=now, dry_run=dry_run)
    with uow_factory() as uow:
        candidates = evaluate(uow, policy, Moment.of(now, policy))
        run.fired, run.held_back = claim(uow, candidates, now)
        for firing in run.fired:
            dispatch(uow, policy, firing, now)
        if dry_run:
            uow.rollback()
        else:
            uow.commit()
    return run
