"""Pulling seats and usage from the admin backend into the store (idempotent)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import TypeVar

from workflows.admin import AdminConnector, Capability, backend_groups
from workflows.model import Member
from workflows.policy import Policy
from workflows.ports import GroupRecord, UnitOfWork

T = TypeVar("T")
Progress = Callable[[str, int], None]
"""Told (stage, items done so far) as a sync goes."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync wrote."""

    members: int
    deactivated: int
    daily_rows: int
    hourly_rows: int


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def sync(
    uow_factory: Callable[[], UnitOfWork],
    connector: AdminConnector,
    policy: Policy,
    *,
    today: date,
    days: int = 60,
    hourly_days: int = 14,
    progress: Progress | None = None,
) -> SyncReport:
    """Members and seats, then daily and hourly usage for the last `days`; re-running replaces.

    Members of the backend's own groups (Claude Enterprise groups) are read at every sync, so
    a member who leaves one leaves the policy group that draws from it.
    """
    tell = progress or (lambda _stage, _done: None)
    remote = list(connector.list_members())
    in_groups = _backend_memberships(connector)
    seen = {m.email.lower(): in_groups.get(m.email.lower(), ()) for m in remote}
    with uow_factory() as uow:
        for count, m in enumerate(remote, 1):
            email = m.email.lower()
            group = policy.group_of(email, seen[email])
            default = group.default_cap_cents if group is not None else 0
            cap = m.monthly_cap_cents if m.monthly_cap_cents is not None else default
            known = uow.members.get(email)
            # A backend that does not say the tier (an own limit hides it) leaves it as it was.
            tier = m.tier or (known.tier if known is not None else policy.tier_names[0])
            uow.members.upsert(
                Member(
                    email=email,
                    name=m.name,
                    tier=tier,
                    cap_cents=cap,
                    active=m.active,
                    external_id=m.external_id,
                    backend_groups=seen[email],
                )
            )
            tell("members", count)
        gone = [x for x in uow.members.list() if x.active and x.email not in seen]
        for member in gone:
            uow.members.deactivate(member.email)
        uow.groups.replace_all(_groups(policy, seen))
        uow.commit()
    daily = hourly = 0
    if Capability.READ_DAILY_USAGE in connector.capabilities:
        since = today - timedelta(days=days - 1)
        for batch in _batches(connector.daily_usage(since, today), 2000):
            with uow_factory() as uow:
                daily += uow.usage.replace_daily(batch)
                uow.commit()
            tell("daily usage", daily)
    if Capability.READ_HOURLY_USAGE in connector.capabilities:
        start = datetime.combine(
            today - timedelta(days=hourly_days - 1), time(0), tzinfo=policy.org.zone
        )
        end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=policy.org.zone)
        for hours in _batches(connector.hourly_usage(start, end), 5000):
            with uow_factory() as uow:
                hourly += uow.usage.replace_hourly(hours)
                uow.commit()
            tell("hourly usage", hourly)
    return SyncReport(
        members=len(remote), deactivated=len(gone), daily_rows=daily, hourly_rows=hourly
    )


def _backend_memberships(connector: AdminConnector) -> dict[str, tuple[str, ...]]:
    """Email -> the ids and names of the backend groups the person is in."""
    source = backend_groups(connector)
    found: dict[str, list[str]] = {}
    for group in source.list_groups() if source is not None else ():
        for email in group.members:
            found.setdefault(email.lower(), []).extend((group.id, group.name))
    return {email: tuple(dict.fromkeys(refs)) for email, refs in found.items()}


def _groups(policy: Policy, emails: Mapping[str, tuple[str, ...]]) -> list[GroupRecord]:
    members: dict[str, list[str]] = {g.name: [] for g in policy.groups}
    for email in sorted(emails):
        group = policy.group_of(email, emails[email])
        if group is not None:
            members[group.name].append(email)
    return [
        GroupRecord(
            name=g.name,
            default_cap_cents=g.default_cap_cents,
            max_cap_cents=g.max_cap_cents,
            budget_cents=g.budget_cents,
            owners=tuple(g.owners),
            members=tuple(members[g.name]),
        )
        for g in policy.groups
    ]
