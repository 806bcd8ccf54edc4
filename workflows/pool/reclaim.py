"""Reclaiming a seat of a pooled tier: its idle holder moves a tier down, through the outbox."""

from __future__ import annotations

from datetime import datetime

from workflows.applying.grants import end_grant
from workflows.audit import record
from workflows.errors import Refusal
from workflows.messages import Action, Message, Verb
from workflows.model import (
    Grant,
    GrantStatus,
    NewOperation,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    RequestKind,
    RequestStatus,
)
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import tell

RECLAIMED = "seat.tier_reclaimed"
_SETTLED = (OperationStatus.DONE, OperationStatus.FAILED)
"""A failed reclaim may be clicked again; the admins see the failure with its Retry."""


def reclaim_tier(
    uow: UnitOfWork, policy: Policy, *, actor: str, email: str, now: datetime
) -> Message:
    """An admin takes a seat of `email`'s tier back into its pool: a temporary upgrade ends
    now (reverted like at its end), a permanent one is undone by moving them a tier down."""
    if not policy.is_admin(actor):
        raise Refusal("Only an admin can reclaim a seat.")
    with uow:
        member = uow.members.get(email)
        if member is None or not member.active:
            raise Refusal(f"{email} has no seat that capdesk knows of.")
        below = policy.tier_below(member.tier)
        if below is None:
            raise Refusal(f"{member.name} is on the lowest tier ({member.tier}) already.")
        why = f"An admin gave your {member.tier} seat back to the pool, as it was not used lately."
        grant = _temporary_upgrade(uow, member.email, member.tier)
        if grant is not None:
            if not end_grant(uow, grant, now=now, actor=actor, why="reclaimed for the pool"):
                raise Refusal(f"{member.name}'s {member.tier} seat is going back already.")
            change = f"their temporary upgrade ends now; they go back to {grant.tier_before}"
        else:
            if _reclaim_under_way(uow, member.email):
                raise Refusal(f"{member.name}'s {member.tier} seat is going back already.")
            operation = uow.operations.add(
                NewOperation(
                    key=f"reclaim-tier-{member.email}-{now:%Y%m%dT%H%M%S}",
                    kind=OperationKind.SET_TIER,
                    purpose=OperationPurpose.APPLY,
                    email=member.email,
                    created_at=now,
                    tier=below,
                )
            )
            change = f"they move to {below}"
            record(
                uow,
                at=now,
                actor=actor,
                action=RECLAIMED,
                subject=f"member:{member.email}",
                before={"tier": member.tier},
                after={"tier": below, "operation": operation.key, "operation_id": operation.id},
            )
        tell(
            uow,
            member.email,
            Message(
                kind="tier_reclaimed",
                title=f"Your {member.tier} seat goes back to the pool",
                text=f"{why} Ask again when you need it.",
                actions=(
                    Action(
                        verb=Verb.REQUEST_MORE,
                        label=f"Request a {member.tier} seat",
                        value=RequestKind.SEAT_UPGRADE,
                    ),
                ),
            ),
            now,
        )
        uow.commit()
    return Message(
        kind="tier_reclaimed",
        title=f"Reclaiming the {member.tier} seat of {member.name}",
        text=f"It is free once the change is applied: {change}.",
    )


def _reclaim_under_way(uow: UnitOfWork, email: str) -> bool:
    """Whether an earlier reclaim of the member's seat is still on its way (a second click)."""
    for entry in uow.audit.of(f"member:{email}"):
        if entry.action != RECLAIMED:
            continue
        operation = uow.operations.get(int(entry.after.get("operation_id", 0)))
        if operation is not None and operation.status not in _SETTLED:
            return True
    return False


def _temporary_upgrade(uow: UnitOfWork, email: str, tier: str) -> Grant | None:
    """The member's temporary upgrade to `tier` in force, if that is how they hold it."""
    for request in uow.requests.list(status=RequestStatus.APPLIED, requester=email):
        if request.kind is not RequestKind.SEAT_UPGRADE or request.ends_at is None:
            continue
        grant = uow.grants.of_request(request.id)
        if grant is not None and grant.status is GrantStatus.ACTIVE and grant.tier_after == tier:
            return grant
    return None
