"""The capdesk commands, dispatched the same way for every chat surface.

An adapter passes who typed what; it gets back the reply meant for that person only: a
message (an ephemeral message in Slack, a reply in the Teams personal chat) or, on a surface
with forms, the request form when the command leaves something to ask. Everything else the
command causes goes through the notifications outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from workflows.forms.model import Reply
from workflows.forms.request import request_form, values_from_draft
from workflows.messages import Fact, Message, command
from workflows.model import Member, RequestKind, RequestStatus
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.asking import submit_request
from workflows.requests.deciding import cancel
from workflows.requests.grammar import (
    HELP,
    Cancel,
    Command,
    Help,
    ListRequests,
    RequestDraft,
    Status,
    parse_command,
)
from workflows.requests.texts import request_ack, what
from workflows.status import status_of

FORM_WORDS = {"raise": RequestKind.CAP_INCREASE, "upgrade": RequestKind.SEAT_UPGRADE}
"""Commands that are only a word open the form for that kind of request."""


def answer_command(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, *, email: str, text: str, now: datetime
) -> Reply:
    """Run one command on a surface that shows forms: a bare `raise` or `upgrade`, or a
    request without a reason, answers with the request form, filled in with what was typed.

    Raises Refusal (a sentence for the person) when it cannot be done.
    """
    bare = FORM_WORDS.get(text.strip().lower())
    if bare is not None:
        return request_form(bare, policy, member=_member(uow_factory, email))
    command = _parse(text, policy, now)
    if isinstance(command, RequestDraft) and not command.reason.strip():
        member = _member(uow_factory, email)
        values = values_from_draft(
            command, cap_cents=member.cap_cents if member else 0, zone=policy.org.zone
        )
        return request_form(command.kind, policy, member=member, values=values)
    return _run(uow_factory, policy, email=email, command=command, now=now)


def run_command(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, *, email: str, text: str, now: datetime
) -> Message:
    """Run one command on a surface without forms (the terminal): what a form would ask for
    is refused instead. Raises Refusal (a sentence for the person) when it cannot be done."""
    command = _parse(text, policy, now)
    return _run(uow_factory, policy, email=email, command=command, now=now)


def _parse(text: str, policy: Policy, now: datetime) -> Command:
    return parse_command(
        text, now=now, zone=policy.org.zone, longest_days=policy.requests.max_duration_days
    )


def _run(
    uow_factory: Callable[[], UnitOfWork],
    policy: Policy,
    *,
    email: str,
    command: Command,
    now: datetime,
) -> Message:
    if isinstance(command, Help):
        return Message(kind="help", title="capdesk commands", text=HELP)
    if isinstance(command, Status):
        return status_of(uow_factory(), policy, email=email, now=now)
    if isinstance(command, ListRequests):
        return my_requests(uow_factory(), policy, email=email)
    if isinstance(command, Cancel):
        done = cancel(uow_factory(), policy, request_id=command.request_id, actor=email, now=now)
        return Message(kind="cancelled", title=f"Request {done.ref} cancelled", text=what(done))
    request = submit_request(uow_factory(), policy, requester=email, draft=command, now=now)
    return request_ack(request, policy.org.zone, now=now)


def _member(uow_factory: Callable[[], UnitOfWork], email: str) -> Member | None:
    with uow_factory() as uow:
        return uow.members.get(email)


def my_requests(uow: UnitOfWork, policy: Policy, *, email: str, limit: int = 10) -> Message:
    """My latest requests, and the pending ones I may decide on."""
    with uow:
        mine = list(uow.requests.list(requester=email))[:limit]
        pending = uow.requests.list(status=RequestStatus.PENDING)
    owned = {g.name for g in policy.owns(email)}
    waiting = [
        r
        for r in pending
        if r.requester != email.lower() and (r.group in owned or policy.is_admin(email))
    ]
    facts = [Fact(label=f"{r.ref} {r.status}", value=f"{what(r)} · {r.reason}") for r in mine]
    facts += [
        Fact(label=f"{r.ref} waiting for you", value=f"{r.requester}: {what(r)} · {r.reason}")
        for r in waiting[:limit]
    ]
    return Message(
        kind="requests",
        title="Your requests" + (" and those waiting for you" if waiting else ""),
        text="" if facts else f"Nothing yet. Try {command('raise 50 for 7d reason')}.",
        facts=tuple(facts),
    )
