"""The admin port: how the domain reads seats and usage and applies changes to a backend.

One port, several connectors (sandbox, Anthropic Admin API, LiteLLM, the generic HTTP
contract). Each declares its capabilities; what it cannot do becomes a manual task for the
admins instead of a call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from workflows.model import Period


class Capability(StrEnum):
    """Something a connector can do through its backend's API."""

    READ_MEMBERS = "read_members"
    READ_DAILY_USAGE = "read_daily_usage"
    READ_HOURLY_USAGE = "read_hourly_usage"
    SET_CAP = "set_cap"
    SET_TIER = "set_tier"
    REMOVE_SEAT = "remove_seat"
    NATIVE_REQUESTS = "native_requests"
    """The backend has increase requests of its own (`NativeRequestSource`)."""
    INHERITED_CAPS = "inherited_caps"
    """Caps per day, week or month that members inherit unless they have their own
    (`InheritedCaps`)."""
    READ_GROUPS = "read_groups"
    """The backend has groups of its own, with members (`GroupSource`)."""


@dataclass(frozen=True, slots=True)
class RemoteMember:
    """A person as the backend knows them."""

    email: str
    name: str
    tier: str | None
    """None where the backend does not say; the store then keeps the tier it had."""
    monthly_cap_cents: int | None
    active: bool = True
    external_id: str = ""
    admin: bool = False
    """An administrator of the backend's organisation, where the backend says so."""


@dataclass(frozen=True, slots=True)
class RemoteGroup:
    """A group of the backend's own (a Claude Enterprise group) and its members' emails."""

    id: str
    name: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """One person's usage on one UTC day."""

    email: str
    day: date
    spend_cents: int
    commands: int


@dataclass(frozen=True, slots=True)
class HourlyUsage:
    """One person's usage in one hour starting at `hour` (UTC, on the hour)."""

    email: str
    hour: datetime
    spend_cents: int
    commands: int


@dataclass(frozen=True, slots=True)
class NativeIncreaseRequest:
    """A member's request for a higher spend limit, made in the backend's own product.

    The backend does not say how much more they want, only the limit they hit.
    """

    id: str
    email: str
    created_at: datetime
    limit_cents: int | None
    """The limit in force at `period` when they asked; None for no limit."""
    period: Period = Period.MONTHLY
    """The period of the limit they hit."""


class ConnectorError(Exception):
    """The backend refused or failed; `str()` is a sentence fit for the admins."""


class TransientConnectorError(ConnectorError):
    """Worth retrying: 429, 5xx, timeouts, dropped connections."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentConnectorError(ConnectorError):
    """Retrying will not help (4xx other than 429, a malformed answer, a revoked key)."""


class UnsupportedOperation(ConnectorError):
    """The backend has no API for this; it becomes a manual task for the admins."""


class AdminConnector(Protocol):
    """A backend that holds seats, caps and usage.

    Writes carry an idempotency key: a connector (or its backend) must apply one key at most
    once, so the outbox may retry freely after a crash.
    """

    name: str
    capabilities: frozenset[Capability]

    def list_members(self) -> Iterable[RemoteMember]:
        """Every seat holder, following pagination to the end."""
        ...

    def daily_usage(self, since: date, until: date) -> Iterable[DailyUsage]:
        """Usage per person per day for days in [since, until]."""
        ...

    def hourly_usage(self, since: datetime, until: datetime) -> Iterable[HourlyUsage]:
        """Usage per person per hour in [since, until); empty where the source has none."""
        ...

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        """Set a person's monthly spend cap."""
        ...

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        """Move a person to another seat tier."""
        ...

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        """Take a person's seat away."""
        ...


@runtime_checkable
class NativeRequestSource(Protocol):
    """What a connector with `Capability.NATIVE_REQUESTS` offers besides `AdminConnector`.

    A decision is written back at most once per idempotency key, like every other write.
    """

    def pending_native_requests(self) -> Iterable[NativeIncreaseRequest]:
        """Every increase request still waiting for a decision in the backend."""
        ...

    def approve_native(
        self, native_id: str, cap_cents: int, *, period: Period, idempotency_key: str
    ) -> None:
        """Approve a native request, setting the member's limit at `period` to `cap_cents`."""
        ...

    def deny_native(self, native_id: str, *, idempotency_key: str) -> None:
        """Deny a native request."""
        ...


@runtime_checkable
class InheritedCaps(Protocol):
    """What a connector with `Capability.INHERITED_CAPS` offers besides `AdminConnector`.

    A member's cap at a period is their own limit, or else one they inherit (from their seat
    tier, a group, the organisation). Writes are safe to repeat, like every other write.
    """

    def cap_inherited(self, email: str, period: Period) -> bool:
        """Whether the member's cap at `period` is inherited rather than their own now."""
        ...

    def set_period_cap(
        self, email: str, cap_cents: int, period: Period, *, idempotency_key: str
    ) -> None:
        """Set the member's own limit at `period`."""
        ...

    def inherit_cap(self, email: str, period: Period, *, idempotency_key: str) -> None:
        """Delete the member's own limit at `period`, so they inherit one again."""
        ...


@runtime_checkable
class GroupSource(Protocol):
    """What a connector with `Capability.READ_GROUPS` offers besides `AdminConnector`."""

    def list_groups(self) -> Iterable[RemoteGroup]:
        """Every group of the backend with its members, following pagination to the end."""
        ...


def inherited_caps(connector: AdminConnector) -> InheritedCaps | None:
    """The connector as a keeper of inherited caps, if it declares the capability."""
    if Capability.INHERITED_CAPS in connector.capabilities and isinstance(connector, InheritedCaps):
        return connector
    return None


def backend_groups(connector: AdminConnector) -> GroupSource | None:
    """The connector as a source of groups, if it declares the capability."""
    if Capability.READ_GROUPS in connector.capabilities and isinstance(connector, GroupSource):
        return connector
    return None


def native_requests(connector: AdminConnector) -> NativeRequestSource | None:
    """The connector as a source of native requests, if it declares the capability."""
    if Capability.NATIVE_REQUESTS in connector.capabilities and isinstance(
        connector, NativeRequestSource
    ):
        return connector
    return None
