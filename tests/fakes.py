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
from collections.abc import Collection, Iterable, Sequence
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
from workflows.messages import Outgoing, Recipient
from workflows.model import (
    Attempt,
    AuditEntry,
    Decision,
    Grant,
    GrantStatus,
    Member,
    NewOperation,
    NewRequest,
    Operation,
    OperationKind,
    OperationStatus,
    Period,
    Request,
    RequestKind,
    RequestStatus,
    Verdict,
    check_transition,
)
from workflows.policy import Policy
from workflows.ports import (
    AlertRepository,
    AuditLog,
    Conflict,
    DecisionRepository,
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
    UnitOfWork,
    UsageRepository,
)
from workflows.requests.asking import submit_request
from workflows.requests.deciding import cancel, decide
from workflows.requests.grammar import RequestDraft, parse_command

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
            for (who, day), r in self._s.daily.items()
            if who == email and day >= since
        )

    def spend_by_member(self, since: date) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (who, day), r in self._s.daily.items():
            if day >= since:
                totals[who] = totals.get(who, 0) + r.spend_cents
        return totals


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

    def _spent(self, since: date, today: date) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (who, day), row in self._s.daily.items():
            if since <= day <= today:
                totals[who] = totals.get(who, 0) + row.spend_cents
        return totals

    def note_new_seats(self, today: date) -> None:
        state = self._w
        for email in state.members:
            state.first_seen.setdefault(email, today)

    def _members(self, query: MemberQuery) -> Sequence[MemberStanding]:
        state = self._s
        spent = self._spent(query.month_start, query.today)
        last: dict[str, date] = {}
        for (who, day), row in state.daily.items():
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
                    MemberStanding(email, m.name, groups.get(email), m.cap_cents, paid, active)
                )
        return found

    def standings(self, query: MemberQuery) -> Standings:
        groups = self.groups(month_start=query.month_start, today=query.today)
        return Standings(self._members(query), groups if query.group_totals else ())

    def groups(self, *, month_start: date, today: date) -> Sequence[GroupStanding]:
        spent = self._spent(month_start, today)
        return [
            GroupStanding(g.name, g.budget_cents, sum(spent.get(m, 0) for m in g.members))
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
        for (who, hour), row in sorted(state.hourly.items()):
            member = state.members.get(who)
            if member is None or not member.active or hour not in wanted:
                continue
            if (min_commands is not None and row.commands >= min_commands) or (
                min_spend_cents is not None and row.spend_cents >= min_spend_cents
            ):
                spikes.append(
                    HourSpike(
                        who, member.name, groups.get(who), hour, row.commands, row.spend_cents
                    )
                )
        return spikes

    def top_spenders(
        self, *, month_start: date, today: date, limit: int, group: str | None = None
    ) -> Sequence[MemberStanding]:
        groups = self._group_of()
        spent = self._spent(month_start, today)
        ranked = sorted(
            (
                MemberStanding(e, m.name, groups.get(e), m.cap_cents, spent[e], None)
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


class FakeUnitOfWork:
    """The whole store in memory, with transactions that really roll back."""

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
    identities: IdentityRepository
    inbound: InboundRepository

    def __init__(self, *, members: Iterable[Member] = (), daily: Iterable[DailyUsage] = ()) -> None:
        self._committed = _State()
        self._working: _State | None = None
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
        self.identities = FakeIdentities(self)
        self.inbound = FakeInbound(self)
        for member in members:
            self._committed.members[member.email.lower()] = replace(
                member, email=member.email.lower()
            )
        for row in daily:
            self._committed.daily[(row.email.lower(), row.day)] = row

    def _read(self) -> _State:
        return self._working if self._working is not None else self._committed

    def _write(self) -> _State:
        if self._working is None:
            raise RuntimeError("a write outside a transaction (use `with uow:`)")
        return self._working

    @property
    def in_transaction(self) -> bool:
        return self._working is not None

    def __enter__(self) -> Self:
        if self._working is not None:
            raise RuntimeError("FakeUnitOfWork entered twice; transactions do not nest")
        self._working = self._committed.copy()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None  # whatever was not committed is gone

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

    def fail_next(self, *errors: BaseException) -> None:
        self.errors.extend(errors)

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
        self.calls.append(write)
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
