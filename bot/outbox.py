"""Runs both outboxes (changes to apply, messages to send) as soon as something is queued.

The scheduler sweeps them on an interval as a safety net; a click or a command wakes the pump
so its consequences (the applied change, the updated cards) show within a moment.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from workflows.delivery import Notifier, Platforms, deliver_pending

if TYPE_CHECKING:
    from bot.bootstrap import Capdesk

log = logging.getLogger(__name__)


class OutboxPump:
    """Applies due operations and delivers due notifications, off the event loop."""

    def __init__(self, app: Capdesk, notifier: Notifier | Platforms) -> None:
        self._app = app
        self._notifier = notifier
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        """Ask for a pass soon; many wakes before the pass runs make one pass."""
        self._wake.set()

    async def pump(self) -> None:
        """One full pass: apply what is due, then deliver what that and others queued."""
        async with self._lock:
            await asyncio.to_thread(self._app.worker().drain)
            await asyncio.to_thread(deliver_pending, self._app.uow, self._notifier, self._app.clock)

    async def run(self) -> None:
        """Pass after every wake, until cancelled."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.pump()
            except Exception:
                log.exception("outbox pass failed; the scheduler's sweep will pick it up")
