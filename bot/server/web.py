"""The HTTP routes: `POST /slack/events`, `GET /healthz`, `GET /readyz`, `GET /metrics`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from sqlalchemy import text

from bot.bootstrap import Capdesk
from bot.metrics import CONTENT_TYPE, Metrics
from store.migrate import current, head

Handler = Callable[[web.Request], Awaitable[web.Response]]


def web_app(*, app: Capdesk, metrics: Metrics, slack: Handler | None) -> web.Application:
    """The one aiohttp application `capdesk serve` runs."""
    routes = web.RouteTableDef()

    @routes.get("/healthz")
    async def healthz(_: web.Request) -> web.Response:
        """The process is up and its event loop answers."""
        return web.json_response({"status": "ok"})

    @routes.get("/readyz")
    async def readyz(_: web.Request) -> web.Response:
        """Ready when the database answers and its schema is current."""
        problem = await asyncio.to_thread(_database_problem, app)
        if problem:
            return web.json_response({"status": "unavailable", "reason": problem}, status=503)
        return web.json_response({"status": "ready"})

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


def _database_problem(app: Capdesk) -> str | None:
    try:
        with app.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        if current(app.engine) != head():
            return "the database schema is not current; run `capdesk db upgrade`"
    except Exception as exc:
        return f"the database does not answer: {str(exc).splitlines()[0]}"
    return None
