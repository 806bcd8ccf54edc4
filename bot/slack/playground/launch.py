"""Starting the playground when `capdesk serve` has no chat credentials (SPEC section 9).

The playground is a `SlackEmulator` on the sandbox org, on its own loopback port, with a fresh
bot token and signing secret. capdesk gets settings that point its real Slack adapter at it,
and the emulator sends its signed requests to capdesk's own `POST /slack/events`: everything a
visitor does runs the same path as Slack in production.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import SecretStr

from bot.bootstrap import Capdesk
from bot.connectors.sandbox import PLAYGROUND_REQUESTER
from bot.settings import Settings, is_loopback
from bot.slack.emulator import SlackEmulator
from bot.slack.playground.api import PlaygroundApi
from bot.slack.playground.jobs import AdminJobs
from bot.slack.playground.snapshot import channel_names

log = logging.getLogger(__name__)


def has_chat_credentials(settings: Settings) -> bool:
    """Whether Slack or Teams is configured; the playground stands in for neither."""
    return any(
        value is not None
        for value in (settings.slack_bot_token, settings.slack_app_token, settings.microsoft_app_id)
    )


@dataclass
class Playground:
    """The emulated workspace and capdesk as it runs against it."""

    emulator: SlackEmulator
    app: Capdesk
    """capdesk with the Slack settings of the emulated workspace."""
    api: PlaygroundApi

    def add_routes(self, web_application: web.Application) -> None:
        """Serve the page and its API on capdesk's own web server."""
        self.api.add_to(web_application)

    def connect(self, address: Any) -> None:
        """Send the workspace's requests to capdesk's server, bound at `address` (host, port)."""
        host, port = str(address[0]), int(address[1])
        base = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
        self.emulator.request_url = f"{base}/slack/events"
        log.info("playground: %s/playground (the sandbox org, on this machine only)", base)

    async def close(self) -> None:
        """Stop the emulated workspace."""
        await self.emulator.stop()


async def open_playground(
    app: Capdesk, *, host: str, settle: Callable[[], Awaitable[None]]
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
    settings = app.settings.model_copy(
        update={
            "slack_bot_token": SecretStr(token),
            "slack_signing_secret": SecretStr(secret),
            "slack_api_url": emulator.api_url,
        }
    )
    served = dataclasses.replace(app, settings=settings)
    return Playground(
        emulator=emulator,
        app=served,
        api=PlaygroundApi(
            emulator, app.policy, settle, jobs=AdminJobs(served), start=PLAYGROUND_REQUESTER
        ),
    )
