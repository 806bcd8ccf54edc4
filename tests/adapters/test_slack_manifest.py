"""The Slack manifest and the code agree: every command, shortcut and event, both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.listeners.commands import COMMAND
from bot.slack.listeners.events import EVENTS
from bot.slack.listeners.shortcuts import SHORTCUT
from tests.adapters.conftest import TOM, Served

MANIFEST = Path(__file__).parents[2] / "manifests" / "slack" / "manifest.yaml"
SCOPES = {"commands", "chat:write", "im:write", "users:read", "users:read.email", "files:write"}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def test_the_code_registers_what_the_manifest_declares(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert {c["command"] for c in features["slash_commands"]} == {COMMAND}
    assert {s["callback_id"] for s in features["shortcuts"]} == {SHORTCUT}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(EVENTS)


def test_scopes_are_the_minimal_set(manifest: dict[str, Any]) -> None:
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == SCOPES


def test_every_url_is_the_one_endpoint(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls.append(settings["event_subscriptions"]["request_url"])
    urls.append(settings["interactivity"]["request_url"])
    assert all(url.endswith("/slack/events") for url in urls)
    assert settings["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


@pytest.mark.anyio
async def test_each_declared_entry_point_is_handled(
    served: Served, manifest: dict[str, Any]
) -> None:
    emu = served.emu
    for command in manifest["features"]["slash_commands"]:
        reply = await emu.slash_command(TOM, "help", command=command["command"])
        assert reply.status == 200, command
    for shortcut in manifest["features"]["shortcuts"]:
        assert (await emu.shortcut(TOM, shortcut["callback_id"])).status == 200
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        reply = await emu.event({"type": event, "user": emu.user_id(TOM), "tab": "home"})
        assert reply.status == 200, event
    # Nothing else is handled: an entry point missing from the manifest would answer 404.
    assert (await emu.slash_command(TOM, "help", command="/other")).status == 404
    assert (await emu.shortcut(TOM, "undeclared")).status == 404
    await served.settle()


@pytest.mark.anyio
async def test_no_listener_beyond_the_manifest_and_the_buttons(served: Served) -> None:
    slack = served.runtime.slack
    assert slack is not None
    # One listener per command, shortcut and event, one for all buttons, one per modal.
    expected = 1 + 1 + len(EVENTS) + 1 + 3
    assert len(slack.bolt._async_listeners) == expected
