"""Alerts in Slack: the digest with its chart in #admin, and acting on it from there."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.slack.emulator import Message, SlackEmulator
from tests.adapters.conftest import DANA, SECRET, T0, LoopThread, Served
from tests.adapters.test_slack_story import buttons, text_of
from tests.e2e.test_cli import _clean_environment, capdesk, ok, sqlite_url
from tests.now import AT
from workflows.alerts.digest import send_digests
from workflows.alerts.running import run_alerts
from workflows.clock import ManualClock


async def digests(served: Served) -> None:
    app = served.app
    await asyncio.to_thread(run_alerts, app.uow, app.policy, now=app.clock.now())
    await asyncio.to_thread(
        send_digests, app.uow, app.policy, now=app.clock.now(), budget=app.digest_budget
    )
    await served.settle()


def digest_in(served: Served, channel: str) -> Message:
    # Immediate alerts (after-hours spikes) and the chart's file share come in the channel too.
    [posted] = [m for m in served.emu.messages_in(channel) if "digest" in m.text]
    return posted


async def digest(served: Served) -> Message:
    """#embedded's digest: its owner's view, with a Raise cap for the member near their cap."""
    await digests(served)
    return digest_in(served, "C0EMBEDDED")


@pytest.mark.anyio
async def test_the_digest_reaches_the_admin_channel_with_its_chart(served: Served) -> None:
    app = served.app
    run = await asyncio.to_thread(run_alerts, app.uow, app.policy, now=app.clock.now())
    await digests(served)
    posted = digest_in(served, "C0ADMINS")
    # Idle seats and the group over budget are there on any day; a member's forecast (with its
    # Nudge) only once a working day of the month has gone by and while the month has room.
    expected = {"reclaim_seat", "open_requests"}
    if any(f.kind == "forecast_overrun" and f.member for f in run.fired):
        expected.add("nudge")
    assert expected <= set(buttons(posted))
    [chart] = [f for f in served.emu.files.values() if "C0ADMINS" in f.channels]
    assert chart.content is not None
    assert chart.content.startswith(b"\x89PNG")
    assert served.emu.calls("chat.postMessage")[-1].answer["ok"]


@pytest.mark.anyio
async def test_raise_cap_from_the_digest(served: Served) -> None:
    posted = await digest(served)
    button = served.emu.find_button(posted, action_id="raise_cap")
    assert button is not None
    member = button["value"]
    before = served.cap_of(member)

    await served.emu.click(DANA, posted, "raise_cap", member)
    await served.settle()
    modal = served.emu.open_view_of(DANA)
    assert modal is not None
    assert modal.callback_id == "capdesk_raise_cap"

    bad = await served.emu.submit_view(DANA, {"amount": "-3"})
    assert bad.json["response_action"] == "errors"
    assert served.cap_of(member) == before

    done = await served.emu.submit_view(DANA, {"amount": str(before // 100 + 50)})
    assert done.json["response_action"] == "update"
    await served.settle()
    assert served.cap_of(member) == before + 5_000
    assert any("cap" in text_of(m).lower() for m in served.dm(member))


@pytest.mark.anyio
async def test_only_owners_and_admins_may_raise(served: Served) -> None:
    posted = await digest(served)
    button = served.emu.find_button(posted, action_id="raise_cap")
    assert button is not None
    stranger = "tom.becker@example.com"
    await served.emu.click(stranger, posted, "raise_cap", button["value"])
    await served.settle()
    told = served.emu.last_ephemeral_for(stranger)
    assert told is not None
    assert "That didn't work" in told.text


def test_capdesk_digest_posts_to_slack_when_it_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clean_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    runner = LoopThread()
    emulator = SlackEmulator(seed=7, clock=ManualClock(T0), signing_secret=SECRET)
    runner.run(emulator.start())
    try:
        env = {
            "CAPDESK_DATABASE_URL": sqlite_url(tmp_path / "capdesk.db"),
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_API_URL": emulator.api_url,
        }
        ok(capdesk("alerts", "run", "--at", AT, env=env))
        out = ok(capdesk("digest", "--channel", "admin", "--at", AT, env=env)).output
        assert "admin" in out
        [posted] = [m for m in emulator.messages_in("C0ADMINS") if "digest" in m.text]
        assert "reclaim_seat" in buttons(posted)
        assert any("C0ADMINS" in f.channels for f in emulator.files.values())
    finally:
        runner.run(emulator.stop())
        runner.close()
