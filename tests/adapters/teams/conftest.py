"""A bot behind capdesk's real `POST /api/messages` on the test's loop, and the Teams emulator
(Microsoft's login and Bot Connector) on a loop and thread of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse
from botframework.connector.auth import JwtTokenExtractor

from bot.connectors.sandbox import SandboxOrg, generate_org
from bot.settings import load_settings
from bot.teams.auth import CapdeskAuthentication
from bot.teams.emulator import ADAPTIVE_CARD, TeamsEmulator
from bot.teams.messages import Logic, messages_handler
from workflows.clock import ManualClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EVE = "eve.novak@example.com"
DANA = "dana.okafor@example.com"

APPROVAL_CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Eve asks for +$150"},
        {"type": "Input.Text", "id": "reason", "label": "Reason"},
    ],
    "actions": [
        {"type": "Action.Execute", "title": "Approve", "verb": "approve", "data": {"request": 7}},
        {"type": "Action.Execute", "title": "Deny", "verb": "deny", "data": {"request": 7}},
    ],
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture(scope="session")
def org() -> SandboxOrg:
    return generate_org(7, today=T0.date())


@pytest.fixture(autouse=True)
def botbuilder_key_cache() -> Iterator[dict[str, Any]]:
    """botbuilder's class-level OpenID cache, empty before and after each test."""
    cache: dict[str, Any] = JwtTokenExtractor.metadataCache
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def handed_off(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions handed to worker threads through `asyncio.to_thread`."""
    names: list[str] = []
    to_thread = asyncio.to_thread

    async def counting(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        names.append(getattr(func, "__name__", ""))
        return await to_thread(func, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counting)
    return names


@pytest.fixture
async def emu(clock: ManualClock, org: SandboxOrg) -> AsyncIterator[TeamsEmulator]:
    async with TeamsEmulator(org=org, clock=clock) as emulator:
        yield emulator


class RecordingBot(TeamsActivityHandler):
    """Stands in for capdesk's bot: records every turn, echoes messages, posts a card on
    "card", looks the sender up on "whoami", fails on "fail", answers card clicks with a card."""

    def __init__(self) -> None:
        self.turns: list[Activity] = []
        self.invokes: list[Any] = []
        self.members: list[Any] = []
        self.installs: list[Activity] = []
        self.added: list[tuple[list[Any], Any]] = []

    async def on_turn(self, turn_context: TurnContext) -> None:
        self.turns.append(turn_context.activity)
        await super().on_turn(turn_context)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        text = turn_context.activity.text
        if text == "fail":
            raise RuntimeError("the test bot fails here")
        if text == "card":
            card = MessageFactory.attachment(CardFactory.adaptive_card(APPROVAL_CARD))
            await turn_context.send_activity(card)
            return
        if text == "whoami":
            sender = turn_context.activity.from_property.id
            member = await TeamsInfo.get_member(turn_context, sender)
            self.members.append(member)
            text = member.email
        await turn_context.send_activity(f"echo: {text}")

    async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value: Any) -> Any:
        self.invokes.append(invoke_value)
        verb = invoke_value.action["verb"]
        card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock"}]}
        card["body"][0]["text"] = f"{verb} by {turn_context.activity.from_property.name}"
        return AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD, value=card)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        self.installs.append(turn_context.activity)

    async def on_teams_members_added(
        self, teams_members_added: list[Any], team_info: Any, turn_context: TurnContext
    ) -> None:
        self.added.append((teams_members_added, team_info))


@dataclass
class Served:
    """The test bot behind `POST /api/messages`, with a `GET /ping` on the same loop."""

    bot: RecordingBot
    authentication: CapdeskAuthentication
    url: str
    session: aiohttp.ClientSession

    async def ping(self) -> int:
        """Whether the bot's event loop answers another request."""
        async with self.session.get(f"{self.url}/ping") as response:
            return response.status


@asynccontextmanager
async def serve_bot(
    emu: TeamsEmulator, authentication: CapdeskAuthentication, logic: Logic | None = None
) -> AsyncIterator[Served]:
    """The recording bot (or `logic`) behind capdesk's handler on a local port; the emulator
    sends there."""
    bot = RecordingBot()
    app = web.Application()
    handler = messages_handler(CloudAdapter(authentication), logic or bot.on_turn)
    app.router.add_post("/api/messages", handler)

    async def ping(_: web.Request) -> web.Response:
        return web.Response(text="pong")

    app.router.add_get("/ping", ping)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    emu.messaging_endpoint = f"{url}/api/messages"
    try:
        async with aiohttp.ClientSession() as session:
            yield Served(bot, authentication, url, session)
    finally:
        await runner.cleanup()


def authentication_for(emu: TeamsEmulator, clock: ManualClock) -> CapdeskAuthentication:
    """capdesk's authentication as the settings pointing at the emulator build it."""
    return CapdeskAuthentication.from_settings(load_settings(emu.settings()), clock=clock)


@pytest.fixture
async def served(emu: TeamsEmulator, clock: ManualClock) -> AsyncIterator[Served]:
    async with serve_bot(emu, authentication_for(emu, clock)) as running:
        yield running
