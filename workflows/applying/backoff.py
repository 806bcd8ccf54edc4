"""When to try an operation again."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, honouring the backend's Retry-After."""

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=15)
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempt: int, *, retry_after: float | None, rng: random.Random) -> timedelta:
        """The wait after the `attempt`-th failure (1-based)."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        wait = timedelta(seconds=rng.uniform(0, ceiling.total_seconds()))
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait
