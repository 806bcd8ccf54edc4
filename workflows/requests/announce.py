"""Putting messages into the notifications outbox: cards to approvers, news to requesters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from workflows.messages import ADMIN_CHANNEL, Fact, Message, Outgoing, Recipient, group_channel
from workflows.model import POLICY_ACTOR, Member, Request, RequestKind
from workflows.policy import Policy
from workflows.pool.standing import idle_after_days, pool_of
from workflows.pool.texts import card_fact
from workflows.ports import UnitOfWork
from workflows.requests import texts


def month_start(now: datetime, policy: Policy) -> date:
    """The first day of the current month in the org's zone."""
    return now.astimezone(policy.org.zone).date().replace(day=1)


def name_of(uow: UnitOfWork, email: str) -> str:
    """A member's display name, or the address when capdesk does not know them."""
    member = uow.members.get(email)
    return member.name if member is not None else email


def decider_name(uow: UnitOfWork, actor: str) -> str:
    """Who decided, as people read it: a member's name, or "the policy"."""
    return "the policy" if actor == POLICY_ACTOR else name_of(uow, actor)


def tell(
    uow: UnitOfWork, email: str, message: Message, now: datetime, *, thread_key: str | None = None
) -> None:
    """A direct message to one member; a later one in the same thread replaces it."""
    uow.notifications.add(
        Outgoing(recipient=Recipient.member(email), message=message, thread_key=thread_key),
        at=now,
    )


def tell_admins(
    uow: UnitOfWork,
    policy: Policy,
    message: Message,
    now: datetime,
    *,
    thread_key: str | None = None,
) -> None:
    """To the admin channel if the policy names one, else to each admin directly."""
    recipients = (
        [Recipient.channel(ADMIN_CHANNEL)]
        if policy.admin_channel is not None
        else [Recipient.member(a) for a in policy.admins]
    )
    for recipient in recipients:
        uow.notifications.add(
            Outgoing(recipient=recipient, message=message, thread_key=thread_key), at=now
        )


@dataclass(frozen=True, slots=True)
class Standing:
    """What an approval card shows of its requester besides the request."""

    requester: Member | None
    """None when capdesk does not know them (then no card can be drawn)."""
    spent_cents: int = 0
    """This month's spend."""
    asked_before: int = 0
    """Requests made before this one."""


def standing(uow: UnitOfWork, policy: Policy, email: str, now: datetime) -> Standing:
    """The requester's standing as the store has it now."""
    requester = uow.members.get(email)
    if requester is None:
        return Standing(None)
    return Standing(
        requester,
        spent_cents=uow.usage.spend_since(email, month_start(now, policy)),
        asked_before=uow.requests.count_of(email) - 1,
    )


def card(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    requester: Member,
    now: datetime,
    *,
    status: str = "",
    open_: bool = True,
) -> Message:
    """The approval card for a request as it stands; while it is open, an upgrade to a tier
    with a pool says how many of its seats are free."""
    return texts.approval_card(
        request,
        requester,
        spent_cents=uow.usage.spend_since(requester.email, month_start(now, policy)),
        asked_before=uow.requests.count_of(requester.email) - 1,
        zone=policy.org.zone,
        now=now,
        status=status,
        open_=open_,
        pool=_pool_fact(uow, policy, request, now) if open_ else None,
    )


def _pool_fact(uow: UnitOfWork, policy: Policy, request: Request, now: datetime) -> Fact | None:
    if request.kind is not RequestKind.SEAT_UPGRADE or request.target_tier is None:
        return None
    pool = pool_of(uow, policy, request.target_tier, now=now)
    return None if pool is None else card_fact(pool, idle_after=idle_after_days(policy))


def send_cards(
    uow: UnitOfWork,
    policy: Policy,
    request: Request,
    message: Message,
    *,
    people: list[str],
    now: datetime,
) -> None:
    """Send the approval card: to the group's channel if it has one, else to each person."""
    group = policy.group(request.group)
    thread = texts.approval_thread(request.id)
    recipients = (
        [Recipient.channel(group_channel(group.name))]
        if group is not None and group.channel is not None
        else [Recipient.member(p) for p in people]
    )
    for recipient in recipients:
        uow.notifications.add(
            Outgoing(recipient=recipient, message=message, thread_key=thread), at=now
        )


def _update_thread(uow: UnitOfWork, thread: str, message: Message, now: datetime) -> None:
    for recipient in uow.notifications.recipients_of(thread):
        uow.notifications.add(
            Outgoing(recipient=recipient, message=message, thread_key=thread), at=now
        )


def update_cards(uow: UnitOfWork, request: Request, message: Message, now: datetime) -> None:
    """Replace every copy of the approval card that went out."""
    _update_thread(uow, texts.approval_thread(request.id), message, now)


def send_request_sent(
    uow: UnitOfWork, policy: Policy, request: Request, approvers: list[str], now: datetime
) -> None:
    """Tell the requester who will decide, with a Cancel button while the request is pending."""
    message = texts.request_sent(request, approvers, policy.org.zone, now=now)
    tell(uow, request.requester, message, now, thread_key=texts.sent_thread(request.id))


def update_request_sent(uow: UnitOfWork, policy: Policy, request: Request, now: datetime) -> None:
    """Bring the requester's "Request #N sent" message up to date once the request has left
    pending (decided, cancelled, expired, applied, failed, ended): the outcome replaces the
    Cancel button. A request approved by the policy at once never had that message."""
    by = decider_name(uow, request.decided_by) if request.decided_by else ""
    _update_thread(
        uow, texts.sent_thread(request.id), request_settled(policy, request, by, now), now
    )


def request_settled(policy: Policy, request: Request, by: str, now: datetime) -> Message:
    """The "Request #N sent" message once the request left pending; `by` names who decided."""
    status = texts.outcome_line(request, by, policy.org.zone, now=now)
    return texts.request_settled(request, status, policy.org.zone, now=now)


def escalate_cards(
    uow: UnitOfWork, policy: Policy, request: Request, message: Message, now: datetime
) -> None:
    """Bring the admins in: the card goes to the admin channel, or to each admin."""
    thread = texts.approval_thread(request.id)
    already = set(uow.notifications.recipients_of(thread))
    targets = (
        [Recipient.channel(ADMIN_CHANNEL)]
        if policy.admin_channel is not None
        else [Recipient.member(a) for a in policy.admins if a != request.requester]
    )
    for recipient in targets:
        if recipient not in already:
            uow.notifications.add(
                Outgoing(recipient=recipient, message=message, thread_key=thread), at=now
            )
