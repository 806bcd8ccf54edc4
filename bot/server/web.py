"""The HTTP routes: `POST /slack/events`, `GET /healthz`, `GET /readyz`, `GET /metrics`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.bootstrap import Capdesk
from bot.metrics import CONTENT_TYPE, Metrics
from bot.server.readiness import BackendHealth, database_state, readiness

Handler = Callable[[web.Request], Awaitable[web.Response]]


def web_app(
    *, app: Capdesk, metrics: Metrics, slack: Handler | None, backend: BackendHealth
) -> web.Application:
    """The one aiohttp application `capdesk serve` runs."""
    routes = web.RouteTableDef()

    @routes.get("/healthz")
    async def healthz(_: web.Request) -> web.Response:
        """The process is up and its event loop answers."""
        return web.json_response({"status": "ok"})

    @routes.get("/readyz")
    async def readyz(_: web.Request) -> web.Response:
        """Ready when the database answers with a current schema and the admin backend's last
        sync (if any) worked; the body names each part and what is wrong with it."""
        database = await asyncio.to_thread(database_state, app)
        status, body = readiness(database, backend.state())
        return web.json_response(body, status=status)

    @routes.get("/metrics")
    async def metrics_route(_: web.Request) -> web.Response:
        """Prometheus text exposition."""
        body = await asyncio.to_thread(metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    web_application = web.Application(client_max_size=1024**2)
    web_application.add_routes(routes)
    if slack is not None:
        web_application.router.add_post("/slack/events", slack)
    return web_application
