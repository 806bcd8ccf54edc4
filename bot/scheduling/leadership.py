"""Which replica runs the scheduled jobs: the holder of a PostgreSQL advisory lock.

The lock is session-level, taken with `pg_try_advisory_lock` on a connection of its own that
is kept open while leading. When the holder dies, PostgreSQL ends its session and the lock is
free; another replica, retrying every `Intervals.leadership`, takes it over. A holder that hangs
without dying loses its session too: the lock connection pings every check, and the server
closes it after `IDLE_LIMIT` without a ping. With SQLite there is one process, and it leads.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

IDLE_LIMIT_SECONDS = 45
"""The server ends a lock session idle this long: a hung leader hands over within a minute."""


class Leadership(Protocol):
    """The right to run the scheduled jobs."""

    def hold(self) -> bool:
        """Take the lead, or check it is still ours; False while another replica has it."""
        ...

    def release(self) -> None:
        """Give the lead up (on shutdown), so another replica takes over at once."""
        ...


class SoleLeader:
    """A single process (SQLite): always the leader."""

    def hold(self) -> bool:
        return True

    def release(self) -> None:
        return None


def lock_key(database: str, schema: str) -> int:
    """A 64-bit advisory lock key of its own for each capdesk database and schema."""
    digest = hashlib.sha256(f"capdesk.scheduler:{database}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """Leadership through a session-level advisory lock on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        # A connection outside the application's pool: it lives as long as the lead.
        self._engine = create_engine(
            engine.url,
            poolclass=NullPool,
            connect_args={"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5},
        )
        self._connection: Connection | None = None

    def hold(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()
                return True
            except SQLAlchemyError:
                log.warning("lost the scheduler lock's connection; no longer leading")
                self._drop()
        return self._take()

    def _take(self) -> bool:
        try:
            connection = self._engine.connect()
        except SQLAlchemyError as exc:
            log.warning("cannot reach the database to take the scheduler lock: %s", exc)
            return False
        try:
            where = connection.execute(text("SELECT current_database(), current_schema()")).one()
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(*where)}
            ).scalar()
            if taken:
                connection.execute(text(f"SET idle_session_timeout = '{IDLE_LIMIT_SECONDS}s'"))
            connection.commit()
        except SQLAlchemyError as exc:
            log.warning("taking the scheduler lock failed: %s", exc)
            connection.invalidate()
            connection.close()
            return False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock_all()"))
            self._connection.commit()
        except SQLAlchemyError:
            pass  # the session is gone, and the lock with it
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            except SQLAlchemyError:
                pass  # closing a dead connection
            self._connection = None

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()


def leadership_for(engine: Engine) -> Leadership:
    """An advisory lock on PostgreSQL; the one process leads on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return SoleLeader()
