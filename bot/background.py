"""Work started after a chat platform has been answered, tracked so none of it is lost silently.

Slack wants an answer within 3 seconds; what takes longer runs here. Every task is logged with
its name if it fails, and `join()` lets shutdown (and tests) wait until all of it is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")


class Background:
    """A set of running tasks, at most `concurrency` of them working at once (the rest wait
    their turn in memory)."""

    def __init__(self, *, concurrency: int = 32) -> None:
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


class DomainThreads:
    """Runs the blocking domain code in threads, `limit` calls at a time.

    Domain calls are Python-bound (SQLAlchemy), so several at once only fight the event loop
    for the GIL: with one at a time, a burst of clicks still gets every ack out near the bare
    Bolt app's latency, while the network waits of other tasks go on around it.
    """

    def __init__(self, *, limit: int = 1) -> None:
        self._slots = asyncio.Semaphore(limit)

    async def __call__(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        async with self._slots:
            return await asyncio.to_thread(work, *args, **kwargs)


class OnLoop:
    """Runs coroutines on the event loop that owns a platform's async client, from the worker
    threads the outbox is delivered in, waiting for each (at most `timeout` seconds)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, timeout: float = 120) -> None:
        self._loop = loop
        self._timeout = timeout

    def __call__(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=self._timeout)
