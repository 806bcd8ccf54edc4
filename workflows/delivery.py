"""Delivering the notifications outbox to the chat platforms, retrying what fails.

The domain only queues messages; each platform adapter implements `Notifier`, and `Platforms`
says which of them a message goes to (the domain never knows which platforms there are: a
message's platform is picked here, at delivery, and recorded with it). Messages in the same
thread to the same recipient replace each other, so only the newest one is ever sent, and an
update goes to the platform that holds the earlier version.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from workflows.applying.backoff import RetryPolicy
from workflows.clock import Clock
from workflows.messages import Outgoing, Recipient
from workflows.ports import PendingDelivery, UnitOfWork

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


@runtime_checkable
class Platforms(Protocol):
    """The chat platforms behind one outbox, each with its notifier."""

    def platforms_for(self, recipient: Recipient, *, holding: Collection[str]) -> Sequence[str]:
        """The platforms a message to `recipient` goes to now; `holding` are those with an
        earlier version of it in place. Empty when none can reach the recipient; raises
        DeliveryError when a platform cannot tell now."""
        ...

    def notifier(self, platform: str) -> Notifier:
        """The notifier of a platform; DeliveryError when this process does not serve it."""
        ...


ONLY = "chat"
"""The platform of a notifier delivering alone (`OnePlatform`)."""


@dataclass(frozen=True, slots=True)
class OnePlatform:
    """One notifier as the only platform: every message goes to it."""

    only: Notifier
    name: str = ONLY

    def platforms_for(self, recipient: Recipient, *, holding: Collection[str]) -> Sequence[str]:
        return [self.name]

    def notifier(self, platform: str) -> Notifier:
        return self.only


@dataclass
class DeliveryReport:
    """What one pass delivered, by notification id."""

    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)


def deliver_pending(
    uow_factory: Callable[[], UnitOfWork],
    notifier: Notifier | Platforms,
    clock: Clock,
    *,
    limit: int = 100,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send due messages, oldest first; failures are kept for a later try, never lost.

    `notifier` is one platform's, or several platforms behind `Platforms`: a message not yet
    routed goes to the platforms that names, one row each.
    """
    platforms = notifier if isinstance(notifier, Platforms) else OnePlatform(notifier)
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
            held = (
                dict(uow.notifications.refs_of(out.recipient, out.thread_key))
                if out.thread_key
                else {}
            )
        try:
            legs = _legs(uow_factory, platforms, item, held, lease_until=now + retry.lease)
        except DeliveryError as exc:
            _record_failure(
                uow_factory, item, exc, retry=retry, rng=rng, report=report, clock=clock
            )
            continue
        for leg in legs:
            assert leg.platform is not None
            # No transaction is open while the platform is called: it may be slow or down.
            try:
                ref = platforms.notifier(leg.platform).deliver(out, replaces=held.get(leg.platform))
            except DeliveryError as exc:
                _record_failure(
                    uow_factory, leg, exc, retry=retry, rng=rng, report=report, clock=clock
                )
                continue
            with uow_factory() as uow:
                uow.notifications.delivered(leg.id, ref=ref, at=clock.now())
                uow.commit()
            report.delivered.append(leg.id)
    return report


def _legs(
    uow_factory: Callable[[], UnitOfWork],
    platforms: Platforms,
    item: PendingDelivery,
    held: dict[str, str],
    *,
    lease_until: datetime,
) -> Sequence[PendingDelivery]:
    """The rows a message goes out as: itself, once its platforms are picked and recorded."""
    if item.platform is not None:
        return [item]
    chosen = list(dict.fromkeys(platforms.platforms_for(item.outgoing.recipient, holding=held)))
    if not chosen:
        recipient = item.outgoing.recipient
        raise DeliveryError(f"no chat platform reaches {recipient.address}", transient=False)
    with uow_factory() as uow:
        legs = uow.notifications.route(item.id, chosen, lease_until=lease_until)
        uow.commit()
    return legs


def _record_failure(
    uow_factory: Callable[[], UnitOfWork],
    item: PendingDelivery,
    exc: DeliveryError,
    *,
    retry: RetryPolicy,
    rng: random.Random,
    report: DeliveryReport,
    clock: Clock,
) -> None:
    with uow_factory() as uow:
        if exc.transient and item.attempts < retry.max_attempts:
            wait = retry.delay(item.attempts, retry_after=exc.retry_after, rng=rng)
            uow.notifications.retry(item.id, at=clock.now() + wait, error=str(exc))
            report.retrying.append(item.id)
        else:
            log.warning(
                "notification %s dropped after %s attempts: %s", item.id, item.attempts, exc
            )
            uow.notifications.give_up(item.id, error=str(exc))
            report.dropped.append(item.id)
        uow.commit()
