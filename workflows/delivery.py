"""Delivering the notifications outbox to a chat platform, retrying what fails.

The domain only queues messages; a platform adapter implements `Notifier`. Messages in the
same thread to the same recipient replace each other, so only the newest one is ever sent.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from workflows.applying.backoff import RetryPolicy
from workflows.clock import Clock
from workflows.messages import Outgoing
from workflows.ports import UnitOfWork

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """The platform did not take the message; `transient` says whether to try again."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


class Notifier(Protocol):
    """A chat platform's way of posting and updating messages."""

    def deliver(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        """Post the message, or update the earlier one whose reference is `replaces`.

        Returns the platform's reference to the message (for later updates). Raises
        DeliveryError when the platform refuses or fails.
        """
        ...


@dataclass
class DeliveryReport:
    """What one pass delivered, by notification id."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)


def deliver_pending(
    uow_factory: Callable[[], UnitOfWork],
    notifier: Notifier,
    clock: Clock,
    *,
    limit: int = 100,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send due messages, oldest first; failures are kept for a later try, never lost."""
    retry = retry or RetryPolicy(max_attempts=10, cap=timedelta(minutes=10))
    rng = rng or random.Random()
    report = DeliveryReport()
    now = clock.now()
    with uow_factory() as uow:
        batch = list(uow.notifications.claim_due(now, lease_until=now + retry.lease, limit=limit))
        uow.commit()
    for item in batch:
        out = item.outgoing
        with uow_factory() as uow:
            # A card's older version must never be posted over a newer one, even on a retry.
            if out.thread_key is not None and uow.notifications.newer_in_thread(item.id):
                uow.notifications.give_up(item.id, error="superseded by a newer version")
                uow.commit()
                report.dropped.append(item.id)
                continue
            previous = (
                uow.notifications.ref_of(out.recipient, out.thread_key) if out.thread_key else None
            )
        # No transaction is open while the platform is called: it may be slow or down.
        try:
            ref = notifier.deliver(out, replaces=previous)
        except DeliveryError as exc:
            with uow_factory() as uow:
                _failed(
                    uow,
                    item.id,
                    item.attempts,
                    exc=exc,
                    retry=retry,
                    rng=rng,
                    report=report,
                    now=clock.now(),
                )
                uow.commit()
            continue
        with uow_factory() as uow:
            uow.notifications.delivered(item.id, ref=ref, at=clock.now())
            uow.commit()
        report.delivered.append(item.id)
    return report


def _failed(
    uow: UnitOfWork,
    notification_id: int,
    attempts: int,
    *,
    exc: DeliveryError,
    retry: RetryPolicy,
    rng: random.Random,
    report: DeliveryReport,
    now: datetime,
) -> None:
    if exc.transient and attempts < retry.max_attempts:
        wait = retry.delay(attempts, retry_after=exc.retry_after, rng=rng)
        uow.notifications.retry(notification_id, at=now + wait, error=str(exc))
        report.retrying.append(notification_id)
    else:
        log.warning("notification %s dropped after %s attempts: %s", notification_id, attempts, exc)
        uow.notifications.give_up(notification_id, error=str(exc))
        report.dropped.append(notification_id)
