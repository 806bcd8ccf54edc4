"""What the store hands the alert rules, and what it keeps of a firing.

The store computes candidates with set-based SQL; these records carry only the members and
groups that may fire, never the whole organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class MemberQuery:
    """Which members the store should return: those meeting any one of the conditions set.

    `near_cap_bp`: month-to-date spend >= cap * bp / 10,000 (basis points, exact in integers).
    `forecast_factor`: month-to-date spend * factor > cap.
    `idle_since`: last active on or before.
    `group_totals`: also every budgeted group's spend, summed in the same pass over the usage
    rather than read a second time.
    """

    month_start: date
    today: date
    near_cap_bp: int | None = None
    forecast_factor: float | None = None
    idle_since: date | None = None
    group_totals: bool = False


@dataclass(frozen=True, slots=True)
class MemberStanding:
    """An active member with their month-to-date spend and the last day they used their seat.

    `last_active` is the first day capdesk saw the seat when no usage was ever recorded.
    """

    email: str
    name: str
    group: str | None
    cap_cents: int
    spent_cents: int
    last_active: date | None
    estimated_cents: int = 0
    """How much of `spent_cents` is telemetry's estimate (days the backend has no figure for)."""


@dataclass(frozen=True, slots=True)
class GroupStanding:
    """A group with a budget and its members' spend this month."""

    name: str
    budget_cents: int
    spent_cents: int


@dataclass(frozen=True, slots=True)
class Standings:
    """The members a `MemberQuery` found and, when it asked for them, the groups' totals."""

    members: Sequence[MemberStanding]
    groups: Sequence[GroupStanding] = ()


@dataclass(frozen=True, slots=True)
class HourSpike:
    """One member's usage in one hour (UTC start) that passed an after-hours limit."""

    email: str
    name: str
    group: str | None
    hour: datetime
    commands: int
    spend_cents: int
    estimated: bool = False
    """The figures are telemetry's: the backend has none for the hour yet."""


Audience = Literal["admins", "owners"]


@dataclass(frozen=True, slots=True)
class NewFiring:
    """A firing the domain wants recorded under its key (rule, subject, period).

    `admins` / `owners`: whether it waits for that audience's digest.
    """

    rule_id: str
    subject: str
    period: str
    group: str | None
    details: dict[str, Any]
    admins: bool = False
    owners: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule_id, self.subject, self.period)


@dataclass(frozen=True, slots=True)
class FiringRecord:
    """A stored firing."""

    rule_id: str
    subject: str
    period: str
    group: str | None
    fired_at: datetime
    details: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.rule_id, self.subject, self.period)
