"""The forms the alert buttons open, prefilled, and what their submission does.

`Request more` (a member near their cap) opens the request form with an amount that covers the
month-end projection; `Raise cap` (an admin or owner in a digest) opens a form with a new cap,
and its submission queues the change through the operations outbox like an approved request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.alerts.calendar import local_today, month_start
from workflows.alerts.forecast import month_projection
from workflows.audit import record
from workflows.errors import Refusal
from workflows.forms.model import FieldName
from workflows.messages import Message
from workflows.model import Member, NewOperation, OperationKind, OperationPurpose, RequestKind
from workflows.money import format_usd, parse_usd
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import tell
from workflows.requests.deciding import seat_cap
from workflows.requests.form import RequestForm

_STEP = 1000
"""Suggested amounts are rounded up to whole $10."""


def _round_up(cents: int) -> int:
    return -(-cents // _STEP) * _STEP


def _standing(uow: UnitOfWork, policy: Policy, email: str, now: datetime) -> tuple[Member, int]:
    member = uow.members.get(email)
    if member is None or not member.active:
        raise Refusal(f"{email} has no seat that capdesk knows of.")
    spent = uow.usage.spend_since(member.email, month_start(local_today(now, policy.org)))
    return member, spent


def suggested_request(uow: UnitOfWork, policy: Policy, *, email: str, now: datetime) -> RequestForm:
    """The request form as `Request more` opens it: enough to cover the month-end projection
    (a fifth of the cap, at least, and all before a projection can be made)."""
    with uow:
        member, spent = _standing(uow, policy, email, now)
    projected = month_projection(now, policy.org).project(spent)
    reason = f"{format_usd(spent)} of my {format_usd(member.cap_cents)} cap spent so far"
    shortfall = 0
    if projected is not None:
        reason += f"; on course for {format_usd(projected)} this month"
        shortfall = _round_up(projected - member.cap_cents)
    extra = max(shortfall, _round_up(member.cap_cents // 5), _STEP)
    return RequestForm(kind=RequestKind.CAP_INCREASE, amount=str(extra // 100), reason=reason)


@dataclass(frozen=True, slots=True)
class CapForm:
    """The `Raise cap` form: the member, where they stand and the suggested new cap."""

    email: str
    name: str
    cap_cents: int
    spent_cents: int
    projected_cents: int | None
    """None before a projection can be made this month."""
    suggested_cap_cents: int
    max_cap_cents: int | None


def _may_raise(uow: UnitOfWork, policy: Policy, actor: str, email: str) -> None:
    member = uow.members.get(email)
    group = policy.group_of(email, member.backend_groups if member else ())
    owner = group is not None and actor.lower() in group.owners
    if actor.lower() == email.lower() and not policy.is_admin(actor):
        raise Refusal("You can't raise your own cap; use Request more instead.")
    if not (policy.is_admin(actor) or owner):
        raise Refusal("Only an admin or an owner of the member's group can raise their cap.")


def raise_cap_form(
    uow: UnitOfWork, policy: Policy, *, actor: str, email: str, now: datetime
) -> CapForm:
    """The prefilled `Raise cap` form; Refusal if `actor` may not raise this member's cap."""
    with uow:
        _may_raise(uow, policy, actor, email)
        member, spent = _standing(uow, policy, email, now)
    projected = month_projection(now, policy.org).project(spent)
    group = policy.group_of_member(member)
    ceiling = group.max_cap_cents if group is not None else None
    suggested = max(_round_up(projected or 0), member.cap_cents + _STEP)
    if ceiling is not None:
        suggested = min(suggested, ceiling)
    return CapForm(
        email=member.email,
        name=member.name,
        cap_cents=member.cap_cents,
        spent_cents=spent,
        projected_cents=projected,
        suggested_cap_cents=suggested,
        max_cap_cents=ceiling,
    )


def raise_cap(
    uow: UnitOfWork,
    policy: Policy,
    *,
    actor: str,
    email: str,
    new_cap: str,
    now: datetime,
) -> Message:
    """Submit the `Raise cap` form: queue the new cap for the member and tell them.

    Raises Refusal (naming the amount field for a bad amount) and changes nothing when it fails.
    """
    with uow:
        _may_raise(uow, policy, actor, email)
        try:
            cap = parse_usd(new_cap)
        except ValueError as exc:
            raise Refusal(str(exc), field=FieldName.AMOUNT) from exc
        member, _spent = _standing(uow, policy, email, now)
        current = seat_cap(uow, member.email, fallback=member.cap_cents)
        group = policy.group_of_member(member)
        if cap <= current:
            raise Refusal(
                f"{member.name}'s cap is {format_usd(current)} already; give a higher one.",
                field=FieldName.AMOUNT,
            )
        if group is not None and cap > group.max_cap_cents:
            raise Refusal(
                f"The {group.name} group's caps stop at {format_usd(group.max_cap_cents)}.",
                field=FieldName.AMOUNT,
            )
        operation = uow.operations.add(
            NewOperation(
                key=f"raise-cap-{member.email}-{now:%Y%m%dT%H%M%S}-{cap}",
                kind=OperationKind.SET_CAP,
                purpose=OperationPurpose.APPLY,
                email=member.email,
                created_at=now,
                cap_cents=cap,
            )
        )
        record(
            uow,
            at=now,
            actor=actor,
            action="seat.cap_raised",
            subject=f"member:{member.email}",
            before={"cap_cents": current},
            after={"cap_cents": cap, "operation": operation.key},
        )
        by = uow.members.get(actor)
        tell(
            uow,
            member.email,
            Message(
                kind="cap_raised",
                title=f"Your monthly cap is being raised to {format_usd(cap)}",
                text=f"{by.name if by else actor} raised it from {format_usd(current)}.",
            ),
            now,
        )
        uow.commit()
    return Message(
        kind="cap_raise_queued",
        title=f"Raising {member.name}'s cap to {format_usd(cap)}",
        text=f"From {format_usd(current)}; they'll see it within a minute.",
    )
