"""Increase requests made in the backend's own product, such as Anthropic's "ask for more".

A scheduled poll turns each pending native request into a capdesk `cap_increase`, routed to
the group's owners like any other request, its `source` naming the native request. Each is
taken in once: an audit entry on that source marks it seen, in the same transaction as the
request, so polling twice (or from two replicas in turn) creates one request.

The decision goes back through the outbox, with an idempotency key like every change: the
approval's set-cap operation is applied as the native approve (`OperationWorker`), and a
denial queues a `DENY_NATIVE` operation (`deciding.deny_native_operation`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from workflows.admin import AdminConnector, NativeIncreaseRequest, native_requests
from workflows.audit import record
from workflows.errors import Refusal
from workflows.messages import Fact, Message
from workflows.model import Period, Request, RequestKind
from workflows.money import format_usd
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import name_of, tell_admins
from workflows.requests.asking import take_in
from workflows.requests.grammar import RequestDraft
from workflows.requests.sources import native_source
from workflows.requests.validation import validate
from workflows.timefmt import local_stamp


@dataclass
class NativePollReport:
    """What one poll did."""

    created: list[int] = field(default_factory=list)
    """capdesk request ids made from new native requests."""
    unroutable: list[str] = field(default_factory=list)
    """Native ids that could not become a request; the admins were told."""
    already_seen: int = 0


def poll_native_requests(
    uow_factory: Callable[[], UnitOfWork],
    connector: AdminConnector,
    policy: Policy,
    now: datetime,
) -> NativePollReport:
    """Take in every new native increase request; safe to call as often as the scheduler likes.

    Connectors without `Capability.NATIVE_REQUESTS` have none, and the poll does nothing.
    Raises ConnectorError when the backend cannot be read; nothing is written then.
    """
    report = NativePollReport()
    source = native_requests(connector)
    if source is None:
        return report
    for native in source.pending_native_requests():
        with uow_factory() as uow:
            subject = native_source(connector.name, native.id)
            if uow.audit.of(subject):
                report.already_seen += 1
                continue
            try:
                request = _take_in(uow, policy, native, connector.name, now)
            except Refusal as refusal:
                _unroutable(uow, policy, native, subject=subject, why=str(refusal), now=now)
                report.unroutable.append(native.id)
            else:
                record(
                    uow,
                    at=now,
                    actor=request.requester,
                    action="native_request.taken_in",
                    subject=subject,
                    after={"request": request.id},
                )
                report.created.append(request.id)
            uow.commit()
    return report


def _proposal(uow: UnitOfWork, policy: Policy, native: NativeIncreaseRequest) -> RequestDraft:
    # The backend says only that they hit their limit, not how much more they want: propose one
    # more default allowance of their group for that period, within its maximum. The owners may
    # deny and let the member ask for a precise amount in chat.
    member = uow.members.get(native.email)
    group = None if member is None else policy.group_of_member(member)
    period = native.period
    current = new_cap = None
    if member is not None and group is not None:
        if period is Period.MONTHLY:
            current = member.cap_cents
        else:
            default = period.from_monthly(group.default_cap_cents)
            current = default if native.limit_cents is None else native.limit_cents
        step = period.from_monthly(group.default_cap_cents)
        new_cap = min(period.from_monthly(group.max_cap_cents), current + step)
    limit = "no limit" if native.limit_cents is None else format_usd(native.limit_cents)
    return RequestDraft(
        kind=RequestKind.CAP_INCREASE,
        reason=f"Asked for more in the admin console after reaching the {period} limit ({limit})",
        new_cap_cents=new_cap,
        period=period,
        current_cents=None if period is Period.MONTHLY else current,
    )


def _take_in(
    uow: UnitOfWork,
    policy: Policy,
    native: NativeIncreaseRequest,
    backend: str,
    now: datetime,
) -> Request:
    email = native.email.lower()
    new = validate(uow, policy, requester=email, draft=_proposal(uow, policy, native), now=now)
    return take_in(
        uow,
        policy,
        replace(new, source=native_source(backend, native.id)),
        now=now,
        pending="they already have a raise pending in capdesk",
    )


def _unroutable(
    uow: UnitOfWork,
    policy: Policy,
    native: NativeIncreaseRequest,
    *,
    subject: str,
    why: str,
    now: datetime,
) -> None:
    record(
        uow,
        at=now,
        actor=native.email.lower(),
        action="native_request.unroutable",
        subject=subject,
        after={"reason": why},
    )
    tell_admins(
        uow,
        policy,
        unroutable_message(native, name_of(uow, native.email), why, policy, now=now),
        now,
    )


def unroutable_message(
    native: NativeIncreaseRequest, name: str, why: str, policy: Policy, *, now: datetime
) -> Message:
    """To the admins: a native request capdesk cannot route; it waits in the admin console."""
    return Message(
        kind="native_request_unroutable",
        title=f"{name} asked for a higher spend limit in the admin console",
        text=(
            "capdesk could not turn it into a request for the owners, so it waits for you in "
            "the admin console."
        ),
        facts=(
            Fact(label="Why", value=why),
            Fact(label="Asked", value=local_stamp(native.created_at, policy.org.zone, now=now)),
            Fact(label="Native request", value=native.id),
        ),
    )
