"""Idle seats: kept or released by their holder, reclaimed by an admin or by the policy.

A seat is removed through the operations outbox like any other change, so the removal is
applied once, retried when the backend fails, and becomes a manual task where it cannot.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from workflows.alerts.records import NewFiring
from workflows.alerts.rules import KEPT, RELEASED, WARN
from workflows.audit import record
from workflows.errors import Refusal
from workflows.messages import Message
from workflows.model import NewOperation, Operation, OperationKind, OperationPurpose
from workflows.policy import Policy
from workflows.policy.model import IdleSeatRule
from workflows.ports import UnitOfWork
from workflows.requests.announce import tell


def remove_seat(
    uow: UnitOfWork,
    policy: Policy,
    *,
    email: str,
    actor: str,
    why: str,
    now: datetime,
) -> Operation:
    """Queue the removal of a member's seat and tell them; Refusal if there is none to remove."""
    member = uow.members.get(email)
    if member is None or not member.active:
        raise Refusal(f"{email} has no seat to remove.")
    day = now.astimezone(policy.org.zone).date()
    operation = uow.operations.add(
        NewOperation(
            key=f"seat-removal-{member.email}-{day.isoformat()}",
            kind=OperationKind.REMOVE_SEAT,
            purpose=OperationPurpose.APPLY,
            email=member.email,
            created_at=now,
        )
    )
    record(
        uow,
        at=now,
        actor=actor,
        action="seat.removal_queued",
        subject=f"member:{member.email}",
        before={"active": True},
        after={"operation": operation.key, "why": why},
    )
    tell(
        uow,
        member.email,
        Message(kind="seat_removed", title="Your AI-assistant seat is being removed", text=why),
        now,
    )
    return operation


def idle_rules(policy: Policy) -> list[IdleSeatRule]:
    return [r for r in policy.rules if isinstance(r, IdleSeatRule)]


def current_spell(uow: UnitOfWork, rule: IdleSeatRule, email: str) -> str | None:
    """The idle spell the member was last asked about under this rule, if any."""
    warned = [r for r in uow.alerts.fired(rule.id, [email]) if r.period.endswith(f"/{WARN}")]
    if not warned:
        return None
    return max(warned, key=lambda r: r.fired_at).period.split("/")[0]


def mark_spells(
    uow: UnitOfWork, policy: Policy, email: str, outcome: str, now: datetime
) -> Collection[str]:
    """Remember the holder's answer for the spell each idle rule asked about; returns the rules
    that had asked."""
    answered = []
    for rule in idle_rules(policy):
        name = current_spell(uow, rule, email)
        if name is None:
            continue
        uow.alerts.claim(
            [
                NewFiring(
                    rule_id=rule.id,
                    subject=email,
                    period=f"{name}/{outcome}",
                    group=None,
                    details={"kind": "idle_seat", "stage": outcome},
                )
            ],
            now=now,
            again_after=None,
        )
        answered.append(rule.id)
    return answered


def keep_seat(uow: UnitOfWork, policy: Policy, *, actor: str, email: str, now: datetime) -> Message:
    """The holder keeps their idle seat: it is not reclaimed for this idle spell."""
    if actor.lower() != email.lower():
        raise Refusal("Only the holder of the seat can say they keep it.")
    with uow:
        if not mark_spells(uow, policy, email.lower(), KEPT, now):
            raise Refusal("Your seat is not marked as idle; there is nothing to do.")
        record(uow, at=now, actor=actor, action="seat.kept", subject=f"member:{email.lower()}")
        uow.commit()
    return Message(
        kind="seat_kept",
        title="You keep your seat",
        text="Thanks for telling us; it won't be reclaimed for this idle spell.",
    )


def release_seat(
    uow: UnitOfWork, policy: Policy, *, actor: str, email: str, now: datetime
) -> Message:
    """The holder (or an admin) gives an idle seat back."""
    if actor.lower() != email.lower() and not policy.is_admin(actor):
        raise Refusal("Only the holder of the seat or an admin can release it.")
    with uow:
        mark_spells(uow, policy, email.lower(), RELEASED, now)
        remove_seat(
            uow,
            policy,
            email=email.lower(),
            actor=actor,
            why="Released by its holder. Thanks for freeing it up; ask again any time.",
            now=now,
        )
        uow.commit()
    return Message(kind="seat_released", title="Your seat is being released")


def reclaim_seat(
    uow: UnitOfWork, policy: Policy, *, actor: str, email: str, now: datetime
) -> Message:
    """An admin takes an idle seat back."""
    if not policy.is_admin(actor):
        raise Refusal("Only an admin can reclaim a seat.")
    with uow:
        member = uow.members.get(email)
        name = member.name if member is not None else email
        remove_seat(
            uow,
            policy,
            email=email,
            actor=actor,
            why="An admin reclaimed it because it was idle. Ask again if you need it back.",
            now=now,
        )
        uow.commit()
    return Message(kind="seat_reclaimed", title=f"Reclaiming the seat of {name}")
