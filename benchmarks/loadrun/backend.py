"""The admin backend of the load run: the fake of capdesk's generic contract, with faults.

`FaultyContract` is `tests.connectors.fake_contract.FakeContract` (checked against
`manifests/admin-api.openapi.yaml` in `tests/connectors/test_contract.py`) plus what a load run
needs: a share of the writes fails (429 and 503 with `Retry-After`, 500 without, mixed), a
number of armed writes hang for longer than the connector's read timeout and then take effect
(the backend was slow, not down: capdesk cannot tell whether a timed-out write happened), and
every write that takes effect is stamped with the monotonic clock, which every process of the
machine shares, so the driver can time Approve → applied.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

from bot.connectors.http_client import DEFAULT_TIMEOUT
from tests.connectors.fake_contract import TOKEN, FakeContract

__all__ = ["TOKEN", "Effect", "FaultyContract", "serve_backend"]

FAULT_STATUSES = (429, 500, 503)
RETRY_AFTER = "1"
HANG = (DEFAULT_TIMEOUT.read or 30.0) + 5.0
"""A hung write answers this long after it arrived: past the connector's read timeout."""


@dataclass(frozen=True, slots=True)
class Effect:
    """A write that changed a seat: its key, whose seat, the cap it set, when."""

    key: str
    email: str
    cap_cents: int | None
    at: float


@dataclass
class FaultyContract(FakeContract):
    """The contract's fake; `fail_share` of the writes fail, `arm_hang()` makes the next hang."""

    fail_share: float = 0.0
    seed: int = 1
    hang_seconds: float = HANG
    effects: list[Effect] = field(default_factory=list)
    seen: Callable[[Effect], None] | None = None
    """Told of each effect as it happens."""
    writes: int = 0
    injected: Counter[int] = field(default_factory=Counter)
    hung: int = 0
    replayed: int = 0
    """Writes whose key had taken effect already: answered as the first time, changing nothing."""
    _armed: int = 0
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"faults {self.seed}")

    def arm_hang(self) -> None:
        """The next write that arrives hangs."""
        self._armed += 1

    async def _write(self, request: web.Request) -> web.Response:
        self.writes += 1
        if self._armed:
            self._armed -= 1
            self.hung += 1
            await asyncio.sleep(self.hang_seconds)
        elif self._rng.random() < self.fail_share:
            status = self._rng.choice(FAULT_STATUSES)
            self.injected[status] += 1
            response = self.error(status, f"injected {status}", "unavailable")
            if status != 500:
                response.headers["Retry-After"] = RETRY_AFTER
            return response
        if request.headers.get("Idempotency-Key") in self.replies:
            self.replayed += 1
        before = len(self.applied)
        response = await super()._write(request)
        if len(self.applied) > before:
            key, _path, body = self.applied[-1]
            cap = body.get("monthly_cap_cents") if isinstance(body, dict) else None
            email = unquote(request.match_info["email"]).lower()
            effect = Effect(key, email, cap, time.monotonic())
            self.effects.append(effect)
            if self.seen is not None:
                self.seen(effect)
        return response


@asynccontextmanager
async def serve_backend(backend: FaultyContract) -> AsyncIterator[str]:
    """Serves the fake on an ephemeral port of 127.0.0.1, on the running loop; yields its URL."""
    released = asyncio.Event()
    # Hung writes still asleep when the run ends are not waited for.
    runner = web.AppRunner(backend.app(released), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        released.set()
        await runner.cleanup()
