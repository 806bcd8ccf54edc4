"""Starting the playground when `capdesk serve` has no chat credentials (SPEC section 9).

The playground is a `SlackEmulator` on the sandbox org, on its own loopback port, with a fresh
bot token and signing secret. capdesk's real Slack adapter is built with the settings that
point it there (`Playground.slack`), and the emulator sends its signed requests to capdesk's
own `POST /slack/events`: everything a visitor does runs the same path as Slack in production.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from bot.connectors.sandbox import PLAYGROUND_REQUESTER, SandboxOrg
from bot.settings import Settings, is_loopback
from bot.slack.app import SlackAdapter, SlackSettings
from bot.slack.emulator import SlackEmulator
from bot.slack.limits import DIGEST
from bot.slack.notifier import SlackNotifier
from bot.slack.playground.api import PlaygroundApi
from bot.slack.playground.jobs import AdminJobs
from bot.slack.playground.snapshot import channel_names
from workflows.clock import Clock
from workflows.policy import Policy
from workflows.ports import UnitOfWork

log = logging.getLogger(__name__)


def has_chat_credentials(settings: Settings) -> bool:
    """Whether Slack or Teams is configured; the playground stands in for neither."""
    return any(
        value is not None
        for value in (settings.slack_bot_token, settings.slack_app_token, settings.microsoft_app_id)
    )


class Host(Protocol):
    """What the playground needs of capdesk (its composition root's `Capdesk`)."""

    settings: Settings
    sandbox: SandboxOrg | None
    policy: Policy
    clock: Clock

    def uow(self) -> UnitOfWork: ...


@dataclass
class Playground:
    """The emulated workspace, and how capdesk's Slack adapter reaches it."""

    emulator: SlackEmulator
    slack: SlackSettings
    """The Slack settings of the emulated workspace."""
    api: PlaygroundApi

    def add_routes(self, web_application: web.Application) -> None:
        """Serve the page and its API on capdesk's own web server."""
        self.api.add_to(web_application)

    def connect(self, base_url: str) -> None:
        """Send the workspace's requests to capdesk's server, listening at `base_url`."""
        self.emulator.request_url = f"{base_url}/slack/events"
        log.info("playground: %s/playground (the sandbox org, on this machine only)", base_url)

    async def close(self) -> None:
        """Stop the emulated workspace."""
        await self.emulator.stop()


@dataclass
class PlaygroundAdapter:
    """capdesk's Slack adapter run against the playground's workspace, with the page: one
    chat platform, as `capdesk serve` sees it."""

    playground: Playground
    slack: SlackAdapter
    digest_budget = DIGEST

    @property
    def notifier(self) -> SlackNotifier:
        return self.slack.notifier

    def add_routes(self, web_application: web.Application) -> None:
        """`POST /slack/events`, and the page and its API."""
        self.slack.add_routes(web_application)
        self.playground.add_routes(web_application)

    async def start(self, base_url: str) -> None:
        """Point the workspace at capdesk's server."""
        self.playground.connect(base_url)
        await self.slack.start(base_url)

    async def stop(self) -> None:
        """Stop taking the workspace's requests."""
        await self.slack.stop()

    async def close(self) -> None:
        """Close the Slack adapter's connections, then stop the workspace."""
        await self.slack.close()
        await self.playground.close()


async def open_playground(
    app: Host, *, host: str, settle: Callable[[], Awaitable[None]]
) -> Playground | None:
    """The playground, started, when capdesk has no chat credentials; else None.

    Only on a loopback host: anyone who reaches the playground acts as anyone in the org, the
    admins included. Only on the sandbox backend: its people are the workspace's members.
    """
    if has_chat_credentials(app.settings):
        return None
    if app.sandbox is None:
        log.warning("no chat credentials and no playground: it runs on the sandbox backend only")
        return None
    if not is_loopback(host):
        log.warning(
            "no chat credentials, and no playground on %s: it lets anyone act as anyone; "
            "set CAPDESK_HTTP_HOST=127.0.0.1 to use it",
            host,
        )
        return None
    token = f"xoxb-playground-{secrets.token_hex(12)}"
    secret = secrets.token_hex(16)
    emulator = SlackEmulator(
        org=app.sandbox,
        clock=app.clock,
        signing_secret=secret,
        bot_token=token,
        channels=channel_names(app.policy),
        tz=app.policy.org.timezone,
    )
    await emulator.start()
    return Playground(
        emulator=emulator,
        slack=SlackSettings(token=token, api_url=emulator.api_url, signing_secret=secret),
        api=PlaygroundApi(
            emulator,
            app.policy,
            settle,
            jobs=AdminJobs(app.uow, app.policy, app.clock),
            start=PLAYGROUND_REQUESTER,
        ),
    )
