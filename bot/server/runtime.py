"""`capdesk serve` run: the web server, every chat platform's adapter, the outbox pump and the
scheduler, started and stopped together in the right order.

What runs is built by the composition root (`bot.bootstrap.open_serving`); this only starts
it, serves it and stops it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiohttp import web

from bot.background import Background
from bot.bootstrap import PLATFORMS, Capdesk, Serving, check_chat_settings, open_serving
from bot.chat.adapter import Platform
from bot.metrics import Metrics
from bot.outbox import OutboxPump
from bot.scheduling import CapdeskScheduler
from bot.scheduling.scheduler import Intervals
from bot.server.listening import listen
from bot.server.readiness import BackendHealth
from bot.server.web import web_app
from bot.slack.app import SlackAdapter
from bot.slack.playground import Playground
from bot.telemetry import TelemetryReceiver
from workflows.admin import ConnectorError

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything `capdesk serve` runs, started and stopped together."""

    app: Capdesk
    metrics: Metrics = field(init=False)
    background: Background = field(default_factory=Background)
    scheduled: bool = True
    """Run the scheduled jobs (tests drive the domain's clock themselves and turn this off)."""
    platforms: Sequence[Platform] = PLATFORMS
    """The chat platforms this server may serve: those the settings turn on."""
    serving: Serving | None = None
    intervals: Intervals = field(default_factory=Intervals)
    telemetry: TelemetryReceiver | None = None
    backend: BackendHealth = field(init=False)
    """The admin backend as the last sync found it, for `/readyz`."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.metrics = Metrics(self.app.uow, backlog=lambda: self.background.running)
        self.backend = BackendHealth(self.app.settings, self.app.clock)

    @property
    def slack(self) -> SlackAdapter | None:
        """The Slack adapter, when Slack (or the playground) is served."""
        return self.serving.chat.slack if self.serving else None

    @property
    def playground(self) -> Playground | None:
        """The playground's workspace, when it stands in for Slack."""
        return self.serving.chat.playground if self.serving else None

    @property
    def scheduler(self) -> CapdeskScheduler | None:
        return self.serving.scheduler if self.serving else None

    @property
    def pump(self) -> OutboxPump | None:
        return self.serving.pump if self.serving else None

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
        check_chat_settings(self.app.settings, self.platforms)
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
        self.serving = serving = await open_serving(
            self.app,
            host=host,
            metrics=self.metrics,
            background=self.background,
            backend=self.backend,
            scheduled=self.scheduled,
            wake_outbox=self.wake_outbox,
            settle=self.settle,
            platforms=self.platforms,
            intervals=self.intervals,
        )
        if serving.pump is not None:
            self._tasks.append(asyncio.create_task(serving.pump.run(), name="outbox pump"))
        if serving.presence is not None:
            # One-off commands on this database leave their messages to this server from now.
            await asyncio.to_thread(serving.presence.beat)
            self._tasks.append(asyncio.create_task(serving.presence.run(), name="presence"))
        if serving.scheduler is not None:
            await serving.scheduler.start()
        web_application = web_app(app=self.app, metrics=self.metrics, backend=self.backend)
        for adapter in serving.chat.adapters:
            adapter.add_routes(web_application)
        # Claude Code's telemetry (OTLP/HTTP), and a rules run soon after some arrives.
        self.telemetry = TelemetryReceiver(self.app, on_counted=self.telemetry_counted)
        self.telemetry.add_routes(web_application)
        await self.telemetry.start()
        self._runner = web.AppRunner(web_application, access_log=None)
        await self._runner.setup()
        for sock in sockets:
            await web.SockSite(self._runner, sock).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        for adapter in serving.chat.adapters:
            await adapter.start(_base_url(str(bound_host), int(bound_port)))
        # What start-up built lives as long as the process: keeping it out of the collector's
        # full passes takes ~80 ms pauses off the slowest acks. Full passes over what requests
        # leave behind still paused the loop often enough to double the p99 ack; one in ten
        # as many (the third threshold, 10 by default) keeps it near the bare Bolt app's.
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, 100)
        return int(bound_port)

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
        adapters = self.serving.chat.adapters if self.serving else []
        if self.scheduler is not None:
            await self.scheduler.stop()
        for adapter in adapters:
            await adapter.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.telemetry is not None:
            await self.telemetry.close()
        await self.settle()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.serving is not None and self.serving.presence is not None:
            await asyncio.to_thread(self.serving.presence.leave)
        for adapter in adapters:
            await adapter.close()


def _base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
