"""The store as the domain sees it: repositories and a unit of work (one transaction).

`store/` implements these on SQL; the unit tests use in-memory fakes. A state change is a
compare-and-set: it names the state it expects and reports whether it won.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from workflows.admin import DailyUsage, HourlyUsage
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
    OperationStatus,
    Period,
    Request,
    RequestKind,
    RequestStatus,
    UseCaseQuestion,
)
from workflows.pool.records import TierUse
from workflows.reports.records import (
    AccessData,
    AccessQuery,
    GroupMonth,
    ReviewData,
    ReviewQuery,
    Window,
)
from workflows.telemetry.model import HourFigures, SeriesState, Unmatched, UnmatchedReport


class Conflict(Exception):
    """A write collided with a uniqueness rule (such as one pending request per kind)."""


class MemberRepository(Protocol):
    """Members, their seats and their usage."""

    def get(self, email: str) -> Member | None:
        """The member with this email (any case), or None."""
        ...

    def list(self) -> Sequence[Member]:
        """Every member, by email."""
        ...

    def upsert(self, member: Member) -> None:
        """Insert or replace a member and their seat."""
        ...

    def set_seat(
        self, email: str, *, cap_cents: int | None = None, tier: str | None = None
    ) -> None:
        """Mirror a change applied through the connector."""
        ...

    def deactivate(self, email: str) -> None:
        """Mark the member's seat as removed."""
        ...


@dataclass(frozen=True, slots=True)
class GroupRecord:
    """A group of the policy with its resolved members, mirrored for set-based queries."""

    name: str
    default_cap_cents: int
    max_cap_cents: int
    budget_cents: int | None
    owners: tuple[str, ...]
    members: tuple[str, ...]


class GroupRepository(Protocol):
    """The policy's groups, as last mirrored into the store."""

    def replace_all(self, groups: Sequence[GroupRecord]) -> None:
        """Make the stored groups exactly these."""
        ...


class UsageRepository(Protocol):
    """Usage per member per day and per hour, as synced from the backend."""

    def replace_daily(self, rows: Sequence[DailyUsage]) -> int:
        """Insert or replace each (member, day); re-syncing a day never doubles it."""
        ...

    def replace_hourly(self, rows: Sequence[HourlyUsage]) -> int:
        """Insert or replace each (member, hour)."""
        ...

    def spend_since(self, email: str, since: date) -> int:
        """The member's spend in cents on days from `since` on."""
        ...

    def spend_by_member(self, since: date) -> dict[str, int]:
        """Every member's spend in cents on days from `since` on."""
        ...

    def estimated_since(self, email: str, since: date) -> int:
        """How much of `spend_since` is telemetry's estimate: days the backend has no figure
        for yet."""
        ...


@dataclass(frozen=True, slots=True)
class Settled:
    """A request one decision has just moved out of pending, with what telling everyone about
    it takes, read by the same statement that moved it."""

    request: Request
    """As it is now: in its new state, decided by the actor."""
    requester: Member | None
    decider_name: str | None
    """The actor's name, if they are a member."""
    spent_cents: int
    """The requester's spend since the `since` the decision asked about."""
    requests_made: int
    """How many requests the requester has made, this one included."""
    queued_cap_cents: int | None
    """The cap the newest unfinished set-cap operation for the requester will set, at the
    request's period (`OperationRepository.queued_cap`)."""


class RequestRepository(Protocol):
    """Requests and their state."""

    def add(self, new: NewRequest) -> Request:
        """Store a new pending request and return it with its id."""
        ...

    def get(self, request_id: int, *, lock: bool = False) -> Request | None:
        """A request; with `lock`, held against concurrent writers until the transaction ends."""
        ...

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
        """Compare-and-set: move to `new` only if the state is `expected`; None if it was not.

        Raises IllegalTransition for a move the transition table does not allow.
        """
        ...

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
        """Compare-and-set from pending to `new`, decided by `actor` with `note`, in one round
        trip with the reads that follow a decision; None if the request is not pending (or,
        with `single_approval`, needs more than one approval), and then nothing changed.

        Raises IllegalTransition for a move the transition table does not allow.
        """
        ...

    def mark(
        self,
        request_id: int,
        *,
        reminded_at: datetime | None = None,
        escalated_at: datetime | None = None,
    ) -> None:
        """Record that a reminder or an escalation went out."""
        ...

    def pending_of(self, requester: str, kind: RequestKind) -> Request | None:
        """The requester's pending request of this kind, if any."""
        ...

    def list(
        self, *, status: RequestStatus | None = None, requester: str | None = None
    ) -> Sequence[Request]:
        """Requests, newest first."""
        ...

    def count_of(self, requester: str) -> int:
        """How many requests this person has made."""
        ...


class DecisionRepository(Protocol):
    """Approvers' verdicts."""

    def add(self, decision: Decision) -> bool:
        """Record a verdict; False if this actor already decided on this request."""
        ...

    def of(self, request_id: int) -> Sequence[Decision]:
        """Verdicts on a request, oldest first."""
        ...


class GrantRepository(Protocol):
    """Temporary changes in force."""

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
        """Store an active grant."""
        ...

    def get(self, grant_id: int) -> Grant | None:
        """A grant by id."""
        ...

    def of_request(self, request_id: int) -> Grant | None:
        """The grant a request produced, if any."""
        ...

    def due(self, now: datetime) -> Sequence[Grant]:
        """Active grants whose end has come."""
        ...

    def ending_unwarned(self, before: datetime) -> Sequence[Grant]:
        """Active grants ending before `before` whose holder was not told yet."""
        ...

    def transition(self, grant_id: int, *, expected: GrantStatus, new: GrantStatus) -> bool:
        """Compare-and-set on a grant's state."""
        ...

    def mark_warned(self, grant_id: int, at: datetime) -> None:
        """Record that the holder was told of the end."""
        ...


class OperationRepository(Protocol):
    """The operations outbox."""

    def add(self, new: NewOperation) -> Operation:
        """Queue an operation; a key already queued returns the existing one."""
        ...

    def get(self, operation_id: int) -> Operation | None:
        """An operation by id."""
        ...

    def claim_due(self, now: datetime, *, lease_until: datetime, limit: int) -> Sequence[Operation]:
        """Take due operations (pending and due, or in progress with a lapsed lease) for one worker.

        Claimed operations are in progress until `lease_until` and their attempt count is up by
        one, so a worker that dies mid-call leaves them to be taken again later. An operation
        waits while an earlier one of the same kind for the same person is unfinished, so
        changes to one seat are applied in the order they were decided.
        """
        ...

    def renew(self, held: Mapping[int, int], *, lease_until: datetime) -> Collection[int]:
        """Extend to `lease_until` the leases of operations a worker still holds: `held` maps
        each id to the attempt number the worker claimed it at, so a lease that lapsed and was
        taken over by another worker is left alone. Returns the ids renewed."""
        ...

    def queued_cap(self, email: str, period: Period = Period.MONTHLY) -> int | None:
        """The cap the newest unfinished set-cap operation for this person and period will
        set, if any."""
        ...

    def note_inherited(self, operation_id: int, inherited: bool) -> None:
        """Record, once, whether the cap an apply replaces was inherited (seen just before)."""
        ...

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
        """Compare-and-set on an operation's state."""
        ...

    def record_attempt(self, attempt: Attempt) -> None:
        """Keep the outcome of one try."""
        ...

    def attempts(self, operation_id: int) -> Sequence[Attempt]:
        """Every try of an operation, oldest first."""
        ...

    def count(self, status: OperationStatus) -> int:
        """How many operations are in a state (for the outbox depth)."""
        ...


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """A notification taken from the outbox for delivery."""

    id: int
    outgoing: Outgoing
    attempts: int
    platform: str | None = None
    """The chat platform it goes to; None until delivery picks one (`route`)."""


class NotificationRepository(Protocol):
    """The notifications outbox."""

    def depth(self) -> int:
        """Messages not yet delivered (waiting, being sent or waiting for a retry)."""
        ...

    def add(self, outgoing: Outgoing, *, at: datetime) -> None:
        """Queue a message for delivery."""
        ...

    def recipients_of(self, thread_key: str) -> Sequence[Recipient]:
        """Everyone who was sent a message with this thread key."""
        ...

    def add_all(
        self,
        outgoing: Sequence[Outgoing],
        *,
        to_threads: Sequence[tuple[str, Message]],
        at: datetime,
    ) -> None:
        """Queue `outgoing`, and each `(thread key, message)` of `to_threads` to everyone who
        was sent a message in that thread (a later message in a thread replaces the earlier
        one), in one go."""
        ...

    def claim_due(
        self, now: datetime, *, lease_until: datetime, limit: int
    ) -> Sequence[PendingDelivery]:
        """Take due messages, oldest first, for one delivery worker."""
        ...

    def route(
        self, notification_id: int, platforms: Sequence[str], *, lease_until: datetime
    ) -> Sequence[PendingDelivery]:
        """Send a message taken for delivery to these platforms, one row each: it goes to the
        first, and a copy of it, taken for delivery like it, to each of the others. Returns
        them all, in that order."""
        ...

    def delivered(self, notification_id: int, *, ref: str, at: datetime) -> None:
        """Record where the platform put the message, for later updates."""
        ...

    def retry(self, notification_id: int, *, at: datetime, error: str) -> None:
        """Put a message back for another try at `at`."""
        ...

    def give_up(self, notification_id: int, *, error: str) -> None:
        """Stop trying a message that cannot be delivered."""
        ...

    def refs_of(self, recipient: Recipient, thread_key: str) -> Mapping[str, str]:
        """Where the latest delivered message of a thread to a recipient is, on each platform
        that has it: the platform's reference to it, by platform."""
        ...

    def newer_in_thread(self, notification_id: int) -> bool:
        """Whether a later message (not a copy of this one) went to the same recipient in the
        same thread."""
        ...


class IdentityRepository(Protocol):
    """Who is who on each chat platform: a member's account there, once it was found."""

    def email_of(self, platform: str, external_id: str) -> str | None:
        """The member behind a platform account, if it was linked before."""
        ...

    def external_id_of(self, platform: str, email: str) -> str | None:
        """The platform account of a member, if it was linked before."""
        ...

    def link(
        self,
        platform: str,
        external_id: str,
        email: str,
        *,
        conversation: str | None = None,
        seen_at: datetime | None = None,
    ) -> bool:
        """Remember that `external_id` is this member (with the platform's reference to their
        conversation with the bot, if it has one, and when they were last seen there); False
        when no member has that email."""
        ...

    def seen(self, platform: str, external_id: str, *, at: datetime) -> str | None:
        """Record that the account used capdesk at `at`; the member's email, if linked."""
        ...

    def conversation_of(self, platform: str, email: str) -> str | None:
        """The platform's reference to the member's conversation with the bot, if kept."""
        ...

    def platforms_of(self, email: str) -> Sequence[str]:
        """The platforms the member has an account linked on, the one they used last first."""
        ...


class InboundRepository(Protocol):
    """Ids a chat platform gives once (events, triggers, activities), as received."""

    def first_time(self, platform: str, event_id: str, *, at: datetime) -> bool:
        """Record the id; False when it was recorded before (by this or another replica)."""
        ...

    def forget_before(self, before: datetime) -> int:
        """Drop ids received before `before`; platforms stop redelivering after minutes."""
        ...


class AlertRepository(Protocol):
    """The store as the alert rules see it: candidates found by set-based SQL, firings kept."""

    def note_new_seats(self, today: date) -> None:
        """Remember `today` as the first day of every seat not seen before (idle-seat clock)."""
        ...

    def standings(self, query: MemberQuery) -> Standings:
        """Active members meeting any one of the query's conditions, by email; with
        `query.group_totals`, every budgeted group's spend too (as `groups()` sums it)."""
        ...

    def groups(self, *, month_start: date, today: date) -> Sequence[GroupStanding]:
        """Every group with a budget and its members' spend from `month_start` to `today`."""
        ...

    def hourly_spikes(
        self, hours: Sequence[datetime], *, min_commands: int | None, min_spend_cents: int | None
    ) -> Sequence[HourSpike]:
        """Active members' usage in any of `hours` (UTC starts) at or over either limit."""
        ...

    def top_spenders(
        self, *, month_start: date, today: date, limit: int, group: str | None = None
    ) -> Sequence[MemberStanding]:
        """The members who spent most this month (of one group, if given), biggest first."""
        ...

    def claim(
        self, firings: Sequence[NewFiring], *, now: datetime, again_after: timedelta | None
    ) -> Sequence[tuple[str, str, str]]:
        """Record firings and return the keys that fire now.

        A key fires when it is new, or when it last fired at least `again_after` ago (with None,
        never again). Concurrent transactions claiming one key: exactly one of them gets it.
        A key that fires again waits for its digests again.
        """
        ...

    def fired(self, rule_id: str, subjects: Collection[str]) -> Sequence[FiringRecord]:
        """Stored firings of a rule about any of these subjects."""
        ...

    def take_digest(
        self, audience: Audience, *, now: datetime, group: str | None = None
    ) -> Sequence[FiringRecord]:
        """The firings waiting for an audience's digest (the owners': of `group`), oldest first.

        They stop waiting: a digest that is taken once is never taken again.
        """
        ...

    def latest_usage_day(self) -> date | None:
        """The newest day with synced usage, if any."""
        ...


class TelemetryRepository(Protocol):
    """Claude Code's telemetry as counted: hourly figures per member, the series already seen,
    batches already received, and what came from e-mails no member has.

    The backend's own figures live in `UsageRepository`; queries that read usage take the
    backend's figure for a member's day (or hour) where there is one, else telemetry's.
    """

    def first_time(self, digest: str, *, at: datetime) -> bool:
        """Record a batch's digest; False when it was received before (a resend)."""
        ...

    def lock_series(self, keys: Sequence[str]) -> dict[str, SeriesState]:
        """The state of each series, held against concurrent writers until the transaction
        ends; a series never seen is `NEW_SERIES`."""
        ...

    def save_series(self, states: Mapping[str, SeriesState], *, at: datetime) -> None:
        """Keep where each of these series now is."""
        ...

    def member_emails(self, emails: Collection[str]) -> set[str]:
        """Those of `emails` (lower case) that belong to a member."""
        ...

    def add_hours(self, figures: Sequence[HourFigures], *, at: datetime) -> None:
        """Add to each member's figures of each hour."""
        ...

    def note_unmatched(self, rows: Sequence[Unmatched], *, at: datetime) -> None:
        """Add to the counts of e-mails no member has."""
        ...

    def hours(self, email: str, since: datetime) -> Sequence[HourFigures]:
        """A member's hourly figures from `since` on, oldest first."""
        ...

    def unmatched_to_report(self, *, now: datetime) -> Sequence[UnmatchedReport]:
        """E-mails no member has that sent telemetry since the admins were last told (each
        once, most points first); they count as told from `now`."""
        ...

    def forget(self, *, batches_before: datetime, series_before: datetime) -> int:
        """Drop batch digests received before `batches_before` and series not seen since
        `series_before`; how many rows went."""
        ...


class UseCaseRepository(Protocol):
    """ "What was the extra for?": one question per grant or permanent raise, and its answer."""

    def ask(
        self, *, request_id: int, email: str, asked_at: datetime, grant_id: int | None = None
    ) -> UseCaseQuestion | None:
        """Record that the question went out; None when it was asked for this request already
        (it is asked once, however many times this runs)."""
        ...

    def get(self, question_id: int) -> UseCaseQuestion | None:
        """A question by id."""
        ...

    def of_request(self, request_id: int) -> UseCaseQuestion | None:
        """The question asked about a request's grant or raise, if any."""
        ...

    def latest_of(self, email: str) -> UseCaseQuestion | None:
        """The member's most recent question, answered or not ("Last time: ...")."""
        ...

    def to_remind(self, asked_before: datetime) -> Sequence[UseCaseQuestion]:
        """Open questions asked before `asked_before` and not reminded yet, oldest first."""
        ...

    def mark_reminded(self, question_id: int, at: datetime) -> None:
        """Record the one reminder."""
        ...

    def answer(
        self, question_id: int, *, at: datetime, use_case: str, note: str | None = None
    ) -> UseCaseQuestion | None:
        """Compare-and-set: answer an open question; None if it was answered or skipped."""
        ...

    def skip(self, question_id: int, *, at: datetime) -> UseCaseQuestion | None:
        """Compare-and-set: record an open question as skipped; None if it was not open."""
        ...


class DelegationRepository(Protocol):
    """Owners and admins away, and who gets their approval cards meanwhile."""

    def add(
        self,
        *,
        delegator: str,
        delegate: str | None,
        starts_at: datetime,
        ends_at: datetime,
        created_at: datetime,
    ) -> Delegation:
        """Store a delegation (`delegate` None: to the group's other owners or the admins)."""
        ...

    def get(self, delegation_id: int) -> Delegation | None:
        """A delegation by id."""
        ...

    def in_force(
        self, at: datetime, *, delegators: Collection[str] | None = None
    ) -> Sequence[Delegation]:
        """Delegations in force at `at` (of these delegators, if given), by delegator."""
        ...

    def of(self, delegator: str) -> Sequence[Delegation]:
        """A person's delegations, newest first."""
        ...

    def end(self, delegation_id: int, *, at: datetime) -> Delegation | None:
        """Compare-and-set: end a delegation early (`back`); None if it was not in force."""
        ...


class SeatPoolRepository(Protocol):
    """The seats of each tier, counted in the store."""

    def tiers(
        self, tiers: Sequence[str], *, idle_since: date, idle_limit: int
    ) -> Sequence[TierUse]:
        """Each of `tiers`, in that order: seats in use and held temporarily, and the holders
        last active on or before `idle_since`, longest idle first (at most `idle_limit`)."""
        ...


class ReportRepository(Protocol):
    """The reports' figures, each computed by set-based queries."""

    def review(self, query: ReviewQuery) -> ReviewData:
        """The quarterly review's figures, per group (of `query.group` alone, if given)."""
        ...

    def chargeback(self, window: Window) -> Sequence[GroupMonth]:
        """Every group's month for chargeback, by group name (members in no group last)."""
        ...

    def access(self, query: AccessQuery) -> AccessData:
        """Every active seat with what gave it, and the elevations since `query.since`."""
        ...


class AuditLog(Protocol):
    """The append-only audit log."""

    def append(self, entry: AuditEntry) -> None:
        """Add an entry; entries are never changed or removed."""
        ...

    def of(self, subject: str) -> Sequence[AuditEntry]:
        """Entries about one subject, oldest first."""
        ...


class UnitOfWork(Protocol):
    """One transaction over every repository; nothing is kept unless `commit` is called."""

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

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make the transaction's changes durable."""
        ...

    def rollback(self) -> None:
        """Drop the transaction's changes."""
        ...


class ReportingUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that also computes the reports (the SQL store does; the domain's unit
    tests have no use for it)."""

    reports: ReportRepository
