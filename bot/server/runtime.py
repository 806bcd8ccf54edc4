"""`capdesk serve` assembled: the web server, Slack (HTTP or Socket Mode), the outbox pump.

Part of the composition root: `bootstrap` builds the core, this adds what only a long-running
server has.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from dataclasses import dataclass, field

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.background import Background
from bot.bootstrap import Capdesk, StartupError
from bot.metrics import Metrics
from bot.outbox import OutboxPump
from bot.presence import Presence
from bot.scheduling import CapdeskScheduler, build_scheduler
from bot.scheduling.scheduler import Intervals
from bot.server.listening import listen
from bot.server.readiness import BackendHealth
from bot.server.web import web_app
from bot.slack.app import Slack, build_slack
from bot.slack.playground import Playground, open_playground
from bot.telemetry import TelemetryReceiver
from workflows.admin import ConnectorError

log = logging.getLogger(__name__)


def check_chat_settings(app: Capdesk) -> None:
    """Refuse to start with a chat configuration that cannot work, naming the variable.

    Teams settings stop start-up until this release has a Teams adapter, unless Slack is
    configured too; then they are one warning.
    """
    settings = app.settings
    token, secret, app_token = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
    )
    if app_token is not None and token is None:
        raise StartupError("SLACK_BOT_TOKEN: must be set for Socket Mode (SLACK_APP_TOKEN is set)")
    if token is not None and app_token is None and not (secret and secret.get_secret_value()):
        raise StartupError(
            "SLACK_SIGNING_SECRET: must be set to verify Slack's requests in HTTP mode "
            "(or set SLACK_APP_TOKEN to use Socket Mode)"
        )
    teams = [
        name
        for name, wanted in (
            ("MICROSOFT_APP_ID", settings.microsoft_app_id is not None),
            ("CAPDESK_TEAMS_DEV_NO_AUTH", settings.teams_dev_no_auth),
        )
        if wanted
    ]
    if teams and token is None:
        raise StartupError(
            "this release has no Teams adapter, so capdesk cannot serve Teams: set "
            f"SLACK_BOT_TOKEN for Slack, or unset {' and '.join(teams)} for the playground "
            + settings.mention(*teams)
        )
    if teams:
        log.warning(
            "this release has no Teams adapter: serving Slack only %s", settings.mention(*teams)
        )


@dataclass
class Runtime:
    """Everything `capdesk serve` runs, started and stopped together."""

    app: Capdesk
    metrics: Metrics = field(init=False)
    background: Background = field(default_factory=Background)
    scheduled: bool = True
    """Run the scheduled jobs (tests drive the domain's clock themselves and turn this off)."""
    slack: Slack | None = None
    pump: OutboxPump | None = None
    presence: Presence | None = None
    playground: Playground | None = None
    scheduler: CapdeskScheduler | None = None
    intervals: Intervals = field(default_factory=Intervals)
    telemetry: TelemetryReceiver | None = None
    backend: BackendHealth = field(init=False)
    """The admin backend as the last sync found it, for `/readyz`."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _socket: AsyncSocketModeHandler | None = None

    def __post_init__(self) -> None:
        self.metrics = Metrics(self.app.uow, backlog=lambda: self.background.running)
        self.backend = BackendHealth(self.app.settings, self.app.clock)

    async def _first_sync(self) -> None:
        # A backend that is down does not stop the server: the failure is logged in one line,
        # `/readyz` reports it, and the scheduler retries the sync.
        if not await asyncio.to_thread(self.app.store_is_empty):
            return
        try:
            await asyncio.to_thread(self.backend.watch, self.app.sync)
        except ConnectorError:
            log.warning(
                "the first sync failed, serving what the store has; /readyz reports it until "
                "a sync works: %s",
                self.backend.state(),
            )

    async def start(self, *, host: str, port: int) -> int:
        """Check the settings, bind the port, fill a fresh store from the admin backend, build
        the platform adapters on this loop and serve; returns the bound port.

        On a failure, what was started is stopped again before the error goes on.
        """
        check_chat_settings(self.app)
        sockets = listen(host, port, self.app.settings)
        try:
            await self._first_sync()
            return await self._start(host, sockets)
        except BaseException:
            for sock in sockets:
                sock.close()
            await self.stop()
            raise

    async def _start(self, host: str, sockets: list[socket.socket]) -> int:
        # No chat credentials: the playground's workspace stands in for Slack (SPEC section 9).
        self.playground = await open_playground(self.app, host=host, settle=self.settle)
        if self.playground is not None:
            self.app = self.playground.app
        settings = self.app.settings
        if settings.slack_bot_token is not None:
            secret = settings.slack_signing_secret
            socket_mode = settings.slack_app_token is not None
            self.slack = build_slack(
                self.app,
                token=settings.slack_bot_token.get_secret_value(),
                signing_secret=None if socket_mode or secret is None else secret.get_secret_value(),
                metrics=self.metrics,
                background=self.background,
                wake_outbox=self.wake_outbox,
            )
            self.pump = OutboxPump(self.app, self.slack.notifier)
            self._tasks.append(asyncio.create_task(self.pump.run(), name="outbox pump"))
            # One-off commands on this database leave their messages to this server from now.
            self.presence = Presence(
                self.app, "the playground" if self.playground is not None else "Slack"
            )
            await asyncio.to_thread(self.presence.beat)
            self._tasks.append(asyncio.create_task(self.presence.run(), name="presence"))
            if self.scheduled:
                self.scheduler = build_scheduler(
                    self.app,
                    notifier=self.slack.notifier,
                    backend=self.backend,
                    intervals=self.intervals,
                )
                await self.scheduler.start()
        slack_route = self.slack.handle if self.slack and not self._socket_mode else None
        web_application = web_app(
            app=self.app, metrics=self.metrics, slack=slack_route, backend=self.backend
        )
        if self.playground is not None:
            self.playground.add_routes(web_application)
        # Claude Code's telemetry (OTLP/HTTP), and a rules run soon after some arrives.
        self.telemetry = TelemetryReceiver(self.app, on_counted=self.telemetry_counted)
        self.telemetry.add_routes(web_application)
        await self.telemetry.start()
        self._runner = web.AppRunner(web_application, access_log=None)
        await self._runner.setup()
        for sock in sockets:
            await web.SockSite(self._runner, sock).start()
        if self.playground is not None:
            self.playground.connect(self._runner.addresses[0])
        if self.slack is not None and self._socket_mode:
            assert settings.slack_app_token is not None
            self._socket = AsyncSocketModeHandler(
                self.slack.bolt, settings.slack_app_token.get_secret_value()
            )
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        # What start-up built lives as long as the process: keeping it out of the collector's
        # full passes takes ~80 ms pauses off the slowest acks. Full passes over what requests
        # leave behind still paused the loop often enough to double the p99 ack; one in ten
        # as many (the third threshold, 10 by default) keeps it near the bare Bolt app's.
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 100)
        return int(self._runner.addresses[0][1])

    @property
    def _socket_mode(self) -> bool:
        return self.app.settings.slack_app_token is not None

    def wake_outbox(self) -> None:
        """Deliver what was just queued without waiting for the scheduler's sweep."""
        if self.pump is not None:
            self.pump.wake()

    def telemetry_counted(self) -> None:
        """New telemetry is in the store: the rules that read usage run soon."""
        if self.scheduler is not None:
            self.scheduler.soon("alert-rules", after=self.intervals.after_telemetry)

    async def settle(self) -> None:
        """Finish the background work and both outboxes (for shutdown and for tests)."""
        await self.background.join()
        if self.pump is not None:
            await self.pump.pump()
        await self.background.join()

    async def stop(self) -> None:
        """Stop taking requests, let running work finish, then stop the rest."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._runner is not None:
            await self._runner.cleanup()
        if self.telemetry is not None:
            await self.telemetry.close()
        await self.settle()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.presence is not None:
            await asyncio.to_thread(self.presence.leave)
        if self.slack is not None:
            await self.slack.close()
        if self.playground is not None:
            await self.playground.close()
