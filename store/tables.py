"""The tables. Every schema change goes through a migration in `store/migrations`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime, enum_column
from workflows.model import (
    CHAT_SOURCE,
    GrantStatus,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    Period,
    RequestKind,
    RequestStatus,
    Verdict,
)


def _utc(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index)


_MONTHLY = {"server_default": Period.MONTHLY.value}


class MemberRow(SQLModel, table=True):
    """A person known to the admin backend; the email (lower case) is their identity."""

    __tablename__ = "member"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    external_id: str = Field(default="", max_length=200)
    active: bool = True
    first_seen: date | None = None
    """The day the alert rules first saw the seat: its idle clock when it was never used."""
    backend_groups: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    """The ids and names of the backend's groups (Claude Enterprise groups) they are in."""


class SeatRow(SQLModel, table=True):
    """A member's seat: tier and monthly cap."""

    __tablename__ = "seat"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    tier: str = Field(max_length=32)
    cap_cents: int


class ChatIdentityRow(SQLModel, table=True):
    """A member's account on a chat platform (Slack user id, Teams AAD object id)."""

    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=200)
    conversation: str | None = Field(default=None, sa_type=Text)
    """The platform's reference to the member's conversation with the bot (a Teams
    conversation reference, as JSON), for platforms that need one to write first."""
    seen_at: datetime | None = _utc(nullable=True)
    """When the member last used capdesk on this platform: messages go where they are."""


class InboundEventRow(SQLModel, table=True):
    """An event a chat platform delivered; its key makes a platform's redelivery a no-op."""

    __tablename__ = "inbound_event"
    platform: str = Field(primary_key=True, max_length=16)
    event_id: str = Field(primary_key=True, max_length=200)
    received_at: datetime = _utc(index=True)


class DeliveryAgentRow(SQLModel, table=True):
    """A running `capdesk serve` that delivers the notifications outbox to a chat platform.

    One-off commands on the same database leave their messages to it while it is seen.
    """

    __tablename__ = "delivery_agent"
    id: str = Field(primary_key=True, max_length=64)
    platform: str = Field(max_length=32)
    seen_at: datetime = _utc()


class GroupRow(SQLModel, table=True):
    """A group as the policy defines it, mirrored for set-based queries."""

    __tablename__ = "member_group"
    name: str = Field(primary_key=True, max_length=64)
    default_cap_cents: int
    max_cap_cents: int
    budget_cents: int | None = None


class GroupOwnerRow(SQLModel, table=True):
    __tablename__ = "group_owner"
    group_name: str = Field(foreign_key="member_group.name", primary_key=True, max_length=64)
    email: str = Field(primary_key=True, max_length=320)


class GroupMemberRow(SQLModel, table=True):
    __tablename__ = "group_member"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    group_name: str = Field(foreign_key="member_group.name", index=True, max_length=64)


class UsageDailyRow(SQLModel, table=True):
    __tablename__ = "usage_daily"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    day: date = Field(primary_key=True)
    spend_cents: int
    commands: int


class UsageHourlyRow(SQLModel, table=True):
    __tablename__ = "usage_hourly"
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    spend_cents: int
    commands: int


def _count() -> Any:
    return Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})


class TelemetryHourRow(SQLModel, table=True):
    """A member's usage in one hour as Claude Code's telemetry reported it (client-side
    estimates); a backend's own figures in `usage_daily` and `usage_hourly` win over it."""

    __tablename__ = "telemetry_hourly"
    __table_args__ = (Index("ix_telemetry_hourly_day", "day", "member_id"),)
    member_id: int = Field(foreign_key="member.id", primary_key=True)
    hour: datetime = Field(sa_type=UTCDateTime, primary_key=True)
    day: date
    """The hour's UTC day, as the backends' daily figures are."""
    cost_micros: int = _count()
    tokens_input: int = _count()
    tokens_output: int = _count()
    tokens_cache_read: int = _count()
    tokens_cache_creation: int = _count()
    sessions: int = _count()
    lines_added: int = _count()
    lines_removed: int = _count()
    commits: int = _count()
    pull_requests: int = _count()
    active_ms: int = _count()
    prompts: int = _count()
    tool_runs: int = _count()
    updated_at: datetime = _utc()


class TelemetrySeriesRow(SQLModel, table=True):
    """Where a telemetry series was last seen: a metric's points, or a session's events."""

    __tablename__ = "telemetry_series"
    key: str = Field(primary_key=True, max_length=32)
    start_ns: int = Field(default=0, sa_type=BigInteger)
    position: int = Field(default=0, sa_type=BigInteger)
    value: float = Field(default=0.0, sa_type=Float)
    seen_at: datetime = _utc(index=True)


class TelemetryBatchRow(SQLModel, table=True):
    """An export request already counted, by the digest of its body."""

    __tablename__ = "telemetry_batch"
    digest: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _utc(index=True)


class TelemetryUnmatchedRow(SQLModel, table=True):
    """Telemetry from an e-mail no member has ("" for none), per day and the group a resource
    attribute put it in ("" for none): counted for the admins, not dropped."""

    __tablename__ = "telemetry_unmatched"
    email: str = Field(primary_key=True, max_length=320)
    day: date = Field(primary_key=True)
    group_name: str = Field(primary_key=True, max_length=64)
    points: int = _count()
    cost_micros: int = _count()
    first_seen: datetime = _utc()
    last_seen: datetime = _utc()
    reported_at: datetime | None = _utc(nullable=True)


class RequestRow(SQLModel, table=True):
    """A request; at most one pending per requester and kind (a partial unique index)."""

    __tablename__ = "request"
    __table_args__ = (
        Index(
            "uq_request_one_pending",
            "requester",
            "kind",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    requester: str = Field(max_length=320, index=True)
    group_name: str = Field(max_length=64)
    kind: RequestKind = Field(sa_type=enum_column(RequestKind))
    reason: str = Field(max_length=500)
    status: RequestStatus = Field(sa_type=enum_column(RequestStatus), index=True)
    created_at: datetime = _utc(index=True)
    updated_at: datetime = _utc()
    approvals_required: int = 1
    cap_before_cents: int
    tier_before: str = Field(max_length=32)
    amount_cents: int | None = None
    new_cap_cents: int | None = None
    target_tier: str | None = Field(default=None, max_length=32)
    ends_at: datetime | None = _utc(nullable=True)
    source: str = Field(default=CHAT_SOURCE, max_length=200)
    period: Period = Field(
        default=Period.MONTHLY, sa_type=enum_column(Period), sa_column_kwargs=_MONTHLY
    )
    reminded_at: datetime | None = _utc(nullable=True)
    escalated_at: datetime | None = _utc(nullable=True)
    decided_by: str | None = Field(default=None, max_length=320)
    decided_at: datetime | None = _utc(nullable=True)
    decision_note: str | None = Field(default=None, max_length=500)


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("request_id", "actor"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id")
    actor: str = Field(max_length=320)
    verdict: Verdict = Field(sa_type=enum_column(Verdict))
    at: datetime = _utc()
    note: str | None = Field(default=None, max_length=500)


class GrantRow(SQLModel, table=True):
    __tablename__ = "access_grant"
    __table_args__ = (Index("ix_grant_status_ends", "status", "ends_at"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", unique=True)
    email: str = Field(max_length=320)
    kind: RequestKind = Field(sa_type=enum_column(RequestKind))
    ends_at: datetime = _utc()
    status: GrantStatus = Field(sa_type=enum_column(GrantStatus))
    delta_cents: int = 0
    tier_before: str | None = Field(default=None, max_length=32)
    tier_after: str | None = Field(default=None, max_length=32)
    warned_at: datetime | None = _utc(nullable=True)
    period: Period = Field(
        default=Period.MONTHLY, sa_type=enum_column(Period), sa_column_kwargs=_MONTHLY
    )
    cap_before_cents: int | None = None
    inherited_before: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class OperationRow(SQLModel, table=True):
    """The operations outbox: changes to make through the admin connector."""

    __tablename__ = "operation"
    __table_args__ = (
        Index("ix_operation_due", "status", "next_attempt_at"),
        # A person's operations of one kind: what the queue will leave their cap at, and
        # whether an earlier change to the same seat is still unfinished (claiming waits).
        Index("ix_operation_person", "email", "kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: OperationKind = Field(sa_type=enum_column(OperationKind))
    purpose: OperationPurpose = Field(sa_type=enum_column(OperationPurpose))
    email: str = Field(max_length=320)
    status: OperationStatus = Field(sa_type=enum_column(OperationStatus))
    attempts: int = 0
    created_at: datetime = _utc()
    next_attempt_at: datetime = _utc()
    lease_until: datetime | None = _utc(nullable=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    grant_id: int | None = Field(default=None, foreign_key="access_grant.id")
    cap_cents: int | None = None
    tier: str | None = Field(default=None, max_length=32)
    period: Period = Field(
        default=Period.MONTHLY, sa_type=enum_column(Period), sa_column_kwargs=_MONTHLY
    )
    inherit: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    inherited_before: bool | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    done_by: str | None = Field(default=None, max_length=320)


class OperationAttemptRow(SQLModel, table=True):
    __tablename__ = "operation_attempt"
    id: int | None = Field(default=None, primary_key=True)
    operation_id: int = Field(foreign_key="operation.id", index=True)
    number: int
    at: datetime = _utc()
    outcome: str = Field(max_length=32)
    error: str | None = Field(default=None, sa_type=Text)


class NotificationRow(SQLModel, table=True):
    """The notifications outbox: chat-neutral messages on their way to a platform."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        Index("ix_notification_thread", "thread_key", "recipient_kind", "recipient_address"),
    )
    id: int | None = Field(default=None, primary_key=True)
    recipient_kind: str = Field(max_length=16)
    recipient_address: str = Field(max_length=320)
    thread_key: str | None = Field(default=None, max_length=200)
    message: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)
    attempts: int = 0
    created_at: datetime = _utc()
    next_attempt_at: datetime = _utc()
    lease_until: datetime | None = _utc(nullable=True)
    delivered_at: datetime | None = _utc(nullable=True)
    ref: str | None = Field(default=None, max_length=400)
    last_error: str | None = Field(default=None, sa_type=Text)
    platform: str | None = Field(default=None, max_length=16)
    """The chat platform it goes to, picked at delivery; `ref` is that platform's."""
    origin_id: int | None = None
    """The message this row is a copy of, for another platform (a channel on two)."""


class AlertFiringRow(SQLModel, table=True):
    """A rule that fired for a subject in a period; the key makes cooldowns hold everywhere."""

    __tablename__ = "alert_firing"
    __table_args__ = (
        UniqueConstraint("rule_id", "subject", "period"),
        # Only the few firings still waiting for a digest are indexed.
        Index(
            "ix_alert_firing_admins_waiting",
            "admins_waiting_since",
            sqlite_where=text("admins_waiting_since IS NOT NULL"),
            postgresql_where=text("admins_waiting_since IS NOT NULL"),
        ),
        Index(
            "ix_alert_firing_owners_waiting",
            "group_name",
            sqlite_where=text("owners_waiting_since IS NOT NULL"),
            postgresql_where=text("owners_waiting_since IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    rule_id: str = Field(max_length=64)
    subject: str = Field(max_length=320)
    period: str = Field(max_length=64)
    fired_at: datetime = _utc(index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    group_name: str | None = Field(default=None, max_length=64)
    admins_waiting_since: datetime | None = _utc(nullable=True)
    """Set while the firing waits for the admins' digest."""
    owners_waiting_since: datetime | None = _utc(nullable=True)
    """Set while the firing waits for its group owners' digest."""


class AuditRow(SQLModel, table=True):
    """The audit log; database triggers refuse updates and deletes."""

    __tablename__ = "audit_log"
    # The reports look for one kind of entry (every grant applied or reverted) over a period.
    __table_args__ = (Index("ix_audit_action_at", "action", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc()
    actor: str = Field(max_length=320)
    action: str = Field(max_length=64)
    subject: str = Field(max_length=200, index=True)
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class UseCaseQuestionRow(SQLModel, table=True):
    """What a grant or a permanent raise was used for: one question per request."""

    __tablename__ = "use_case_question"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", unique=True)
    grant_id: int | None = Field(default=None, foreign_key="access_grant.id")
    email: str = Field(max_length=320, index=True)
    asked_at: datetime = _utc(index=True)
    reminded_at: datetime | None = _utc(nullable=True)
    answered_at: datetime | None = _utc(nullable=True)
    use_case: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    skipped: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class DelegationRow(SQLModel, table=True):
    """An owner or admin away, and to whom their approval cards go meanwhile."""

    __tablename__ = "delegation"
    __table_args__ = (Index("ix_delegation_delegator_ends", "delegator", "ends_at"),)
    id: int | None = Field(default=None, primary_key=True)
    delegator: str = Field(max_length=320)
    delegate: str | None = Field(default=None, max_length=320)
    starts_at: datetime = _utc()
    ends_at: datetime = _utc(index=True)
    created_at: datetime = _utc()
    ended_at: datetime | None = _utc(nullable=True)


class SandboxSeatRow(SQLModel, table=True):
    """Changes applied to the sandbox backend, so they outlive the process."""

    __tablename__ = "sandbox_seat"
    email: str = Field(primary_key=True, max_length=320)
    tier: str | None = Field(default=None, max_length=32)
    cap_cents: int | None = None
    removed: bool = False


class SandboxAppliedKeyRow(SQLModel, table=True):
    """Idempotency keys the sandbox backend has applied."""

    __tablename__ = "sandbox_applied_key"
    key: str = Field(primary_key=True, max_length=200)
    email: str = Field(max_length=320)


def table(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for set-based statements."""
    found = getattr(model, "__table__", None)
    if not isinstance(found, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return found
