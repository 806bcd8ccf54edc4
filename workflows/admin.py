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


@dataclass(frozen=True, slots=True)
class RemoteMember:
    """A person as the backend knows them."""

    email: str
    name: str
    tier: str
    monthly_cap_cents: int | None
    active: bool = True
    external_id: str = ""


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
    """The monthly limit in force when they asked; None for no limit."""


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

    def approve_native(self, native_id: str, cap_cents: int, *, idempotency_key: str) -> None:
        """Approve a native request, setting the member's monthly limit to `cap_cents`."""
        ...

    def deny_native(self, native_id: str, *, idempotency_key: str) -> None:
        """Deny a native request."""
        ...


def native_requests(connector: AdminConnector) -> NativeRequestSource | None:
    """The connector as a source of native requests, if it declares the capability."""
    if Capability.NATIVE_REQUESTS in connector.capabilities and isinstance(
        connector, NativeRequestSource
    ):
        return connector
    return None
