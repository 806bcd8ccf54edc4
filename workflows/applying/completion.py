"""What happens once an operation has taken effect, whether by API or by an admin's hand."""

from __future__ import annotations

from datetime import datetime

from workflows.audit import record
from workflows.model import (
    GrantStatus,
    Operation,
    OperationKind,
    OperationPurpose,
    Period,
    Request,
    RequestKind,
    RequestStatus,
)
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import tell, update_request_sent
from workflows.requests.moves import move


def mirror(uow: UnitOfWork, operation: Operation) -> None:
    """Keep the store's copy of the seat in step with the backend."""
    if operation.kind is OperationKind.SET_CAP and operation.period is Period.MONTHLY:
        uow.members.set_seat(operation.email, cap_cents=operation.cap_cents)
    elif operation.kind is OperationKind.SET_TIER:
        uow.members.set_seat(operation.email, tier=operation.tier)
    elif operation.kind is OperationKind.REMOVE_SEAT:
        uow.members.deactivate(operation.email)


def complete(
    uow: UnitOfWork, policy: Policy, operation: Operation, *, actor: str, now: datetime
) -> None:
    """Record the effect of a finished operation on its request or grant and tell the member."""
    mirror(uow, operation)
    record(
        uow,
        at=now,
        actor=actor,
        action="operation.done",
        subject=f"operation:{operation.id}",
        after={
            "key": operation.key,
            "change": operation.describe(),
            "attempts": operation.attempts,
        },
    )
    # A denial written back to the backend changes neither the seat nor the denied request.
    if operation.request_id is None or operation.kind is OperationKind.DENY_NATIVE:
        return
    request = uow.requests.get(operation.request_id)
    if request is None:
        return
    if operation.purpose is OperationPurpose.APPLY:
        _applied(uow, policy, request, operation, actor=actor, now=now)
    else:
        _reverted(uow, policy, request, operation, actor=actor, now=now)


def _applied(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    operation: Operation,
    *,
    actor: str,
    now: datetime,
) -> None:
    done = move(
        uow,
        request.id,
        expected=RequestStatus.APPLYING,
        new=RequestStatus.APPLIED,
        actor=actor,
        at=now,
        was={
            "cap_cents": request.cap_before_cents,
            "tier": request.tier_before,
            "inherited": operation.inherited_before,
        },
        cap_cents=operation.cap_cents,
        tier=operation.tier,
        period=operation.period,
    )
    if done is None:
        return
    if done.ends_at is not None and uow.grants.of_request(done.id) is None:
        if done.kind is RequestKind.CAP_INCREASE:
            delta = done.amount_cents or 0
            before = None if operation.cap_cents is None else operation.cap_cents - delta
            uow.grants.add(
                request_id=done.id,
                email=done.requester,
                kind=done.kind,
                ends_at=done.ends_at,
                delta_cents=delta,
                period=operation.period,
                cap_before_cents=before,
                inherited_before=bool(operation.inherited_before),
            )
        else:
            uow.grants.add(
                request_id=done.id,
                email=done.requester,
                kind=done.kind,
                ends_at=done.ends_at,
                tier_before=done.tier_before,
                tier_after=done.target_tier,
            )
    update_request_sent(uow, policy, done, now)
    member = uow.members.get(done.requester)
    if member is not None:
        tell(
            uow,
            done.requester,
            texts.applied(done, member, operation, policy.org.zone, now=now),
            now,
        )


def _reverted(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    operation: Operation,
    *,
    actor: str,
    now: datetime,
) -> None:
    if operation.grant_id is not None:
        uow.grants.transition(
            operation.grant_id, expected=GrantStatus.REVERTING, new=GrantStatus.REVERTED
        )
    done = move(
        uow,
        request.id,
        expected=RequestStatus.APPLIED,
        new=RequestStatus.REVERTED,
        actor=actor,
        at=now,
        cap_cents=operation.cap_cents,
        tier=operation.tier,
        period=operation.period,
        inherits=operation.inherit,
    )
    if done is None:
        return
    update_request_sent(uow, policy, done, now)
    member = uow.members.get(done.requester)
    if member is not None:
        tell(uow, done.requester, texts.reverted(done, member, operation), now)
