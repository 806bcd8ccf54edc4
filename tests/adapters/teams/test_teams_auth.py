"""capdesk's authentication of `POST /api/messages`, through the real endpoint: a valid
Bot Framework token is handled; every forgery is a 401 the bot never sees; the signing keys
are fetched off the event loop, with a timeout, and refreshed sparingly."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from bot.teams.auth import ChannelTokenValidator, SigningKeys, Unauthorized
from bot.teams.auth.keys import EARLY_REFRESH, RETRY_AFTER_FAILURE
from bot.teams.emulator import SigningKey, TeamsEmulator
from tests.adapters.teams.conftest import EVE, Served, authentication_for, serve_bot
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part(header)}.{part(claims)}."


def _claims(emu: TeamsEmulator) -> dict[str, Any]:
    return jwt.decode(emu.channel_token(), options={"verify_signature": False})


async def test_a_valid_token_is_handled_and_the_bot_answers_through_the_connector(
    emu: TeamsEmulator, served: Served, botbuilder_key_cache: dict[str, Any]
) -> None:
    reply = await emu.message(EVE, "hello")

    assert reply.status == 200
    assert [turn.text for turn in served.bot.turns] == ["hello"]
    assert [posted.text for posted in emu.posted_to(EVE)] == ["echo: hello"]
    # botbuilder's own (blocking) key fetch was never reached.
    assert botbuilder_key_cache == {}


async def test_a_card_click_is_answered_with_the_invoke_response_body(
    emu: TeamsEmulator, served: Served
) -> None:
    await emu.message(EVE, "card")
    (card,) = emu.posted_to(EVE)

    reply = await emu.click(EVE, card, "approve", {"reason": "release"})

    assert reply.status == 200
    assert reply.json["statusCode"] == 200
    assert reply.json["type"] == "application/vnd.microsoft.card.adaptive"
    assert reply.json["value"]["body"][0]["text"] == "approve by Eve Novak"
    (invoke,) = served.bot.invokes
    assert invoke.action["verb"] == "approve"
    assert invoke.action["data"] == {"request": 7, "reason": "release"}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda emu: None, id="no header"),
        pytest.param(lambda emu: "Basic dXNlcjpwYXNz", id="not bearer"),
        pytest.param(lambda emu: "Bearer", id="bearer without a token"),
        pytest.param(lambda emu: f"Bearer {emu.channel_token()} extra", id="two tokens"),
        pytest.param(lambda emu: "Bearer not-a-jwt", id="garbage"),
        pytest.param(lambda emu: "Bearer a.b.c", id="garbage in three parts"),
        pytest.param(
            lambda emu: (
                "Bearer "
                + _unsigned({"alg": "none", "typ": "JWT", "kid": emu.signing_key.kid}, _claims(emu))
            ),
            id="alg none",
        ),
        pytest.param(
            lambda emu: (
                "Bearer "
                + jwt.encode(
                    _claims(emu),
                    "a-shared-secret-of-thirty-two-bytes!",
                    algorithm="HS256",
                    headers={"kid": emu.signing_key.kid},
                )
            ),
            id="HS256",
        ),
        pytest.param(
            lambda emu: (
                "Bearer " + emu.channel_token(key=SigningKey(emu.signing_key.kid, impostor=True))
            ),
            id="bad signature",
        ),
        pytest.param(
            lambda emu: "Bearer " + emu.channel_token(key=SigningKey("nobody-lists-this-key")),
            id="unknown key",
        ),
        pytest.param(lambda emu: "Bearer " + emu.channel_token(headers={"kid": None}), id="no kid"),
        pytest.param(
            lambda emu: (
                "Bearer "
                + emu.channel_token(
                    claims={"nbf": _claims(emu)["nbf"] - 7200, "exp": _claims(emu)["nbf"] - 301}
                )
            ),
            id="expired beyond the skew",
        ),
        pytest.param(
            lambda emu: (
                "Bearer "
                + emu.channel_token(
                    claims={"nbf": _claims(emu)["nbf"] + 301, "exp": _claims(emu)["nbf"] + 3600}
                )
            ),
            id="not yet valid beyond the skew",
        ),
        pytest.param(lambda emu: "Bearer " + emu.channel_token(claims={"exp": None}), id="no exp"),
        pytest.param(
            lambda emu: "Bearer " + emu.channel_token(claims={"aud": "another-bots-app-id"}),
            id="wrong audience",
        ),
        pytest.param(
            lambda emu: (
                "Bearer " + emu.channel_token(claims={"iss": "https://sts.windows.net/evil/"})
            ),
            id="wrong issuer",
        ),
        pytest.param(
            lambda emu: "Bearer " + emu.channel_token(service_url="https://attacker.example/"),
            id="serviceurl of another service",
        ),
        pytest.param(
            lambda emu: "Bearer " + emu.channel_token(claims={"serviceurl": None}),
            id="no serviceurl",
        ),
        pytest.param(
            lambda emu: (
                "Bearer "
                + emu.channel_token(
                    key=emu.add_signing_key("webchat-key", endorsements=("webchat",))
                )
            ),
            id="key not endorsed for msteams",
        ),
        pytest.param(
            lambda emu: (
                "Bearer " + emu.channel_token(key=emu.add_signing_key("bare-key", endorsements=()))
            ),
            id="key without endorsements",
        ),
    ],
)
async def test_each_forgery_is_refused_with_401_and_the_bot_never_sees_it(
    emu: TeamsEmulator, served: Served, forge: Any
) -> None:
    reply = await emu.send(emu.message_activity(EVE, "raise 150"), authorization=forge(emu))

    assert reply.status == 401
    assert reply.json == {"error": "unauthorized"}
    assert served.bot.turns == []
    assert [call.route for call in emu.calls()] in ([], ["openid", "keys"])
    assert emu.token_requests() == []


async def test_an_activity_whose_service_url_differs_from_the_token_claim_is_refused(
    emu: TeamsEmulator, served: Served
) -> None:
    """A genuine token replayed with the activity's serviceUrl pointing elsewhere."""
    activity = emu.message_activity(EVE, "hello")
    token = emu.channel_token(service_url=activity["serviceUrl"])
    activity["serviceUrl"] = "https://attacker.example/"

    reply = await emu.send(activity, authorization=f"Bearer {token}")

    assert reply.status == 401
    assert served.bot.turns == []


async def test_an_activity_of_another_channel_than_the_key_endorses_is_refused(
    emu: TeamsEmulator, served: Served
) -> None:
    activity = emu.message_activity(EVE, "hello") | {"channelId": "webchat"}

    reply = await emu.send(activity)

    assert reply.status == 401
    assert served.bot.turns == []


@pytest.mark.parametrize(
    ("nbf", "exp"),
    [(-3600, -299), (299, 3600)],
    ids=["expired within the skew", "not yet valid within the skew"],
)
async def test_five_minutes_of_clock_skew_are_allowed(
    emu: TeamsEmulator, served: Served, nbf: int, exp: int
) -> None:
    issued = _claims(emu)["nbf"]
    token = emu.channel_token(claims={"nbf": issued + nbf, "exp": issued + exp})

    reply = await emu.send(emu.message_activity(EVE, "hello"), authorization=f"Bearer {token}")

    assert reply.status == 200
    assert len(served.bot.turns) == 1


async def test_the_key_fetch_does_not_block_the_event_loop(
    emu: TeamsEmulator, served: Served
) -> None:
    stall = emu.stall("keys")
    message = asyncio.create_task(emu.message(EVE, "hello"))
    assert await asyncio.to_thread(stall.waiting.wait, 10)

    # The bot's loop answers another request while its key fetch waits on the key server.
    assert await served.ping() == 200
    assert not message.done()
    assert served.bot.turns == []

    stall.release()
    assert (await message).status == 200
    assert [turn.text for turn in served.bot.turns] == ["hello"]


async def test_a_key_server_that_does_not_answer_times_out_with_503_then_recovers(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    authentication = authentication_for(emu, clock)
    assert authentication.validator is not None
    authentication.validator.keys = SigningKeys(emu.openid_url, clock=clock, timeout=0.2)
    stall = emu.stall("keys")
    async with serve_bot(emu, authentication) as served:
        refused = await emu.message(EVE, "hello")

        assert refused.status == 503
        assert refused.json == {"error": "signing keys unavailable"}
        assert refused.headers["Retry-After"] == "30"
        assert served.bot.turns == []

        stall.release()
        clock.advance(RETRY_AFTER_FAILURE)
        assert (await emu.message(EVE, "hello")).status == 200
        assert len(served.bot.turns) == 1


async def test_an_unknown_kid_refreshes_the_keys_at_most_every_five_minutes(
    emu: TeamsEmulator, served: Served, clock: ManualClock
) -> None:
    def fetches() -> int:
        return len(emu.calls("keys"))

    forged = emu.channel_token(key=SigningKey("forged-kid"))
    assert (await emu.message(EVE, "one")).status == 200
    assert (await emu.message(EVE, "two")).status == 200
    assert fetches() == 1

    activity = emu.message_activity(EVE, "three")
    assert (await emu.send(activity, authorization=f"Bearer {forged}")).status == 401
    assert fetches() == 1
    clock.advance(EARLY_REFRESH)
    assert (await emu.send(activity, authorization=f"Bearer {forged}")).status == 401
    assert fetches() == 2
    assert (await emu.send(activity, authorization=f"Bearer {forged}")).status == 401
    assert fetches() == 2

    # A key Microsoft starts to sign with is picked up once the interval has passed.
    rotated = emu.add_signing_key("rotated-kid", endorsements=("msteams",))
    clock.advance(EARLY_REFRESH)
    token = emu.channel_token(key=rotated)
    assert (await emu.send(activity, authorization=f"Bearer {token}")).status == 200
    assert fetches() == 3


async def test_keys_are_refreshed_after_a_day(
    emu: TeamsEmulator, served: Served, clock: ManualClock
) -> None:
    assert (await emu.message(EVE, "one")).status == 200
    clock.advance(timedelta(days=1))
    assert (await emu.message(EVE, "two")).status == 200

    assert len(emu.calls("keys")) == 2


async def test_a_failed_refresh_keeps_the_keys_already_held(
    emu: TeamsEmulator, served: Served, clock: ManualClock
) -> None:
    assert (await emu.message(EVE, "one")).status == 200
    emu.fail("keys", status=503, times=5)
    clock.advance(timedelta(days=1))

    assert (await emu.message(EVE, "two")).status == 200
    assert [call.status for call in emu.calls("keys")] == [200, 503]


async def test_the_validator_names_the_check_that_failed(
    emu: TeamsEmulator, clock: ManualClock
) -> None:
    validator = ChannelTokenValidator(
        app_id=emu.app_id, keys=SigningKeys(emu.openid_url, clock=clock), clock=clock
    )
    token = emu.channel_token(claims={"aud": "another-bots-app-id"})

    with pytest.raises(Unauthorized, match="Audience doesn't match"):
        await validator.validate(
            f"Bearer {token}", channel_id="msteams", service_url=emu.service_url
        )
    clock.advance(timedelta(hours=2))
    with pytest.raises(Unauthorized, match="expired"):
        await validator.validate(
            f"Bearer {emu.channel_token(claims={'exp': 0})}",
            channel_id="msteams",
            service_url=emu.service_url,
        )


async def test_requests_waiting_for_the_keys_share_one_fetch_in_one_thread(
    emu: TeamsEmulator, clock: ManualClock, handed_off: list[str]
) -> None:
    """The default executor is small and the connector's calls need it too."""
    keys = SigningKeys(emu.openid_url, clock=clock)
    stall = emu.stall("keys")
    finds = [asyncio.create_task(keys.find(emu.signing_key.kid)) for _ in range(10)]
    # Every find has reached the fetch by the time this wait, scheduled after them, returns.
    assert await asyncio.to_thread(stall.waiting.wait, 10)
    stall.release()

    found = await asyncio.gather(*finds)

    assert {key.kid for key in found if key is not None} == {emu.signing_key.kid}
    assert handed_off.count("_refresh_once") == 1
    assert len(emu.calls("keys")) == 1
