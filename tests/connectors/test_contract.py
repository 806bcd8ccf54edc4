"""The `http` connector against the fake of the generic contract, and the fake against the
OpenAPI file: what the fake answers is what `manifests/admin-api.openapi.yaml` promises."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.connectors import http
from bot.connectors.http import HttpContractConnector
from bot.connectors.http_client import (
    DEFAULT_TIMEOUT,
    WRITE_READ_TIMEOUT,
    RetryBudget,
    write_timeout,
)
from tests.connectors.conftest import Sleeps
from tests.connectors.fake_contract import TOKEN, FakeContract
from tests.connectors.server import Fault, Served
from workflows.admin import (
    ConnectorError,
    DailyUsage,
    HourlyUsage,
    PermanentConnectorError,
    TransientConnectorError,
    UnsupportedOperation,
)

OPENAPI = Path(__file__).resolve().parents[2] / "manifests" / "admin-api.openapi.yaml"
EVE = "eve@example.com"
_URI = "urn:capdesk:admin-api"


@functools.cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    return loaded


def validate(schema: dict[str, Any], instance: Any) -> None:
    """Validate against a schema of the OpenAPI file (a `$ref` into it, resolved in the file)."""
    registry: Registry[Any] = Registry().with_resource(
        _URI, Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    Draft202012Validator(
        {"$ref": _URI + schema["$ref"]}, registry=registry, format_checker=FormatChecker()
    ).validate(instance)


def answer_schema(path: str, method: str, status: int) -> dict[str, Any]:
    responses = spec()["paths"][path][method]["responses"]
    if str(status) in responses:
        found: dict[str, Any] = responses[str(status)]["content"]["application/json"]["schema"]
        return found
    return {"$ref": "#/components/schemas/Error"}


def connect(served: Served[FakeContract], sleeps: Sleeps, **api: Any) -> HttpContractConnector:
    api.setdefault("retry", RetryBudget(attempts=3, max_wait=30))
    return http.build(served.url, TOKEN, sleep=sleeps, **api)


@pytest.fixture
def service(contract_fake: Served[FakeContract]) -> FakeContract:
    fake = contract_fake.backend
    for n in range(5):
        fake.add_member(f"m{n}@example.com", f"M{n}")
    fake.add_member(EVE, "Eve Novak", cap=None)
    fake.usage = [
        {"email": EVE, "day": "2026-11-19", "spend_cents": 1200, "commands": 40},
        {"email": EVE, "hour": "2026-11-19T22:00:00Z", "spend_cents": 300, "commands": 9},
    ]
    return fake


def test_members_follow_next_cursor(
    contract_fake: Served[FakeContract], service: FakeContract, sleeps: Sleeps
) -> None:
    service.page_size = 2

    members = connect(contract_fake, sleeps).list_members()

    assert [m.email for m in members] == [*(f"m{n}@example.com" for n in range(5)), EVE]
    assert members[-1].monthly_cap_cents is None
    assert [c.param("cursor") for c in service.calls_to("GET", "/members")] == [None, "2", "4"]


def test_usage_by_day_and_by_hour(
    contract_fake: Served[FakeContract], service: FakeContract, sleeps: Sleeps
) -> None:
    connector = connect(contract_fake, sleeps)

    assert connector.daily_usage(date(2026, 11, 1), date(2026, 11, 30)) == [
        DailyUsage(EVE, date(2026, 11, 19), 1200, 40)
    ]
    start = datetime(2026, 11, 19, tzinfo=UTC)
    assert connector.hourly_usage(start, start.replace(day=20)) == [
        HourlyUsage(EVE, datetime(2026, 11, 19, 22, tzinfo=UTC), 300, 9)
    ]


def test_writes_carry_their_idempotency_key_and_apply_once(
    contract_fake: Served[FakeContract], service: FakeContract, sleeps: Sleeps
) -> None:
    connector = connect(contract_fake, sleeps)

    connector.set_cap(EVE, 23500, idempotency_key="request-1-apply")
    connector.set_cap(EVE, 23500, idempotency_key="request-1-apply")
    connector.set_cap(EVE, 8500, idempotency_key="grant-1-revert")
    connector.set_tier(EVE, "premium", idempotency_key="request-2-apply")
    connector.remove_seat("m0@example.com", idempotency_key="k3")

    assert [(k, p) for k, p, _ in service.applied] == [
        ("request-1-apply", "/members/eve@example.com/cap"),
        ("grant-1-revert", "/members/eve@example.com/cap"),
        ("request-2-apply", "/members/eve@example.com/tier"),
        ("k3", "/members/m0@example.com/seat"),
    ]
    assert service.members[EVE]["monthly_cap_cents"] == 8500
    assert service.members[EVE]["tier"] == "premium"
    assert service.members["m0@example.com"]["active"] is False
    writes = [c for c in service.calls if c.method in {"PUT", "DELETE"}]
    assert all(c.headers.get("idempotency-key") for c in writes)


def test_a_backend_without_tiers_makes_a_manual_task(
    contract_fake: Served[FakeContract], service: FakeContract, sleeps: Sleeps
) -> None:
    service.tiers_supported = False

    with pytest.raises(UnsupportedOperation, match="no seat tiers"):
        connect(contract_fake, sleeps).set_tier(EVE, "premium", idempotency_key="k")


def test_429_then_success_and_500s_then_success(
    contract_fake: Served[FakeContract], service: FakeContract, sleeps: Sleeps
) -> None:
    connector = connect(contract_fake, sleeps)

    service.fail_next(Fault(status=429, retry_after="5"))
    connector.set_cap(EVE, 100, idempotency_key="k")
    service.fail_next(Fault(status=500), Fault(status=503))
    connector.set_cap(EVE, 200, idempotency_key="k2")

    assert sleeps.waits[0] >= 5
    assert len(sleeps.waits) == 3
    assert service.members[EVE]["monthly_cap_cents"] == 200


def test_timeouts_401_403_404_and_malformed_answers(
    contract_fake: Served[FakeContract], service: FakeContract, sleeps: Sleeps
) -> None:
    quick = connect(contract_fake, sleeps, timeout=httpx.Timeout(0.2), retry=RetryBudget(1))
    service.fail_next(Fault(stall=True))
    with pytest.raises(TransientConnectorError, match="did not answer"):
        quick.list_members()

    with pytest.raises(PermanentConnectorError, match="refused the key in CAPDESK_ADMIN_TOKEN"):
        http.build(contract_fake.url, "wrong", sleep=sleeps).list_members()
    service.fail_next(Fault(status=403, path="/members/"))
    with pytest.raises(PermanentConnectorError, match="may not PUT"):
        quick.set_cap(EVE, 1, idempotency_key="k")
    with pytest.raises(PermanentConnectorError, match=r"404: no member nobody@example\.com"):
        quick.set_cap("nobody@example.com", 1, idempotency_key="k")
    service.fail_next(Fault(status=200, body={"members": [{"email": EVE}], "next_cursor": None}))
    with pytest.raises(ConnectorError, match="cannot read"):
        quick.list_members()


def test_a_write_that_times_out_goes_back_to_the_outbox_after_one_try(
    contract_fake: Served[FakeContract], service: FakeContract, sleeps: Sleeps
) -> None:
    """A read that hangs is tried again in-process (nobody else retries it); a write is not:
    the outbox tries it again later with the same idempotency key, and meanwhile the worker
    thread is free for other people's changes."""
    quick = connect(contract_fake, sleeps, timeout=httpx.Timeout(0.2))
    service.fail_next(Fault(stall=True), Fault(stall=True))
    assert len(quick.list_members()) == 6  # two hanging tries, the third answered
    assert len(service.calls_to("GET", "/members")) == 3

    service.fail_next(Fault(stall=True), Fault(stall=True))
    with pytest.raises(TransientConnectorError, match=r"did not answer PUT .* \(timeout 0\.2 s\)"):
        quick.set_cap(EVE, 100, idempotency_key="k")
    assert len(service.calls_to("PUT", f"/members/{EVE}/cap")) == 1
    assert len(service.faults) == 1


def test_a_write_waits_for_its_answer_no_longer_than_ten_seconds() -> None:
    assert write_timeout(DEFAULT_TIMEOUT).read == WRITE_READ_TIMEOUT == 10.0
    assert write_timeout(DEFAULT_TIMEOUT).connect == DEFAULT_TIMEOUT.connect
    assert write_timeout(httpx.Timeout(0.5)).read == 0.5
    assert write_timeout(httpx.Timeout(None)).read == WRITE_READ_TIMEOUT


def test_the_fake_answers_as_the_openapi_file_says(
    contract_fake: Served[FakeContract], service: FakeContract
) -> None:
    client = httpx.Client(base_url=contract_fake.url, headers={"Authorization": f"Bearer {TOKEN}"})
    keyed = {"Idempotency-Key": "k-1"}
    exchanges = [
        ("/members", "get", client.get("/members", params={"limit": 2})),
        ("/members", "get", client.get("/members", params={"cursor": "2"})),
        ("/usage", "get", client.get("/usage", params={"since": "2026-11-01"})),
        (
            "/usage",
            "get",
            client.get("/usage", params={"since": "2026-11-19T00:00:00Z", "granularity": "hour"}),
        ),
        ("/usage", "get", client.get("/usage")),
        (
            "/members/{email}/cap",
            "put",
            client.put(f"/members/{EVE}/cap", json={"monthly_cap_cents": 100}, headers=keyed),
        ),
        (
            "/members/{email}/cap",
            "put",
            client.put(f"/members/{EVE}/cap", json={"monthly_cap_cents": 999}, headers=keyed),
        ),
        (
            "/members/{email}/cap",
            "put",
            client.put(
                "/members/x@example.com/cap",
                json={"monthly_cap_cents": 1},
                headers={"Idempotency-Key": "k-2"},
            ),
        ),
        (
            "/members/{email}/tier",
            "put",
            client.put(
                f"/members/{EVE}/tier", json={"tier": "premium"}, headers={"Idempotency-Key": "k-3"}
            ),
        ),
        (
            "/members/{email}/seat",
            "delete",
            client.delete(f"/members/{EVE}/seat", headers={"Idempotency-Key": "k-4"}),
        ),
        ("/members", "get", httpx.get(f"{contract_fake.url}/members")),
    ]

    statuses = [response.status_code for _, _, response in exchanges]
    assert statuses == [200, 200, 200, 200, 400, 200, 409, 404, 200, 200, 401]
    for path, method, response in exchanges:
        validate(answer_schema(path, method, response.status_code), response.json())
