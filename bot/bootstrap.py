"""The composition root: the one place that builds settings, store, policy, connector, workers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.connectors.sandbox import (
    SANDBOX_ZONE,
    MemorySandboxState,
    SandboxConnector,
    SandboxOrg,
    builtin_policy,
    generate_org,
)
from bot.connectors.sandbox.sql_state import SqlSandboxState
from bot.connectors.select import remote_connector
from bot.settings import Settings, load_settings
from store.engine import make_engine
from store.migrate import SchemaOutOfDate, ensure_schema
from store.uow import SqlUnitOfWork, uow_factory
from workflows.admin import AdminConnector
from workflows.applying.worker import OperationWorker
from workflows.clock import Clock, ManualClock, ShiftedClock, SystemClock, in_zone
from workflows.policy import Policy, load_policy
from workflows.sync import Progress, SyncReport, sync


class StartupError(Exception):
    """Start-up cannot go on; `str()` is one line an operator can act on."""


@dataclass
class Capdesk:
    """Everything the runtime edges need, built once."""

    settings: Settings
    engine: Engine
    policy: Policy
    connector: AdminConnector
    clock: Clock
    sandbox: SandboxOrg | None = None
    _sessions: Callable[[], SqlUnitOfWork] = field(init=False)
    _worker: OperationWorker | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        factory = uow_factory(self.engine)
        self._sessions = lambda: SqlUnitOfWork(factory)

    def uow(self) -> SqlUnitOfWork:
        """A fresh unit of work (one transaction)."""
        return self._sessions()

    def worker(self) -> OperationWorker:
        """The outbox worker on this connector: one per process, so that every pass shares its
        bound on calls at once (`CAPDESK_APPLY_CONCURRENCY`)."""
        if self._worker is None:
            self._worker = OperationWorker(
                uow_factory=self.uow,
                connector=self.connector,
                policy=self.policy,
                clock=self.clock,
                concurrency=self.settings.apply_concurrency,
            )
        return self._worker

    def today(self) -> date:
        return self.clock.now().astimezone(self.policy.org.zone).date()

    def sync(self, progress: Progress | None = None) -> SyncReport:
        """Pull members and usage from the backend into the store."""
        return sync(self.uow, self.connector, self.policy, today=self.today(), progress=progress)

    def store_is_empty(self) -> bool:
        """Whether no member was ever synced: a fresh store."""
        with self.uow() as uow:
            return not uow.members.list()

    def ensure_synced(self, progress: Progress | None = None) -> None:
        """Sync once on first start, so a fresh store is never empty."""
        if self.store_is_empty():
            self.sync(progress)


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    at: datetime | None = None,
    connector: AdminConnector | None = None,
    builtin_policy_only: bool = False,
) -> Capdesk:
    """Build capdesk from settings (the environment by default).

    Without `clock`, the time is `clock_for`'s. `builtin_policy_only` ignores any policy file,
    for the demo's scripted sandbox story.
    """
    settings = settings or load_settings()
    on_sandbox = connector is None and settings.admin_backend == "sandbox"
    # The policy first: a bad file should stop start-up before any database is created.
    path = None if builtin_policy_only and on_sandbox else settings.policy_path()
    from_file = load_policy(path) if path is not None else None
    if clock is None:
        clock = clock_for(
            settings, SANDBOX_ZONE if from_file is None else from_file.org.zone, at=at
        )
    sandbox = None
    if connector is None:
        if on_sandbox:
            # The sandbox's usage is laid out on its own local days.
            today = clock.now().astimezone(SANDBOX_ZONE).date()
            sandbox = generate_org(settings.sandbox_seed, today=today)
        else:
            connector = remote_connector(settings)
    if from_file is not None:
        policy = from_file
    elif sandbox is not None:
        policy = builtin_policy(sandbox)
    else:
        raise StartupError("CAPDESK_POLICY_FILE: a policy file is needed for a real backend")
    engine = open_engine(settings)
    try:
        ensure_schema(engine)
    except (SQLAlchemyError, SchemaOutOfDate) as exc:
        raise StartupError(database_failure(exc, settings)) from exc
    if connector is None:
        assert sandbox is not None
        connector = SandboxConnector(sandbox, SqlSandboxState(engine))
    return Capdesk(
        settings=settings,
        engine=engine,
        policy=policy,
        connector=connector,
        clock=clock,
        sandbox=sandbox,
    )


def connector_without_store(settings: Settings, *, today: date | None = None) -> AdminConnector:
    """The configured backend for reading alone, with no policy and no store (`policy check`,
    and `policy init`, which writes the policy).

    The sandbox is the org as generated, without the seat changes its database records.
    """
    if settings.admin_backend != "sandbox":
        return remote_connector(settings)
    day = today or clock_for(settings, SANDBOX_ZONE).now().astimezone(SANDBOX_ZONE).date()
    return SandboxConnector(generate_org(settings.sandbox_seed, today=day), MemorySandboxState())


def open_engine(settings: Settings) -> Engine:
    """The engine of `CAPDESK_DATABASE_URL`; a driver that will not load is a StartupError."""
    try:
        return make_engine(settings.database_url)
    except (SQLAlchemyError, ImportError) as exc:
        raise StartupError(database_failure(exc, settings)) from exc


def database_failure(exc: Exception, settings: Settings) -> str:
    """`cannot open the database: unable to open database file (CAPDESK_DATABASE_URL=…)`."""
    cause = (
        str(exc)
        if isinstance(exc, SchemaOutOfDate)
        else f"cannot open the database: {one_line(exc)}"
    )
    return f"{cause} {settings.mention('CAPDESK_DATABASE_URL')}"


def one_line(exc: Exception) -> str:
    """The driver's own message of a database error, without SQLAlchemy's links, SQL and the
    `(sqlite3.OperationalError)` in front."""
    return _DRIVER_CLASS.sub("", str(exc).strip().splitlines()[0])


_DRIVER_CLASS = re.compile(r"^\([\w.]+\) ")


def clock_for(settings: Settings, zone: tzinfo, *, at: datetime | None = None) -> Clock:
    """The clock a process runs on; CAPDESK_NOW is the one way to pin it for all of it.

    `at` (a command's `--at`) is that instant, standing still: the same `--at` gives the same
    answer. Else CAPDESK_NOW: time starts there and runs on at real speed, so leases, retries
    and the scheduler still work. Else the real time.
    """
    start = start_of_clock(settings, zone, at=at)
    if start is None:
        return SystemClock()
    return ManualClock(start) if at is not None else ShiftedClock(start)


def start_of_clock(
    settings: Settings, zone: tzinfo, *, at: datetime | None = None
) -> datetime | None:
    """Where time starts: `at`, else CAPDESK_NOW; None for the real time.

    Either is read on `zone`'s wall clock (the organisation's) unless it carries an offset; a
    time a DST change skips or repeats stops start-up, naming where it came from.
    """
    source, start = ("--at", at) if at is not None else ("CAPDESK_NOW", settings.now)
    if start is None:
        return None
    try:
        return in_zone(start, zone)
    except ValueError as exc:
        raise StartupError(f"{source}: {exc}") from None
