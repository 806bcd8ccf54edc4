"""A real admin connector for the integration tests, whose backend is a SQLite file.

`FileBackend` plays the admin API of section 7: it holds seats, applies each write's
idempotency key at most once, and keeps everything in a file of its own, so its state
outlives the processes the crash tests kill. Faults are armed in the same file: the next N
writes fail (transient, optionally with a Retry-After, or permanent) before any succeeds.
It can also kill its own process right after a write has taken effect, before the caller
hears of it: the moment a worker dies "after the backend write, before capdesk recorded it";
and it can leave writes unanswered, as a backend that hangs: every write (`hang_writes`, for a
child process that is killed meanwhile) or one person's until the test releases them (`hold`).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from workflows.admin import (
    Capability,
    DailyUsage,
    HourlyUsage,
    PermanentConnectorError,
    RemoteMember,
    TransientConnectorError,
)
from workflows.model import Member

ALL_CAPABILITIES = frozenset(Capability)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seat (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    tier TEXT NOT NULL,
    cap_cents INTEGER,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS write_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    email TEXT NOT NULL,
    value TEXT,
    outcome TEXT NOT NULL,
    pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS applied_key (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    email TEXT NOT NULL,
    value TEXT
);
CREATE TABLE IF NOT EXISTS fault (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    permanent INTEGER NOT NULL,
    retry_after REAL
);
"""

APPLIED, REPLAYED, FAILED, HUNG = "applied", "replayed", "failed", "hung"
HOLD_TIMEOUT = 60.0
"""Seconds a held write waits at most, so that a test that forgets to release it ends."""


@dataclass(frozen=True, slots=True)
class Write:
    """One write call the backend received, and what it did with it."""

    key: str
    kind: str
    email: str
    value: str | None
    outcome: str
    pid: int


class FileBackend:
    """An `AdminConnector` (workflows.admin) over a SQLite file; safe across processes."""

    name = "file"

    def __init__(
        self,
        path: Path | str,
        *,
        capabilities: frozenset[Capability] = ALL_CAPABILITIES,
        crash_after_write: bool = False,
        hang_writes: bool = False,
    ) -> None:
        self.path = Path(path)
        self.capabilities = capabilities
        self.crash_after_write = crash_after_write
        self.hang_writes = hang_writes
        self._held: dict[str, threading.Event] = {}
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.executescript(_SCHEMA)  # runs in a transaction of its own
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    # -- set-up and inspection, for the tests ---------------------------------------------

    def seed(self, members: Iterable[Member]) -> None:
        """Put seats in the backend, as the org had them before capdesk."""
        with self._transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO seat (email, name, tier, cap_cents, active) "
                "VALUES (?, ?, ?, ?, ?)",
                [(m.email, m.name, m.tier, m.cap_cents, int(m.active)) for m in members],
            )

    def fail_next(self, retry_afters: Sequence[float | None], *, permanent: bool = False) -> None:
        """Make the next writes fail, one per entry, each with that Retry-After (seconds)."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO fault (permanent, retry_after) VALUES (?, ?)",
                [(int(permanent), after) for after in retry_afters],
            )

    def hold(self, email: str) -> threading.Event:
        """Writes for `email` in this process wait, unanswered, until the event is set."""
        self._held[email.lower()] = threading.Event()
        return self._held[email.lower()]

    def writes(self) -> list[Write]:
        """Every write call received, oldest first."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT key, kind, email, value, outcome, pid FROM write_log ORDER BY id"
            ).fetchall()
        return [Write(*row) for row in rows]

    def effective(self, key: str | None = None) -> list[Write]:
        """The writes that changed something (optionally for one idempotency key)."""
        return [w for w in self.writes() if w.outcome == APPLIED and key in (None, w.key)]

    def seat(self, email: str) -> RemoteMember:
        """A seat as the backend has it now."""
        found = [m for m in self.list_members() if m.email == email.lower()]
        assert found, f"the backend has no seat for {email}"
        return found[0]

    # -- the AdminConnector port ----------------------------------------------------------

    def list_members(self) -> Iterable[RemoteMember]:
        with self._transaction() as db:
            rows = db.execute(
                "SELECT email, name, tier, cap_cents, active FROM seat ORDER BY email"
            ).fetchall()
        return [
            RemoteMember(
                email=email, name=name, tier=tier, monthly_cap_cents=cap, active=bool(active)
            )
            for email, name, tier, cap, active in rows
        ]

    def daily_usage(self, since: date, until: date) -> Iterable[DailyUsage]:
        return []

    def hourly_usage(self, since: datetime, until: datetime) -> Iterable[HourlyUsage]:
        return []

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        self._write("set_cap", email, str(cap_cents), idempotency_key)

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        self._write("set_tier", email, tier, idempotency_key)

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        self._write("remove_seat", email, None, idempotency_key)

    def _write(self, kind: str, email: str, value: str | None, key: str) -> None:
        email = email.lower()
        if self.hang_writes:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO write_log (key, kind, email, value, outcome, pid) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, kind, email, value, HUNG, os.getpid()),
                )
            threading.Event().wait()  # until the process is killed
        held = self._held.get(email)
        if held is not None and not held.wait(HOLD_TIMEOUT):
            raise TransientConnectorError(f"the backend did not answer {kind} for {email}")
        error: Exception | None = None
        with self._transaction() as db:

            def log(outcome: str) -> None:
                db.execute(
                    "INSERT INTO write_log (key, kind, email, value, outcome, pid) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (key, kind, email, value, outcome, os.getpid()),
                )

            fault = db.execute(
                "SELECT id, permanent, retry_after FROM fault ORDER BY id LIMIT 1"
            ).fetchone()
            if fault is not None:
                fault_id, permanent, retry_after = fault
                db.execute("DELETE FROM fault WHERE id = ?", (fault_id,))
                log(FAILED)
                error = (
                    PermanentConnectorError(f"the backend refused {kind} for {email}")
                    if permanent
                    else TransientConnectorError(
                        f"the backend is busy (503) on {kind} for {email}", retry_after=retry_after
                    )
                )
            else:
                seen = db.execute(
                    "SELECT kind, email, value FROM applied_key WHERE key = ?", (key,)
                ).fetchone()
                if seen is not None:
                    if tuple(seen) != (kind, email, value):
                        log(FAILED)
                        error = PermanentConnectorError(
                            f"idempotency key {key} was used before for another change"
                        )
                    else:
                        log(REPLAYED)
                elif db.execute("SELECT 1 FROM seat WHERE email = ?", (email,)).fetchone() is None:
                    log(FAILED)
                    error = PermanentConnectorError(f"the backend has no seat for {email}")
                else:
                    self._apply(db, kind, email, value)
                    db.execute(
                        "INSERT INTO applied_key (key, kind, email, value) VALUES (?, ?, ?, ?)",
                        (key, kind, email, value),
                    )
                    log(APPLIED)
        if error is not None:
            raise error
        if self.crash_after_write:
            # The change is durable in the backend; capdesk never hears of it.
            os.kill(os.getpid(), signal.SIGKILL)

    @staticmethod
    def _apply(db: sqlite3.Connection, kind: str, email: str, value: str | None) -> None:
        if kind == "set_cap":
            assert value is not None
            db.execute("UPDATE seat SET cap_cents = ? WHERE email = ?", (int(value), email))
        elif kind == "set_tier":
            db.execute("UPDATE seat SET tier = ? WHERE email = ?", (value, email))
        else:
            db.execute("UPDATE seat SET active = 0 WHERE email = ?", (email,))
