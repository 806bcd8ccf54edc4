"""The composition root: the one place that builds settings, store, policy, connector, workers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.connectors.sandbox import SandboxConnector, SandboxOrg, builtin_policy, generate_org
from bot.connectors.sandbox.sql_state import SqlSandboxState
from bot.connectors.sandbox.state import MemorySandboxState
from bot.connectors.select import remote_connector
from bot.settings import Settings, load_settings
from store.engine import make_engine
from store.migrate import SchemaOutOfDate, ensure_schema
from store.uow import SqlUnitOfWork, uow_factory
from workflows.admin import AdminConnector
from workflows.applying.worker import OperationWorker
from workflows.clock import Clock, SystemClock
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

    def __post_init__(self) -> None:
        factory = uow_factory(self.engine)
        self._sessions = lambda: SqlUnitOfWork(factory)

    def uow(self) -> SqlUnitOfWork:
        """A fresh unit of work (one transaction)."""
        return self._sessions()

    def worker(self) -> OperationWorker:
        """The outbox worker on this connector."""
        return OperationWorker(
            uow_factory=self.uow, connector=self.connector, policy=self.policy, clock=self.clock
        )

    def today(self) -> date:
        return self.clock.now().astimezone(self.policy.org.zone).date()

    def sync(self, progress: Progress | None = None) -> SyncReport:
        """Pull members and usage from the backend into the store."""
        return sync(self.uow, self.connector, self.policy, today=self.today(), progress=progress)

    def ensure_synced(self, progress: Progress | None = None) -> None:
        """Sync once on first start, so a fresh store is never empty."""
        with self.uow() as uow:
            empty = not uow.members.list()
        if empty:
            self.sync(progress)


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    connector: AdminConnector | None = None,
    builtin_policy_only: bool = False,
) -> Capdesk:
    """Build capdesk from settings (the environment by default).

    `builtin_policy_only` ignores any policy file, for the demo's scripted sandbox story.
    """
    settings = settings or load_settings()
    clock = clock or SystemClock()
    sandbox = None
    if connector is None:
        if settings.admin_backend == "sandbox":
            sandbox = generate_org(settings.sandbox_seed, today=clock.now().date())
        else:
            connector = remote_connector(settings)
    # The policy first: a bad file should stop start-up before any database is created.
    if builtin_policy_only and sandbox is not None:
        policy = builtin_policy(sandbox)
    else:
        policy = _policy(settings, sandbox)
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
    except (SQLAlchemyError, SchemaOutOfDate) as exc:
        raise StartupError(f"CAPDESK_DATABASE_URL: {one_line(exc)}") from exc
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


def reading_connector(settings: Settings, *, today: date) -> AdminConnector:
    """The configured backend's connector for reading alone, with no policy and no store (for
    `policy init`, which writes the policy): the sandbox is the org as generated."""
    if settings.admin_backend == "sandbox":
        org = generate_org(settings.sandbox_seed, today=today)
        return SandboxConnector(org, MemorySandboxState())
    return remote_connector(settings)


def one_line(exc: Exception) -> str:
    """The driver's own message of a database error, without SQLAlchemy's links and SQL."""
    return str(exc).strip().splitlines()[0]


def _policy(settings: Settings, sandbox: SandboxOrg | None) -> Policy:
    path = settings.policy_path()
    if path is not None:
        return load_policy(path)
    if sandbox is None:
        raise StartupError("CAPDESK_POLICY_FILE: a policy file is needed for a real backend")
    return builtin_policy(sandbox)
