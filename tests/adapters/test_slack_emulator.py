"""The Slack emulator, driven as the bot drives Slack (slack_sdk's AsyncWebClient) and as Slack
drives the bot (signed requests to a small aiohttp receiver standing in for the bot)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.connectors.sandbox import SandboxOrg, generate_org
from bot.slack.emulator import AckTimeout, SlackEmulator
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio

EVE = "eve.novak@example.com"
DANA = "dana.okafor@example.com"
SECRET = "test-signing-secret"
START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)

SECTION: dict[str, Any] = {
    "type": "section",
    "text": {"type": "mrkdwn", "text": "Eve asks for $50"},
}
APPROVE_BLOCKS: list[dict[str, Any]] = [
    SECTION,
    {
        "type": "actions",
        "block_id": "decide",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "text": {"type": "plain_text", "text": "Approve"},
                "value": "req-1",
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "deny",
                "text": {"type": "plain_text", "text": "Deny"},
                "value": "req-1",
            },
        ],
    },
]
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "request",
    "title": {"type": "plain_text", "text": "Request more"},
    "submit": {"type": "plain_text", "text": "Send"},
    "private_metadata": "eve",
    "blocks": [
        {
            "type": "input",
            "block_id": "amount",
            "label": {"type": "plain_text", "text": "Amount"},
            "element": {"type": "number_input", "action_id": "amount", "is_decimal_allowed": True},
        },
        {
            "type": "input",
            "block_id": "until",
            "optional": True,
            "label": {"type": "plain_text", "text": "Until"},
            "element": {"type": "datepicker", "action_id": "until"},
        },
        {
            "type": "input",
            "block_id": "tier",
            "optional": True,
            "label": {"type": "plain_text", "text": "Tier"},
            "element": {
                "type": "static_select",
                "action_id": "tier",
                "options": [
                    {"text": {"type": "plain_text", "text": "Premium"}, "value": "premium"},
                    {"text": {"type": "plain_text", "text": "Standard"}, "value": "standard"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True},
        },
    ],
}
HOME: dict[str, Any] = {"type": "home", "blocks": [SECTION]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(scope="module")
def org() -> SandboxOrg:
    return generate_org(7, today=START.date())


@pytest.fixture
async def emu(clock: ManualClock, org: SandboxOrg) -> AsyncIterator[SlackEmulator]:
    async with SlackEmulator(
        org=org, clock=clock, signing_clock=clock, signing_secret=SECRET
    ) as emulator:
        yield emulator


@pytest.fixture
def client(emu: SlackEmulator) -> AsyncWebClient:
    return AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.form["payload"])
        return loaded


@dataclass
class Bot:
    """Stands in for the bot: records what Slack sends and answers with `answer`."""

    requests: list[Received] = field(default_factory=list)
    answer: Callable[[Received], web.Response] = lambda _: web.Response()

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(dict(request.headers), await request.read())
        self.requests.append(received)
        return self.answer(received)


@pytest.fixture
async def bot(emu: SlackEmulator) -> AsyncIterator[Bot]:
    receiver = Bot()
    app = web.Application()
    app.router.add_post("/slack/events", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    emu.request_url = f"http://{host}:{port}/slack/events"
    yield receiver
    await runner.cleanup()


class _VerifierClock(Clock):
    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now().timestamp()


def verifier(clock: ManualClock) -> SignatureVerifier:
    """The bot's side of signing, on the same injected clock."""
    return SignatureVerifier(SECRET, clock=_VerifierClock(clock))


# The Web API


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert answer["ok"] is True
    assert answer["user_id"].startswith("U")
    assert answer["bot_id"].startswith("B")


async def test_calls_without_a_valid_token_are_refused(emu: SlackEmulator) -> None:
    with pytest.raises(SlackApiError) as missing:
        await AsyncWebClient(base_url=emu.api_url).auth_test()
    assert missing.value.response["error"] == "not_authed"
    with pytest.raises(SlackApiError) as wrong:
        await AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test()
    assert wrong.value.response["error"] == "invalid_auth"


async def test_a_form_post_with_a_token_parameter_works_like_json(emu: SlackEmulator) -> None:
    form = {
        "token": emu.bot_token,
        "channel": "C0ADMINS",
        "text": "digest",
        "blocks": json.dumps([SECTION]),
    }
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{emu.api_url}chat.postMessage", data=form) as response,
    ):
        answer = await response.json()
    assert answer["ok"] is True
    assert answer["message"]["blocks"][0]["text"] == SECTION["text"]
    assert [m.text for m in emu.messages_in("C0ADMINS")] == ["digest"]


async def test_posting_to_a_user_id_opens_their_dm(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    eve = emu.user_id(EVE)
    posted = await client.chat_postMessage(channel=eve, text="hi", blocks=APPROVE_BLOCKS)
    assert posted["channel"] == emu.dm_of(EVE)
    assert posted["channel"].startswith("D")
    assert posted["ts"] == f"{int(START.timestamp())}.000100"
    assert posted["message"]["text"] == "hi"
    opened = await client.conversations_open(users=eve)
    assert opened["channel"]["id"] == posted["channel"]
    assert emu.last_message_to(EVE) is not None
    assert emu.last_message_to(EVE).ts == posted["ts"]  # type: ignore[union-attr]


async def test_unknown_channels_and_users_are_not_found(client: AsyncWebClient) -> None:
    for channel in ("C0NOWHERE", "U0NOBODY00", "D0NOTOPEN0"):
        with pytest.raises(SlackApiError) as error:
            await client.chat_postMessage(channel=channel, text="hi")
        assert error.value.response["error"] == "channel_not_found"


async def test_update_replaces_the_message_in_place_and_keeps_its_history(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C0EMBEDDED", text="v1", blocks=APPROVE_BLOCKS)
    done = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approved by @dana"}}]
    updated = await client.chat_update(
        channel=posted["channel"], ts=posted["ts"], text="v2", blocks=done
    )
    assert updated["ts"] == posted["ts"]
    [message] = emu.messages_in("C0EMBEDDED")
    assert (message.text, message.blocks[0]["text"]["text"]) == ("v2", "Approved by @dana")
    assert [v.text for v in message.history] == ["v1"]
    assert emu.find_button(message, action_id="approve") is None
    with pytest.raises(SlackApiError) as error:
        await client.chat_update(channel="C0EMBEDDED", ts="1.000100", text="x")
    assert error.value.response["error"] == "message_not_found"


async def test_ephemerals_are_kept_per_user_and_channel(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    eve, dana = emu.user_id(EVE), emu.user_id(DANA)
    await client.chat_postEphemeral(channel="C0EMBEDDED", user=eve, text="only Eve")
    assert [e.text for e in emu.ephemerals_for(EVE, "C0EMBEDDED")] == ["only Eve"]
    assert emu.ephemerals_for(DANA) == []
    dm = (await client.conversations_open(users=eve))["channel"]["id"]
    with pytest.raises(SlackApiError) as error:
        await client.chat_postEphemeral(channel=dm, user=dana, text="not hers")
    assert error.value.response["error"] == "user_not_in_channel"


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([SECTION] * 51, "/blocks"),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
            "/blocks/0/text/text",
        ),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": ""}}], "/blocks/0/text/text"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
            "/blocks/0/text/text",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "/blocks/0/fields",
        ),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}],
            "/blocks/0/fields/0/text",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": f"b{i}",
                            "text": {"type": "plain_text", "text": "b"},
                        }
                        for i in range(26)
                    ],
                }
            ],
            "/blocks/0/elements",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "a",
                            "text": {"type": "plain_text", "text": "x" * 76},
                        }
                    ],
                }
            ],
            "/blocks/0/elements/0/text/text",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "a",
                            "value": "v" * 2001,
                            "text": {"type": "plain_text", "text": "ok"},
                        }
                    ],
                }
            ],
            "/blocks/0/elements/0/value",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "a" * 256,
                            "text": {"type": "plain_text", "text": "ok"},
                        }
                    ],
                }
            ],
            "/blocks/0/elements/0/action_id",
        ),
        ([{"type": "table_of_doom"}], "/blocks/0"),
    ],
)
async def test_blocks_over_slacks_limits_are_invalid(
    emu: SlackEmulator, client: AsyncWebClient, blocks: list[dict[str, Any]], pointer: str
) -> None:
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C0ADMINS", text="t", blocks=blocks)
    assert error.value.response["error"] == "invalid_blocks"
    messages = error.value.response["response_metadata"]["messages"]
    assert any(
        m.startswith("[ERROR]") and m.endswith(f"[json-pointer:{pointer}]") for m in messages
    )
    assert emu.messages_in("C0ADMINS") == []


async def test_text_over_40000_characters_is_too_long(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C0ADMINS", text="x" * 40_001)
    assert error.value.response["error"] == "msg_too_long"


# Views


async def test_a_fresh_trigger_opens_a_modal_once_and_only_for_3_seconds(
    emu: SlackEmulator, client: AsyncWebClient, clock: ManualClock
) -> None:
    trigger = emu.issue_trigger(EVE)
    opened = await client.views_open(trigger_id=trigger, view=MODAL)
    view = emu.open_view_of(EVE)
    assert view is not None
    assert opened["view"]["id"] == view.id
    assert opened["view"]["hash"] == view.hash
    assert view.private_metadata == "eve"
    with pytest.raises(SlackApiError) as reused:
        await client.views_open(trigger_id=trigger, view=MODAL)
    assert reused.value.response["error"] == "exchanged_trigger_id"
    late = emu.issue_trigger(EVE)
    clock.advance(timedelta(seconds=3.5))
    with pytest.raises(SlackApiError) as expired:
        await client.views_open(trigger_id=late, view=MODAL)
    assert expired.value.response["error"] == "expired_trigger_id"
    with pytest.raises(SlackApiError) as unknown:
        await client.views_open(trigger_id="1.2.nonsense", view=MODAL)
    assert unknown.value.response["error"] == "invalid_trigger_id"


async def test_two_workspaces_on_one_clock_never_hand_out_the_same_trigger_id(
    clock: ManualClock, org: SandboxOrg
) -> None:
    # The bot keeps trigger ids to spot replays; a restarted workspace must not repeat them.
    async with SlackEmulator(org=org, clock=clock) as again:
        other = {again.issue_trigger(EVE) for _ in range(3)}
    async with SlackEmulator(org=org, clock=clock) as first:
        mine = {first.issue_trigger(EVE) for _ in range(3)}
    assert len(mine | other) == 6
    assert all(re.fullmatch(r"\d+\.\d+\.[0-9a-f]{32}", t) for t in mine)


async def test_views_over_slacks_limits_are_invalid_arguments(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    too_long = {
        **MODAL,
        "title": {"type": "plain_text", "text": "x" * 25},
        "private_metadata": "m" * 3001,
    }
    with pytest.raises(SlackApiError) as error:
        await client.views_open(trigger_id=emu.issue_trigger(EVE), view=too_long)
    assert error.value.response["error"] == "invalid_arguments"
    messages = error.value.response["response_metadata"]["messages"]
    assert any("/view/title/text" in m for m in messages)
    assert any("/view/private_metadata" in m for m in messages)


async def test_views_update_checks_the_hash(emu: SlackEmulator, client: AsyncWebClient) -> None:
    opened = (await client.views_open(trigger_id=emu.issue_trigger(EVE), view=MODAL))["view"]
    changed = {**MODAL, "private_metadata": "changed"}
    updated = await client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)
    assert updated["view"]["id"] == opened["id"]
    with pytest.raises(SlackApiError) as conflict:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert conflict.value.response["error"] == "hash_conflict"
    assert emu.view(opened["id"]).private_metadata == "changed"


async def test_published_home_is_kept_per_user(emu: SlackEmulator, client: AsyncWebClient) -> None:
    eve = emu.user_id(EVE)
    first = await client.views_publish(user_id=eve, view=HOME)
    again = await client.views_publish(user_id=eve, view=HOME)
    home = emu.home_of(EVE)
    assert home is not None
    assert first["view"]["id"] == again["view"]["id"] == home.id
    assert home.type == "home"
    assert emu.home_of(DANA) is None


# Users


async def test_users_are_the_sandbox_members_with_their_emails(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    eve = emu.user_id(EVE)
    info = await client.users_info(user=eve)
    assert info["user"]["profile"]["email"] == EVE
    assert info["user"]["real_name"] == "Eve Novak"
    assert info["user"]["tz"] == "Europe/Berlin"
    found = await client.users_lookupByEmail(email=DANA)
    assert found["user"]["id"] == emu.user_id(DANA)
    assert len(emu.directory.members()) == len(emu.org.people) + 1  # and the bot
    # The same seed gives the same ids in another emulator.
    assert SlackEmulator(clock=ManualClock(START)).user_id(EVE) == eve


async def test_unknown_users_are_not_found_until_added(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    with pytest.raises(SlackApiError) as by_id:
        await client.users_info(user="U0NOBODY00")
    assert by_id.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as by_email:
        await client.users_lookupByEmail(email="zoe@elsewhere.org")
    assert by_email.value.response["error"] == "users_not_found"
    stranger = emu.add_user("zoe@elsewhere.org", real_name="Zoe Stranger")
    found = await client.users_lookupByEmail(email="zoe@elsewhere.org")
    assert found["user"]["id"] == stranger.id


# Files


async def test_the_external_upload_flow_shares_the_bytes_into_the_channel(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    content = b"week,spend\n10,4200\n"
    done = await client.files_upload_v2(
        channel="C0ADMINS",
        filename="usage.csv",
        content=content,
        title="Usage",
        initial_comment="This week's usage",
    )
    file_id = done["file"]["id"]
    assert emu.files[file_id].content == content
    assert emu.files[file_id].title == "Usage"
    [message] = emu.messages_in("C0ADMINS")
    assert message.text == "This week's usage"
    assert message.files[0]["id"] == file_id


# Fault injection


async def test_rate_limits_are_retried_into_exactly_one_post(
    emu: SlackEmulator, retry_sleeps: list[float]
) -> None:
    client = AsyncWebClient(
        token=emu.bot_token,
        base_url=emu.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=5)],
    )
    emu.fail("chat.postMessage", status=429, retry_after=2, times=5)
    await client.chat_postMessage(channel="C0ADMINS", text="digest")
    assert [c.status for c in emu.calls("chat.postMessage")] == [429] * 5 + [200]
    assert len(emu.messages_in("C0ADMINS")) == 1
    # Each wait honours Retry-After (slack_sdk adds up to a second of jitter).
    assert len(retry_sleeps) == 5
    assert all(2 <= s < 3 for s in retry_sleeps)


async def test_a_rate_limit_without_retries_reaches_the_caller(
    emu: SlackEmulator, client: AsyncWebClient
) -> None:
    emu.fail("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C0ADMINS", text="digest")
    assert error.value.response.status_code == 429
    assert error.value.response.headers["Retry-After"] == "7"
    assert error.value.response["error"] == "ratelimited"
    assert emu.messages_in("C0ADMINS") == []


async def test_server_errors_are_retried(emu: SlackEmulator, retry_sleeps: list[float]) -> None:
    client = AsyncWebClient(
        token=emu.bot_token,
        base_url=emu.api_url,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=2)],
    )
    emu.fail("users.info", status=503, times=1)
    emu.fail("users.info", status=500, times=1)
    info = await client.users_info(user=emu.user_id(EVE))
    assert info["user"]["profile"]["email"] == EVE
    assert [c.status for c in emu.calls("users.info")] == [503, 500, 200]
    assert len(retry_sleeps) == 2


# Acting as Slack towards the bot


async def test_a_slash_command_is_a_signed_form_and_its_ack_is_shown(
    emu: SlackEmulator, bot: Bot, clock: ManualClock
) -> None:
    bot.answer = lambda _: web.json_response({"text": "Your cap is $85"})
    reply = await emu.slash_command(EVE, "status")
    assert reply.status == 200
    assert reply.body == {"text": "Your cap is $85"}
    [received] = bot.requests
    assert verifier(clock).is_valid_request(received.body, received.headers)
    form = received.form
    assert form["command"] == "/capdesk"
    assert form["text"] == "status"
    assert form["user_id"] == emu.user_id(EVE)
    assert form["user_name"] == "eve.novak"
    assert form["channel_id"] == emu.dm_of(EVE)
    assert form["response_url"].startswith(emu.base_url)
    assert {"team_id", "api_app_id", "trigger_id", "team_domain"} <= set(form)
    assert received.headers["Content-Type"] == "application/x-www-form-urlencoded"
    [shown] = emu.ephemerals_for(EVE)
    assert shown.text == "Your cap is $85"


async def test_requests_tampered_with_or_stale_do_not_verify(
    emu: SlackEmulator, bot: Bot, clock: ManualClock
) -> None:
    await emu.slash_command(EVE, "raise 50")
    [received] = bot.requests
    check = verifier(clock)
    assert not check.is_valid_request(received.body.replace(b"50", b"500"), received.headers)
    stale = emu.signed_headers(received.body, timestamp=int(clock.now().timestamp()) - 301)
    assert not check.is_valid_request(received.body, stale)
    fresh = emu.signed_headers(received.body)
    assert check.is_valid_request(received.body, fresh)
    forged = {**fresh, "X-Slack-Signature": "v0=" + "0" * 64}
    reply = await emu.send_raw(received.body, forged)
    assert reply.status == 200  # the stand-in bot does not check; the real one must
    assert bot.requests[-1].headers["X-Slack-Signature"] == "v0=" + "0" * 64
    assert bot.requests[-1].body == received.body


async def test_a_click_carries_the_message_and_its_response_url_edits_it(
    emu: SlackEmulator, client: AsyncWebClient, bot: Bot
) -> None:
    dana = emu.user_id(DANA)
    posted = await client.chat_postMessage(channel=dana, text="approve?", blocks=APPROVE_BLOCKS)
    message = emu.last_message_to(DANA)
    assert message is not None
    await emu.click(DANA, message, "deny", value="req-1")
    payload = bot.requests[-1].payload
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == dana
    assert payload["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": posted["channel"],
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == posted["ts"]
    [action] = payload["actions"]
    assert (action["action_id"], action["value"], action["block_id"]) == ("deny", "req-1", "decide")
    assert payload["trigger_id"]
    async with aiohttp.ClientSession() as session:
        replaced = {"replace_original": True, "text": "Denied"}
        async with session.post(payload["response_url"], json=replaced) as response:
            assert response.status == 200
        told = {"text": "You denied it"}
        async with session.post(payload["response_url"], json=told) as response:
            assert response.status == 200
    assert emu.messages_to(DANA)[0].text == "Denied"
    assert [e.text for e in emu.ephemerals_for(DANA)] == ["You denied it"]
    with pytest.raises(LookupError):
        await emu.click(DANA, message, "no-such-button")


async def test_a_click_on_the_home_tab_carries_the_view(
    emu: SlackEmulator, client: AsyncWebClient, bot: Bot
) -> None:
    await client.views_publish(user_id=emu.user_id(DANA), view={**HOME, "blocks": APPROVE_BLOCKS})
    home = emu.home_of(DANA)
    assert home is not None
    await emu.click(DANA, home, "approve", value="req-1")
    payload = bot.requests[-1].payload
    assert payload["container"] == {"type": "view", "view_id": home.id}
    assert payload["view"]["type"] == "home"
    assert "response_url" not in payload


async def test_a_view_submission_has_state_values_and_applies_the_response_action(
    emu: SlackEmulator, client: AsyncWebClient, bot: Bot
) -> None:
    await client.views_open(trigger_id=emu.issue_trigger(EVE), view=MODAL)
    bot.answer = lambda _: web.json_response(
        {"response_action": "errors", "errors": {"amount": "Must be positive"}}
    )
    values = {"amount": "-5", "until": "2026-04-01", "tier": "premium", "reason": "demo"}
    reply = await emu.submit_view(EVE, values)
    assert reply.json["response_action"] == "errors"
    payload = bot.requests[-1].payload
    assert payload["type"] == "view_submission"
    state = payload["view"]["state"]["values"]
    assert state["amount"]["amount"] == {"type": "number_input", "value": "-5"}
    assert state["until"]["until"] == {"type": "datepicker", "selected_date": "2026-04-01"}
    assert state["tier"]["tier"]["selected_option"]["value"] == "premium"
    assert state["reason"]["reason"] == {"type": "plain_text_input", "value": "demo"}
    view = emu.open_view_of(EVE)
    assert view is not None
    assert view.errors == {"amount": "Must be positive"}

    thanks = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Sent"},
        "blocks": [SECTION],
    }
    bot.answer = lambda _: web.json_response({"response_action": "update", "view": thanks})
    await emu.submit_view(EVE, {"amount": "50", "reason": "demo"})
    updated = emu.open_view_of(EVE)
    assert updated is not None
    assert updated.id == view.id
    assert updated.definition["title"]["text"] == "Sent"

    bot.answer = lambda _: web.Response()
    await emu.submit_view(EVE)
    assert emu.open_view_of(EVE) is None


async def test_events_come_in_an_envelope_and_retries_say_so(
    emu: SlackEmulator, bot: Bot, clock: ManualClock
) -> None:
    await emu.app_home_opened(EVE, event_id="Ev0001")
    await emu.event(
        {"type": "app_home_opened", "user": emu.user_id(EVE)}, event_id="Ev0001", retry_num=1
    )
    first, retry = bot.requests
    envelope = json.loads(first.body)
    assert envelope["type"] == "event_callback"
    assert envelope["event_id"] == "Ev0001"
    assert envelope["event_time"] == int(START.timestamp())
    assert envelope["event"]["type"] == "app_home_opened"
    assert envelope["event"]["channel"] == emu.dm_of(EVE)
    assert "X-Slack-Retry-Num" not in first.headers
    assert (retry.headers["X-Slack-Retry-Num"], retry.headers["X-Slack-Retry-Reason"]) == (
        "1",
        "http_timeout",
    )
    assert verifier(clock).is_valid_request(retry.body, retry.headers)


async def test_url_verification_returns_the_bots_answer(emu: SlackEmulator, bot: Bot) -> None:
    bot.answer = lambda r: web.json_response({"challenge": json.loads(r.body)["challenge"]})
    reply = await emu.url_verification("abc")
    assert reply.body == {"challenge": "abc"}


async def test_a_bot_slower_than_the_ack_timeout_times_out(
    clock: ManualClock, org: SandboxOrg
) -> None:
    released = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await released.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/slack/events", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        async with SlackEmulator(
            org=org,
            clock=clock,
            ack_timeout=0.05,
            request_url=f"http://{host}:{port}/slack/events",
        ) as emulator:
            with pytest.raises(AckTimeout):
                await emulator.slash_command(EVE, "status")
    finally:
        released.set()
        await runner.cleanup()


async def test_bolt_accepts_what_the_emulator_sends_and_its_client_works_against_it(
    org: SandboxOrg,
) -> None:
    # Bolt checks signatures against the wall clock, so this emulator keeps real time.
    done = {name: asyncio.Event() for name in ("command", "click")}
    async with SlackEmulator(org=org, signing_secret=SECRET) as emulator:
        client = AsyncWebClient(token=emulator.bot_token, base_url=emulator.api_url)
        app = AsyncApp(signing_secret=SECRET, client=client)

        @app.command("/capdesk")
        async def command(ack: AsyncAck, body: dict[str, Any]) -> None:
            await ack(text="Opening the form")
            await client.views_open(trigger_id=body["trigger_id"], view=MODAL)
            await client.chat_postMessage(channel=body["user_id"], text="?", blocks=APPROVE_BLOCKS)
            done["command"].set()

        @app.action("approve")
        async def approve(ack: AsyncAck, respond: AsyncRespond) -> None:
            await ack()
            await respond(replace_original=True, text="Approved")
            done["click"].set()

        @app.view("request")
        async def submitted(ack: AsyncAck, view: dict[str, Any]) -> None:
            amount = view["state"]["values"]["amount"]["amount"]["value"]
            await ack(response_action="errors", errors={"amount": f"{amount} is too much"})

        runner = web.AppRunner(app.web_app(path="/slack/events"))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        emulator.request_url = f"http://{host}:{port}/slack/events"
        try:
            reply = await emulator.slash_command(EVE, "raise 900")
            assert reply.status == 200
            await asyncio.wait_for(done["command"].wait(), timeout=5)
            assert "Opening the form" in [e.text for e in emulator.ephemerals_for(EVE)]

            reply = await emulator.submit_view(EVE, {"amount": "900", "reason": "demo"})
            view = emulator.open_view_of(EVE)
            assert view is not None
            assert view.errors == {"amount": "900 is too much"}

            message = emulator.last_message_to(EVE)
            assert message is not None
            await emulator.click(EVE, message, "approve", value="req-1")
            await asyncio.wait_for(done["click"].wait(), timeout=5)
            assert emulator.messages_to(EVE)[0].text == "Approved"

            body = b"payload=%7B%7D"
            forged = {
                "Content-Type": "application/x-www-form-urlencoded",
                **emulator.signed_headers(b"something else"),
            }
            assert (await emulator.send_raw(body, forged)).status == 401
            assert (await emulator.send_raw(body, {})).status == 401
        finally:
            await runner.cleanup()
