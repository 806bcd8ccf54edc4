"""The composition root: the one place that builds settings, store, policy, connector and
workers, every configured chat platform's adapter with the routing of the outbox over their
notifiers, the outbox pump and the scheduler. `capdesk serve`, the CLI and the demo take what
they need from here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.background import Background, DomainThreads
from bot.chat.adapter import ChatAdapter, Platform
from bot.chat.desk import Core
from bot.chat.routing import RoutingNotifier
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
from bot.failures import database_failure
from bot.metrics import Metrics
from bot.outbox import OutboxPump
from bot.presence import Presence
from bot.scheduling import CapdeskScheduler, build_scheduler
from bot.scheduling.scheduler import Intervals
from bot.server.readiness import BackendHealth
from bot.settings import Settings, load_settings
from bot.slack.app import SlackAdapter, SlackPlatform, build_slack
from bot.slack.playground import Playground, open_playground
from bot.slack.playground.launch import PlaygroundAdapter
from bot.startup import StartupError, clock_for
from store.engine import make_engine
from store.migrate import SchemaOutOfDate, ensure_schema
from store.uow import SqlUnitOfWork, uow_factory
from workflows.admin import AdminConnector
from workflows.alerts.digest import DigestBudget
from workflows.applying.worker import OperationWorker
from workflows.clock import Clock
from workflows.delivery import DeliveryReport, deliver_pending
from workflows.policy import Policy, load_policy
from workflows.sync import Progress, SyncReport, sync

log = logging.getLogger(__name__)


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

    @property
    def digest_budget(self) -> DigestBudget:
        """What a digest must fit: every configured chat platform may show it. With none
        configured here, a running `capdesk serve` may deliver it anywhere capdesk speaks."""
        platforms = configured_platforms(self.settings) or PLATFORMS
        return DigestBudget.tightest(p.digest_budget for p in platforms)

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


# --------------------------------------------------------------------------- chat platforms

PLATFORMS: tuple[Platform, ...] = (SlackPlatform(),)
"""Every chat platform capdesk speaks, in the order messages try them."""


def configured_platforms(
    settings: Settings, platforms: Sequence[Platform] = PLATFORMS
) -> list[Platform]:
    """The platforms the settings turn on, in order."""
    return [p for p in platforms if p.configured(settings)]


def check_chat_settings(settings: Settings, platforms: Sequence[Platform] = PLATFORMS) -> None:
    """Refuse to start with a chat configuration that cannot work, naming the variable.

    Teams settings stop start-up until this release has a Teams adapter, unless another
    platform is configured too; then they are one warning.
    """
    for platform in platforms:
        platform.check(settings)
    teams = [
        name
        for name, wanted in (
            ("MICROSOFT_APP_ID", settings.microsoft_app_id is not None),
            ("CAPDESK_TEAMS_DEV_NO_AUTH", settings.teams_dev_no_auth),
        )
        if wanted
    ]
    if teams and not configured_platforms(settings, platforms):
        raise StartupError(
            "this release has no Teams adapter, so capdesk cannot serve Teams: set "
            f"SLACK_BOT_TOKEN for Slack, or unset {' and '.join(teams)} for the playground "
            + settings.mention(*teams)
        )
    if teams:
        log.warning(
            "this release has no Teams adapter: serving Slack only %s", settings.mention(*teams)
        )


def core_of(
    app: Capdesk, *, metrics: Metrics, wake_outbox: Callable[[], None] = lambda: None
) -> Core:
    """What every platform's adapter shares, over this capdesk."""
    return Core(
        uow=app.uow,
        policy=app.policy,
        clock=app.clock,
        run=DomainThreads(),
        metrics=metrics,
        wake_outbox=wake_outbox,
    )


@dataclass
class Chat:
    """Every chat platform `capdesk serve` serves, one adapter each, and the outbox's routing
    over their notifiers (None with no platform)."""

    adapters: list[ChatAdapter]
    routing: RoutingNotifier | None
    playground: Playground | None = None

    @property
    def slack(self) -> SlackAdapter | None:
        """The Slack adapter, when Slack is served (the playground's included)."""
        found = [a.slack if isinstance(a, PlaygroundAdapter) else a for a in self.adapters]
        return next((a for a in found if isinstance(a, SlackAdapter)), None)

    @property
    def label(self) -> str:
        """Where the outbox delivers to, as one-off commands tell it: `Slack`, `the
        playground`."""
        if self.playground is not None:
            return "the playground"
        return " and ".join(a.notifier.name for a in self.adapters)

    @property
    def digest_budget(self) -> DigestBudget:
        """What a digest must fit to be shown on every platform served."""
        return DigestBudget.tightest(a.digest_budget for a in self.adapters)


async def open_chat(
    app: Capdesk,
    *,
    host: str,
    core: Core,
    background: Background,
    settle: Callable[[], Awaitable[None]],
    platforms: Sequence[Platform] = PLATFORMS,
) -> Chat:
    """The adapters of every configured platform, built on the running loop. With none
    configured, the playground's workspace stands in for Slack (SPEC section 9)."""
    adapters = [
        p.adapter(app.settings, core, background=background)
        for p in configured_platforms(app.settings, platforms)
    ]
    playground = None
    if not adapters:
        playground = await open_playground(app, host=host, settle=settle)
    if playground is not None:
        try:
            slack = build_slack(playground.slack, core, background=background)
        except BaseException:
            await playground.close()
            raise
        adapters.append(PlaygroundAdapter(playground, slack))
    routing = RoutingNotifier([a.notifier for a in adapters], app.uow) if adapters else None
    return Chat(adapters, routing, playground=playground)


@dataclass
class Serving:
    """What `capdesk serve` runs besides its web server: the chat platforms, and, when there
    is one to deliver to, the outbox pump, the presence beat and the scheduler."""

    chat: Chat
    pump: OutboxPump | None = None
    presence: Presence | None = None
    scheduler: CapdeskScheduler | None = None


async def open_serving(
    app: Capdesk,
    *,
    host: str,
    metrics: Metrics,
    background: Background,
    backend: BackendHealth,
    scheduled: bool,
    wake_outbox: Callable[[], None],
    settle: Callable[[], Awaitable[None]],
    platforms: Sequence[Platform] = PLATFORMS,
    intervals: Intervals | None = None,
) -> Serving:
    """Build (not start) everything `capdesk serve` runs."""
    core = core_of(app, metrics=metrics, wake_outbox=wake_outbox)
    chat = await open_chat(
        app, host=host, core=core, background=background, settle=settle, platforms=platforms
    )
    if chat.routing is None:
        return Serving(chat)
    scheduler = None
    if scheduled:
        scheduler = build_scheduler(
            app,
            notifier=chat.routing,
            backend=backend,
            budget=chat.digest_budget,
            intervals=intervals or Intervals(),
        )
    return Serving(
        chat,
        pump=OutboxPump(app, chat.routing),
        presence=Presence(app, chat.label),
        scheduler=scheduler,
    )


def deliver_through_chat(app: Capdesk, platforms: Sequence[Platform] = PLATFORMS) -> DeliveryReport:
    """One pass of the notifications outbox through every configured chat platform, on a loop
    of its own (`capdesk digest`, `alerts run`)."""
    return asyncio.run(_deliver_through_chat(app, platforms))


async def _deliver_through_chat(app: Capdesk, platforms: Sequence[Platform]) -> DeliveryReport:
    core = core_of(app, metrics=Metrics())
    async with AsyncExitStack() as stack:
        notifiers = [
            await stack.enter_async_context(p.outbound(app.settings, core))
            for p in configured_platforms(app.settings, platforms)
        ]
        routing = RoutingNotifier(notifiers, app.uow)
        return await asyncio.to_thread(deliver_pending, app.uow, routing, app.clock)
