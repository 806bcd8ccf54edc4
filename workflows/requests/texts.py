"""The messages of the request lifecycle, for the requester, the approvers and the admins."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.messages import Action, Fact, Message, Progress, Verb
from workflows.model import Member, Operation, Period, Request, RequestKind, RequestStatus
from workflows.money import format_usd
from workflows.timefmt import last_day, local_stamp, local_time


def approval_thread(request_id: int) -> str:
    """The thread key shared by every copy of a request's approval message."""
    return f"approval:{request_id}"


def sent_thread(request_id: int) -> str:
    """The thread key of the requester's "Request #N sent" message."""
    return f"request-sent:{request_id}"


def what(request: Request) -> str:
    """`+$150 a month ($85 → $235)`, `+$40 a week ($80 → $120)` or `premium seat (now
    standard)`."""
    if request.kind is RequestKind.CAP_INCREASE:
        before = request.cap_before_cents
        after = request.new_cap_cents or before + (request.amount_cents or 0)
        change = f"{format_usd(before)} → {format_usd(after)}"
        return f"+{format_usd(after - before)} {request.period.per} ({change})"
    return f"{request.target_tier} seat (now {request.tier_before})"


def lasting(request: Request, zone: ZoneInfo, *, now: datetime) -> str:
    """`until Sun 6 Dec` (`until Fri 31 Dec 2027` in another year) or `permanent`."""
    if request.ends_at is None:
        return "permanent"
    return f"until {last_day(request.ends_at, zone, now=now)}"


def _title(request: Request, name: str) -> str:
    if request.kind is RequestKind.CAP_INCREASE:
        return f"{name} asks for {what(request).split(' (')[0]}"
    return f"{name} asks for a {request.target_tier} seat"


def _asked(request: Request, zone: ZoneInfo, now: datetime) -> tuple[Fact, ...]:
    return (
        Fact(label="What", value=what(request)),
        Fact(label="For", value=lasting(request, zone, now=now)),
        Fact(label="Reason", value=request.reason),
    )


def request_ack(request: Request, zone: ZoneInfo, *, now: datetime) -> Message:
    """To the requester, at once: what was asked, and whether the policy approved it or the
    approvers will decide."""
    if request.status is RequestStatus.APPROVED:
        text = "Approved by the policy (under the group's auto-approval limit); applying now."
    else:
        text = "Sent to your approvers; you'll get their answer as a direct message."
    return Message(
        kind="request_ack",
        title=f"Request {request.ref}: {what(request)}, {lasting(request, zone, now=now)}",
        text=text,
    )


def request_sent(
    request: Request, approvers: list[str], zone: ZoneInfo, *, now: datetime
) -> Message:
    """To the requester: the request is with these people, and can be cancelled meanwhile."""
    return Message(
        kind="request_sent",
        title=f"Request {request.ref} sent",
        text=f"{' or '.join(approvers)} will decide. You'll hear back here.",
        facts=_asked(request, zone, now),
        actions=(Action(verb=Verb.CANCEL, label="Cancel request", value=str(request.id)),),
    )


def request_settled(request: Request, status: str, zone: ZoneInfo, *, now: datetime) -> Message:
    """The "Request #N sent" message once the request left pending: its outcome, no Cancel."""
    return Message(
        kind="request_sent",
        title=f"Request {request.ref} sent",
        text=status,
        facts=_asked(request, zone, now),
    )


def outcome_line(request: Request, by: str, zone: ZoneInfo, *, now: datetime) -> str:
    """Where a request that left pending stands, in one line: `Approved by Dana Okafor at
    14:02 · in force since Mon 23 Nov 14:03`. `by` names the decider."""
    decided = request.decided_at or request.updated_at
    if request.status is RequestStatus.EXPIRED:
        return f"Expired at {local_time(decided, zone)}: nobody decided in time"
    verb = {RequestStatus.DENIED: "Denied", RequestStatus.CANCELLED: "Cancelled"}.get(
        request.status, "Approved"
    )
    line = decided_status(verb, by, decided, zone, request.decision_note)
    since = local_stamp(request.updated_at, zone, now=now)
    if request.status is RequestStatus.APPLIED:
        return f"{line} · in force since {since}"
    if request.status is RequestStatus.FAILED:
        return f"{line} · not applied yet; the admins are on it"
    if request.status is RequestStatus.REVERTED:
        return f"{line} · ended {since}"
    return line


def approval_card(
    request: Request,
    requester: Member,
    *,
    spent_cents: int,
    asked_before: int,
    zone: ZoneInfo,
    now: datetime,
    status: str = "",
    open_: bool = True,
    pool: Fact | None = None,
) -> Message:
    """To the approvers: who asks for what and why, their usage, and Approve / Deny; `pool`:
    the seats free in the tier asked for."""
    actions: tuple[Action, ...] = ()
    if open_:
        actions = (
            Action(verb=Verb.APPROVE, label="Approve", value=str(request.id), style="primary"),
            Action(verb=Verb.DENY, label="Deny", value=str(request.id), style="danger"),
        )
    asked = "first request" if asked_before == 0 else f"{asked_before} earlier request(s)"
    return Message(
        kind="approval",
        title=_title(request, requester.name),
        text=f"Request {request.ref} · {request.group} · {requester.tier} seat",
        facts=(
            Fact(label="What", value=what(request)),
            Fact(label="For", value=lasting(request, zone, now=now)),
            Fact(label="Reason", value=request.reason),
            Fact(label="Asked before", value=asked),
            *(() if pool is None else (pool,)),
        ),
        progress=Progress(
            label="Spent this month", used_cents=spent_cents, limit_cents=requester.cap_cents
        ),
        actions=actions,
        footer=status,
    )


def decided_status(verb: str, by: str, at: datetime, zone: ZoneInfo, note: str | None) -> str:
    """`Approved by Dana Okafor at 14:02`, with the reason of a denial."""
    line = f"{verb} by {by} at {local_time(at, zone)}"
    return f"{line}: {note}" if note else line


def outcome(
    request: Request, verb: str, by: str, zone: ZoneInfo, note: str | None, *, now: datetime
) -> Message:
    """To the requester: what became of the request."""
    text = {
        "Approved": "It is being applied now; I'll tell you when it's in force.",
        "Denied": "Nothing changes. You can ask again with more context.",
        "Expired": "Nobody decided in time, so nothing changes. You can ask again.",
        "Cancelled": "Nothing changes.",
    }[verb]
    facts = [Fact(label="What", value=what(request))]
    if note:
        facts.append(Fact(label="Note", value=note))
    return Message(
        kind=f"request_{verb.lower()}",
        title=f"Request {request.ref} {verb.lower()}" + (f" by {by}" if by else ""),
        text=text,
        facts=tuple(facts),
        footer=local_stamp(request.decided_at or request.updated_at, zone, now=now),
    )


def reminder(request: Request, requester: Member, waited: timedelta) -> Message:
    """To the approvers: a request is still waiting for them."""
    hours = int(waited.total_seconds() // 3600)
    return Message(
        kind="reminder",
        title=f"Reminder: {requester.name} has waited {hours}h for request {request.ref}",
        text=f"{what(request)} · {request.reason}",
        actions=(
            Action(verb=Verb.APPROVE, label="Approve", value=str(request.id), style="primary"),
            Action(verb=Verb.DENY, label="Deny", value=str(request.id), style="danger"),
        ),
    )


def escalation_status(waited: timedelta) -> str:
    """The line on an escalated approval card."""
    return f"Escalated to the admins: no decision for {int(waited.total_seconds() // 3600)}h"


def applied(
    request: Request, member: Member, operation: Operation, zone: ZoneInfo, *, now: datetime
) -> Message:
    """To the requester: the change is in force."""
    now_is = (
        f"Your {request.period} cap is now {format_usd(_cap_of(member, operation))}"
        if request.kind is RequestKind.CAP_INCREASE
        else f"You now have a {member.tier} seat"
    )
    return Message(
        kind="request_applied",
        title=f"Request {request.ref} is in force",
        text=f"{now_is}, {lasting(request, zone, now=now)}.",
    )


def _cap_of(member: Member, operation: Operation) -> int:
    # The store keeps a monthly cap; a weekly or daily one is the one the operation set.
    if operation.period is Period.MONTHLY or operation.cap_cents is None:
        return member.cap_cents
    return operation.cap_cents


def reverted(request: Request, member: Member, operation: Operation) -> Message:
    """To the member: a temporary grant has ended."""
    cap = format_usd(_cap_of(member, operation))
    if request.kind is not RequestKind.CAP_INCREASE:
        now_is = f"your seat is back to {member.tier}"
    elif operation.inherit:
        now_is = f"your {request.period} cap is the one your seat and groups give you again ({cap})"
    else:
        now_is = f"your {request.period} cap is back to {cap}"
    return Message(
        kind="grant_reverted",
        title=f"Your temporary grant from request {request.ref} has ended",
        text=f"As agreed, {now_is}.",
        actions=(Action(verb=Verb.REQUEST_MORE, label="Request more", value=request.kind),),
    )


def grant_ending(request: Request, ends_at: datetime, zone: ZoneInfo, *, now: datetime) -> Message:
    """To the member, a day before: the grant ends soon; ask for an extension if needed."""
    return Message(
        kind="grant_ending",
        title=f"Your {what(request).split(' (')[0]} ends {local_stamp(ends_at, zone, now=now)}",
        text="If you still need it, ask for an extension before then.",
        actions=(Action(verb=Verb.EXTEND, label="Ask for an extension", value=str(request.id)),),
    )


def manual_task(operation: Operation, request: Request | None) -> Message:
    """To the admins: the backend cannot do this through its API; do it by hand, then confirm."""
    facts = [Fact(label="Change", value=operation.describe())]
    if request is not None:
        facts.append(Fact(label="Request", value=f"{request.ref} · {request.reason}"))
    return Message(
        kind="manual_task",
        title="A change to make by hand",
        text=(
            "The admin backend has no API for this. Make the change in the admin console, "
            "then press Done."
        ),
        facts=tuple(facts),
        actions=(
            Action(
                verb=Verb.CONFIRM_MANUAL, label="Done", value=str(operation.id), style="primary"
            ),
        ),
    )


def manual_done(operation: Operation, by: str, at: datetime, zone: ZoneInfo) -> Message:
    """The manual-task message once an admin confirmed it."""
    return Message(
        kind="manual_task",
        title="A change made by hand",
        facts=(Fact(label="Change", value=operation.describe()),),
        footer=f"Done by {by} at {local_time(at, zone)}",
    )


def operation_failed(operation: Operation, error: str) -> Message:
    """To the admins: a change could not be applied after every retry."""
    return Message(
        kind="operation_failed",
        title="A change could not be applied",
        text=error,
        facts=(
            Fact(label="Change", value=operation.describe()),
            Fact(label="Attempts", value=str(operation.attempts)),
        ),
        actions=(
            Action(
                verb=Verb.RETRY_OPERATION, label="Retry", value=str(operation.id), style="primary"
            ),
        ),
    )


def failed_to_requester(request: Request) -> Message:
    """To the requester: approved, but the backend refused; the admins are on it."""
    return Message(
        kind="request_failed",
        title=f"Request {request.ref} was approved but could not be applied yet",
        text="The admins have been told and will retry. Nothing is lost.",
    )
