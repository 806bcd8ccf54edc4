"""A signed command or interaction sent again (same trigger_id) is acknowledged, not redone."""

from __future__ import annotations

import logging

import pytest

from bot.slack.inbound import FORM
from tests.adapters.conftest import SAM, TOM, Served
from tests.adapters.test_slack_security import command_body
from tests.adapters.test_slack_story import ask

pytestmark = pytest.mark.anyio


def replay_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "replayed" in r.getMessage()
    ]


async def test_a_command_replayed_after_its_approval_opens_no_new_request(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    body = command_body(served)
    headers = {"Content-Type": FORM, **served.emu.signed_headers(body)}
    assert (await served.emu.send_raw(body, headers)).status == 200
    await served.settle()
    [(request_id, _)] = served.requests()
    await served.emu.click(SAM, served.dm(SAM)[-1], "approve")
    await served.settle()
    before = served.written()

    with caplog.at_level(logging.WARNING):
        # The very same signed request, well within its five minutes.
        replay = await served.emu.send_raw(body, headers)
        await served.settle()

    assert replay.status == 200
    assert served.requests() == [(request_id, "applied")]
    assert served.written() == before
    assert replay_warnings(caplog) == [
        "ignored a replayed Slack slash command (its trigger_id was handled before)"
    ]


async def test_a_click_replayed_later_is_not_answered_again(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    await ask(served, TOM, "raise 150 for 14d release prep")
    payload = served.emu.block_actions(SAM, served.dm(SAM)[-1], "approve")
    await served.emu.send_interaction(payload)
    await served.settle()
    before = served.written()
    answers = len(served.emu.ephemerals_for(SAM))

    with caplog.at_level(logging.WARNING):
        assert (await served.emu.send_interaction(payload)).status == 200
        await served.settle()

    assert served.written() == before
    assert len(served.emu.ephemerals_for(SAM)) == answers
    assert len(replay_warnings(caplog)) == 1


async def test_a_submission_replayed_closes_the_form_and_does_nothing(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    await ask(served, TOM, "raise 150 for 14d release prep")
    await served.emu.click(SAM, served.dm(SAM)[-1], "deny")
    await served.settle()
    submission = served.emu.view_submission(SAM, {"reason": "not this quarter"})
    first = await served.emu.send_interaction(submission)
    await served.settle()
    assert first.status == 200
    assert served.requests() == [(1, "denied")]
    before = served.written()

    with caplog.at_level(logging.WARNING):
        replay = await served.emu.send_interaction(submission)
        await served.settle()

    # Without the trigger_id check the replay would be told "already denied" in the form.
    assert replay.status == 200
    assert replay.body is None
    assert served.written() == before
    assert len(replay_warnings(caplog)) == 1


async def test_a_shortcut_replayed_opens_no_second_form(served: Served) -> None:
    await served.emu.shortcut(TOM, "request_more")
    await served.settle()
    [opened] = served.emu.calls("views.open")
    payload = {
        "type": "shortcut",
        "callback_id": "request_more",
        "trigger_id": opened.params["trigger_id"],
        "user": {"id": served.emu.user(TOM).id, "name": "tom.becker", "team_id": "T0CAPDESK"},
        "team": {"id": "T0CAPDESK", "domain": "capdesk"},
        "action_ts": "1.2",
    }
    assert (await served.emu.send_interaction(payload)).status == 200
    await served.settle()
    assert len(served.emu.calls("views.open")) == 1
