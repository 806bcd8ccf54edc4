"""The scheduled usage sync: only the days that can still change, not the whole history.

Backends report usage late and correct it for a while, so each pass re-reads the last few days
before the newest one already stored; re-syncing a day replaces it, so the overlap never
doubles anything. An empty store gets the full history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from workflows.admin import AdminConnector
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.sync import Progress, SyncReport, sync

FULL_DAYS = 60
HOURLY_DAYS = 14
OVERLAP_DAYS = 3


def days_to_sync(latest: date | None, today: date) -> int:
    """From a few days before the newest stored day to today; everything when nothing is stored."""
    if latest is None:
        return FULL_DAYS
    return max(OVERLAP_DAYS, min(FULL_DAYS, (today - latest).days + OVERLAP_DAYS))


def sync_recent(
    uow_factory: Callable[[], UnitOfWork],
    connector: AdminConnector,
    policy: Policy,
    *,
    today: date,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync members, and usage from where the store's usage ends (with an overlap)."""
    with uow_factory() as uow:
        latest = uow.alerts.latest_usage_day()
    days = days_to_sync(latest, today)
    return sync(
        uow_factory,
        connector,
        policy,
        today=today,
        days=days,
        hourly_days=min(days, HOURLY_DAYS),
        progress=progress,
    )
