"""What `GET /readyz` checks: the database now, and the admin backend as the last sync found it.

The backend is not called on every probe (a sync pages through the whole organisation); the
start-up sync and the scheduled ones record their outcome here, and while the last one failed
the scheduler tries again sooner, backing off from `first_retry` to `longest_wait`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import text

from bot.failures import backend_failure, database_failure
from bot.settings import Settings
from store.migrate import current, head
from workflows.admin import ConnectorError
from workflows.clock import Clock

if TYPE_CHECKING:
    from bot.bootstrap import Capdesk

T = TypeVar("T")

OK = "ok"
NOT_SYNCED = "not synced by this process yet"


@dataclass
class BackendHealth:
    """The admin backend as this process's last sync saw it."""

    settings: Settings
    clock: Clock
    first_retry: timedelta = timedelta(seconds=30)
    longest_wait: timedelta = timedelta(minutes=15)
    problem: str | None = None
    """The last sync's failure, as one line naming the setting; None after a success."""
    synced: bool = False
    failures: int = 0
    """Failed syncs in a row."""
    failed_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def watch(self, sync: Callable[[], T]) -> T:
        """Run `sync` (in a worker thread) and record how the backend answered."""
        try:
            result = sync()
        except ConnectorError as exc:
            with self._lock:
                self.problem = backend_failure(exc, self.settings)
                self.failures += 1
                self.failed_at = self.clock.now()
            raise
        with self._lock:
            self.problem, self.failures, self.failed_at, self.synced = None, 0, None, True
        return result

    def retry_due(self) -> bool:
        """Whether the last sync failed long enough ago to try again."""
        with self._lock:
            if self.failed_at is None:
                return False
            wait = min(self.first_retry * 2 ** (self.failures - 1), self.longest_wait)
            due: bool = self.clock.now() >= self.failed_at + wait
            return due

    def state(self) -> str:
        """`ok`, the failure, or that no sync has run here yet."""
        if self.problem is not None:
            return self.problem
        return OK if self.synced else NOT_SYNCED


def database_state(app: Capdesk) -> str:
    """`ok`, or why the database cannot serve (blocking: run it in a thread)."""
    try:
        with app.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if current(app.engine) != head():
            return "the database schema is not current; run `capdesk db upgrade`"
    except Exception as exc:
        # Whatever the driver raises, the probe answers: a readiness check must not crash.
        return database_failure(exc, app.settings)
    return OK


def readiness(database: str, backend: str) -> tuple[int, dict[str, object]]:
    """The status code and body of `GET /readyz`, each part of the check named on its own.

    Only the database makes a replica unready: without it nothing works. A backend outage is
    `degraded` with 200, because requests, decisions and status still work from the store and
    their changes wait in the outbox; a 503 would make a load balancer take every replica out
    of rotation at once during the outage.
    """
    checks = {"database": database, "admin_backend": backend}
    problems = [
        f"{label}: {state}"
        for label, state in (("database", database), ("admin backend", backend))
        if state not in (OK, NOT_SYNCED)
    ]
    if database not in (OK, NOT_SYNCED):
        return 503, {"status": "unavailable", "reason": "; ".join(problems), "checks": checks}
    if problems:
        return 200, {"status": "degraded", "reason": "; ".join(problems), "checks": checks}
    return 200, {"status": "ready", "checks": checks}
