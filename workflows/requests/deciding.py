"""Deciding on a request: approve, deny, cancel, each a compare-and-set on its state.

A decision that settles a request (a denial, or the approval of a request that needs one) takes
the short road: the store's `settle` moves it out of pending and reads what the decision then
needs in the same statement, and the rest are writes, one statement each (the decision, the
audit entry, the operation, every message). Only when `settle` finds nothing to move, or the
approval is one of several needed, does the decision read the request first, to say why or
to count the approvals.
"""

from __future__ import annotations

from datetime import datetime

from workflows.audit import SELF_APPROVAL_REFUSED, record
from workflows.errors import Refusal
from workflows.messages import Message, Outgoing, Recipient
from workflows.model import (
    POLICY_ACTOR,
    Decision,
    Member,
    NewOperation,
    OperationKind,
    OperationPurpose,
    Period,
    Request,
    RequestKind,
    RequestStatus,
    Verdict,
)
from workflows.policy import Policy
from workflows.ports import Settled, UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import (
    Standing,
    card,
    decider_name,
    month_start,
    name_of,
    request_settled,
    standing,
    update_cards,
)
from workflows.requests.approvers import may_decide
from workflows.requests.moves import audit_move, move
from workflows.requests.sources import is_native
from workflows.timefmt import local_time


def _load(uow: UnitOfWork, request_id: int) -> Request:
    request = uow.requests.get(request_id, lock=True)
    if request is None:
        raise Refusal(f"There is no request #{request_id}.")
    return request


_PAST_APPROVAL = frozenset(
    {RequestStatus.APPLYING, RequestStatus.APPLIED, RequestStatus.FAILED, RequestStatus.REVERTED}
)


def _already(uow: UnitOfWork, request: Request, policy: Policy) -> Refusal:
    # Past approval, `decided_by` is still the approver: say what they did, not "applied by".
    state = "approved" if request.status in _PAST_APPROVAL else request.status.value
    if request.decided_by and request.decided_at:
        by = decider_name(uow, request.decided_by)
        when = local_time(request.decided_at, policy.org.zone)
        return Refusal(f"Request {request.ref} was already {state} by {by} at {when}.")
    return Refusal(f"Request {request.ref} is already {state}; there is nothing left to decide.")


def _check_entitled(policy: Policy, request: Request, actor: str) -> None:
    if actor == request.requester:
        raise Refusal("You can't decide on your own request; its approvers will.")
    if not may_decide(policy, actor, request):
        raise Refusal(
            f"Only the owners of {request.group} or an admin can decide on {request.ref}."
        )


def _check_decider(uow: UnitOfWork, policy: Policy, request: Request, actor: str) -> None:
    _check_entitled(policy, request, actor)
    if request.status is not RequestStatus.PENDING:
        raise _already(uow, request, policy)


def decidable(uow: UnitOfWork, policy: Policy, *, request_id: int, actor: str) -> Request:
    """The request `actor` is about to decide on, before a form asks them for a reason;
    raises the Refusal `decide` would, so nobody fills in a form only to be refused."""
    with uow:
        request = uow.requests.get(request_id)
        if request is None:
            raise Refusal(f"There is no request #{request_id}.")
        _check_decider(uow, policy, request, actor.lower())
        return request


def decide(
    uow: UnitOfWork,
    policy: Policy,
    *,
    request_id: int,
    actor: str,
    verdict: Verdict,
    now: datetime,
    note: str | None = None,
) -> Request:
    """An approver's click; raises Refusal for anyone not entitled or a request already decided."""
    actor = actor.lower()
    note = " ".join(note.split())[:500] if note else None
    denies = verdict is Verdict.DENY
    with uow:
        settled = uow.requests.settle(
            request_id,
            new=RequestStatus.DENIED if denies else RequestStatus.APPROVED,
            actor=actor,
            at=now,
            note=note,
            since=month_start(now, policy),
            single_approval=not denies,
        )
        if settled is not None:
            # Settled already; a refusal now leaves the transaction uncommitted, so undone.
            request = _settled(
                uow, policy, settled, actor=actor, verdict=verdict, now=now, note=note
            )
        else:
            request = _load(uow, request_id)
            if actor == request.requester and not denies:
                # Kept for the quarterly review: who tried to approve their own request.
                record(
                    uow,
                    at=now,
                    actor=actor,
                    action=SELF_APPROVAL_REFUSED,
                    subject=f"request:{request.id}",
                    after={"status": request.status},
                )
                uow.commit()
            _check_decider(uow, policy, request, actor)
            if denies:
                request = _deny(uow, policy, request, actor=actor, now=now, note=note)
            else:
                request = _approve(uow, policy, request, actor=actor, now=now, note=note)
        uow.commit()
        return request


def _settled(
    uow: UnitOfWork,
    policy: Policy,
    settled: Settled,
    *,
    actor: str,
    verdict: Verdict,
    now: datetime,
    note: str | None,
) -> Request:
    """What follows a decision the store has settled: the same writes as `_deny` and
    `approve_in` make, from what `settle` read."""
    request = settled.request
    _check_entitled(policy, request, actor)
    uow.decisions.add(Decision(request.id, actor, verdict, now, note))
    by = settled.decider_name or actor
    seen = Standing(settled.requester, settled.spent_cents, settled.requests_made - 1)
    pending = RequestStatus.PENDING
    if verdict is Verdict.DENY:
        audit_move(
            uow, request.id, expected=pending, new=request.status, actor=actor, at=now, note=note
        )
        _denied(uow, policy, request, by=by, now=now, note=note, seen=seen)
        return request
    audit_move(
        uow,
        request.id,
        expected=pending,
        new=request.status,
        actor=actor,
        at=now,
        note=note,
        operation=apply_key(request.id),
    )
    current = cap_after_queue(
        settled.queued_cap_cents,
        settled.requester,
        fallback=request.cap_before_cents,
        period=request.period,
    )
    _approved(uow, policy, request, by=by, now=now, note=note, current=current, seen=seen)
    return request


def _deny(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    *,
    actor: str,
    now: datetime,
    note: str | None,
) -> Request:
    uow.decisions.add(Decision(request.id, actor, Verdict.DENY, now, note))
    denied = move(
        uow,
        request.id,
        expected=RequestStatus.PENDING,
        new=RequestStatus.DENIED,
        actor=actor,
        at=now,
        decision=True,
        note=note,
    )
    if denied is None:
        raise _already(uow, request, policy)
    _denied(uow, policy, denied, by=name_of(uow, actor), now=now, note=note)
    return denied


def _denied(
    uow: UnitOfWork,
    policy: Policy,
    denied: Request,
    *,
    by: str,
    now: datetime,
    note: str | None,
    seen: Standing | None = None,
) -> None:
    """After a denial: tell a native request's backend, close the cards, tell the requester."""
    if is_native(denied.source):
        uow.operations.add(deny_native_operation(denied, now))
    close_cards(uow, policy, denied, verb="Denied", by=by, now=now, note=note, seen=seen)


def _approve(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    *,
    actor: str,
    now: datetime,
    note: str | None,
) -> Request:
    if not uow.decisions.add(Decision(request.id, actor, Verdict.APPROVE, now, note)):
        raise Refusal(f"You already approved {request.ref}; it needs another approver too.")
    if request.approvals_required == 1:
        return approve_in(uow, policy, request, actor=actor, now=now, note=note)
    approvals = [d for d in uow.decisions.of(request.id) if d.verdict is Verdict.APPROVE]
    if len(approvals) < request.approvals_required:
        record(
            uow,
            at=now,
            actor=actor,
            action="request.approval_recorded",
            subject=f"request:{request.id}",
            after={"approvals": len(approvals), "required": request.approvals_required},
        )
        requester = uow.members.get(request.requester)
        if requester is not None:
            names = ", ".join(name_of(uow, d.actor) for d in approvals)
            status = (
                f"Approved by {names}; {request.approvals_required - len(approvals)} more needed"
            )
            update_cards(
                uow, request, card(uow, policy, request, requester, now, status=status), now
            )
        return request
    return approve_in(uow, policy, request, actor=actor, now=now, note=note)


def approve_in(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> Request:
    """Approve inside the caller's transaction and queue the change in the same transaction."""
    approved = move(
        uow,
        request.id,
        expected=RequestStatus.PENDING,
        new=RequestStatus.APPROVED,
        actor=actor,
        at=now,
        decision=True,
        note=note,
        operation=apply_key(request.id),
    )
    if approved is None:
        raise _already(uow, request, policy)
    if actor == POLICY_ACTOR:
        uow.decisions.add(Decision(request.id, actor, Verdict.APPROVE, now, note))
    _approved(uow, policy, approved, by=decider_name(uow, actor), now=now, note=note)
    return approved


def _approved(
    uow: UnitOfWork,
    policy: Policy,
    approved: Request,
    *,
    by: str,
    now: datetime,
    note: str | None,
    current: int | None = None,
    seen: Standing | None = None,
) -> None:
    """After an approval: queue the change, close the cards, tell the requester."""
    uow.operations.add(operation_for(uow, approved, now, current=current))
    close_cards(uow, policy, approved, verb="Approved", by=by, now=now, note=note, seen=seen)


def seat_cap(uow: UnitOfWork, email: str, *, fallback: int, period: Period = Period.MONTHLY) -> int:
    """The person's cap at `period` once the changes already queued for them are applied.

    The store keeps monthly caps only: at another period, without a queued change, the cap is
    `fallback`.
    """
    queued = uow.operations.queued_cap(email, period)
    member = uow.members.get(email) if queued is None and period is Period.MONTHLY else None
    return cap_after_queue(queued, member, fallback=fallback, period=period)


def cap_after_queue(
    queued: int | None, member: Member | None, *, fallback: int, period: Period
) -> int:
    """`seat_cap` from what was read: the cap queued last, else the member's monthly cap."""
    if queued is not None:
        return queued
    if period is Period.MONTHLY and member is not None:
        return member.cap_cents
    return fallback


def apply_key(request_id: int) -> str:
    """The idempotency key of the change an approved request makes."""
    return f"request-{request_id}-apply"


def operation_for(
    uow: UnitOfWork, request: Request, now: datetime, *, current: int | None = None
) -> NewOperation:
    """The change an approved request makes, computed on the seat as it is now (`current`,
    its cap once the queued changes are applied, when the caller has read it already)."""
    key = apply_key(request.id)
    if request.kind is RequestKind.CAP_INCREASE:
        if current is None:
            current = seat_cap(
                uow, request.requester, fallback=request.cap_before_cents, period=request.period
            )
        return NewOperation(
            key=key,
            kind=OperationKind.SET_CAP,
            purpose=OperationPurpose.APPLY,
            email=request.requester,
            created_at=now,
            request_id=request.id,
            cap_cents=current + (request.amount_cents or 0),
            period=request.period,
        )
    return NewOperation(
        key=key,
        kind=OperationKind.SET_TIER,
        purpose=OperationPurpose.APPLY,
        email=request.requester,
        created_at=now,
        request_id=request.id,
        tier=request.target_tier,
    )


def deny_native_operation(request: Request, now: datetime) -> NewOperation:
    """Tell the backend that the native request behind `request` was denied."""
    return NewOperation(
        key=f"request-{request.id}-deny",
        kind=OperationKind.DENY_NATIVE,
        purpose=OperationPurpose.APPLY,
        email=request.requester,
        created_at=now,
        request_id=request.id,
    )


def cancel(
    uow: UnitOfWork, policy: Policy, *, request_id: int, actor: str, now: datetime
) -> Request:
    """The requester withdraws a pending request."""
    actor = actor.lower()
    with uow:
        request = _load(uow, request_id)
        if actor != request.requester:
            raise Refusal(f"Only the person who made {request.ref} can cancel it.")
        if request.status is not RequestStatus.PENDING:
            raise Refusal(
                f"Request {request.ref} is {request.status}; only pending ones can be cancelled."
            )
        cancelled = move(
            uow,
            request.id,
            expected=RequestStatus.PENDING,
            new=RequestStatus.CANCELLED,
            actor=actor,
            at=now,
            decision=True,
        )
        if cancelled is None:
            raise _already(uow, request, policy)
        close_cards(
            uow,
            policy,
            cancelled,
            verb="Cancelled",
            by=name_of(uow, actor),
            now=now,
            note=None,
            tell_requester=False,
        )
        uow.commit()
        return cancelled


def close_cards(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    *,
    verb: str,
    by: str,
    now: datetime,
    note: str | None,
    tell_requester: bool = True,
    seen: Standing | None = None,
) -> None:
    """Update every approval card and the requester's "Request #N sent" message to the
    outcome (buttons gone), and tell the requester, in one write. `by` names who decided
    ("" for nobody); `seen` is the requester's standing when the caller has read it."""
    zone = policy.org.zone
    seen = seen or standing(uow, policy, request.requester, now)
    updates: list[tuple[str, Message]] = []
    if seen.requester is not None:
        status = (
            texts.decided_status(verb, by, now, zone, note)
            if by
            else f"{verb} at {local_time(now, zone)}"
        )
        closed = texts.approval_card(
            request,
            seen.requester,
            spent_cents=seen.spent_cents,
            asked_before=seen.asked_before,
            zone=zone,
            now=now,
            status=status,
            open_=False,
        )
        updates.append((texts.approval_thread(request.id), closed))
    updates.append((texts.sent_thread(request.id), request_settled(policy, request, by, now)))
    told = []
    if tell_requester:
        outcome = texts.outcome(request, verb, by, zone, note, now=now)
        told.append(Outgoing(recipient=Recipient.member(request.requester), message=outcome))
    uow.notifications.add_all(told, to_threads=updates, at=now)
