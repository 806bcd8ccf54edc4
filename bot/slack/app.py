"""The Slack side of capdesk: a Bolt `AsyncApp` with its listeners, client and notifier."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.background import Background, DomainThreads
from bot.bootstrap import Capdesk
from bot.charts import render_png
from bot.metrics import Metrics
from bot.slack.client import web_client
from bot.slack.directory import SlackDirectory
from bot.slack.listeners import register
from bot.slack.notifier import SlackNotifier
from bot.slack.surface import Surface

_KINDS = {"block_actions", "view_submission", "view_closed", "shortcut", "event_callback"}


@dataclass
class Slack:
    """The Bolt app and what it was built with."""

    bolt: AsyncApp
    surface: Surface
    notifier: SlackNotifier

    async def close(self) -> None:
        """Close the Web API client's connections."""
        if self.surface.client.session is not None:
            await self.surface.client.session.close()

    async def handle(self, request: web.Request) -> web.Response:
        """`POST /slack/events`: verified by Bolt (401 on a bad signature), then dispatched."""
        if not request.headers.get("X-Slack-Request-Timestamp", "").strip().isdigit():
            # Bolt's verifier would raise on a non-numeric timestamp and answer 500.
            self.surface.metrics.request("slack", "rejected")
            return web.json_response({"error": "invalid request"}, status=401)
        bolt_request = await to_bolt_request(request)
        response = await self.bolt.async_dispatch(bolt_request)
        self.surface.metrics.request("slack", _kind(bolt_request.body, response.status))
        return await to_aiohttp_response(response)


def _kind(body: dict[str, object], status: int) -> str:
    if status == 401:
        return "rejected"
    if "command" in body:
        return "command"
    kind = str(body.get("type") or "")
    return kind if kind in _KINDS else "other"


def build_slack(
    app: Capdesk,
    *,
    token: str,
    signing_secret: str | None,
    metrics: Metrics,
    background: Background,
    wake_outbox: Callable[[], None],
) -> Slack:
    """Wire Bolt, the Web API client, the directory and the notifier around the domain.

    Without a signing secret (Socket Mode) requests come over Slack's websocket instead and
    carry no signature to verify.
    """
    client = web_client(token=token, base_url=app.settings.slack_api_url, session=ClientSession())
    run = DomainThreads()
    directory = SlackDirectory(client, app.uow, run=run)
    surface = Surface(
        app=app,
        client=client,
        directory=directory,
        background=background,
        metrics=metrics,
        wake_outbox=wake_outbox,
        run=run,
    )
    # Bolt checks X-Slack-Request-Timestamp against the real time, as Slack signs with it:
    # capdesk's clock (CAPDESK_NOW, a test's) must not widen or shut the five-minute window.
    bolt = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        process_before_response=False,
    )
    register(bolt, surface)
    notifier = SlackNotifier(
        client=client,
        directory=directory,
        policy=app.policy,
        loop=asyncio.get_running_loop(),
        metrics=metrics,
        chart_png=render_png,
    )
    return Slack(bolt=bolt, surface=surface, notifier=notifier)
