"""In-memory fakes of the domain's ports (fakes over mocks), and a small organisation to test on.

`FakeUnitOfWork` keeps a committed state and, inside `with uow:`, a working copy: `commit()`
publishes the working copy, leaving the block without it drops it, like a rolled-back
transaction. Every compare-and-set answers the way the SQL store does. Outside a transaction
the repositories read the committed state (for assertions) and refuse to write.

`FakeConnector` is an admin backend that applies each idempotency key once and can be told to
fail; `FakeNotifier` is a chat platform that records what it was given.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from workflows.admin import (
    Capability,
    DailyUsage,
    HourlyUsage,
    NativeIncreaseRequest,
    RemoteMember,
    TransientConnectorError,
    UnsupportedOperation,
)
from workflows.alerts.records import (
    Audience,
    FiringRecord,
    GroupStanding,
    HourSpike,
    MemberQuery,
    MemberStanding,
    NewFiring,
    Standings,
)
from workflows.applying.worker import OperationWorker
from workflows.clock import ManualClock
from workflows.delivery import DeliveryError, DeliveryReport, deliver_pending
from workflows.messages import Message, Outgoing, Recipient
from workflows.model import (
    Attempt,
    AuditEntry,
    Decision,
    Delegation,
    Grant,
    GrantStatus,
    Member,
    NewOperation,
    NewRequest,
    Operation,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    Period,
    Request,
    RequestKind,
    RequestStatus,
    UseCaseQuestion,
    Verdict,
    check_transition,
)
from workflows.money import cents_from_micros
from workflows.policy import Policy
from workflows.pool.records import IdleHolder, TierUse
from workflows.ports import (
    AlertRepository,
    AuditLog,
    Conflict,
    DecisionRepository,
    DelegationRepository,
    GrantRepository,
    GroupRecord,
    GroupRepository,
    IdentityRepository,
    InboundRepository,
    MemberRepository,
    NotificationRepository,
    OperationRepository,
    PendingDelivery,
    RequestRepository,
    SeatPoolRepository,
    Settled,
    TelemetryRepository,
    UnitOfWork,
    UsageRepository,
    UseCaseRepository,
)
from workflows.requests.asking import submit_request
from workflows.requests.deciding import cancel, decide
from workflows.requests.grammar import RequestDraft, parse_command
from workflows.telemetry.model import (
    NEW_SERIES,
    HourFigures,
    SeriesState,
    Unmatched,
    UnmatchedReport,
)

# --------------------------------------------------------------------------- the store


@dataclass(frozen=True, slots=True)
class FakeNotification:
    """A row of the notifications outbox."""

    id: int
    outgoing: Outgoing
    status: str  # pending | sending | delivered | dropped
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    lease_until: datetime | None = None
    ref: str | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    platform: str | None = None
    origin_id: int | None = None


@dataclass(frozen=True, slots=True)
class FakeIdentity:
    """A member's account on a chat platform."""

    email: str
    conversation: str | None = None
    seen_at: datetime | None = None
    linked: int = 0
    """Which link this was, in order, for the ones never seen."""


@dataclass(frozen=True, slots=True)
class FakeFiring:
    """A row of the alert firings, with the audiences it still waits for."""

    record: FiringRecord
    admins_waiting: datetime | None = None
    owners_waiting: datetime | None = None


@dataclass(frozen=True, slots=True)
class FakeUnmatched:
    """A row of the counts of e-mails no member has."""

    points: int
    cost_micros: int
    last_seen: datetime
    reported_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Figure:
    """One member's usage of a day or an hour as the store's queries see it: the backend's,
    else telemetry's (then all of its spend is an estimate)."""

    spend_cents: int
    commands: int
    estimated_cents: int = 0
    estimated: bool = False


def daily_figures(state: _State) -> dict[tuple[str, date], Figure]:
    """The backend's row for a member's day, else the sum of the day's telemetry hours."""
    found = {key: Figure(r.spend_cents, r.commands) for key, r in state.daily.items()}
    sums: dict[tuple[str, date], list[int]] = {}
    for (who, hour), values in state.telemetry.items():
        total = sums.setdefault((who, hour.date()), [0, 0])
        total[0] += values.get("cost_micros", 0)
        total[1] += values.get("prompts", 0) + values.get("tool_runs", 0)
    for key, (micros, commands) in sums.items():
        if key not in found:
            found[key] = Figure(
                cents_from_micros(micros), commands, cents_from_micros(micros), estimated=True
            )
    return found


def hourly_figures(state: _State) -> dict[tuple[str, datetime], Figure]:
    """The backend's row for a member's hour, else telemetry's."""
    found = {key: Figure(r.spend_cents, r.commands) for key, r in state.hourly.items()}
    for key, values in state.telemetry.items():
        if key not in found:
            cents = cents_from_micros(values.get("cost_micros", 0))
            commands = values.get("prompts", 0) + values.get("tool_runs", 0)
            found[key] = Figure(cents, commands, cents, estimated=True)
    return found


@dataclass(slots=True)
class _State:
    """Everything the store holds. Records are immutable, so copying the containers is enough."""

    members: dict[str, Member] = field(default_factory=dict)
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    daily: dict[tuple[str, date], DailyUsage] = field(default_factory=dict)
    hourly: dict[tuple[str, datetime], HourlyUsage] = field(default_factory=dict)
    requests: dict[int, Request] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    grants: dict[int, Grant] = field(default_factory=dict)
    operations: dict[int, Operation] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    notifications: dict[int, FakeNotification] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    last_id: dict[str, int] = field(default_factory=dict)
    first_seen: dict[str, date] = field(default_factory=dict)
    firings: dict[tuple[str, str, str], FakeFiring] = field(default_factory=dict)
    telemetry: dict[tuple[str, datetime], dict[str, int]] = field(default_factory=dict)
    series: dict[str, SeriesState] = field(default_factory=dict)
    series_seen: dict[str, datetime] = field(default_factory=dict)
    batches: dict[str, datetime] = field(default_factory=dict)
    unmatched: dict[tuple[str, date, str], FakeUnmatched] = field(default_factory=dict)
    questions: dict[int, UseCaseQuestion] = field(default_factory=dict)
    delegations: dict[int, Delegation] = field(default_factory=dict)
    identities: dict[tuple[str, str], FakeIdentity] = field(default_factory=dict)
    inbound: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def copy(self) -> _State:
        return _State(**{f.name: getattr(self, f.name).copy() for f in dataclasses.fields(self)})

    def next_id(self, table: str) -> int:
        self.last_id[table] = self.last_id.get(table, 0) + 1
        return self.last_id[table]


_UNFINISHED = (OperationStatus.PENDING, OperationStatus.IN_PROGRESS, OperationStatus.MANUAL)


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self._uow = uow

    @property
    def _s(self) -> _State:
        """What reads see: the transaction's working copy, else the committed state."""
        return self._uow._read()

    @property
    def _w(self) -> _State:
        """What writes change: the working copy; writing outside a transaction is a bug."""
        return self._uow._write()


class FakeMembers(_Repo):
    def get(self, email: str) -> Member | None:
        return self._s.members.get(email.lower())

    def list(self) -> Sequence[Member]:
        return [self._s.members[e] for e in sorted(self._s.members)]

    def upsert(self, member: Member) -> None:
        self._w.members[member.email.lower()] = replace(member, email=member.email.lower())

    def set_seat(
        self, email: str, *, cap_cents: int | None = None, tier: str | None = None
    ) -> None:
        state = self._w
        member = state.members.get(email.lower())
        if member is None:
            return
        if cap_cents is not None:
            member = replace(member, cap_cents=cap_cents)
        if tier is not None:
            member = replace(member, tier=tier)
        state.members[member.email] = member

    def deactivate(self, email: str) -> None:
        state = self._w
        member = state.members.get(email.lower())
        if member is not None:
            state.members[member.email] = replace(member, active=False)


class FakeGroups(_Repo):
    def replace_all(self, groups: Sequence[GroupRecord]) -> None:
        state = self._w
        state.groups = {g.name: g for g in groups}


class FakeUsage(_Repo):
    def replace_daily(self, rows: Sequence[DailyUsage]) -> int:
        state = self._w
        kept = [r for r in rows if r.email.lower() in state.members]
        for r in kept:
            state.daily[(r.email.lower(), r.day)] = replace(r, email=r.email.lower())
        return len(kept)

    def replace_hourly(self, rows: Sequence[HourlyUsage]) -> int:
        state = self._w
        kept = [r for r in rows if r.email.lower() in state.members]
        for r in kept:
            state.hourly[(r.email.lower(), r.hour)] = replace(r, email=r.email.lower())
        return len(kept)

    def spend_since(self, email: str, since: date) -> int:
        email = email.lower()
        return sum(
            r.spend_cents
            for (who, day), r in daily_figures(self._s).items()
            if who == email and day >= since
        )

    def spend_by_member(self, since: date) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (who, day), r in daily_figures(self._s).items():
            if day >= since:
                totals[who] = totals.get(who, 0) + r.spend_cents
        return totals

    def estimated_since(self, email: str, since: date) -> int:
        email = email.lower()
        return sum(
            r.estimated_cents
            for (who, day), r in daily_figures(self._s).items()
            if who == email and day >= since
        )


class FakeTelemetry(_Repo):
    """Telemetry figures in memory, counted the way the SQL store counts them."""

    def first_time(self, digest: str, *, at: datetime) -> bool:
        state = self._w
        if digest in state.batches:
            return False
        state.batches[digest] = at
        return True

    def lock_series(self, keys: Sequence[str]) -> dict[str, SeriesState]:
        return {key: self._s.series.get(key, NEW_SERIES) for key in keys}

    def save_series(self, states: Mapping[str, SeriesState], *, at: datetime) -> None:
        state = self._w
        for key, series in states.items():
            state.series[key] = series
            state.series_seen[key] = at

    def member_emails(self, emails: Collection[str]) -> set[str]:
        return {e.lower() for e in emails} & set(self._s.members)

    def add_hours(self, figures: Sequence[HourFigures], *, at: datetime) -> None:
        state = self._w
        for f in figures:
            if f.email not in state.members:
                continue
            values = dict(state.telemetry.get((f.email, f.hour), {}))
            for name, amount in f.values.items():
                values[name] = values.get(name, 0) + amount
            state.telemetry[(f.email, f.hour)] = values

    def note_unmatched(self, rows: Sequence[Unmatched], *, at: datetime) -> None:
        state = self._w
        for r in rows:
            key = (r.email, r.day, r.group or "")
            old = state.unmatched.get(key, FakeUnmatched(0, 0, at))
            state.unmatched[key] = replace(
                old,
                points=old.points + r.points,
                cost_micros=old.cost_micros + r.cost_micros,
                last_seen=at,
            )

    def hours(self, email: str, since: datetime) -> Sequence[HourFigures]:
        return [
            HourFigures(email=who, hour=hour, values={k: v for k, v in values.items() if v})
            for (who, hour), values in sorted(self._s.telemetry.items())
            if who == email.lower() and hour >= since
        ]

    def unmatched_to_report(self, *, now: datetime) -> Sequence[UnmatchedReport]:
        state = self._w
        merged: dict[tuple[str, str], list[Any]] = {}
        for (email, _day, group), row in sorted(state.unmatched.items()):
            if row.reported_at is not None and row.last_seen <= row.reported_at:
                continue
            entry = merged.setdefault((email, group), [0, 0, row.last_seen])
            entry[0] += row.points
            entry[1] += row.cost_micros
            entry[2] = max(entry[2], row.last_seen)
            state.unmatched[(email, _day, group)] = replace(row, reported_at=now)
        reports = [
            UnmatchedReport(email, group or None, points, cost, seen)
            for (email, group), (points, cost, seen) in merged.items()
        ]
        return sorted(reports, key=lambda r: (-r.points, r.email))

    def forget(self, *, batches_before: datetime, series_before: datetime) -> int:
        state = self._w
        gone = [d for d, at in state.batches.items() if at < batches_before]
        stale = [k for k, at in state.series_seen.items() if at < series_before]
        for digest in gone:
            del state.batches[digest]
        for key in stale:
            del state.series[key]
            del state.series_seen[key]
        return len(gone) + len(stale)


class FakeRequests(_Repo):
    def add(self, new: NewRequest) -> Request:
        state = self._w
        requester = new.requester.lower()
        if any(
            r.requester == requester and r.kind is new.kind and r.status is RequestStatus.PENDING
            for r in state.requests.values()
        ):
            raise Conflict(f"{requester} already has a pending {new.kind} request")
        request = Request(
            id=state.next_id("request"),
            status=RequestStatus.PENDING,
            updated_at=new.created_at,
            **{f.name: getattr(new, f.name) for f in dataclasses.fields(NewRequest)},
        )
        request = replace(request, requester=requester)
        state.requests[request.id] = request
        return request

    def get(self, request_id: int, *, lock: bool = False) -> Request | None:
        return self._s.requests.get(request_id)

    def transition(
        self,
        request_id: int,
        *,
        expected: RequestStatus,
        new: RequestStatus,
        at: datetime,
        decided_by: str | None = None,
        decision_note: str | None = None,
    ) -> Request | None:
        # Stricter than SQL on purpose: the domain must only ask for moves the table allows.
        check_transition(expected, new)
        state = self._w
        request = state.requests.get(request_id)
        if request is None or request.status is not expected:
            return None
        request = replace(request, status=new, updated_at=at)
        if decided_by is not None:
            request = replace(
                request, decided_by=decided_by, decided_at=at, decision_note=decision_note
            )
        state.requests[request_id] = request
        return request

    def settle(
        self,
        request_id: int,
        *,
        new: RequestStatus,
        actor: str,
        at: datetime,
        note: str | None,
        since: date,
        single_approval: bool,
    ) -> Settled | None:
        before = self._s.requests.get(request_id)
        if (
            before is None
            or before.requester == actor.lower()
            or (single_approval and before.approvals_required != 1)
        ):
            return None
        request = self.transition(
            request_id,
            expected=RequestStatus.PENDING,
            new=new,
            at=at,
            decided_by=actor,
            decision_note=note,
        )
        if request is None:
            return None
        members, usage = self._uow.members, self._uow.usage
        decider = members.get(actor)
        queued = self._uow.operations.queued_cap(request.requester, request.period)
        return Settled(
            request=request,
            requester=members.get(request.requester),
            decider_name=decider.name if decider is not None else None,
            spent_cents=usage.spend_since(request.requester, since),
            requests_made=self.count_of(request.requester),
            queued_cap_cents=queued,
        )

    def mark(
        self,
        request_id: int,
        *,
        reminded_at: datetime | None = None,
        escalated_at: datetime | None = None,
    ) -> None:
        state = self._w
        request = state.requests.get(request_id)
        if request is None:
            return
        if reminded_at is not None:
            request = replace(request, reminded_at=reminded_at)
        if escalated_at is not None:
            request = replace(request, escalated_at=escalated_at)
        state.requests[request_id] = request

    def pending_of(self, requester: str, kind: RequestKind) -> Request | None:
        requester = requester.lower()
        return next(
            (
                r
                for r in self._s.requests.values()
                if r.requester == requester and r.kind is kind and r.status is RequestStatus.PENDING
            ),
            None,
        )

    def list(
        self, *, status: RequestStatus | None = None, requester: str | None = None
    ) -> Sequence[Request]:
        return [
            r
            for _, r in sorted(self._s.requests.items(), reverse=True)
            if (status is None or r.status is status)
            and (requester is None or r.requester == requester.lower())
        ]

    def count_of(self, requester: str) -> int:
        return sum(1 for r in self._s.requests.values() if r.requester == requester.lower())


class FakeDecisions(_Repo):
    def add(self, decision: Decision) -> bool:
        state = self._w
        if any(
            d.request_id == decision.request_id and d.actor == decision.actor
            for d in state.decisions
        ):
            return False
        state.decisions.append(decision)
        return True

    def of(self, request_id: int) -> Sequence[Decision]:
        return [d for d in self._s.decisions if d.request_id == request_id]


class FakeGrants(_Repo):
    def add(
        self,
        *,
        request_id: int,
        email: str,
        kind: RequestKind,
        ends_at: datetime,
        delta_cents: int = 0,
        tier_before: str | None = None,
        tier_after: str | None = None,
        period: Period = Period.MONTHLY,
        cap_before_cents: int | None = None,
        inherited_before: bool = False,
    ) -> Grant:
        state = self._w
        if any(g.request_id == request_id for g in state.grants.values()):
            raise Conflict(f"request {request_id} already has a grant")
        grant = Grant(
            id=state.next_id("grant"),
            request_id=request_id,
            email=email.lower(),
            kind=kind,
            ends_at=ends_at,
            status=GrantStatus.ACTIVE,
            delta_cents=delta_cents,
            tier_before=tier_before,
            tier_after=tier_after,
            period=period,
            cap_before_cents=cap_before_cents,
            inherited_before=inherited_before,
        )
        state.grants[grant.id] = grant
        return grant

    def get(self, grant_id: int) -> Grant | None:
        return self._s.grants.get(grant_id)

    def of_request(self, request_id: int) -> Grant | None:
        return next((g for g in self._s.grants.values() if g.request_id == request_id), None)

    def due(self, now: datetime) -> Sequence[Grant]:
        return [
            g
            for _, g in sorted(self._s.grants.items())
            if g.status is GrantStatus.ACTIVE and g.ends_at <= now
        ]

    def ending_unwarned(self, before: datetime) -> Sequence[Grant]:
        return [
            g
            for _, g in sorted(self._s.grants.items())
            if g.status is GrantStatus.ACTIVE and g.ends_at <= before and g.warned_at is None
        ]

    def transition(self, grant_id: int, *, expected: GrantStatus, new: GrantStatus) -> bool:
        state = self._w
        grant = state.grants.get(grant_id)
        if grant is None or grant.status is not expected:
            return False
        state.grants[grant_id] = replace(grant, status=new)
        return True

    def mark_warned(self, grant_id: int, at: datetime) -> None:
        state = self._w
        if grant_id in state.grants:
            state.grants[grant_id] = replace(state.grants[grant_id], warned_at=at)


class FakeOperations(_Repo):
    def add(self, new: NewOperation) -> Operation:
        state = self._w
        existing = next((o for o in state.operations.values() if o.key == new.key), None)
        if existing is not None:
            return existing
        operation = Operation(
            id=state.next_id("operation"),
            status=OperationStatus.PENDING,
            attempts=0,
            next_attempt_at=new.created_at,
            **{f.name: getattr(new, f.name) for f in dataclasses.fields(NewOperation)},
        )
        state.operations[operation.id] = operation
        return operation

    def get(self, operation_id: int) -> Operation | None:
        return self._s.operations.get(operation_id)

    def claim_due(self, now: datetime, *, lease_until: datetime, limit: int) -> Sequence[Operation]:
        state = self._w
        ordered = [o for _, o in sorted(state.operations.items())]

        def first_in_line(o: Operation) -> bool:
            return not any(
                e.id < o.id and e.email == o.email and e.kind == o.kind and e.status in _UNFINISHED
                for e in ordered
            )

        due = [
            o
            for o in ordered
            if (
                (o.status is OperationStatus.PENDING and o.next_attempt_at <= now)
                or (
                    o.status is OperationStatus.IN_PROGRESS
                    and o.lease_until is not None
                    and o.lease_until <= now
                )
            )
            and first_in_line(o)
        ][:limit]
        claimed = []
        for o in due:
            taken = replace(
                o,
                status=OperationStatus.IN_PROGRESS,
                lease_until=lease_until,
                attempts=o.attempts + 1,
            )
            state.operations[o.id] = taken
            claimed.append(taken)
        return claimed

    def renew(self, held: Mapping[int, int], *, lease_until: datetime) -> Collection[int]:
        renewed = []
        for operation_id, attempts in held.items():
            operation = self._w.operations.get(operation_id)
            if (
                operation is not None
                and operation.status is OperationStatus.IN_PROGRESS
                and operation.attempts == attempts
            ):
                self._w.operations[operation_id] = replace(operation, lease_until=lease_until)
                renewed.append(operation_id)
        return renewed

    def queued_cap(self, email: str, period: Period = Period.MONTHLY) -> int | None:
        for _, o in sorted(self._s.operations.items(), reverse=True):
            if (
                o.email == email
                and o.kind is OperationKind.SET_CAP
                and o.period is period
                and o.status in _UNFINISHED
            ):
                return o.cap_cents
        return None

    def note_inherited(self, operation_id: int, inherited: bool) -> None:
        state = self._w
        operation = state.operations.get(operation_id)
        if operation is not None and operation.inherited_before is None:
            state.operations[operation_id] = replace(operation, inherited_before=inherited)

    def transition(
        self,
        operation_id: int,
        *,
        expected: OperationStatus,
        new: OperationStatus,
        next_attempt_at: datetime | None = None,
        last_error: str | None = None,
        done_by: str | None = None,
        reset_attempts: bool = False,
    ) -> Operation | None:
        state = self._w
        operation = state.operations.get(operation_id)
        if operation is None or operation.status is not expected:
            return None
        operation = replace(operation, status=new, lease_until=None)
        if next_attempt_at is not None:
            operation = replace(operation, next_attempt_at=next_attempt_at)
        if last_error is not None:
            operation = replace(operation, last_error=last_error)
        if done_by is not None:
            operation = replace(operation, done_by=done_by)
        if reset_attempts:
            operation = replace(operation, attempts=0)
        state.operations[operation_id] = operation
        return operation

    def record_attempt(self, attempt: Attempt) -> None:
        self._w.attempts.append(attempt)

    def attempts(self, operation_id: int) -> Sequence[Attempt]:
        return [a for a in self._s.attempts if a.operation_id == operation_id]

    def count(self, status: OperationStatus) -> int:
        return sum(1 for o in self._s.operations.values() if o.status is status)


_PENDING, _SENDING, _DELIVERED, _DROPPED = "pending", "sending", "delivered", "dropped"


class FakeNotifications(_Repo):
    def depth(self) -> int:
        return sum(1 for n in self._s.notifications.values() if n.status in (_PENDING, _SENDING))

    def add(self, outgoing: Outgoing, *, at: datetime) -> None:
        state = self._w
        item = FakeNotification(
            id=state.next_id("notification"),
            outgoing=outgoing,
            status=_PENDING,
            attempts=0,
            created_at=at,
            next_attempt_at=at,
        )
        state.notifications[item.id] = item

    def add_all(
        self,
        outgoing: Sequence[Outgoing],
        *,
        to_threads: Sequence[tuple[str, Message]],
        at: datetime,
    ) -> None:
        copies = [
            Outgoing(recipient=recipient, message=message, thread_key=thread)
            for thread, message in to_threads
            for recipient in self.recipients_of(thread)
        ]
        for one in [*copies, *outgoing]:
            self.add(one, at=at)

    def recipients_of(self, thread_key: str) -> Sequence[Recipient]:
        seen: list[Recipient] = []
        for item in self.all():
            if item.outgoing.thread_key == thread_key and item.outgoing.recipient not in seen:
                seen.append(item.outgoing.recipient)
        return seen

    def claim_due(
        self, now: datetime, *, lease_until: datetime, limit: int
    ) -> Sequence[PendingDelivery]:
        state = self._w
        due = [
            n
            for _, n in sorted(state.notifications.items())
            if (n.status == _PENDING and n.next_attempt_at <= now)
            or (n.status == _SENDING and n.lease_until is not None and n.lease_until <= now)
        ][:limit]
        claimed = []
        for n in due:
            taken = replace(n, status=_SENDING, lease_until=lease_until, attempts=n.attempts + 1)
            state.notifications[n.id] = taken
            claimed.append(_pending(taken))
        return claimed

    def route(
        self, notification_id: int, platforms: Sequence[str], *, lease_until: datetime
    ) -> Sequence[PendingDelivery]:
        state = self._w
        first, *others = platforms
        routed = replace(state.notifications[notification_id], platform=first)
        state.notifications[notification_id] = routed
        legs = [routed]
        for platform in others:
            copy = replace(
                routed,
                id=state.next_id("notification"),
                status=_SENDING,
                lease_until=lease_until,
                platform=platform,
                origin_id=notification_id,
            )
            state.notifications[copy.id] = copy
            legs.append(copy)
        return [_pending(leg) for leg in legs]

    def _update(self, notification_id: int, **values: Any) -> None:
        state = self._w
        if notification_id in state.notifications:
            state.notifications[notification_id] = replace(
                state.notifications[notification_id], lease_until=None, **values
            )

    def delivered(self, notification_id: int, *, ref: str, at: datetime) -> None:
        self._update(notification_id, status=_DELIVERED, ref=ref, delivered_at=at)

    def retry(self, notification_id: int, *, at: datetime, error: str) -> None:
        self._update(notification_id, status=_PENDING, next_attempt_at=at, last_error=error)

    def give_up(self, notification_id: int, *, error: str) -> None:
        self._update(notification_id, status=_DROPPED, last_error=error)

    def newer_in_thread(self, notification_id: int) -> bool:
        row = self._s.notifications[notification_id]
        this = row.outgoing
        return this.thread_key is not None and any(
            _version(n) > _version(row)
            and n.outgoing.thread_key == this.thread_key
            and n.outgoing.recipient == this.recipient
            for n in self._s.notifications.values()
        )

    def refs_of(self, recipient: Recipient, thread_key: str) -> dict[str, str]:
        refs: dict[str, str] = {}
        for item in sorted(self.all(), key=lambda n: (_version(n), n.id)):
            out = item.outgoing
            if (
                out.thread_key == thread_key
                and out.recipient == recipient
                and item.status == _DELIVERED
                and item.platform is not None
                and item.ref is not None
            ):
                refs[item.platform] = item.ref
        return refs

    def all(self) -> list[FakeNotification]:
        return [n for _, n in sorted(self._s.notifications.items())]


def _pending(row: FakeNotification) -> PendingDelivery:
    return PendingDelivery(row.id, row.outgoing, row.attempts, row.platform)


def _version(row: FakeNotification) -> int:
    """Where a message stands in its thread: a copy for another platform stands with its
    origin."""
    return row.origin_id or row.id


class FakeIdentities(_Repo):
    def _member(self, email: str) -> Member | None:
        return self._s.members.get(email.lower())

    def email_of(self, platform: str, external_id: str) -> str | None:
        found = self._s.identities.get((platform, external_id))
        return None if found is None else found.email

    def external_id_of(self, platform: str, email: str) -> str | None:
        return next(
            (
                account
                for (on, account), identity in self._s.identities.items()
                if on == platform and identity.email == email.lower()
            ),
            None,
        )

    def link(
        self,
        platform: str,
        external_id: str,
        email: str,
        *,
        conversation: str | None = None,
        seen_at: datetime | None = None,
    ) -> bool:
        if self._member(email) is None:
            return False
        state = self._w
        email = email.lower()
        kept = state.identities.get((platform, external_id))
        if kept is not None and kept.email != email:
            kept = None
        for key, identity in list(state.identities.items()):
            if key[0] == platform and (identity.email == email or key[1] == external_id):
                del state.identities[key]
        state.identities[(platform, external_id)] = FakeIdentity(
            email=email,
            conversation=conversation or (kept.conversation if kept else None),
            seen_at=seen_at or (kept.seen_at if kept else None),
            linked=state.next_id("identity"),
        )
        return True

    def seen(self, platform: str, external_id: str, *, at: datetime) -> str | None:
        found = self._s.identities.get((platform, external_id))
        if found is None:
            return None
        self._w.identities[(platform, external_id)] = replace(found, seen_at=at)
        return found.email

    def conversation_of(self, platform: str, email: str) -> str | None:
        return next(
            (
                identity.conversation
                for (on, _), identity in self._s.identities.items()
                if on == platform and identity.email == email.lower()
            ),
            None,
        )

    def platforms_of(self, email: str) -> list[str]:
        mine = [
            (platform, identity)
            for (platform, _), identity in self._s.identities.items()
            if identity.email == email.lower()
        ]
        never = datetime.min.replace(tzinfo=UTC)
        mine.sort(key=lambda item: (item[1].seen_at or never, item[1].linked), reverse=True)
        return [platform for platform, _ in mine]


class FakeInbound(_Repo):
    def first_time(self, platform: str, event_id: str, *, at: datetime) -> bool:
        if (platform, event_id) in self._s.inbound:
            return False
        self._w.inbound[(platform, event_id)] = at
        return True

    def forget_before(self, before: datetime) -> int:
        state = self._w
        old = [key for key, at in state.inbound.items() if at < before]
        for key in old:
            del state.inbound[key]
        return len(old)


class FakeAudit(_Repo):
    def append(self, entry: AuditEntry) -> None:
        self._w.audit.append(entry)

    def of(self, subject: str) -> Sequence[AuditEntry]:
        return [e for e in self._s.audit if e.subject == subject]


class FakeAlerts(_Repo):
    """The alert queries answered in Python over the fake store, as the SQL answers them."""

    def _group_of(self) -> dict[str, str]:
        return {m: g.name for g in self._s.groups.values() for m in g.members}

    def _spent(self, since: date, today: date, *, part: str = "spend_cents") -> dict[str, int]:
        totals: dict[str, int] = {}
        for (who, day), row in daily_figures(self._s).items():
            if since <= day <= today:
                totals[who] = totals.get(who, 0) + getattr(row, part)
        return totals

    def _unmatched_spend(self, since: date, today: date) -> dict[str, int]:
        micros: dict[str, int] = {}
        for (_email, day, group), row in self._s.unmatched.items():
            if group and since <= day <= today:
                micros[group] = micros.get(group, 0) + row.cost_micros
        return {group: cents_from_micros(total) for group, total in micros.items()}

    def note_new_seats(self, today: date) -> None:
        state = self._w
        for email in state.members:
            state.first_seen.setdefault(email, today)

    def _members(self, query: MemberQuery) -> Sequence[MemberStanding]:
        state = self._s
        spent = self._spent(query.month_start, query.today)
        estimated = self._spent(query.month_start, query.today, part="estimated_cents")
        last: dict[str, date] = {}
        for (who, day), row in daily_figures(state).items():
            if day <= query.today and (row.spend_cents > 0 or row.commands > 0):
                last[who] = max(day, last.get(who, day))
        groups = self._group_of()
        found = []
        for email, m in sorted(state.members.items()):
            if not m.active:
                continue
            paid = spent.get(email, 0)
            active = last.get(email, state.first_seen.get(email))
            near = (
                query.near_cap_bp is not None
                and m.cap_cents > 0
                and paid * 10000 >= m.cap_cents * query.near_cap_bp
            )
            over = (
                query.forecast_factor is not None
                and m.cap_cents > 0
                and paid * query.forecast_factor > m.cap_cents
            )
            idle = (
                query.idle_since is not None and active is not None and active <= query.idle_since
            )
            if near or over or idle:
                found.append(
                    MemberStanding(
                        email,
                        m.name,
                        groups.get(email),
                        m.cap_cents,
                        paid,
                        active,
                        estimated.get(email, 0),
                    )
                )
        return found

    def standings(self, query: MemberQuery) -> Standings:
        groups = self.groups(month_start=query.month_start, today=query.today)
        return Standings(self._members(query), groups if query.group_totals else ())

    def groups(self, *, month_start: date, today: date) -> Sequence[GroupStanding]:
        spent = self._spent(month_start, today)
        unmatched = self._unmatched_spend(month_start, today)
        return [
            GroupStanding(
                g.name,
                g.budget_cents,
                sum(spent.get(m, 0) for m in g.members) + unmatched.get(g.name, 0),
            )
            for g in sorted(self._s.groups.values(), key=lambda g: g.name)
            if g.budget_cents is not None
        ]

    def hourly_spikes(
        self, hours: Sequence[datetime], *, min_commands: int | None, min_spend_cents: int | None
    ) -> Sequence[HourSpike]:
        wanted = set(hours)
        groups = self._group_of()
        state = self._s
        spikes = []
        for (who, hour), row in sorted(hourly_figures(state).items()):
            member = state.members.get(who)
            if member is None or not member.active or hour not in wanted:
                continue
            if (min_commands is not None and row.commands >= min_commands) or (
                min_spend_cents is not None and row.spend_cents >= min_spend_cents
            ):
                spikes.append(
                    HourSpike(
                        who,
                        member.name,
                        groups.get(who),
                        hour,
                        row.commands,
                        row.spend_cents,
                        estimated=row.estimated,
                    )
                )
        return spikes

    def top_spenders(
        self, *, month_start: date, today: date, limit: int, group: str | None = None
    ) -> Sequence[MemberStanding]:
        groups = self._group_of()
        spent = self._spent(month_start, today)
        estimated = self._spent(month_start, today, part="estimated_cents")
        ranked = sorted(
            (
                MemberStanding(
                    e, m.name, groups.get(e), m.cap_cents, spent[e], None, estimated.get(e, 0)
                )
                for e, m in self._s.members.items()
                if e in spent and (group is None or groups.get(e) == group)
            ),
            key=lambda m: (-m.spent_cents, m.email),
        )
        return ranked[:limit]

    def claim(
        self, firings: Sequence[NewFiring], *, now: datetime, again_after: timedelta | None
    ) -> Sequence[tuple[str, str, str]]:
        state = self._w
        claimed = []
        for key, firing in sorted({f.key: f for f in firings}.items()):
            old = state.firings.get(key)
            if old is not None and (again_after is None or old.record.fired_at > now - again_after):
                continue
            state.firings[key] = FakeFiring(
                FiringRecord(*key, group=firing.group, fired_at=now, details=firing.details),
                admins_waiting=now if firing.admins else None,
                owners_waiting=now if firing.owners else None,
            )
            claimed.append(key)
        return claimed

    def fired(self, rule_id: str, subjects: Collection[str]) -> Sequence[FiringRecord]:
        wanted = set(subjects)
        return [
            f.record
            for key, f in sorted(self._s.firings.items())
            if key[0] == rule_id and key[1] in wanted
        ]

    def take_digest(
        self, audience: Audience, *, now: datetime, group: str | None = None
    ) -> Sequence[FiringRecord]:
        state = self._w
        taken = []
        for key, f in sorted(state.firings.items()):
            since = f.admins_waiting if audience == "admins" else f.owners_waiting
            if since is None or since > now or (group is not None and f.record.group != group):
                continue
            if audience == "admins":
                state.firings[key] = replace(f, admins_waiting=None)
            else:
                state.firings[key] = replace(f, owners_waiting=None)
            taken.append(f.record)
        return sorted(taken, key=lambda r: (r.fired_at, r.key))

    def latest_usage_day(self) -> date | None:
        return max((day for _, day in self._s.daily), default=None)

    def all(self) -> list[FiringRecord]:
        return [f.record for _, f in sorted(self._s.firings.items())]


class FakeUseCases(_Repo):
    def ask(
        self, *, request_id: int, email: str, asked_at: datetime, grant_id: int | None = None
    ) -> UseCaseQuestion | None:
        state = self._w
        if any(q.request_id == request_id for q in state.questions.values()):
            return None
        question = UseCaseQuestion(
            id=state.next_id("question"),
            request_id=request_id,
            email=email.lower(),
            asked_at=asked_at,
            grant_id=grant_id,
        )
        state.questions[question.id] = question
        return question

    def get(self, question_id: int) -> UseCaseQuestion | None:
        return self._s.questions.get(question_id)

    def of_request(self, request_id: int) -> UseCaseQuestion | None:
        return next((q for q in self._s.questions.values() if q.request_id == request_id), None)

    def latest_of(self, email: str) -> UseCaseQuestion | None:
        mine = [q for q in self._s.questions.values() if q.email == email.lower()]
        return max(mine, key=lambda q: (q.asked_at, q.id), default=None)

    def to_remind(self, asked_before: datetime) -> Sequence[UseCaseQuestion]:
        return sorted(
            (
                q
                for q in self._s.questions.values()
                if q.open and q.reminded_at is None and q.asked_at < asked_before
            ),
            key=lambda q: (q.asked_at, q.id),
        )

    def mark_reminded(self, question_id: int, at: datetime) -> None:
        state = self._w
        if question_id in state.questions:
            state.questions[question_id] = replace(state.questions[question_id], reminded_at=at)

    def _close(self, question_id: int, **values: Any) -> UseCaseQuestion | None:
        state = self._w
        question = state.questions.get(question_id)
        if question is None or not question.open:
            return None
        state.questions[question_id] = replace(question, **values)
        return state.questions[question_id]

    def answer(
        self, question_id: int, *, at: datetime, use_case: str, note: str | None = None
    ) -> UseCaseQuestion | None:
        return self._close(question_id, answered_at=at, use_case=use_case, note=note)

    def skip(self, question_id: int, *, at: datetime) -> UseCaseQuestion | None:
        return self._close(question_id, answered_at=at, skipped=True)


class FakeDelegations(_Repo):
    def add(
        self,
        *,
        delegator: str,
        delegate: str | None,
        starts_at: datetime,
        ends_at: datetime,
        created_at: datetime,
    ) -> Delegation:
        state = self._w
        delegation = Delegation(
            id=state.next_id("delegation"),
            delegator=delegator.lower(),
            delegate=None if delegate is None else delegate.lower(),
            starts_at=starts_at,
            ends_at=ends_at,
            created_at=created_at,
        )
        state.delegations[delegation.id] = delegation
        return delegation

    def get(self, delegation_id: int) -> Delegation | None:
        return self._s.delegations.get(delegation_id)

    def in_force(
        self, at: datetime, *, delegators: Collection[str] | None = None
    ) -> Sequence[Delegation]:
        wanted = None if delegators is None else {d.lower() for d in delegators}
        return sorted(
            (
                d
                for d in self._s.delegations.values()
                if d.in_force(at) and (wanted is None or d.delegator in wanted)
            ),
            key=lambda d: (d.delegator, d.id),
        )

    def of(self, delegator: str) -> Sequence[Delegation]:
        mine = [d for d in self._s.delegations.values() if d.delegator == delegator.lower()]
        return sorted(mine, key=lambda d: (d.starts_at, d.id), reverse=True)

    def end(self, delegation_id: int, *, at: datetime) -> Delegation | None:
        state = self._w
        delegation = state.delegations.get(delegation_id)
        if delegation is None or delegation.ended_at is not None or delegation.ends_at <= at:
            return None
        state.delegations[delegation_id] = replace(delegation, ended_at=at)
        return state.delegations[delegation_id]


class FakeSeatPool(_Repo):
    """The pool counted in Python over the fake store, as the SQL counts it."""

    def tiers(
        self, tiers: Sequence[str], *, idle_since: date, idle_limit: int
    ) -> Sequence[TierUse]:
        state = self._s
        last: dict[str, date] = {}
        for (who, day), row in state.daily.items():
            if row.spend_cents > 0 or row.commands > 0:
                last[who] = max(day, last.get(who, day))
        holding = (GrantStatus.ACTIVE, GrantStatus.REVERTING)
        temporary = {
            (g.email, g.tier_after)
            for g in state.grants.values()
            if g.kind is RequestKind.SEAT_UPGRADE and g.status in holding
        }
        coming = {
            (o.email, o.tier)
            for o in state.operations.values()
            if o.kind is OperationKind.SET_TIER
            and o.purpose is OperationPurpose.APPLY
            and o.status is not OperationStatus.DONE
        }
        found = []
        for tier in tiers:
            holders = [m for m in state.members.values() if m.active and m.tier == tier]
            on_the_way = {
                email
                for email, to in coming
                if to == tier
                and email in state.members
                and state.members[email].active
                and state.members[email].tier != tier
            }
            idle = sorted(
                (
                    IdleHolder(m.email, m.name, active, (m.email, tier) in temporary)
                    for m in holders
                    if (active := last.get(m.email, state.first_seen.get(m.email))) is not None
                    and active <= idle_since
                ),
                key=lambda h: (h.last_active, h.email),
            )
            found.append(
                TierUse(
                    tier=tier,
                    in_use=len(holders) + len(on_the_way),
                    held_temporarily=sum((m.email, tier) in temporary for m in holders),
                    idle_count=len(idle),
                    idle=tuple(idle[:idle_limit]),
                )
            )
        return found


class FakeUnitOfWork:
    """The whole store in memory, with transactions that really roll back; one thread at a
    time is in a transaction (the others wait to begin), as SQLite serialises writers."""

    members: MemberRepository
    usage: UsageRepository
    groups: GroupRepository
    requests: RequestRepository
    decisions: DecisionRepository
    grants: GrantRepository
    operations: OperationRepository
    notifications: NotificationRepository
    audit: AuditLog
    alerts: AlertRepository
    telemetry: TelemetryRepository
    use_cases: UseCaseRepository
    delegations: DelegationRepository
    pool: SeatPoolRepository
    identities: IdentityRepository
    inbound: InboundRepository

    def __init__(self, *, members: Iterable[Member] = (), daily: Iterable[DailyUsage] = ()) -> None:
        self._committed = _State()
        self._working: _State | None = None
        self._owner: int | None = None
        """The thread in a transaction; others wait to begin theirs, as on SQLite."""
        self._turn = threading.Condition()
        self.committed = 0
        """How many times `commit()` was called."""
        self._outbox = FakeNotifications(self)
        self.members = FakeMembers(self)
        self.usage = FakeUsage(self)
        self.groups = FakeGroups(self)
        self.requests = FakeRequests(self)
        self.decisions = FakeDecisions(self)
        self.grants = FakeGrants(self)
        self.operations = FakeOperations(self)
        self.notifications = self._outbox
        self.audit = FakeAudit(self)
        self.firings = FakeAlerts(self)
        self.alerts = self.firings
        self.telemetry = FakeTelemetry(self)
        self.use_cases = FakeUseCases(self)
        self.delegations = FakeDelegations(self)
        self.pool = FakeSeatPool(self)
        self.identities = FakeIdentities(self)
        self.inbound = FakeInbound(self)
        for member in members:
            self._committed.members[member.email.lower()] = replace(
                member, email=member.email.lower()
            )
        for row in daily:
            self._committed.daily[(row.email.lower(), row.day)] = row

    def _read(self) -> _State:
        working = self._working
        return working if working is not None and self.in_transaction else self._committed

    def _write(self) -> _State:
        working = self._working
        if working is None or not self.in_transaction:
            raise RuntimeError("a write outside a transaction (use `with uow:`)")
        return working

    @property
    def in_transaction(self) -> bool:
        """Whether the calling thread is in a transaction."""
        return self._owner == threading.get_ident()

    def __enter__(self) -> Self:
        if self.in_transaction:
            raise RuntimeError("FakeUnitOfWork entered twice; transactions do not nest")
        with self._turn:
            self._turn.wait_for(lambda: self._owner is None)
            self._owner = threading.get_ident()
            self._working = self._committed.copy()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._turn:
            self._working = None  # whatever was not committed is gone
            self._owner = None
            self._turn.notify_all()

    def commit(self) -> None:
        working = self._write()
        self._committed = working
        self._working = working.copy()
        self.committed += 1

    def rollback(self) -> None:
        self._write()
        self._working = self._committed.copy()

    def factory(self) -> FakeUnitOfWork:
        """For code that takes a `Callable[[], UnitOfWork]`: every call shares this store."""
        return self

    # What the tests look at: the committed state (or the transaction's, inside one).

    def sent(
        self,
        to: Recipient | str | None = None,
        *,
        thread: str | None = None,
        kind: str | None = None,
    ) -> list[FakeNotification]:
        """Queued messages, oldest first; `to` is a recipient or a member's email."""
        recipient = Recipient.member(to) if isinstance(to, str) else to
        return [
            n
            for n in self._outbox.all()
            if (recipient is None or n.outgoing.recipient == recipient)
            and (thread is None or n.outgoing.thread_key == thread)
            and (kind is None or n.outgoing.message.kind == kind)
        ]

    def all_requests(self) -> list[Request]:
        return [r for _, r in sorted(self._read().requests.items())]

    def all_operations(self) -> list[Operation]:
        return [o for _, o in sorted(self._read().operations.items())]

    def operation(self, key: str) -> Operation:
        found = next((o for o in self._read().operations.values() if o.key == key), None)
        assert found is not None, f"no operation {key}"
        return found

    def all_grants(self) -> list[Grant]:
        return [g for _, g in sorted(self._read().grants.items())]

    def mirrored_group(self, name: str) -> GroupRecord:
        return self._read().groups[name]

    def audit_entries(self, subject: str | None = None) -> list[AuditEntry]:
        return [e for e in self._read().audit if subject is None or e.subject == subject]

    def audit_actions(self, subject: str) -> list[str]:
        return [e.action for e in self.audit_entries(subject)]


def _is_unit_of_work(uow: FakeUnitOfWork) -> UnitOfWork:
    return uow  # mypy checks that the fake implements the port


# --------------------------------------------------------------------------- the admin backend


ALL_CAPABILITIES = frozenset(Capability)


HOLD_TIMEOUT = 60.0
"""Seconds a held write waits at most, so that a test that forgets to release it ends."""


class SimulatedCrash(BaseException):
    """The worker process dies (not an Exception, so nothing in the worker catches it)."""


@dataclass(frozen=True, slots=True)
class Write:
    """One write the connector was asked for."""

    action: str  # set_cap | set_tier | remove_seat
    email: str
    value: int | str | None
    idempotency_key: str


class FakeConnector:
    """An admin backend in memory; each idempotency key takes effect at most once."""

    name = "fake"

    def __init__(
        self,
        *,
        capabilities: Iterable[Capability] = ALL_CAPABILITIES,
        members: Iterable[RemoteMember] = (),
        daily: Iterable[DailyUsage] = (),
        hourly: Iterable[HourlyUsage] = (),
        errors: Iterable[BaseException] = (),
    ) -> None:
        self.capabilities = frozenset(capabilities)
        self.members = {m.email: m for m in members}
        self.daily = list(daily)
        self.hourly = list(hourly)
        self.errors: list[BaseException] = list(errors)
        """Raised one per write, in order, before writes succeed again."""
        self.calls: list[Write] = []
        """Every write asked for, including those that failed or repeated a key."""
        self.applied: dict[str, Write] = {}
        """The writes that took effect, by idempotency key."""
        self.caps: dict[str, int] = {}
        self.tiers: dict[str, str] = {}
        self.removed: set[str] = set()
        self.crash_after_apply = 0
        """How many of the next successful writes kill the worker right after taking effect."""
        self._held: dict[str, threading.Event] = {}
        self._counting = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        """The most writes that were under way at once (the worker's threads make them)."""
        self.started = threading.Semaphore(0)
        """Released once per write as it starts: a test waits on it to know a call is under way."""

    def fail_next(self, *errors: BaseException) -> None:
        self.errors.extend(errors)

    def hold(self, email: str) -> threading.Event:
        """Writes for `email` hang until the returned event is set, as a backend call that
        does not answer; after HOLD_TIMEOUT seconds they fail as a timeout."""
        self._held[email] = threading.Event()
        return self._held[email]

    def list_members(self) -> Iterable[RemoteMember]:
        return list(self.members.values())

    def daily_usage(self, since: date, until: date) -> Iterable[DailyUsage]:
        return [r for r in self.daily if since <= r.day <= until]

    def hourly_usage(self, since: datetime, until: datetime) -> Iterable[HourlyUsage]:
        return [r for r in self.hourly if since <= r.hour < until]

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        self._write(Write("set_cap", email, cap_cents, idempotency_key), Capability.SET_CAP)

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        self._write(Write("set_tier", email, tier, idempotency_key), Capability.SET_TIER)

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        self._write(Write("remove_seat", email, None, idempotency_key), Capability.REMOVE_SEAT)

    def _write(self, write: Write, needs: Capability) -> None:
        with self._counting:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.calls.append(write)
        self.started.release()
        try:
            held = self._held.get(write.email)
            if held is not None and not held.wait(HOLD_TIMEOUT):
                raise TransientConnectorError("the fake backend did not answer in time")
            self._take(write, needs)
        finally:
            with self._counting:
                self.in_flight -= 1

    def _take(self, write: Write, needs: Capability) -> None:
        if needs not in self.capabilities:
            raise UnsupportedOperation(f"the fake backend cannot {write.action}")
        if self.errors:
            raise self.errors.pop(0)
        if write.idempotency_key in self.applied:
            return  # the backend has seen this key: nothing happens twice
        self.applied[write.idempotency_key] = write
        if write.action == "set_cap":
            assert isinstance(write.value, int)
            self.caps[write.email] = write.value
        elif write.action == "set_tier":
            assert isinstance(write.value, str)
            self.tiers[write.email] = write.value
        else:
            self.removed.add(write.email)
        if self.crash_after_apply:
            self.crash_after_apply -= 1
            raise SimulatedCrash(write.idempotency_key)

    def keys_called(self) -> list[str]:
        return [w.idempotency_key for w in self.calls]


# --------------------------------------------------------------------------- the chat platform


@dataclass(frozen=True, slots=True)
class Delivered:
    """One message the platform took."""

    outgoing: Outgoing
    replaces: str | None
    ref: str


class FakeNotifier:
    """A chat platform: posts get a new reference, updates keep the one they replace."""

    def __init__(self, *, failures: Iterable[DeliveryError] = ()) -> None:
        self.failures: list[DeliveryError] = list(failures)
        self.tries: list[Outgoing] = []
        self.delivered: list[Delivered] = []
        self._posted = 0

    def fail_next(self, count: int, *, transient: bool, retry_after: float | None = None) -> None:
        for i in range(count):
            self.failures.append(
                DeliveryError(f"failure {i + 1}", transient=transient, retry_after=retry_after)
            )

    def deliver(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        self.tries.append(outgoing)
        if self.failures:
            raise self.failures.pop(0)
        if replaces is None:
            self._posted += 1
            ref = f"msg-{self._posted}"
        else:
            ref = replaces
        self.delivered.append(Delivered(outgoing, replaces, ref))
        return ref


# --------------------------------------------------------------------------- a small organisation

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
"""A Friday, 10:00 in Berlin."""

ANA = "ana@example.com"  # admin
DANA = "dana@example.com"  # owner of embedded
OMAR = "omar@example.com"  # owner of embedded
ALICE = "alice@example.com"  # member of embedded
BOB = "bob@example.com"  # member of embedded
RITA = "rita@example.com"  # embedded, seat removed
SAM = "sam@example.com"  # sole owner of software
SUE = "sue@example.com"  # member of software
CARL = "carl@example.com"  # owner of hardware (which has a channel)
CLEO = "cleo@example.com"  # member of hardware
NINA = "nina@elsewhere.org"  # in no group

NAMES = {
    ANA: "Ana Admin",
    DANA: "Dana Okafor",
    OMAR: "Omar Haddad",
    ALICE: "Alice Wong",
    BOB: "Bob Stone",
    RITA: "Rita Lenz",
    SAM: "Sam Reyes",
    SUE: "Sue Park",
    CARL: "Carl Nagy",
    CLEO: "Cleo Diaz",
    NINA: "Nina Berg",
}


def org_members() -> list[Member]:
    """Everyone on a standard seat with an $85 cap, except Dana (premium) and Rita (removed)."""
    return [
        Member(
            email=email,
            name=name,
            tier="premium" if email == DANA else "standard",
            cap_cents=8500,
            active=email != RITA,
        )
        for email, name in NAMES.items()
    ]


def org_policy(*, embedded: dict[str, Any] | None = None, **top: Any) -> Policy:
    """The organisation's policy; `embedded` changes that group, `top` the top-level keys."""
    data: dict[str, Any] = {
        "org": {"timezone": "Europe/Berlin"},
        "admins": [ANA],
        "seat_tiers": ["standard", "premium"],
        "groups": [
            {
                "name": "embedded",
                "owners": [DANA, OMAR],
                "members": [ALICE, BOB, RITA, DANA, OMAR],
                "default_cap_usd": 85,
                "max_cap_usd": 400,
                "auto_approve_under_usd": 25,
                **(embedded or {}),
            },
            {
                "name": "software",
                "owners": [SAM],
                "members": [SUE, SAM],
                "default_cap_usd": 85,
                "max_cap_usd": 400,
            },
            {
                "name": "hardware",
                "owners": [CARL],
                "members": [CLEO, CARL],
                "default_cap_usd": 85,
                "max_cap_usd": 400,
                "channel": {"slack": "C0HARDWARE"},
            },
        ],
        "requests": {
            "reminder_after": "4h",
            "escalate_after": "24h",
            "expire_after": "72h",
            "max_duration_days": 90,
        },
    }
    data.update(top)
    return Policy.model_validate(data)


class MaxRandom(random.Random):
    """Full jitter without the jitter: every draw is the top of its range (deterministic)."""

    def uniform(self, a: float, b: float) -> float:
        return b


class LimitsConnector(FakeConnector):
    """A backend like Anthropic's: caps per period that members inherit unless they have their
    own, and increase requests of its own (`InheritedCaps`, `NativeRequestSource`)."""

    name = "anthropic"

    def __init__(self, pending: Iterable[NativeIncreaseRequest] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending = {r.id: r for r in pending}
        self.own: dict[tuple[str, Period], int] = {}
        """(email, period) -> the member's own cap; everyone else inherits."""
        self.looked: list[tuple[str, Period]] = []
        """Every `cap_inherited` question, in order."""
        self.native_writes: list[tuple[str, str, int | None, Period]] = []
        """(action, native id or email, cap, period) of each native or period write."""

    def pending_native_requests(self) -> list[NativeIncreaseRequest]:
        return list(self.pending.values())

    def approve_native(
        self, native_id: str, cap_cents: int, *, period: Period, idempotency_key: str
    ) -> None:
        native = self.pending.pop(native_id)
        self.own[native.email, period] = cap_cents
        self.native_writes.append(("approve", native_id, cap_cents, period))

    def deny_native(self, native_id: str, *, idempotency_key: str) -> None:
        self.pending.pop(native_id, None)
        self.native_writes.append(("deny", native_id, None, Period.MONTHLY))

    def cap_inherited(self, email: str, period: Period) -> bool:
        self.looked.append((email, period))
        return (email, period) not in self.own

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        super().set_cap(email, cap_cents, idempotency_key=idempotency_key)
        self.own[email, Period.MONTHLY] = cap_cents

    def set_period_cap(
        self, email: str, cap_cents: int, period: Period, *, idempotency_key: str
    ) -> None:
        self.own[email, period] = cap_cents
        self.native_writes.append(("set", email, cap_cents, period))

    def inherit_cap(self, email: str, period: Period, *, idempotency_key: str) -> None:
        self.own.pop((email, period), None)
        self.native_writes.append(("inherit", email, None, period))


class World:
    """The domain wired to the fakes, with a clock that moves only when told to."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        members: Iterable[Member] | None = None,
        connector: FakeConnector | None = None,
        start: datetime = T0,
    ) -> None:
        self.policy = policy or org_policy()
        self.clock = ManualClock(start)
        self.uow = FakeUnitOfWork(members=org_members() if members is None else members)
        self.connector = connector or FakeConnector()
        self.notifier = FakeNotifier()
        self.worker = OperationWorker(
            uow_factory=self.uow.factory,
            connector=self.connector,
            policy=self.policy,
            clock=self.clock,
            rng=MaxRandom(),
        )

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, delta: timedelta) -> datetime:
        return self.clock.advance(delta)

    def draft(self, text: str) -> RequestDraft:
        command = parse_command(
            text,
            now=self.now,
            zone=self.policy.org.zone,
            longest_days=self.policy.requests.max_duration_days,
        )
        assert isinstance(command, RequestDraft), command
        return command

    def ask(self, requester: str, text: str) -> Request:
        """`/capdesk <text>` from `requester`, for a raise or an upgrade."""
        return submit_request(
            self.uow, self.policy, requester=requester, draft=self.draft(text), now=self.now
        )

    def approve(self, actor: str, request_id: int) -> Request:
        return decide(
            self.uow,
            self.policy,
            request_id=request_id,
            actor=actor,
            verdict=Verdict.APPROVE,
            now=self.now,
        )

    def deny(self, actor: str, request_id: int, note: str | None = None) -> Request:
        return decide(
            self.uow,
            self.policy,
            request_id=request_id,
            actor=actor,
            verdict=Verdict.DENY,
            now=self.now,
            note=note,
        )

    def cancel(self, actor: str, request_id: int) -> Request:
        return cancel(self.uow, self.policy, request_id=request_id, actor=actor, now=self.now)

    def request(self, request_id: int) -> Request:
        request = self.uow.requests.get(request_id)
        assert request is not None
        return request

    def member(self, email: str) -> Member:
        member = self.uow.members.get(email)
        assert member is not None
        return member

    def deliver(self) -> DeliveryReport:
        return deliver_pending(self.uow.factory, self.notifier, self.clock, rng=MaxRandom())
