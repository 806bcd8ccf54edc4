"""The policy file's schema (SPEC section 4). Unknown keys are errors everywhere."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection
from datetime import date, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from workflows.messages import ADMIN_CHANNEL, group_of_channel
from workflows.model import Member
from workflows.money import cents_from_usd
from workflows.policy.durations import Duration
from workflows.policy.spelling import did_you_mean

_EMAIL = re.compile(r"^[^@\s*]+@[^@\s*]+\.[^@\s*]+$")
_PATTERN = re.compile(r"^\*@[^@\s*]+\.[^@\s*]+$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value.lower()


def _member_entry(value: str) -> str:
    if _PATTERN.match(value) or _EMAIL.match(value):
        return value.lower()
    raise ValueError(f"{value!r} is neither an email address nor a pattern such as *@example.com")


Email = Annotated[str, AfterValidator(_email)]
MemberEntry = Annotated[str, AfterValidator(_member_entry)]
Usd = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelRef(_Strict):
    """A channel on each platform: a Slack channel id, a Teams channel (conversation) id."""

    slack: str | None = None
    teams: str | None = None

    def on(self, platform: str) -> str | None:
        """The channel's id on `platform` (`slack`, `teams`), if it has one there."""
        return {"slack": self.slack, "teams": self.teams}.get(platform)


class OrgSettings(_Strict):
    timezone: str = "UTC"
    business_hours: str = "08:00-20:00"
    currency: Literal["USD"] = "USD"
    holidays: list[date] = []
    """Days off besides weekends: outside business hours, and light days for the forecast."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"{value!r} is not an IANA timezone such as Europe/Berlin"
                + did_you_mean(value, available_timezones())
            ) from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        match = _HOURS.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a range such as 08:00-20:00")
        start, end = value.split("-")
        if start >= end:
            raise ValueError(f"{value!r} ends before it starts")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def business_start(self) -> time:
        return time.fromisoformat(self.business_hours.split("-")[0])

    @property
    def business_end(self) -> time:
        end = self.business_hours.split("-")[1]
        return time.max if end == "24:00" else time.fromisoformat(end)


class GroupPolicy(_Strict):
    """A group of members with its owners, caps and budget."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    owners: Annotated[list[Email], Field(min_length=1)]
    members: list[MemberEntry] = []
    default_cap_usd: Usd
    max_cap_usd: Usd
    monthly_budget_usd: Usd | None = None
    auto_approve_under_usd: Usd = Decimal(0)
    approvals_required: Annotated[int, Field(ge=1, le=5)] = 1
    channel: ChannelRef | None = None
    anthropic_group: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """A group of the backend's own (a Claude Enterprise group), by name or id: its members
    are in this group too, as of the last sync."""
    cost_center: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """Where the group's seats and spend are charged (`capdesk report chargeback`)."""

    @model_validator(mode="after")
    def _consistent(self) -> GroupPolicy:
        if self.default_cap_usd > self.max_cap_usd:
            raise ValueError("default_cap_usd is above max_cap_usd")
        return self

    @property
    def default_cap_cents(self) -> int:
        return cents_from_usd(self.default_cap_usd)

    @property
    def max_cap_cents(self) -> int:
        return cents_from_usd(self.max_cap_usd)

    @property
    def budget_cents(self) -> int | None:
        return None if self.monthly_budget_usd is None else cents_from_usd(self.monthly_budget_usd)

    @property
    def auto_approve_cents(self) -> int:
        return cents_from_usd(self.auto_approve_under_usd)

    def lists(self, email: str) -> bool:
        """Whether this group names `email` explicitly."""
        return email.lower() in self.members

    def draws_from(self, backend_groups: Collection[str]) -> bool:
        """Whether this group takes in members of one of these backend groups (ids or names)."""
        if self.anthropic_group is None:
            return False
        wanted = self.anthropic_group.casefold()
        return any(ref.casefold() == wanted for ref in backend_groups)

    def matches(self, email: str) -> bool:
        """Whether `email` matches one of this group's `*@domain` patterns."""
        lowered = email.lower()
        return any(
            entry.startswith("*@") and fnmatch.fnmatchcase(lowered, entry) for entry in self.members
        )


class RequestsPolicy(_Strict):
    """When undecided requests are nudged, escalated and expired."""

    reminder_after: Duration = timedelta(hours=4)
    escalate_after: Duration = timedelta(hours=24)
    expire_after: Duration = timedelta(hours=72)
    max_duration_days: Annotated[int, Field(ge=1, le=366)] = 90

    @model_validator(mode="after")
    def _ordered(self) -> RequestsPolicy:
        if not self.reminder_after < self.escalate_after < self.expire_after:
            raise ValueError("reminder_after < escalate_after < expire_after must hold")
        return self


Notify = Literal["user", "owners", "admins"]


class _Rule(_Strict):
    id: Annotated[str, Field(min_length=1, max_length=64)]
    notify: Annotated[list[Notify], Field(min_length=1)] = ["admins"]
    cooldown: Duration | None = None
    mode: Literal["digest", "immediate"] = "digest"
    exclude: list[Email] = []


class CapNearRule(_Rule):
    kind: Literal["cap_near"]
    threshold_pct: Annotated[Decimal, Field(gt=0, le=1000)]


class AfterHoursSpikeRule(_Rule):
    kind: Literal["after_hours_spike"]
    min_commands_per_hour: Annotated[int, Field(ge=1)] | None = None
    min_spend_usd_per_hour: Usd | None = None
    lookback: Duration = timedelta(days=7)
    """How far back hours are examined; usage data often arrives hours or days late."""

    @model_validator(mode="after")
    def _some_limit(self) -> AfterHoursSpikeRule:
        if self.min_commands_per_hour is None and self.min_spend_usd_per_hour is None:
            raise ValueError("set min_commands_per_hour or min_spend_usd_per_hour")
        return self


class IdleSeatRule(_Rule):
    kind: Literal["idle_seat"]
    warn_after_days: Annotated[int, Field(ge=1)]
    reclaim_after_days: Annotated[int, Field(ge=1)]
    auto: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> IdleSeatRule:
        if self.reclaim_after_days <= self.warn_after_days:
            raise ValueError("reclaim_after_days must be after warn_after_days")
        return self


class GroupBudgetRule(_Rule):
    kind: Literal["group_budget"]
    threshold_pct: Annotated[Decimal, Field(gt=0, le=1000)]


class ForecastOverrunRule(_Rule):
    kind: Literal["forecast_overrun"]


AlertRule = Annotated[
    CapNearRule | AfterHoursSpikeRule | IdleSeatRule | GroupBudgetRule | ForecastOverrunRule,
    Field(discriminator="kind"),
]


TierName = Annotated[str, Field(min_length=1, max_length=32)]


class SeatTier(_Strict):
    """A seat tier's monthly price and, where the organisation has only so many, its seats."""

    monthly_usd: Usd | None = None
    seats: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    """How many seats of the tier there are to hand out; None: as many as are asked for."""

    @property
    def monthly_cents(self) -> int | None:
        return None if self.monthly_usd is None else cents_from_usd(self.monthly_usd)


def _tiers_in_order(value: object) -> object:
    """`[standard, premium]` as `{standard: {}, premium: {}}`; a tier written with nothing after
    its colon has no price and no pool. The order is kept: lowest first."""
    if isinstance(value, dict):
        return {name: {} if tier is None else tier for name, tier in value.items()}
    if not isinstance(value, list):
        return value
    if not all(isinstance(name, str) for name in value):
        raise ValueError("must be tier names, such as [standard, premium]")
    seen: set[str] = set()
    for name in value:
        if name in seen:
            raise ValueError(f"the seat tier {name!r} is listed twice")
        seen.add(name)
    return {name: {} for name in value}


class DigestPolicy(_Strict):
    schedule: str = "0 9 * * MON-FRI"

    @field_validator("schedule")
    @classmethod
    def _five_fields(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a cron expression of five fields")
        return value


class TelemetryPolicy(_Strict):
    """How OpenTelemetry from Claude Code is attributed: to whom, and (for people capdesk has no
    member for) to which group."""

    email_attributes: Annotated[list[str], Field(min_length=1)] = ["user.email", "enduser.id"]
    """Where a data point's or event's e-mail is, the first one present winning; a data point's
    own attributes are looked at before its resource's."""
    group_attribute: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """A resource attribute an organisation sets (`OTEL_RESOURCE_ATTRIBUTES=cost_center=...`)."""
    groups: dict[str, str] = {}
    """Values of `group_attribute` -> the group whose budget telemetry from unknown e-mails
    counts against."""

    @model_validator(mode="after")
    def _attribute_for_groups(self) -> TelemetryPolicy:
        if self.groups and self.group_attribute is None:
            raise ValueError("groups needs group_attribute: the attribute whose values they map")
        return self


class Policy(_Strict):
    """The whole policy file."""

    org: OrgSettings = OrgSettings()
    admins: Annotated[list[Email], Field(min_length=1)]
    admin_channel: ChannelRef | None = None
    seat_tiers: Annotated[
        dict[TierName, SeatTier], BeforeValidator(_tiers_in_order), Field(min_length=1)
    ] = {"standard": SeatTier(), "premium": SeatTier()}
    """The tiers from the lowest to the highest, each with its price and pool, if any."""
    groups: Annotated[list[GroupPolicy], Field(min_length=1)]
    requests: RequestsPolicy = RequestsPolicy()
    rules: list[AlertRule] = []
    digest: DigestPolicy = DigestPolicy()
    telemetry: TelemetryPolicy = TelemetryPolicy()

    @model_validator(mode="after")
    def _telemetry_groups_exist(self) -> Policy:
        names = {g.name for g in self.groups}
        for value, group in self.telemetry.groups.items():
            if group not in names:
                raise ValueError(
                    f"telemetry.groups: {value!r} names {group!r}, which is no group"
                    + did_you_mean(group, names)
                )
        return self

    @model_validator(mode="after")
    def _unique_names(self) -> Policy:
        for label, names in (
            ("group name", [g.name for g in self.groups]),
            ("rule id", [r.id for r in self.rules]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"the {label} {name!r} is used twice")
                seen.add(name)
        return self

    @cached_property
    def _admins(self) -> frozenset[str]:
        return frozenset(self.admins)

    @cached_property
    def tier_names(self) -> tuple[str, ...]:
        """The seat tiers' names, lowest first."""
        return tuple(self.seat_tiers)

    def tier_below(self, name: str) -> str | None:
        """The next tier down from `name`; None for the lowest or an unknown tier."""
        names = self.tier_names
        if name not in names or names.index(name) == 0:
            return None
        return names[names.index(name) - 1]

    def is_admin(self, email: str) -> bool:
        return email.lower() in self._admins

    def channel_ref(self, address: str, platform: str) -> str | None:
        """The channel a channel address (`admin`, `group:<name>`) names on `platform`, if
        the policy names one."""
        if address == ADMIN_CHANNEL:
            ref = self.admin_channel
        else:
            name = group_of_channel(address)
            group = self.group(name) if name is not None else None
            ref = group.channel if group is not None else None
        return None if ref is None else ref.on(platform)

    def group(self, name: str) -> GroupPolicy | None:
        return next((g for g in self.groups if g.name == name), None)

    def group_of(self, email: str, backend_groups: Collection[str] = ()) -> GroupPolicy | None:
        """The member's group: an explicit listing wins over a backend group (`backend_groups`:
        the ids and names of those they are in), which wins over a pattern; the first group
        wins."""
        return (
            next((g for g in self.groups if g.lists(email)), None)
            or next((g for g in self.groups if g.draws_from(backend_groups)), None)
            or next((g for g in self.groups if g.matches(email)), None)
        )

    def group_of_member(self, member: Member) -> GroupPolicy | None:
        """`group_of` for a member as last synced, with the backend groups they were in."""
        return self.group_of(member.email, member.backend_groups)

    def owns(self, email: str) -> list[GroupPolicy]:
        """The groups `email` owns."""
        lowered = email.lower()
        return [g for g in self.groups if lowered in g.owners]
