"""Requests that are not Slack's own are refused with 401 and change nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.slack.inbound import FORM
from tests.adapters.conftest import SAM, SECRET, TOM, Served
from tests.adapters.test_slack_story import ask

pytestmark = pytest.mark.anyio


def command_body(served: Served, text: str = "raise 150 for 14d release prep") -> bytes:
    user = served.emu.user(TOM)
    return urlencode(
        {
            "command": "/capdesk",
            "text": text,
            "user_id": user.id,
            "user_name": "tom.becker",
            "team_id": "T0CAPDESK",
            "channel_id": served.emu.dm_of(TOM),
            "trigger_id": served.emu.issue_trigger(TOM),
            "response_url": f"{served.emu.base_url}/response/forged",
        }
    ).encode()


async def refused(served: Served, body: bytes, headers: dict[str, str]) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    reply = await served.emu.send_raw(body, headers)
    assert reply.status == 401
    await served.settle()
    assert served.requests() == []
    assert served.emu.calls("chat.postMessage") == []


async def test_a_signed_command_is_accepted(served: Served) -> None:
    body = command_body(served)
    reply = await served.emu.send_raw(
        body,
        {"Content-Type": "application/x-www-form-urlencoded", **served.emu.signed_headers(body)},
    )
    assert reply.status == 200
    await served.settle()
    assert len(served.requests()) == 1


async def test_forged_signature(served: Served) -> None:
    body = command_body(served)
    headers = served.emu.signed_headers(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    await refused(served, body, headers)


async def test_signed_with_another_secret(served: Served) -> None:
    body = command_body(served)
    headers = served.emu.signed_headers(body)
    assert SECRET not in headers.values()
    headers["X-Slack-Signature"] = headers["X-Slack-Signature"][:-4] + "beef"
    await refused(served, body, headers)


async def test_tampered_body(served: Served) -> None:
    body = command_body(served)
    headers = served.emu.signed_headers(body)
    await refused(served, body.replace(b"150", b"400"), headers)


@pytest.mark.parametrize("missing", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
async def test_missing_headers(served: Served, missing: str) -> None:
    body = command_body(served)
    headers = served.emu.signed_headers(body)
    del headers[missing]
    await refused(served, body, headers)


async def test_a_timestamp_301_seconds_old(served: Served) -> None:
    body = command_body(served)
    # Bolt checks the timestamp against the real clock, as it must in production.
    stale = int(served.emu.signing_clock.now().timestamp()) - 301
    headers = served.emu.signed_headers(body, timestamp=stale)
    await refused(served, body, headers)


@pytest.mark.parametrize("stamp", ["soon", "", "12.5", "-1"])
async def test_a_non_numeric_timestamp(served: Served, stamp: str) -> None:
    body = command_body(served)
    headers = served.emu.signed_headers(body)
    headers["X-Slack-Request-Timestamp"] = stamp
    await refused(served, body, headers)


async def test_refusals_are_counted_in_the_metrics(served: Served) -> None:
    body = command_body(served)
    await refused(served, body, {"X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": "1"})
    metrics = served.runtime.metrics.exposition().decode()
    assert 'capdesk_requests_total{kind="rejected",platform="slack"} 1.0' in metrics


# ------------------------------------------------ signed, but not a body Slack sends: 400


def interaction(served: Served, **fields: object) -> dict[str, object]:
    """A block_actions payload as Slack sends it, with `fields` replaced."""
    user = served.emu.user(SAM)
    payload: dict[str, object] = {
        "type": "block_actions",
        "user": {"id": user.id, "name": "sam.ortiz", "team_id": "T0CAPDESK"},
        "trigger_id": served.emu.issue_trigger(SAM),
        "response_url": f"{served.emu.base_url}/response/forged",
        "actions": [{"action_id": "approve", "value": "1", "type": "button"}],
    }
    payload.update(fields)
    return payload


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


BROKEN: dict[str, Callable[[Served], tuple[bytes, str | None]]] = {
    "payload is not JSON": lambda s: (form(payload="{not json"), FORM),
    "payload is JSON null": lambda s: (form(payload="null"), FORM),
    "payload is a JSON array": lambda s: (form(payload="[1, 2]"), FORM),
    "payload is a JSON string": lambda s: (form(payload='"block_actions"'), FORM),
    "body is not UTF-8": lambda s: (b"payload=" + "{é}".encode("latin-1"), FORM),
    "raw bytes": lambda s: (bytes(range(128, 256)), FORM),
    "a command as JSON": lambda s: (
        json.dumps(dict(parse_qsl(command_body(s).decode()))).encode(),
        "application/json",
    ),
    "a command as text/plain": lambda s: (command_body(s), "text/plain"),
    "a command without a content type": lambda s: (command_body(s), None),
    "a command without its response_url": lambda s: (
        command_body(s).replace(b"&response_url=", b"&ignored="),
        FORM,
    ),
    "a command without a trigger_id": lambda s: (
        command_body(s).replace(b"&trigger_id=", b"&ignored="),
        FORM,
    ),
    "a form of neither kind": lambda s: (form(text="raise 150"), FORM),
    "a form that is JSON": lambda s: (b'{"command": "/capdesk"}', FORM),
    "JSON null": lambda s: (b"null", "application/json"),
    "JSON that is not an envelope": lambda s: (b'{"type": "block_actions"}', "application/json"),
    "an event_callback without its event": lambda s: (
        b'{"type": "event_callback", "event": []}',
        "application/json",
    ),
    "an event with a 100 kB event_id": lambda s: (
        json.dumps(
            {"type": "event_callback", "event_id": "E" * 100_000, "event": {"type": "x"}}
        ).encode(),
        "application/json",
    ),
    "a click without actions": lambda s: (
        form(payload=json.dumps(interaction(s, actions=[]))),
        FORM,
    ),
    "a click with actions that are not objects": lambda s: (
        form(payload=json.dumps(interaction(s, actions=["approve"]))),
        FORM,
    ),
    "a click without a user": lambda s: (
        form(payload=json.dumps(interaction(s, user="sam"))),
        FORM,
    ),
    "a click with a 100 kB trigger_id": lambda s: (
        form(payload=json.dumps(interaction(s, trigger_id="1" * 100_000))),
        FORM,
    ),
    "a submission without its values": lambda s: (
        form(payload=json.dumps(interaction(s, type="view_submission", view={"id": "V1"}))),
        FORM,
    ),
}


@pytest.mark.parametrize("case", BROKEN)
async def test_a_signed_broken_body_is_a_400_with_one_warning_and_changes_nothing(
    served: Served, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    await ask(served, TOM, "raise 150 for 14d release prep")  # something a click could act on
    before = served.written()
    posted = len(served.emu.calls())
    body, content_type = BROKEN[case](served)
    headers = served.emu.signed_headers(body)
    if content_type is not None:
        headers["Content-Type"] = content_type
    with caplog.at_level(logging.WARNING):
        reply = await served.emu.send_raw(body, headers)
        await served.settle()
    assert reply.status == 400, reply.body
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["bot.slack.app"], caplog.text
    assert "refused a signed Slack request" in warnings[0].getMessage()
    assert served.written() == before
    assert len(served.emu.calls()) == posted
    metrics = served.runtime.metrics.exposition().decode()
    assert 'capdesk_requests_total{kind="invalid",platform="slack"} 1.0' in metrics


@pytest.mark.parametrize("case", ["payload is JSON null", "body is not UTF-8"])
async def test_an_unsigned_broken_body_is_still_a_401(served: Served, case: str) -> None:
    body, content_type = BROKEN[case](served)
    headers = served.emu.signed_headers(body)
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    await refused(served, body, {"Content-Type": content_type or FORM, **headers})


async def test_a_command_whose_text_says_payload_is_run(served: Served) -> None:
    # Bolt alone takes any form containing "payload" for an interaction and finds no listener.
    await ask(served, TOM, "raise 150 for 14d payload tests for the release")
    assert served.requests() == [(1, "pending")]
    with served.app.uow() as uow:
        request = uow.requests.get(1)
    assert request is not None
    assert request.reason == "payload tests for the release"
