"""Temporary grants: a warning a day before the end, then a revert through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.audit import record
from workflows.model import (
    SYSTEM_ACTOR,
    Grant,
    GrantStatus,
    NewOperation,
    OperationKind,
    OperationPurpose,
    RequestKind,
)
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import tell
from workflows.requests.deciding import seat_cap

NOTICE = timedelta(days=1)


def warn_ending_grants(uow: UnitOfWork, policy: Policy, *, now: datetime) -> list[int]:
    """Tell each holder a day before their grant ends, once, with a button to ask for more."""
    warned = []
    with uow:
        for grant in uow.grants.ending_unwarned(now + NOTICE):
            if grant.ends_at <= now:
                continue  # already over: the revert will tell them
            request = uow.requests.get(grant.request_id)
            uow.grants.mark_warned(grant.id, now)
            if request is not None:
                tell(
                    uow,
                    grant.email,
                    texts.grant_ending(request, grant.ends_at, policy.org.zone, now=now),
                    now,
                )
            warned.append(grant.id)
        uow.commit()
    return warned


def expire_grants(uow: UnitOfWork, *, now: datetime) -> list[int]:
    """Queue the revert of every grant whose end has come. Idempotent."""
    with uow:
        reverted = [grant.id for grant in uow.grants.due(now) if end_grant(uow, grant, now=now)]
        uow.commit()
    return reverted


def end_grant(
    uow: UnitOfWork, grant: Grant, *, now: datetime, actor: str = SYSTEM_ACTOR, why: str = ""
) -> bool:
    """Queue the revert of an active grant in the caller's transaction, and audit it; False
    when it was not active any more (another run ended it first)."""
    if not uow.grants.transition(grant.id, expected=GrantStatus.ACTIVE, new=GrantStatus.REVERTING):
        return False
    operation = uow.operations.add(_revert(uow, grant, now))
    after: dict[str, object] = {"status": GrantStatus.REVERTING, "operation": operation.key}
    if grant.kind is RequestKind.CAP_INCREASE:
        # Whether the member inherits their cap again or has a number set back.
        after["revert"] = "inherit" if operation.inherit else "set"
        after["cap_cents"] = operation.cap_cents
        after["period"] = operation.period
    if why:
        after["why"] = why
    record(
        uow,
        at=now,
        actor=actor,
        action="grant.ended",
        subject=f"grant:{grant.id}",
        before={"status": grant.status},
        after=after,
    )
    return True


def _revert(uow: UnitOfWork, grant: Grant, now: datetime) -> NewOperation:
    cap = tier = None
    inherit = False
    if grant.kind is RequestKind.CAP_INCREASE:
        # Subtract the grant rather than restore the old cap: changes made since then stay.
        granted = (grant.cap_before_cents or 0) + grant.delta_cents
        current = seat_cap(uow, grant.email, fallback=granted, period=grant.period)
        cap = max(0, current - grant.delta_cents)
        # The cap before was inherited and nothing else changed it since: inherit again, so
        # the member follows their seat tier, group or organisation from now on.
        inherit = grant.inherited_before and cap == grant.cap_before_cents
    else:
        tier = grant.tier_before
    return NewOperation(
        key=f"grant-{grant.id}-revert",
        kind=OperationKind.SET_CAP if cap is not None else OperationKind.SET_TIER,
        purpose=OperationPurpose.REVERT,
        email=grant.email,
        created_at=now,
        request_id=grant.request_id,
        grant_id=grant.id,
        cap_cents=cap,
        tier=tier,
        period=grant.period,
        inherit=inherit,
    )
