"""Requests that are not Slack's own are refused with 401 and change nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.adapters.conftest import SECRET, TOM, Served

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
