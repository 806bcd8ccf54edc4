"""The Teams emulator checked against the vendor's own code: botframework-connector's
`ConnectorClient` (signed with capdesk's credentials) calls its Bot Connector routes and parses
every answer into `botbuilder.schema` models; botbuilder's `TeamsActivityHandler` and
`TeamsInfo` read the activities it sends; botbuilder's own token validation accepts its keys
and signed tokens; an OAuth 2.0 client library takes its access tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from botbuilder.core.teams.teams_activity_extensions import teams_get_channel_data
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationResourceResponse,
    ErrorResponseException,
    ResourceResponse,
)
from botbuilder.schema.teams import TeamsChannelAccount, TeamsPagedMembersResult
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    ChannelValidation,
    JwtTokenValidation,
    SimpleCredentialProvider,
)
from oauthlib.oauth2 import BackendApplicationClient, InvalidClientError
from requests_oauthlib import OAuth2Session

from bot.teams.auth import BOT_FRAMEWORK_SCOPE, AccessTokens, BotCredentials
from bot.teams.emulator import TENANT_ID, SigningKey, TeamsEmulator
from tests.adapters.teams.conftest import DANA, EVE, Served
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio


@pytest.fixture
async def connector(emu: TeamsEmulator, clock: ManualClock) -> AsyncIterator[ConnectorClient]:
    tokens = AccessTokens(
        token_url=emu.token_url, app_id=emu.app_id, password=emu.app_password, clock=clock
    )
    async with ConnectorClient(BotCredentials(tokens), base_url=emu.service_url) as client:
        yield client


def _status(error: ErrorResponseException) -> int:
    return int(error.response.status_code)


def _code(error: ErrorResponseException) -> str:
    return str(error.error.error.code)


async def _personal(connector: ConnectorClient, emu: TeamsEmulator, who: str) -> str:
    created = await connector.conversations.create_conversation(
        ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=emu.bot_id),
            members=[ChannelAccount(id=emu.user(who).id)],
            tenant_id=TENANT_ID,
        )
    )
    assert isinstance(created, ConversationResourceResponse)
    return str(created.id)


async def test_a_1_to_1_chat_is_created_once_per_person(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    first = await _personal(connector, emu, EVE)
    again = await _personal(connector, emu, EVE)

    assert first == again == emu.personal_conversation(EVE).id
    assert first.startswith("a:")
    # botbuilder sends the tenant as `tenantID`; the connector reads names in any case.
    assert emu.calls("create_conversation")[0].body["tenantID"] == TENANT_ID


async def test_activities_are_posted_replied_to_and_updated(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    conversation = await _personal(connector, emu, EVE)

    sent = await connector.conversations.send_to_conversation(
        conversation, Activity(type="message", text="Request #7 was approved")
    )
    reply = await connector.conversations.reply_to_activity(
        conversation, sent.id, Activity(type="message", text="by Dana")
    )
    updated = await connector.conversations.update_activity(
        conversation, sent.id, Activity(type="message", text="Request #7: approved by Dana")
    )

    assert isinstance(sent, ResourceResponse)
    assert isinstance(reply, ResourceResponse)
    assert updated.id == sent.id
    first, second = emu.posted_to(EVE)
    assert (first.id, first.text, [v["text"] for v in first.history]) == (
        sent.id,
        "Request #7: approved by Dana",
        ["Request #7 was approved"],
    )
    assert (second.text, second.reply_to_id) == ("by Dana", sent.id)
    assert int(second.id) > int(first.id)


async def test_a_member_reads_as_teams_info_expects_it(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    conversation = await _personal(connector, emu, EVE)
    eve = emu.user(EVE)

    by_id, by_object_id, by_upn = [
        await connector.conversations.get_conversation_member(conversation, member)
        for member in (eve.id, eve.aad_object_id, eve.user_principal_name)
    ]
    # TeamsInfo.get_member re-reads the ChannelAccount, extra fields included, like this.
    member = TeamsChannelAccount().deserialize(
        dict(by_id.serialize(), **by_id.additional_properties)
    )

    assert by_id.id == by_object_id.id == by_upn.id == eve.id
    assert member.email == EVE
    assert member.user_principal_name == "eve.novak@capdesksandbox.onmicrosoft.com"
    assert member.aad_object_id == eve.aad_object_id
    assert (member.given_name, member.surname, member.tenant_id) == ("Eve", "Novak", TENANT_ID)


async def test_the_roster_comes_in_pages_of_at_least_50(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    everyone = {user.id for user in emu.directory.members()}
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = await connector.conversations.get_teams_conversation_paged_members(
            emu.team.id, 10, token
        )
        assert isinstance(page, TeamsPagedMembersResult)
        seen += [member.id for member in page.members]
        assert all(member.email for member in page.members)
        pages += 1
        token = page.continuation_token
        if not token:
            break

    assert len(everyone) > 50
    assert pages == -(-len(everyone) // 50)
    assert sorted(seen) == sorted(everyone)
    members = await connector.conversations.get_conversation_members(emu.team.id)
    assert {member.id for member in members} == everyone


async def test_refusals_carry_the_connectors_error_shape(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    conversation = await _personal(connector, emu, EVE)
    emu.set_reachable(DANA, False)

    with pytest.raises(ErrorResponseException) as unknown:
        await connector.conversations.send_to_conversation(
            "a:nobody", Activity(type="message", text="hi")
        )
    with pytest.raises(ErrorResponseException) as missing:
        await connector.conversations.update_activity(
            conversation, "12345", Activity(type="message", text="hi")
        )
    with pytest.raises(ErrorResponseException) as not_a_member:
        await connector.conversations.get_conversation_member(conversation, emu.user(DANA).id)
    with pytest.raises(ErrorResponseException) as unreachable:
        await _personal(connector, emu, DANA)
    with pytest.raises(ErrorResponseException) as empty:
        await connector.conversations.send_to_conversation(conversation, Activity(type="message"))

    assert [(_status(e.value), _code(e.value)) for e in (unknown, missing, not_a_member)] == [
        (404, "ConversationNotFound"),
        (404, "ActivityNotFound"),
        (404, "MemberNotFoundInConversation"),
    ]
    assert (_status(unreachable.value), _code(unreachable.value)) == (
        403,
        "BotNotInConversationRoster",
    )
    assert (_status(empty.value), _code(empty.value)) == (400, "BadArgument")
    assert emu.posted() == []


async def test_a_call_without_a_valid_token_is_denied(emu: TeamsEmulator) -> None:
    conversation = emu.personal_conversation(EVE).id
    async with ConnectorClient(BotCredentials(None), base_url=emu.service_url) as anonymous:
        with pytest.raises(ErrorResponseException) as denied:
            await anonymous.conversations.get_conversation_members(conversation)

    assert _status(denied.value) == 401
    assert emu.calls("get_members")[0].answer == {
        "message": "Authorization has been denied for this request."
    }


async def test_an_expired_access_token_is_denied(emu: TeamsEmulator, clock: ManualClock) -> None:
    tokens = AccessTokens(
        token_url=emu.token_url, app_id=emu.app_id, password=emu.app_password, clock=clock
    )
    url = f"{emu.service_url}v3/conversations/{emu.personal_conversation(EVE).id}/members"
    headers = {"Authorization": f"Bearer {tokens.get_blocking()}"}

    fresh = await asyncio.to_thread(httpx.get, url, headers=headers)
    clock.advance(timedelta(seconds=3599))
    stale = await asyncio.to_thread(httpx.get, url, headers=headers)

    assert (fresh.status_code, stale.status_code) == (200, 401)


async def test_a_post_answered_429_is_not_retried_by_the_connector_client(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    """botframework-connector never retries a POST: the 429 and its Retry-After reach the caller
    (the outbox retries); the next attempt goes through."""
    conversation = await _personal(connector, emu, EVE)
    emu.fail("send_to_conversation", status=429, retry_after=7)

    with pytest.raises(ErrorResponseException) as throttled:
        await connector.conversations.send_to_conversation(
            conversation, Activity(type="message", text="hi")
        )
    sent = await connector.conversations.send_to_conversation(
        conversation, Activity(type="message", text="hi")
    )

    assert _status(throttled.value) == 429
    assert throttled.value.response.headers["Retry-After"] == "7"
    assert [call.status for call in emu.calls("send_to_conversation")] == [429, 201]
    assert [posted.id for posted in emu.posted_to(EVE)] == [sent.id]


async def test_a_post_answered_5xx_is_not_retried_either(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    conversation = await _personal(connector, emu, EVE)
    emu.fail("create_conversation", status=502)
    emu.fail("send_to_conversation", status=503)

    with pytest.raises(ErrorResponseException) as create:
        await _personal(connector, emu, EVE)
    with pytest.raises(ErrorResponseException) as send:
        await connector.conversations.send_to_conversation(
            conversation, Activity(type="message", text="hi")
        )

    assert (_status(create.value), _status(send.value)) == (502, 503)
    assert [call.status for call in emu.calls("create_conversation")] == [201, 502]
    assert [call.status for call in emu.calls("send_to_conversation")] == [503]


async def test_a_put_answered_5xx_is_retried_inside_the_connector_client(
    connector: ConnectorClient, emu: TeamsEmulator
) -> None:
    """msrest's requests session retries PUT and GET on 5xx (and on 429 after its Retry-After)
    by itself, up to three times: a caller that retries too multiplies the attempts."""
    conversation = await _personal(connector, emu, EVE)
    sent = await connector.conversations.send_to_conversation(
        conversation, Activity(type="message", text="v1")
    )
    emu.fail("update_activity", status=503)

    await connector.conversations.update_activity(
        conversation, sent.id, Activity(type="message", text="v2")
    )

    assert [call.status for call in emu.calls("update_activity")] == [503, 200]
    assert emu.posted_to(EVE)[0].text == "v2"


async def test_the_token_endpoint_speaks_oauth2_client_credentials(
    emu: TeamsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """oauthlib, an independent OAuth 2.0 client, takes the emulator's token and its refusal."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the emulator is plain http
    session = OAuth2Session(client=BackendApplicationClient(client_id=emu.app_id))

    token: dict[str, Any] = session.fetch_token(
        emu.token_url,
        client_id=emu.app_id,
        client_secret=emu.app_password,
        scope=[BOT_FRAMEWORK_SCOPE],
        include_client_id=True,
    )
    with pytest.raises(InvalidClientError, match="AADSTS7000215"):
        session.fetch_token(
            emu.token_url,
            client_id=emu.app_id,
            client_secret="wrong",
            scope=[BOT_FRAMEWORK_SCOPE],
            include_client_id=True,
        )

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3599
    assert token["access_token"].startswith("emu.")
    assert [request.form["client_secret"] for request in emu.token_requests()] == [
        "right",
        "wrong",
    ]


async def test_messages_and_clicks_read_as_botbuilder_reads_them(
    emu: TeamsEmulator, served: Served
) -> None:
    await emu.message(EVE, "card")
    (card,) = emu.posted_to(EVE)
    await emu.click(EVE, card, "deny", {"reason": "not now"})

    message, invoke = served.bot.turns
    eve = emu.user(EVE)
    assert (message.type, message.channel_id, message.service_url) == (
        "message",
        "msteams",
        emu.service_url,
    )
    assert (message.from_property.id, message.from_property.aad_object_id) == (
        eve.id,
        eve.aad_object_id,
    )
    assert message.conversation.conversation_type == "personal"
    assert teams_get_channel_data(message).tenant.id == TENANT_ID
    assert (invoke.type, invoke.name, invoke.reply_to_id) == (
        "invoke",
        "adaptiveCard/action",
        card.id,
    )
    assert served.bot.invokes[0].action["data"] == {"request": 7, "reason": "not now"}
    # Teams shows the clicker the card the invoke answered with.
    assert emu.posted_to(EVE)[0].card_seen_by(eve.id)["body"][0]["text"] == "deny by Eve Novak"
    assert emu.posted_to(EVE)[0].card_seen_by(emu.user(DANA).id) == card.cards[0]


async def test_teams_info_reads_the_sender(emu: TeamsEmulator, served: Served) -> None:
    await emu.message(EVE, "whoami")

    (member,) = served.bot.members
    assert (member.email, member.aad_object_id) == (EVE, emu.user(EVE).aad_object_id)
    assert emu.posted_to(EVE)[0].text == f"echo: {EVE}"


async def test_installations_read_as_teams_activity_handler_reads_them(
    emu: TeamsEmulator, served: Served
) -> None:
    personal = await emu.install_personal(EVE)
    team = await emu.install_in_team(DANA, channel="capdesk-admins")

    assert [reply.status for reply in personal + team] == [200, 200, 200, 200]
    assert [install.conversation.conversation_type for install in served.bot.installs] == [
        "personal",
        "channel",
    ]
    (eve_added, eve_team), (bot_added, team_info) = served.bot.added
    assert [m.id for m in eve_added] == [emu.bot_id, emu.user(EVE).id]
    assert eve_team is None
    assert [m.id for m in bot_added] == [emu.bot_id]
    assert (team_info.id, team_info.name) == (emu.team.id, emu.team.name)
    channel_data = teams_get_channel_data(served.bot.turns[-1])
    assert channel_data.event_type == "teamMemberAdded"
    assert channel_data.settings.selected_channel.id == emu.channel("capdesk-admins").id


def _botbuilder_validates(emu: TeamsEmulator, token: str) -> Any:
    """botbuilder's own JwtTokenValidation on the emulator's activity and token, on a loop and
    thread of its own (it fetches the keys with a blocking call)."""
    activity = Activity().deserialize(emu.message_activity(EVE, "hello"))
    credentials = SimpleCredentialProvider(emu.app_id, emu.app_password)
    return asyncio.run(
        JwtTokenValidation.authenticate_request(activity, f"Bearer {token}", credentials)
    )


async def test_botbuilders_own_validator_accepts_the_emulators_keys_and_tokens(
    emu: TeamsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", emu.openid_url)
    # botbuilder checks times by the wall clock; this token is valid whatever it says.
    token = emu.channel_token(claims={"nbf": 0, "exp": 4102444800})

    identity = await asyncio.to_thread(_botbuilder_validates, emu, token)

    assert identity.is_authenticated
    assert identity.get_claim_value("aud") == emu.app_id
    assert identity.get_claim_value("serviceurl") == emu.service_url


async def test_botbuilders_validator_fails_an_unknown_key_with_an_index_error(
    emu: TeamsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The defect capdesk's own validator exists for: not a PermissionError, so a 500."""
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", emu.openid_url)
    token = emu.channel_token(key=SigningKey("unknown-kid"), claims={"exp": 4102444800})

    with pytest.raises(IndexError):
        await asyncio.to_thread(_botbuilder_validates, emu, token)
