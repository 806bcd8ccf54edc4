"""Making a request: validate, store, and either auto-approve it or ask the approvers."""

from __future__ import annotations

from datetime import datetime

from workflows.audit import record
from workflows.errors import Refusal
from workflows.model import POLICY_ACTOR, Request, RequestKind
from workflows.policy import Policy
from workflows.ports import Conflict, UnitOfWork
from workflows.requests import texts
from workflows.requests.announce import card, name_of, send_cards, tell
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
        and 0 < request.amount_cents <= group.auto_approve_cents
    )


def submit_request(
    uow: UnitOfWork, policy: Policy, *, requester: str, draft: RequestDraft, now: datetime
) -> Request:
    """Handle a request from a member; raises Refusal (and writes nothing) if it is not valid."""
    with uow:
        new = validate(uow, policy, requester=requester.lower(), draft=draft, now=now)
        try:
            request = uow.requests.add(new)
        except Conflict as exc:
            raise Refusal(
                "You already have a request of this kind pending; wait for it or cancel it."
            ) from exc
        record(
            uow,
            at=now,
            actor=request.requester,
            action="request.created",
            subject=f"request:{request.id}",
            after={"status": request.status, "what": texts.what(request), "reason": request.reason},
        )
        if auto_approvable(request, policy):
            request = approve_in(uow, policy, request, actor=POLICY_ACTOR, now=now)
        else:
            _ask(uow, policy, request, now)
        uow.commit()
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
    names = [name_of(uow, p) for p in people]
    tell(uow, request.requester, texts.request_sent(request, names, policy.org.zone), now)
