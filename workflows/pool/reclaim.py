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
    RequestKind,
    RequestStatus,
)
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import tell


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
            day = now.astimezone(policy.org.zone).date().isoformat()
            operation = uow.operations.add(
                NewOperation(
                    key=f"reclaim-tier-{member.email}-{member.tier}-{day}",
                    kind=OperationKind.SET_TIER,
                    purpose=OperationPurpose.APPLY,
                    email=member.email,
                    created_at=now,
                    tier=below,
                )
            )
            if operation.created_at != now:
                raise Refusal(f"{member.name}'s {member.tier} seat is going back already.")
            change = f"they move to {below}"
            record(
                uow,
                at=now,
                actor=actor,
                action="seat.tier_reclaimed",
                subject=f"member:{member.email}",
                before={"tier": member.tier},
                after={"tier": below, "operation": operation.key},
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


def _temporary_upgrade(uow: UnitOfWork, email: str, tier: str) -> Grant | None:
    """The member's temporary upgrade to `tier` in force, if that is how they hold it."""
    for request in uow.requests.list(status=RequestStatus.APPLIED, requester=email):
        if request.kind is not RequestKind.SEAT_UPGRADE or request.ends_at is None:
            continue
        grant = uow.grants.of_request(request.id)
        if grant is not None and grant.status is GrantStatus.ACTIVE and grant.tier_after == tier:
            return grant
    return None
