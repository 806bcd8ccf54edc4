"""What the reports ask of the store, and the rows it answers with.

Times are instants (UTC); days are the organisation's local days, as usage is kept. A window
runs from its start up to `until`, which is its end or, for a period still going on, now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from workflows.model import Request


@dataclass(frozen=True, slots=True)
class Window:
    """A period as far as it has gone: the instants `start` to `until` (excluded), and the
    local days `first_day` to `last_day` (included)."""

    start: datetime
    until: datetime
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class MonthWindow:
    """One month of a quarter: its label (`2026-11`), its days so far, and the instant at which
    caps are read for it (its end, or now)."""

    label: str
    first_day: date
    last_day: date
    cap_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewQuery:
    """The quarterly review of every group, or of one."""

    window: Window
    months: Sequence[MonthWindow]
    group: str | None = None


@dataclass(frozen=True, slots=True)
class RequestFigures:
    """A group's requests made in the period, and how they were decided."""

    group: str
    requests: int
    approved: int
    """By a person or by the policy, applied or not (later reverts included)."""
    denied: int
    cancelled: int
    expired: int
    pending: int
    auto_approved: int
    self_approvals_refused: int
    """Requesters who clicked Approve on their own request, and were refused."""
    median_decision_seconds: float | None
    """Of the requests a person decided on (approved or denied): the median wait, and the
    90th percentile (nearest rank). None when nobody decided any."""
    p90_decision_seconds: float | None


@dataclass(frozen=True, slots=True)
class ApproverFigures:
    """One person's decisions on a group's requests in the period."""

    group: str
    email: str
    name: str | None
    approved: int
    denied: int
    as_delegate: int
    """Of those, decided while standing in for an owner of the group who was away."""


@dataclass(frozen=True, slots=True)
class GrantSpell:
    """A temporary grant in force during the period, or due to end in it."""

    group: str
    request: Request
    name: str | None
    applied_at: datetime | None
    ends_at: datetime
    reverted_at: datetime | None


@dataclass(frozen=True, slots=True)
class UseCaseCount:
    """Use-case questions asked of one member in the period, for one answer (None: not
    answered with a use case)."""

    group: str
    email: str
    name: str | None
    use_case: str | None
    asked: int
    answered: int
    skipped: int


@dataclass(frozen=True, slots=True)
class MemberMonth:
    """A member's spend in one month of the period against their monthly cap then (without
    temporary grants: those are the grant spells)."""

    group: str
    email: str
    name: str
    month: str
    spent_cents: int
    cap_cents: int


@dataclass(frozen=True, slots=True)
class DelegationSpell:
    """An owner (or admin) away during the period, and who stood in."""

    group: str | None
    """A group the delegator owns; None for an admin who owns none."""
    delegator: str
    delegator_name: str | None
    delegate: str | None
    delegate_name: str | None
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    decisions: int
    """Decisions the named delegate made meanwhile on the group's requests."""


@dataclass(frozen=True, slots=True)
class ReviewData:
    """Everything the quarterly review is made of."""

    requests: Sequence[RequestFigures]
    approvers: Sequence[ApproverFigures]
    grants: Sequence[GrantSpell]
    use_cases: Sequence[UseCaseCount]
    members: Sequence[MemberMonth]
    delegations: Sequence[DelegationSpell]


@dataclass(frozen=True, slots=True)
class GroupMonth:
    """A group's month for chargeback: its seats by tier (counted at `Window.until`), the
    members who used theirs, their spend, and the temporary grants in force at some point."""

    group: str | None
    """None: members in no group of the policy."""
    seats: Mapping[str, int]
    active_users: int
    spent_cents: int
    grants_in_force: int


@dataclass(frozen=True, slots=True)
class AccessQuery:
    """The access review as of `now`: elevations since `since`; `inactive_since`: the last day
    a holder may have used their seat and still count as inactive."""

    since: datetime
    now: datetime
    inactive_since: date


@dataclass(frozen=True, slots=True)
class Holding:
    """A member's seat now, and the capdesk request behind its tier and behind its cap, if any
    (None: the backend gave it, as far as capdesk knows). `first_seen`: the first day capdesk
    knows of the seat, its first use or the day the alert rules first saw it."""

    email: str
    name: str
    group: str | None
    tier: str
    cap_cents: int
    first_seen: date | None
    last_active: date | None
    tier_request: Request | None
    tier_since: datetime | None
    cap_request: Request | None
    cap_since: datetime | None


@dataclass(frozen=True, slots=True)
class Elevation:
    """A raise or an upgrade applied in the period."""

    request: Request
    name: str | None
    applied_at: datetime
    reverted_at: datetime | None


@dataclass(frozen=True, slots=True)
class AccessData:
    holdings: Sequence[Holding]
    elevations: Sequence[Elevation]
