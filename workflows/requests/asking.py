"""Making a request: validate, store, and either auto-approve it or ask the approvers."""

from __future__ import annotations

from datetime import datetime

from workflows.audit import record
from workflows.errors import Refusal
from workflows.model import CHAT_SOURCE, POLICY_ACTOR, NewRequest, Request, RequestKind
from workflows.policy import Policy
from workflows.pool.full import tell_admins_if_full
from workflows.ports import Conflict, UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import card, name_of, send_cards, send_request_sent
from workflows.requests.approvers import approvers_for
from workflows.requests.deciding import approve_in
from workflows.requests.grammar import RequestDraft
from workflows.requests.validation import validate


def auto_approvable(request: Request, policy: Policy) -> bool:
    """Whether the group's policy approves this increase without a person."""
    group = policy.group(request.group)
    return (
        group is not None
        and request.kind is RequestKind.CAP_INCREASE
        and request.amount_cents is not None
        and 0 < request.amount_cents <= request.period.spread(group.auto_approve_cents)
    )


def submit_request(
    uow: UnitOfWork, policy: Policy, *, requester: str, draft: RequestDraft, now: datetime
) -> Request:
    """Handle a request from a member; raises Refusal (and writes nothing) if it is not valid."""
    with uow:
        new = validate(uow, policy, requester=requester.lower(), draft=draft, now=now)
        request = take_in(
            uow,
            policy,
            new,
            now=now,
            pending="You already have a request of this kind pending; wait for it or cancel it.",
        )
        uow.commit()
        return request


def take_in(
    uow: UnitOfWork, policy: Policy, new: NewRequest, *, now: datetime, pending: str
) -> Request:
    """Store a validated request, audit it, and approve it by policy or ask its approvers.

    Raises Refusal with `pending` when the requester already has one of this kind pending.
    """
    try:
        request = uow.requests.add(new)
    except Conflict as exc:
        raise Refusal(pending) from exc
    after = {"status": request.status, "what": texts.what(request), "reason": request.reason}
    if request.source != CHAT_SOURCE:
        after["source"] = request.source
    record(
        uow,
        at=now,
        actor=request.requester,
        action="request.created",
        subject=f"request:{request.id}",
        after=after,
    )
    if auto_approvable(request, policy):
        return approve_in(uow, policy, request, actor=POLICY_ACTOR, now=now)
    _ask(uow, policy, request, now)
    return request


def _ask(uow: UnitOfWork, policy: Policy, request: Request, now: datetime) -> None:
    group = policy.group(request.group)
    assert group is not None  # validation found the group
    people = list(approvers_for(policy, request.requester, group))
    requester = uow.members.get(request.requester)
    assert requester is not None  # validation found the member
    send_cards(
        uow, policy, request, card(uow, policy, request, requester, now), people=people, now=now
    )
    send_request_sent(uow, policy, request, [name_of(uow, p) for p in people], now)
    tell_admins_if_full(uow, policy, request, now)
