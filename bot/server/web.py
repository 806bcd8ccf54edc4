"""The HTTP routes of `capdesk serve`: `GET /healthz`, `GET /readyz`, `GET /metrics`; each
chat platform's adapter adds its own (`POST /slack/events`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from bot.metrics import CONTENT_TYPE, Metrics
from bot.server.readiness import BackendHealth, database_state, readiness

if TYPE_CHECKING:
    from bot.bootstrap import Capdesk


def web_app(*, app: Capdesk, metrics: Metrics, backend: BackendHealth) -> web.Application:
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
    return web_application
