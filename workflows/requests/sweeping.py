"""Undecided requests: remind the approvers, then bring in the admins, then let them expire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from workflows.audit import record
from workflows.model import SYSTEM_ACTOR, Request, RequestStatus
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import card, escalate_cards, tell
from workflows.requests.approvers import approvers_for
from workflows.requests.deciding import close_cards
from workflows.requests.moves import move


@dataclass
class SweepReport:
    """What one sweep did, by request id."""

    reminded: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def sweep_pending(uow: UnitOfWork, policy: Policy, *, now: datetime) -> SweepReport:
    """Advance every pending request that has waited past a policy deadline. Idempotent."""
    report = SweepReport()
    timing = policy.requests
    with uow:
        for listed in uow.requests.list(status=RequestStatus.PENDING):
            waited = now - listed.created_at
            if waited < timing.reminder_after:
                continue
            # Read it again under a row lock: another sweeper (a second replica) may be at it.
            request = uow.requests.get(listed.id, lock=True)
            if request is None or request.status is not RequestStatus.PENDING:
                continue
            if waited >= timing.expire_after:
                if _expire(uow, policy, request, now):
                    report.expired.append(request.id)
            elif waited >= timing.escalate_after and request.escalated_at is None:
                _escalate(uow, policy, request, now)
                report.escalated.append(request.id)
            elif waited >= timing.reminder_after and request.reminded_at is None:
                _remind(uow, policy, request, now)
                report.reminded.append(request.id)
        uow.commit()
    return report


def _remind(uow: UnitOfWork, policy: Policy, request: Request, now: datetime) -> None:
    requester = uow.members.get(request.requester)
    group = policy.group(request.group)
    uow.requests.mark(request.id, reminded_at=now)
    if requester is None or group is None:
        return
    message = texts.reminder(request, requester, now - request.created_at)
    for person in approvers_for(policy, request.requester, group):
        tell(uow, person, message, now)
    record(
        uow, at=now, actor=SYSTEM_ACTOR, action="request.reminded", subject=f"request:{request.id}"
    )


def _escalate(uow: UnitOfWork, policy: Policy, request: Request, now: datetime) -> None:
    # An escalation also stands for the reminder, should a late sweep reach both at once.
    uow.requests.mark(request.id, escalated_at=now, reminded_at=request.reminded_at or now)
    requester = uow.members.get(request.requester)
    if requester is not None:
        status = texts.escalation_status(now - request.created_at)
        escalate_cards(
            uow, policy, request, card(uow, policy, request, requester, now, status=status), now
        )
    record(
        uow, at=now, actor=SYSTEM_ACTOR, action="request.escalated", subject=f"request:{request.id}"
    )


def _expire(uow: UnitOfWork, policy: Policy, request: Request, now: datetime) -> bool:
    expired = move(
        uow,
        request.id,
        expected=RequestStatus.PENDING,
        new=RequestStatus.EXPIRED,
        actor=SYSTEM_ACTOR,
        at=now,
    )
    if expired is None:
        return False
    close_cards(uow, policy, expired, verb="Expired", by="", now=now, note=None)
    return True
