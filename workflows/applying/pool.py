"""Running claimed outbox items in worker threads, a bounded number at a time, keeping their
leases alive while they run.

Threads, not processes or asyncio: an item spends its time waiting on the admin API (the GIL is
released), the connectors are blocking httpx clients, and each thread opens its own unit of
work. The caller's thread only claims, waits and renews; it never runs an item itself, so a
renewal is never stuck behind a slow call.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

C = TypeVar("C")

DEFAULT_CONCURRENCY = 8
"""Operations one outbox worker applies at once (`CAPDESK_APPLY_CONCURRENCY`)."""

TICK = 0.5
"""Seconds between the runner's looks at its leases and at newly due items while items run.
Real time, only a cadence: whether a renewal is due is decided on the injected clock."""


def run_claims(
    *,
    claim: Callable[[int], Sequence[C]],
    work: Callable[[C], None],
    keep: Callable[[Collection[C]], None],
    keep_due: Callable[[], bool],
    concurrency: int,
    most: int,
    refill: bool,
    again: Callable[[], bool] = lambda: False,
) -> None:
    """Claim items with `claim(n)` (at most n; none when nothing is due) and run `work` on each,
    at most `concurrency` at a time and at most `most` in all.

    Without `refill`, one claim of up to `most` items is made and run. With it, free slots are
    filled as items finish and at every tick, until nothing is due, nothing runs and `again()`
    says no other caller asked for a pass meanwhile. Whenever `keep_due()`, `keep` renews the
    leases of the items claimed and not finished. An exception from `work` or `claim` ends the
    run once the items already running have finished, and is raised.
    """
    left = most
    running: dict[Future[None], C] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="capdesk-apply") as pool:

        def take(limit: int) -> None:
            nonlocal left
            items = claim(limit) if limit > 0 else []
            left -= len(items)
            for item in items:
                running[pool.submit(work, item)] = item

        take(min(left, concurrency) if refill else left)
        while True:
            if not running:
                if refill and left > 0 and again():
                    take(min(left, concurrency))
                    continue
                return
            done, _ = wait(running, timeout=TICK, return_when=FIRST_COMPLETED)
            for future in done:
                del running[future]
                future.result()
            # Renew before claiming more, so that a lease which lapsed while the clock jumped
            # is this runner's again before its own claim could take the operation twice.
            if running and keep_due():
                keep(list(running.values()))
            if refill:
                take(min(left, concurrency - len(running)))
