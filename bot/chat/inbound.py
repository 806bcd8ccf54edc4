"""Ids a chat platform gives once, recorded so that what it sends again is handled once.

Slack redelivers an event it thinks was lost and never reuses a trigger id; Teams gives every
activity an id of its own. Any replica may get the copy, so the ids live in the store.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.background import DomainThreads
from workflows.clock import Clock
from workflows.ports import UnitOfWork


class Inbound:
    """The store's record of ids received, per platform."""

    def __init__(self, uow: Callable[[], UnitOfWork], *, clock: Clock, run: DomainThreads) -> None:
        self._uow = uow
        self._clock = clock
        self._run = run

    async def first_time(self, platform: str, key: str) -> bool:
        """Record `key`; False when it came before, to this replica or another."""
        return await self._run(self._record, platform, key)

    def _record(self, platform: str, key: str) -> bool:
        with self._uow() as uow:
            first = uow.inbound.first_time(platform, key, at=self._clock.now())
            uow.commit()
            return first
