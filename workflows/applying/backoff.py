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
    lease: timedelta = timedelta(seconds=15)
    """How long a claim holds without renewal: what a crashed worker's operations wait for."""

    @property
    def renew_every(self) -> timedelta:
        """A live worker renews its leases this often: three chances before one lapses."""
        return self.lease / 3

    def delay(self, attempt: int, *, retry_after: float | None, rng: random.Random) -> timedelta:
        """The wait after the `attempt`-th failure (1-based)."""
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        wait = timedelta(seconds=rng.uniform(0, ceiling.total_seconds()))
        if retry_after is not None:
            wait = max(wait, timedelta(seconds=retry_after))
        return wait
