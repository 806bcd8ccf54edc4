"""capdesk's `POST /api/messages` handler: bodies it refuses before anything runs, the invoke
response it writes itself, a failing bot, and the dev mode without an app id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, AdaptiveCardInvokeResponse

from bot.connectors.sandbox import SandboxOrg
from bot.settings import load_settings
from bot.teams.auth import CapdeskAuthentication
from bot.teams.emulator import ADAPTIVE_CARD, TeamsEmulator
from bot.teams.messages import MAX_BODY_BYTES
from tests.adapters.teams.conftest import EVE, Served, authentication_for, serve_bot
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio


def _headers(emu: TeamsEmulator, content_type: str = "application/json") -> dict[str, str]:
    return {"Content-Type": content_type, "Authorization": f"Bearer {emu.channel_token()}"}


def _without(activity: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in activity.items() if k != name}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"type": "message"}', "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b"\xff\xfe\x00garbage", "application/json", 400),
        (b"[1, 2, 3]", "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (b'{"type": "message", "timestamp": "not a time"}', "application/json", 400),
        (b" " * (MAX_BODY_BYTES + 1), "application/json", 413),
    ],
    ids=["not json type", "broken", "not utf-8", "array", "deep", "bad field", "oversized"],
)
async def test_a_body_that_is_not_an_activity_is_refused_before_anything_runs(
    emu: TeamsEmulator, served: Served, body: bytes, content_type: str, status: int
) -> None:
    reply = await emu.send_raw(body, _headers(emu, content_type))

    assert reply.status == status
    assert served.bot.turns == []
    assert emu.calls() == []


@pytest.mark.parametrize("missing", ["type", "channelId", "serviceUrl"])
async def test_an_activity_without_its_routing_fields_is_refused(
    emu: TeamsEmulator, served: Served, missing: str
) -> None:
    activity = _without(emu.message_activity(EVE, "hello"), missing)

    reply = await emu.send(activity)

    assert reply.status == 400
    assert reply.json == {"error": f"the activity has no {missing}"}
    assert served.bot.turns == []


async def test_an_oversized_body_sent_in_chunks_is_refused(
    emu: TeamsEmulator, served: Served
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b" " * (MAX_BODY_BYTES // 4)

    async with served.session.post(
        emu.messaging_endpoint or "", data=chunks(), headers=_headers(emu)
    ) as response:
        assert response.status == 413
    assert served.bot.turns == []


async def test_an_activity_that_is_not_an_invoke_gets_an_empty_200(
    emu: TeamsEmulator, served: Served
) -> None:
    reply = await emu.message(EVE, "hello")

    assert (reply.status, reply.body) == (200, None)


async def test_an_invoke_the_bot_does_not_handle_gets_its_status(
    emu: TeamsEmulator, served: Served
) -> None:
    activity = emu.message_activity(EVE, "") | {"type": "invoke", "name": "capdesk/unknown"}

    reply = await emu.send(activity)

    assert reply.status == 501
    assert len(served.bot.turns) == 1


async def test_an_invoke_response_given_as_a_model_is_written_as_json(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": []}

    async def answer_with_a_model(turn_context: TurnContext) -> None:
        body = AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD, value=card)
        await turn_context.send_activity(
            Activity(
                type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
            )
        )

    async with serve_bot(emu, authentication_for(emu, clock), answer_with_a_model):
        activity = emu.message_activity(EVE, "") | {"type": "invoke", "name": "capdesk/x"}
        reply = await emu.send(activity)

    assert reply.status == 200
    assert reply.json == {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}


async def test_a_failing_bot_answers_500_without_its_traceback(
    emu: TeamsEmulator, served: Served
) -> None:
    reply = await emu.message(EVE, "fail")

    assert reply.status == 500
    assert reply.json == {"error": "internal error"}
    assert "Traceback" not in str(reply.body)
    assert emu.posted() == []


async def test_a_token_the_bot_cannot_get_fails_its_reply_not_the_process(
    clock: ManualClock, org: SandboxOrg
) -> None:
    async with TeamsEmulator(org=org, clock=clock) as emu:
        settings = load_settings({**emu.settings(), "MICROSOFT_APP_PASSWORD": "wrong"})
        authentication = CapdeskAuthentication.from_settings(settings, clock=clock)
        async with serve_bot(emu, authentication) as served:
            reply = await emu.message(EVE, "hello")
            again = await emu.message(EVE, "hello")

    assert (reply.status, again.status) == (500, 500)
    assert len(served.bot.turns) == 2
    assert emu.posted() == []


async def test_the_dev_mode_serves_the_bot_framework_emulator_without_tokens(
    clock: ManualClock, org: SandboxOrg
) -> None:
    async with TeamsEmulator(org=org, clock=clock, allow_anonymous=True) as emu:
        settings = load_settings({"CAPDESK_TEAMS_DEV_NO_AUTH": "1"})
        authentication = CapdeskAuthentication.from_settings(settings, clock=clock)
        async with serve_bot(emu, authentication) as served:
            reply = await emu.send(emu.message_activity(EVE, "hello"), authorization=None)

        assert reply.status == 200
        assert [turn.text for turn in served.bot.turns] == ["hello"]
        assert [posted.text for posted in emu.posted_to(EVE)] == ["echo: hello"]
        assert emu.token_requests() == []
        assert [call.route for call in emu.calls()] == ["reply_to_activity"]


def test_teams_without_an_app_id_needs_the_dev_mode(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="MICROSOFT_APP_ID, or CAPDESK_TEAMS_DEV_NO_AUTH=1"):
        CapdeskAuthentication.from_settings(load_settings({}), clock=clock)
