"""Work started after a chat platform has been answered, tracked so none of it is lost silently.

Slack wants an answer within 3 seconds; what takes longer runs here. Every task is logged with
its name if it fails, and `join()` lets shutdown (and tests) wait until all of it is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """A set of running tasks, at most `concurrency` of them working at once.

    The limit keeps a burst of clicks from filling the CPU with domain work while new requests
    wait to be acknowledged; the rest wait their turn in memory.
    """

    def __init__(self, *, concurrency: int = 4) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Start `work` now and keep a reference until it ends."""
        task = asyncio.get_running_loop().create_task(self._guarded(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def join(self) -> None:
        """Wait until every task, including those started meanwhile, has ended."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def _guarded(self, work: Coroutine[Any, Any, None], name: str) -> None:
        async with self._slots:
            try:
                await work
            except Exception:
                log.exception("background task %s failed", name)
