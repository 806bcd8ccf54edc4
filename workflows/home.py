"""The App Home tab's content: my usage, my requests and, for deciders, what waits for them.

Chat-neutral: each surface draws these messages one after another (Slack's App Home tab).
"""

from __future__ import annotations

from datetime import datetime

from workflows.errors import Refusal
from workflows.messages import Action, Fact, Message, Verb, command
from workflows.model import Member, Request, RequestStatus
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import card
from workflows.requests.approvers import may_decide
from workflows.requests.texts import lasting, what
from workflows.status import status_of
from workflows.timefmt import local_day


def home_of(
    uow: UnitOfWork, policy: Policy, *, email: str, now: datetime, limit: int = 10
) -> tuple[Message, ...]:
    """The home content for one person, at most `limit` requests and `limit` approval cards.

    Someone capdesk has no seat for gets a sentence saying so instead of their status; owners
    and admins still see the requests waiting for them.
    """
    email = email.lower()
    try:
        status = status_of(uow, policy, email=email, now=now, with_requests=False)
    except Refusal as refusal:
        status = Message(kind="home_unknown", title="Welcome to capdesk", text=str(refusal))
    messages = [status]
    with uow:
        mine = list(uow.requests.list(requester=email))
        if mine or uow.members.get(email) is not None:
            messages.append(_my_requests(mine, policy, limit=limit, now=now))
        if policy.owns(email) or policy.is_admin(email):
            messages += _waiting(uow, policy, email=email, now=now, limit=limit)
    return tuple(messages)


def _my_requests(mine: list[Request], policy: Policy, *, limit: int, now: datetime) -> Message:
    """My latest requests, newest first, with a Cancel button on each pending one."""
    zone = policy.org.zone
    shown = mine[:limit]
    facts = tuple(
        Fact(
            label=f"{r.ref} {r.status} · {local_day(r.created_at, zone, now=now)}",
            value=f"{what(r)}, {lasting(r, zone, now=now)} · {r.reason}",
        )
        for r in shown
    )
    actions = tuple(
        Action(verb=Verb.CANCEL, label=f"Cancel {r.ref}", value=str(r.id))
        for r in shown
        if r.status is RequestStatus.PENDING
    )
    older = len(mine) - len(shown)
    return Message(
        kind="home_requests",
        title="Your requests",
        text="" if mine else f"None yet. Ask with the buttons above, or {command('help')}.",
        facts=facts,
        actions=actions,
        footer=f"…and {older} older" if older else "",
    )


def _waiting(
    uow: UnitOfWork, policy: Policy, *, email: str, now: datetime, limit: int
) -> list[Message]:
    """A heading and one approval card per pending request this person may decide, oldest
    first, so the longest wait comes first."""
    waiting = [
        r for r in uow.requests.list(status=RequestStatus.PENDING) if may_decide(policy, email, r)
    ]
    waiting.reverse()
    heading = Message(
        kind="home_waiting",
        title=f"Waiting for your decision ({len(waiting)})",
        text="Oldest first." if waiting else "Nothing is waiting for you.",
    )
    cards = [_card(uow, policy, r, email=email, now=now) for r in waiting[:limit]]
    more = len(waiting) - len(cards)
    if more:
        cards.append(
            Message(
                kind="home_more",
                title=f"…and {more} more waiting for you",
                text="They show here as you decide on the ones above.",
            )
        )
    return [heading, *cards]


def _card(
    uow: UnitOfWork, policy: Policy, request: Request, *, email: str, now: datetime
) -> Message:
    requester = uow.members.get(request.requester) or Member(
        email=request.requester,
        name=request.requester,
        tier=request.tier_before,
        cap_cents=request.cap_before_cents,
    )
    # With approvals_required > 1 a request stays pending after my approval; no second click.
    if any(d.actor == email for d in uow.decisions.of(request.id)):
        return card(
            uow,
            policy,
            request,
            requester,
            now,
            status="You approved; waiting for others",
            open_=False,
        )
    return card(uow, policy, request, requester, now)
