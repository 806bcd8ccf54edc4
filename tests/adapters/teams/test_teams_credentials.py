"""The bot's own token: the client-credentials form posted to CAPDESK_TEAMS_TOKEN_URL (plain
http here), cached until five minutes before it expires, fetched off the event loop, and a
failure told in one line that names the settings."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from botframework.connector.aio import ConnectorClient

from bot.teams.auth import (
    BOT_FRAMEWORK_SCOPE,
    AccessTokens,
    BotCredentials,
    BotCredentialsFactory,
    TokenUnavailable,
)
from bot.teams.emulator import TENANT_ID, TeamsEmulator, TokenRequest
from tests.adapters.teams.conftest import EVE, Served
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio


def _tokens(
    emu: TeamsEmulator,
    clock: ManualClock,
    *,
    password: str | None = None,
    url: str | None = None,
    timeout: float = 10.0,
) -> AccessTokens:
    return AccessTokens(
        token_url=url or emu.token_url,
        app_id=emu.app_id,
        password=password or emu.app_password,
        clock=clock,
        timeout=timeout,
    )


async def test_the_bot_posts_the_v2_client_credentials_form_and_its_reply_goes_through(
    emu: TeamsEmulator, served: Served
) -> None:
    await emu.message(EVE, "hello")

    assert emu.token_requests() == [
        TokenRequest(
            TENANT_ID,
            {
                "grant_type": "client_credentials",
                "client_id": emu.app_id,
                "scope": BOT_FRAMEWORK_SCOPE,
                "client_secret": "right",
            },
            200,
        )
    ]
    assert [call.status for call in emu.calls("reply_to_activity")] == [201]


async def test_the_token_is_kept_until_five_minutes_before_it_expires(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    tokens = _tokens(emu, clock)

    first = await tokens.get()
    clock.advance(timedelta(seconds=3599 - 300 - 1))
    kept = await tokens.get()
    clock.advance(timedelta(seconds=1))
    renewed = await tokens.get()

    assert first == kept != renewed
    assert len(emu.token_requests()) == 2


async def test_a_wrong_secret_is_one_line_naming_the_settings(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    with pytest.raises(TokenUnavailable) as refused:
        await _tokens(emu, clock, password="not-the-secret").get()

    message = str(refused.value)
    assert message == (
        "the token endpoint refused the bot's credentials (HTTP 401, invalid_client:"
        " AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the"
        " request is the client secret value, not the client secret ID.); check"
        " MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"
    )
    assert "not-the-secret" not in message


async def test_an_unknown_tenant_is_refused(emu: TeamsEmulator, clock: ManualClock) -> None:
    url = emu.token_url.replace(TENANT_ID, "contoso.com")

    with pytest.raises(TokenUnavailable, match=r"HTTP 400, invalid_request: AADSTS90002"):
        await _tokens(emu, clock, url=url).get()


async def test_a_token_endpoint_that_does_not_answer_times_out_off_the_loop(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    stall = emu.stall("token")
    fetch = asyncio.create_task(_tokens(emu, clock, timeout=0.2).get())

    # The loop is free while the fetch waits: this await needs it.
    assert await asyncio.to_thread(stall.waiting.wait, 10)
    with pytest.raises(TokenUnavailable) as timed_out:
        await fetch

    assert str(timed_out.value) == (
        f"no Bot Framework token: {emu.token_url} did not answer within 0.2 s"
        " (CAPDESK_TEAMS_TOKEN_URL)"
    )


async def test_a_token_endpoint_outage_is_told_then_passes(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    tokens = _tokens(emu, clock)
    emu.fail("token", status=503)

    with pytest.raises(TokenUnavailable, match=r"HTTP 503, temporarily_unavailable: AADSTS50196"):
        await tokens.get()
    assert (await tokens.get()).startswith("emu.")


async def test_synchronous_clients_are_signed_from_the_cached_token(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    """botbuilder's TeamsConnectorClient is synchronous and signs through `signed_session`."""
    tokens = _tokens(emu, clock)
    token = await tokens.get()

    session = await asyncio.to_thread(BotCredentials(tokens).signed_session)

    assert session.headers["Authorization"] == f"Bearer {token}"
    assert len(emu.token_requests()) == 1


async def test_credentials_are_only_for_this_bot_and_the_bot_connector(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    factory = BotCredentialsFactory(app_id=emu.app_id, tokens=_tokens(emu, clock))

    with pytest.raises(TokenUnavailable, match="only for this bot's"):
        await factory.create_credentials("another-app", BOT_FRAMEWORK_SCOPE, "", True)
    with pytest.raises(TokenUnavailable, match="only the Bot Connector"):
        await factory.create_credentials(emu.app_id, "https://graph.microsoft.com", "", True)
    assert await factory.is_valid_app_id(emu.app_id)
    assert not await factory.is_authentication_disabled()


async def test_a_connector_call_signed_with_them_succeeds(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    factory = BotCredentialsFactory(app_id=emu.app_id, tokens=_tokens(emu, clock))
    credentials = await factory.create_credentials(emu.app_id, BOT_FRAMEWORK_SCOPE, "", True)
    conversation = emu.personal_conversation(EVE).id

    async with ConnectorClient(credentials, base_url=emu.service_url) as client:
        members = await client.conversations.get_conversation_members(conversation)

    assert [member.id for member in members] == [emu.user(EVE).id]
    assert [call.status for call in emu.calls("get_members")] == [200]


async def test_callers_waiting_for_the_token_share_one_request_in_one_thread(
    emu: TeamsEmulator, clock: ManualClock, handed_off: list[str]
) -> None:
    tokens = _tokens(emu, clock)
    stall = emu.stall("token")
    gets = [asyncio.create_task(tokens.get()) for _ in range(10)]
    assert await asyncio.to_thread(stall.waiting.wait, 10)
    stall.release()

    values = await asyncio.gather(*gets)

    assert len(set(values)) == 1
    assert handed_off.count("get_blocking") == 1
    assert len(emu.token_requests()) == 1
