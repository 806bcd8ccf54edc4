"""The Slack adapter: a Bolt `AsyncApp` with its listeners, its Web API client and notifier,
over HTTP (`POST /slack/events`) or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import Background
from bot.charts import render_png
from bot.chat.adapter import ChatAdapter, PlatformNotifier
from bot.chat.addresses import Addresses
from bot.chat.desk import Core, Desk
from bot.chat.directory import Directory
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack.client import web_client
from bot.slack.inbound import BadBody, Signature, read_body
from bot.slack.limits import DIGEST
from bot.slack.listeners import register
from bot.slack.notifier import SlackNotifier
from bot.slack.people import NAME, PLATFORM, SlackPeople
from bot.slack.surface import Surface
from bot.startup import StartupError

log = logging.getLogger(__name__)

_KINDS = {"block_actions", "view_submission", "view_closed", "shortcut", "event_callback"}


@dataclass(frozen=True)
class SlackSettings:
    """How to reach Slack: the bot token, and the signing secret (HTTP) or the app-level
    token (Socket Mode)."""

    token: str
    api_url: str
    signing_secret: str | None = None
    app_token: str | None = None
    """Set: Socket Mode, over Slack's websocket; requests carry no signature to verify."""


def slack_settings(settings: Settings) -> SlackSettings:
    """How the adapter reaches Slack, from `SLACK_*`; Slack must be configured."""
    token, secret, app_token = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
    )
    if token is None:
        raise StartupError("SLACK_BOT_TOKEN: must be set for Slack")
    return SlackSettings(
        token=token.get_secret_value(),
        api_url=settings.slack_api_url,
        signing_secret=None if secret is None else secret.get_secret_value(),
        app_token=None if app_token is None else app_token.get_secret_value(),
    )


class SlackPlatform:
    """Slack, as the composition root builds it (`bot.chat.adapter.Platform`)."""

    key = PLATFORM
    digest_budget = DIGEST

    def configured(self, settings: Settings) -> bool:
        """Slack is on with `SLACK_BOT_TOKEN`."""
        return settings.slack_bot_token is not None

    def check(self, settings: Settings) -> None:
        """Socket Mode needs the bot token too; HTTP mode needs the signing secret."""
        token, secret, app_token = (
            settings.slack_bot_token,
            settings.slack_signing_secret,
            settings.slack_app_token,
        )
        if app_token is not None and token is None:
            raise StartupError(
                "SLACK_BOT_TOKEN: must be set for Socket Mode (SLACK_APP_TOKEN is set)"
            )
        if token is not None and app_token is None and not (secret and secret.get_secret_value()):
            raise StartupError(
                "SLACK_SIGNING_SECRET: must be set to verify Slack's requests in HTTP mode "
                "(or set SLACK_APP_TOKEN to use Socket Mode)"
            )

    def adapter(self, settings: Settings, core: Core, *, background: Background) -> ChatAdapter:
        """Slack over HTTP or Socket Mode, as the settings say."""
        return build_slack(slack_settings(settings), core, background=background)

    def outbound(
        self, settings: Settings, core: Core
    ) -> AbstractAsyncContextManager[PlatformNotifier]:
        """Slack's notifier alone, for a one-off delivery."""
        return slack_outbound(slack_settings(settings), core)


@dataclass
class SlackAdapter:
    """Slack as one of capdesk's chat platforms (`bot.chat.adapter.ChatAdapter`)."""

    bolt: AsyncApp
    surface: Surface
    notifier: SlackNotifier
    app_token: str | None = None
    signature: Signature | None = None
    """How `POST /slack/events` checks a request (HTTP mode; Socket Mode has no signatures)."""
    digest_budget = DIGEST
    _socket: AsyncSocketModeHandler | None = field(default=None, init=False)

    def add_routes(self, web_application: web.Application) -> None:
        """`POST /slack/events`, unless Slack sends its requests over Socket Mode."""
        if self.app_token is None:
            web_application.router.add_post("/slack/events", self.handle)

    async def start(self, base_url: str) -> None:
        """Connect Slack's websocket in Socket Mode; over HTTP, requests simply arrive."""
        if self.app_token is not None:
            self._socket = AsyncSocketModeHandler(self.bolt, self.app_token)
            await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        """Close the websocket, if any; over HTTP, the web server stops taking requests."""
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Close the Web API client's connections."""
        session = self.surface.client.session
        if session is not None and not session.closed:
            await session.close()

    async def handle(self, request: web.Request) -> web.Response:
        """`POST /slack/events`: the signature (401), the body's shape (400), then Bolt."""
        raw = await request.read()
        metrics = self.surface.metrics
        if self.signature is None or not self.signature.holds(raw, request.headers):
            metrics.request(PLATFORM, "rejected")
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            text, fields = read_body(raw, request.content_type)
        except BadBody as exc:
            log.warning("refused a signed Slack request: %s", exc)
            metrics.request(PLATFORM, "invalid")
            return web.json_response({"error": f"invalid request: {exc}"}, status=400)
        bolt_request = _bolt_request(text, fields, request)
        response = await self.bolt.async_dispatch(bolt_request)
        metrics.request(PLATFORM, _kind(bolt_request.body, response.status))
        return await to_aiohttp_response(response)


def _bolt_request(text: str, fields: dict[str, Any], request: web.Request) -> AsyncBoltRequest:
    bolt_request = AsyncBoltRequest(
        body=text,
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
    )
    if bolt_request.body != fields:
        # Bolt takes any form mentioning "payload" for an interaction, so a command whose text
        # says "payload" would reach no listener: it gets the fields read at the edge instead.
        bolt_request.body = fields
        bolt_request.context = build_async_context(AsyncBoltContext(), fields)
    return bolt_request


def _kind(body: dict[str, object], status: int) -> str:
    if status == 401:
        return "rejected"
    if "command" in body:
        return "command"
    kind = str(body.get("type") or "")
    return kind if kind in _KINDS else "other"


def build_slack(slack: SlackSettings, core: Core, *, background: Background) -> SlackAdapter:
    """Wire Bolt, the Web API client, the directory and the notifier around capdesk's desk,
    on the running event loop."""
    metrics = core.metrics
    client = web_client(token=slack.token, base_url=slack.api_url, session=ClientSession())
    directory = _directory(client, core)
    surface = Surface(
        desk=Desk(core, platform=PLATFORM, name=NAME),
        client=client,
        directory=directory,
        background=background,
        metrics=metrics,
    )
    secret = None if slack.app_token is not None else slack.signing_secret
    # Bolt checks X-Slack-Request-Timestamp against the real time, as Slack signs with it:
    # capdesk's clock (CAPDESK_NOW, a test's) must not widen or shut the five-minute window.
    bolt = AsyncApp(
        client=client,
        signing_secret=secret,
        request_verification_enabled=secret is not None,
        process_before_response=False,
    )
    register(bolt, surface)
    return SlackAdapter(
        bolt=bolt,
        surface=surface,
        notifier=_notifier(client, directory, core, metrics),
        app_token=slack.app_token,
        signature=None if secret is None else Signature(secret),
    )


@asynccontextmanager
async def slack_outbound(slack: SlackSettings, core: Core) -> AsyncIterator[SlackNotifier]:
    """Slack's notifier alone, for a one-off delivery from the CLI, on the running loop."""
    async with ClientSession() as session:
        client = web_client(token=slack.token, base_url=slack.api_url, session=session)
        yield _notifier(client, _directory(client, core), core, core.metrics)


def _directory(client: AsyncWebClient, core: Core) -> Directory:
    return Directory(PLATFORM, SlackPeople(client), core.uow, clock=core.clock, run=core.run)


def _notifier(
    client: AsyncWebClient, directory: Directory, core: Core, metrics: Metrics
) -> SlackNotifier:
    return SlackNotifier(
        client=client,
        addresses=Addresses(directory, core.policy, name=NAME),
        loop=asyncio.get_running_loop(),
        metrics=metrics,
        chart_png=render_png,
    )
