"""Claude Code's telemetry into a running `capdesk serve`, with the real OpenTelemetry SDK as
the client: counted per person per hour in delta and in cumulative temporality, each batch
once, and refused (401, 400, 429, 503) as the OTLP specification has it."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from google.rpc import status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics.export import AggregationTemporality, MetricExportResult
from sqlalchemy import text

from tests.adapters.claude_code import ClaudeCode, Interval
from tests.adapters.conftest import BOTH_DATABASES, T0, TOM, Served, serve

pytestmark = pytest.mark.anyio

TOKEN = "otlp-secret"
SECRET = "SECRET-PLAN-7f3a"
HOUR = T0.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
FIRST = Interval(
    cost_usd=0.4213,
    tokens={"input": 1200, "output": 340, "cacheRead": 5000, "cacheCreation": 800},
    sessions=1,
    lines_added=40,
    lines_removed=5,
    commits=1,
    active_user_s=30.5,
    active_cli_s=12.25,
)
SECOND = Interval(
    cost_usd=0.1,
    tokens={"input": 100, "output": 60},
    lines_added=2,
    lines_removed=1,
    pull_requests=1,
    active_user_s=10,
    active_cli_s=5,
)
EXPECTED = {
    "cost_micros": 521_300,
    "tokens_input": 1300,
    "tokens_output": 400,
    "tokens_cache_read": 5000,
    "tokens_cache_creation": 800,
    "sessions": 1,
    "lines_added": 42,
    "lines_removed": 6,
    "commits": 1,
    "pull_requests": 1,
    "active_ms": 57_750,
}
FORWARDED = ("Content-Type", "Authorization")
TABLES = ("telemetry_hourly", "telemetry_series", "telemetry_batch", "telemetry_unmatched")


@pytest.fixture(params=BOTH_DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def served(
    tmp_path: Path, synced_store: Path, database_url: str | None
) -> AsyncIterator[Served]:
    env = {"CAPDESK_OTLP_TOKEN": TOKEN}
    async with serve(tmp_path, synced_store, url=database_url, env=env) as running:
        running.clock.set(HOUR + timedelta(minutes=30))
        yield running


def base_url(served: Served) -> str:
    return served.emu.request_url.removesuffix("/slack/events")


def claude(served: Served, *, endpoint: str | None = None, **options: object) -> ClaudeCode:
    return ClaudeCode(
        endpoint=endpoint or base_url(served),
        email=TOM,
        session="5d3c2b1a-0f9e-4d8c-b7a6-958473625140",
        started=HOUR + timedelta(minutes=1),
        **options,  # type: ignore[arg-type]
    )


def hour_of(served: Served, email: str = TOM) -> dict[str, int]:
    with served.app.uow() as uow:
        found = [f for f in uow.telemetry.hours(email, HOUR) if f.hour == HOUR]
    return found[0].values if found else {}


def rows(served: Served) -> tuple[int, ...]:
    with served.app.engine.connect() as connection:
        return tuple(
            int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() or 0) for t in TABLES
        )


@pytest.mark.parametrize(
    "temporality", [AggregationTemporality.DELTA, AggregationTemporality.CUMULATIVE]
)
async def test_claude_code_metrics_and_events_are_counted_per_person_per_hour(
    served: Served, temporality: AggregationTemporality
) -> None:
    session = claude(served, temporality=temporality)
    first = await asyncio.to_thread(session.export, FIRST, HOUR + timedelta(minutes=2))
    second = await asyncio.to_thread(session.export, SECOND, HOUR + timedelta(minutes=3))
    assert (first, second) == (MetricExportResult.SUCCESS, MetricExportResult.SUCCESS)
    sent = await asyncio.to_thread(session.events, 3, 5, HOUR + timedelta(minutes=4), secret=SECRET)
    assert sent

    assert hour_of(served) == {**EXPECTED, "prompts": 3, "tool_runs": 5}
    # Prompt text and tool input were sent (an organisation opted in); none of it is kept.
    if served.app.engine.dialect.name == "sqlite":
        database = Path(str(served.app.engine.url.database))
        stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        assert SECRET.encode() not in stored


async def test_a_batch_resent_after_its_answer_was_lost_is_counted_once(served: Served) -> None:
    upstream = base_url(served)
    seen: list[int] = []

    async def lossy(request: web.Request) -> web.StreamResponse:
        # Forwards to capdesk; the first answer never reaches the exporter, as when a proxy
        # times out, so the SDK sends the same batch again.
        body = await request.read()  # inflated by the proxy's own server
        headers = {k: v for k, v in request.headers.items() if k in FORWARDED}
        async with (
            aiohttp.ClientSession() as client,
            client.post(upstream + request.path, data=body, headers=headers) as answer,
        ):
            seen.append(answer.status)
            payload = await answer.read()
        if len(seen) == 1:
            assert request.transport is not None
            request.transport.close()
        return web.Response(status=answer.status, body=payload, content_type=answer.content_type)

    proxy = web.Application()
    proxy.router.add_post("/v1/metrics", lossy)
    runner = web.AppRunner(proxy)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        session = claude(served, endpoint=f"http://127.0.0.1:{port}")
        result = await asyncio.to_thread(session.export, FIRST, HOUR + timedelta(minutes=2))
    finally:
        await runner.cleanup()
    assert result is MetricExportResult.SUCCESS
    assert seen == [200, 200]
    assert hour_of(served)["cost_micros"] == 421_300
    assert hour_of(served)["tokens_input"] == 1200


async def test_a_wrong_or_missing_token_gets_401_and_nothing_is_counted(served: Served) -> None:
    before = rows(served)
    wrong = claude(served, token="not-the-token")
    assert await asyncio.to_thread(wrong.export, FIRST, HOUR) is MetricExportResult.FAILURE
    async with aiohttp.ClientSession() as client:
        for headers in ({}, {"Authorization": "Basic b3RscA=="}, {"Authorization": "Bearer x"}):
            async with client.post(
                base_url(served) + "/v1/logs",
                data=b"",
                headers={"Content-Type": "application/x-protobuf", **headers},
            ) as answer:
                assert answer.status == 401
                assert answer.headers["WWW-Authenticate"].startswith("Bearer")
                status = status_pb2.Status.FromString(await answer.read())
                assert "CAPDESK_OTLP_TOKEN" in status.message
    assert rows(served) == before


@pytest.mark.parametrize(
    ("content_type", "encoding", "body", "status"),
    [
        ("application/x-protobuf", "", b"\xff\xff\xff\xff", 400),
        ("application/x-protobuf", "gzip", b"not gzip at all", 400),
        ("application/x-protobuf", "gzip", gzip.compress(b"\x0a\xff\xff\xff\xff")[:-9], 400),
        ("application/json", "", b'{"resourceMetrics": [', 400),
        ("application/json", "", b'{"resourceMetrics": 7}', 400),
        ("application/json", "", b"\xff\xfe", 400),
        ("text/plain", "", b"hello", 415),
        ("application/x-protobuf", "x-snappy", b"\x00", 415),
    ],
)
async def test_a_malformed_body_gets_a_4xx_and_changes_nothing(
    served: Served, content_type: str, encoding: str, body: bytes, status: int
) -> None:
    before = rows(served)
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {TOKEN}"}
    if encoding:
        headers["Content-Encoding"] = encoding
    async with (
        aiohttp.ClientSession() as client,
        client.post(base_url(served) + "/v1/metrics", data=body, headers=headers) as answer,
    ):
        assert answer.status == status
        reply = await answer.read()
    if content_type == "application/json" and status == 400:
        assert json.loads(reply)["message"].startswith("not an OTLP JSON export request")
    else:
        assert status_pb2.Status.FromString(reply).message
    assert rows(served) == before


async def test_json_with_a_bad_data_point_is_a_partial_success(served: Served) -> None:
    nanos = int(HOUR.timestamp()) * 10**9 + 120 * 10**9
    point = {
        "attributes": [{"key": "user.email", "value": {"stringValue": TOM}}],
        "startTimeUnixNano": str(nanos - 60 * 10**9),
        "timeUnixNano": str(nanos),
        "asDouble": 0.25,
    }
    metric = {
        "name": "claude_code.cost.usage",
        "unit": "USD",
        "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [point]},
    }
    unspecified = {**metric, "sum": {**metric["sum"], "aggregationTemporality": 0}}  # type: ignore[dict-item]
    body = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]
                },
                "scopeMetrics": [{"metrics": [metric, unspecified], "futureField": 1}],
            }
        ]
    }
    async with (
        aiohttp.ClientSession() as client,
        client.post(
            base_url(served) + "/v1/metrics",
            json=body,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as answer,
    ):
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("application/json")
        reply = await answer.json()
    assert reply["partialSuccess"]["rejectedDataPoints"] == "1"
    assert "aggregation temporality unspecified" in reply["partialSuccess"]["errorMessage"]
    assert hour_of(served)["cost_micros"] == 250_000


def test_the_protobuf_answer_is_an_export_response() -> None:
    assert ExportMetricsServiceResponse.FromString(b"").partial_success.rejected_data_points == 0


__all__ = ["UTC", "datetime"]
