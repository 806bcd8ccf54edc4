"""`capdesk serve` on each real backend: a request made and approved in Slack changes the
backend's fake, through its real HTTP API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from bot.server.runtime import Runtime
from bot.settings import load_settings
from bot.slack.emulator import SlackEmulator
from tests.adapters.conftest import SECRET
from tests.adapters.test_slack_story import buttons
from tests.connectors.server import FakeBackend, Served
from tests.connectors.test_backends_e2e import (
    ANA,
    DANA,
    EVE,
    POLICY,
    T0,
    anthropic_org,
    cap_in_fake,
    contract_org,
    env_for,
    litellm_org,
)
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio

ORGS = {"anthropic": anthropic_org, "litellm": litellm_org, "http": contract_org}


@pytest.mark.parametrize("backend", sorted(ORGS))
async def test_a_request_approved_in_slack_changes_the_backend(
    backend: str, tmp_path: Path
) -> None:
    (tmp_path / "capdesk.yaml").write_text(POLICY)
    fake: FakeBackend = ORGS[backend]()
    with Served(fake) as server:
        clock = ManualClock(T0)
        async with SlackEmulator(seed=7, clock=clock, signing_secret=SECRET) as emu:
            for email in (ANA, DANA, EVE):
                emu.add_user(email)
            settings = load_settings(
                {
                    "CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'capdesk.db'}",
                    "CAPDESK_POLICY_FILE": str(tmp_path / "capdesk.yaml"),
                    "SLACK_BOT_TOKEN": emu.bot_token,
                    "SLACK_SIGNING_SECRET": SECRET,
                    "SLACK_API_URL": emu.api_url,
                    **env_for(backend, server.url),
                }
            )
            app = bootstrap(settings, clock=clock)
            await asyncio.to_thread(app.ensure_synced)
            runtime = Runtime(app, scheduled=False)
            port = await runtime.start(host="127.0.0.1", port=0)
            emu.request_url = f"http://127.0.0.1:{port}/slack/events"
            try:
                before = cap_in_fake(fake, EVE)
                await emu.slash_command(EVE, "raise 150 for 14d release prep")
                await runtime.settle()
                card = emu.messages_in("C0EMBEDDED") or emu.messages_to(DANA)
                assert buttons(card[-1]) == ["approve", "deny"]
                await emu.click(DANA, card[-1], "approve")
                await runtime.settle()
            finally:
                await runtime.stop()
                app.engine.dispose()
    assert before is not None
    assert cap_in_fake(fake, EVE) == before + 15_000
