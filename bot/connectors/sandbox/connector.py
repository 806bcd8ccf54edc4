"""The `sandbox` admin connector: the synthetic org as a backend that really changes."""

from __future__ import annotations

from datetime import date, datetime

from bot.connectors.sandbox.org import GROUPS, SandboxOrg, SandboxPerson
from bot.connectors.sandbox.state import SandboxState, SeatOverride
from workflows.admin import (
    Capability,
    DailyUsage,
    HourlyUsage,
    PermanentConnectorError,
    RemoteGroup,
    RemoteMember,
)

SANDBOX_TIERS = ("standard", "premium")

_UNCHANGED = SeatOverride()


class SandboxConnector:
    """Reads the generated org with the recorded changes on top; writes record changes.

    Every write goes through `SandboxState.record`, which applies an idempotency key at most
    once, so the outbox may retry freely.
    """

    name = "sandbox"
    capabilities: frozenset[Capability] = frozenset(Capability) - {
        Capability.NATIVE_REQUESTS,
        Capability.INHERITED_CAPS,
    }

    def __init__(self, org: SandboxOrg, state: SandboxState) -> None:
        self._org = org
        self._state = state

    def list_members(self) -> list[RemoteMember]:
        """Every seat holder as the sandbox sees them now; removed seats are inactive."""
        overrides = self._state.overrides()
        members: list[RemoteMember] = []
        for index, person in enumerate(self._org.people):
            override = overrides.get(person.email, _UNCHANGED)
            members.append(
                RemoteMember(
                    email=person.email,
                    name=person.name,
                    tier=person.tier if override.tier is None else override.tier,
                    monthly_cap_cents=(
                        person.cap_cents if override.cap_cents is None else override.cap_cents
                    ),
                    active=not override.removed,
                    external_id=f"sandbox-{index:03d}",
                    admin=person.role == "admin",
                )
            )
        return members

    def list_groups(self) -> list[RemoteGroup]:
        """Its five groups, as a Claude Enterprise organisation has them: an id and a name."""
        return [
            RemoteGroup(
                id=sandbox_group_id(group),
                name=sandbox_group_name(group),
                members=tuple(p.email for p in self._org.members_of(group)),
            )
            for group in GROUPS
        ]

    def daily_usage(self, since: date, until: date) -> list[DailyUsage]:
        """Usage per person per day for days in [since, until]; idle days have no row."""
        return [u for u in self._org.daily if since <= u.day <= until]

    def hourly_usage(self, since: datetime, until: datetime) -> list[HourlyUsage]:
        """Usage per person per UTC hour in [since, until); idle hours have no row."""
        return [u for u in self._org.hourly if since <= u.hour < until]

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        """Set a person's monthly spend cap."""
        person = self._person(email)
        if cap_cents < 0:
            raise PermanentConnectorError(
                f"The sandbox cannot set a negative cap ({cap_cents} cents) for {person.email}."
            )
        self._state.record(key=idempotency_key, email=person.email, cap_cents=cap_cents)

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        """Move a person to another seat tier."""
        person = self._person(email)
        if tier not in SANDBOX_TIERS:
            raise PermanentConnectorError(
                f"The sandbox has no seat tier {tier!r}; its tiers are {', '.join(SANDBOX_TIERS)}."
            )
        self._state.record(key=idempotency_key, email=person.email, tier=tier)

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        """Take a person's seat away; they stay listed, inactive."""
        person = self._person(email)
        self._state.record(key=idempotency_key, email=person.email, removed=True)

    def _person(self, email: str) -> SandboxPerson:
        person = self._org.person(email)
        if person is None:
            raise PermanentConnectorError(f"The sandbox organisation has no member {email}.")
        return person


def sandbox_group_id(group: str) -> str:
    """The id the sandbox gives one of its groups, like Anthropic's `rbac_group_...`."""
    return f"rbac_group_{group.replace('-', '_')}"


def sandbox_group_name(group: str) -> str:
    """The name people see for one of the sandbox's groups (`Project management`)."""
    return group.replace("-", " ").capitalize()
