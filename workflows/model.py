"""The domain's records: members, requests, decisions, grants, operations and audit entries.

They are immutable snapshots; changes go through the repositories in `workflows.ports`, so
every state change is a compare-and-set in the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from typing import Any

from workflows.money import format_usd

POLICY_ACTOR = "policy"
SYSTEM_ACTOR = "capdesk"


@dataclass(frozen=True, slots=True)
class Member:
    """A person with a seat, as last synced from the admin backend."""

    email: str
    name: str
    tier: str
    cap_cents: int
    active: bool = True
    external_id: str = ""
    backend_groups: tuple[str, ...] = ()
    """The ids and names of the backend's own groups they are in (Claude Enterprise groups)."""


class Period(StrEnum):
    """The window a spend cap resets over; capdesk's own caps are monthly."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    @property
    def per(self) -> str:
        """`a week`, as in `+$40 a week`."""
        return {"daily": "a day", "weekly": "a week", "monthly": "a month"}[self.value]

    @property
    def _per_year(self) -> int:
        return {"daily": 365, "weekly": 52, "monthly": 12}[self.value]

    def spread(self, monthly_cents: int) -> int:
        """A monthly amount spread over this period, to the cent (rounded down)."""
        return monthly_cents * 12 // self._per_year

    def from_monthly(self, cents: int) -> int:
        """A monthly cap or step spread over this period, in whole dollars (at least $1)."""
        if self is Period.MONTHLY:
            return cents
        return max(100, round(Fraction(cents * 12, self._per_year) / 100) * 100)


CHAT_SOURCE = "chat"
"""Where a request came from when a person asked in chat (others name a backend)."""


class RequestKind(StrEnum):
    CAP_INCREASE = "cap_increase"
    SEAT_UPGRADE = "seat_upgrade"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    APPLYING = "applying"
    APPLIED = "applied"
    REVERTED = "reverted"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset(
        {
            RequestStatus.APPROVED,
            RequestStatus.DENIED,
            RequestStatus.CANCELLED,
            RequestStatus.EXPIRED,
        }
    ),
    RequestStatus.APPROVED: frozenset({RequestStatus.APPLYING}),
    RequestStatus.APPLYING: frozenset({RequestStatus.APPLIED, RequestStatus.FAILED}),
    RequestStatus.FAILED: frozenset({RequestStatus.APPLYING}),
    RequestStatus.APPLIED: frozenset({RequestStatus.REVERTED}),
    RequestStatus.REVERTED: frozenset(),
    RequestStatus.DENIED: frozenset(),
    RequestStatus.CANCELLED: frozenset(),
    RequestStatus.EXPIRED: frozenset(),
}
"""Every allowed move of a request's state; anything else is refused."""


class IllegalTransition(Exception):
    """A move that the transition table does not allow."""


def check_transition(current: RequestStatus, new: RequestStatus) -> None:
    """Raise IllegalTransition unless `current → new` is in the table."""
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(f"a request cannot go from {current} to {new}")


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A validated request, before the store gives it an id."""

    requester: str
    group: str
    kind: RequestKind
    reason: str
    created_at: datetime
    approvals_required: int
    cap_before_cents: int
    tier_before: str
    amount_cents: int | None = None
    new_cap_cents: int | None = None
    target_tier: str | None = None
    ends_at: datetime | None = None
    source: str = CHAT_SOURCE
    period: Period = Period.MONTHLY
    """The cap's window: a native request asks for more on the period the member hit."""


@dataclass(frozen=True, slots=True)
class Request:
    """A request and where it stands."""

    id: int
    requester: str
    group: str
    kind: RequestKind
    reason: str
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    approvals_required: int
    cap_before_cents: int
    tier_before: str
    amount_cents: int | None = None
    new_cap_cents: int | None = None
    target_tier: str | None = None
    ends_at: datetime | None = None
    source: str = CHAT_SOURCE
    period: Period = Period.MONTHLY
    reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None

    @property
    def temporary(self) -> bool:
        return self.ends_at is not None

    @property
    def ref(self) -> str:
        return f"#{self.id}"


class Verdict(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Decision:
    """One approver's verdict on a request."""

    request_id: int
    actor: str
    verdict: Verdict
    at: datetime
    note: str | None = None


class GrantStatus(StrEnum):
    ACTIVE = "active"
    REVERTING = "reverting"
    REVERTED = "reverted"


@dataclass(frozen=True, slots=True)
class Grant:
    """A temporary change in force, to be reverted at `ends_at`."""

    id: int
    request_id: int
    email: str
    kind: RequestKind
    ends_at: datetime
    status: GrantStatus
    delta_cents: int = 0
    tier_before: str | None = None
    tier_after: str | None = None
    warned_at: datetime | None = None
    period: Period = Period.MONTHLY
    cap_before_cents: int | None = None
    """The cap in force just before the grant was applied."""
    inherited_before: bool = False
    """That cap came from the seat tier, a group or the organisation, not the member's own
    limit: the revert lets them inherit again instead of pinning a number."""


class OperationKind(StrEnum):
    SET_CAP = "set_cap"
    SET_TIER = "set_tier"
    REMOVE_SEAT = "remove_seat"
    DENY_NATIVE = "deny_native"
    """Tell the backend that its own increase request was denied (`workflows.requests.native`)."""


class OperationPurpose(StrEnum):
    APPLY = "apply"
    REVERT = "revert"


class OperationStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class NewOperation:
    """A change to make through the admin connector, written to the outbox."""

    key: str
    kind: OperationKind
    purpose: OperationPurpose
    email: str
    created_at: datetime
    request_id: int | None = None
    grant_id: int | None = None
    cap_cents: int | None = None
    tier: str | None = None
    period: Period = Period.MONTHLY
    inherit: bool = False
    """A set-cap that deletes the member's own limit, so the inherited one applies again;
    `cap_cents` is then the cap they are expected to inherit."""


@dataclass(frozen=True, slots=True)
class Operation:
    """An outbox entry and its progress."""

    id: int
    key: str
    kind: OperationKind
    purpose: OperationPurpose
    email: str
    status: OperationStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    request_id: int | None = None
    grant_id: int | None = None
    cap_cents: int | None = None
    tier: str | None = None
    period: Period = Period.MONTHLY
    inherit: bool = False
    inherited_before: bool | None = None
    """Seen by the connector just before an apply: whether the cap it replaces was inherited.
    None until then (and for connectors without inherited caps)."""
    lease_until: datetime | None = None
    last_error: str | None = None
    done_by: str | None = None

    def describe(self) -> str:
        """What the operation does, for people."""
        if self.kind is OperationKind.SET_CAP and self.inherit:
            return f"delete the own {self.period} cap of {self.email}, so they inherit theirs again"
        if self.kind is OperationKind.SET_CAP and self.cap_cents is not None:
            return f"set the {self.period} cap of {self.email} to {format_usd(self.cap_cents)}"
        if self.kind is OperationKind.SET_TIER:
            return f"move {self.email} to the {self.tier} seat tier"
        if self.kind is OperationKind.DENY_NATIVE:
            return f"deny the spend-limit increase {self.email} asked for in the admin console"
        return f"remove the seat of {self.email}"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at an operation, kept for the record."""

    operation_id: int
    number: int
    at: datetime
    outcome: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log."""

    at: datetime
    actor: str
    action: str
    subject: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UseCaseQuestion:
    """ "What was the extra for?", asked once of the holder of a temporary grant when it ends,
    and of the holder of a permanent raise 30 days after it.

    It stays open until answered or skipped (`answered_at` is set for either); `skipped` tells
    which. One reminder at most (`reminded_at`).
    """

    id: int
    request_id: int
    email: str
    asked_at: datetime
    grant_id: int | None = None
    """The grant that ended; None for a permanent raise."""
    reminded_at: datetime | None = None
    answered_at: datetime | None = None
    use_case: str | None = None
    """One of the policy's use cases; None until answered, and when skipped."""
    note: str | None = None
    skipped: bool = False

    @property
    def open(self) -> bool:
        return self.answered_at is None


@dataclass(frozen=True, slots=True)
class Delegation:
    """An owner or admin away: the approval cards they would get go to `delegate` (None: to
    the group's other owners or the admins) from `starts_at` until `ends_at`, unless they end
    it early (`ended_at`)."""

    id: int
    delegator: str
    delegate: str | None
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    ended_at: datetime | None = None

    @property
    def until(self) -> datetime:
        """When it stops: at `ends_at`, or earlier if it was ended."""
        return self.ends_at if self.ended_at is None else min(self.ended_at, self.ends_at)

    def in_force(self, at: datetime) -> bool:
        return self.starts_at <= at < self.until
