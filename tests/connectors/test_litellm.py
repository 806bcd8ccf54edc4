"""The `litellm` connector against the fake proxy, over real HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from bot.connectors import litellm
from bot.connectors.http_client import RetryBudget
from bot.connectors.litellm import LiteLLMConnector
from tests.connectors.conftest import Sleeps
from tests.connectors.fake_litellm import MASTER_KEY, FakeLiteLLM
from tests.connectors.server import Fault, Served
from workflows.admin import (
    Capability,
    ConnectorError,
    DailyUsage,
    HourlyUsage,
    PermanentConnectorError,
    TransientConnectorError,
)

EVE = "eve@example.com"


def connect(served: Served[FakeLiteLLM], sleeps: Sleeps, **api: Any) -> LiteLLMConnector:
    api.setdefault("retry", RetryBudget(attempts=3, max_wait=30))
    return litellm.build(served.url, MASTER_KEY, sleep=sleeps, **api)


@pytest.fixture
def proxy(litellm_fake: Served[FakeLiteLLM]) -> FakeLiteLLM:
    fake = litellm_fake.backend
    for n in range(4):
        fake.add_user(f"u-{n}", f"m{n}@example.com", max_budget=85.0)
    fake.add_user("eve@example.com", None, max_budget=150.5)
    fake.add_user("svc-batch", None, max_budget=None)
    return fake


def test_users_are_read_page_by_page(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    proxy.page_size = 2

    members = connect(litellm_fake, sleeps).list_members()

    assert [(m.email, m.monthly_cap_cents, m.external_id) for m in members] == [
        *((f"m{n}@example.com", 8500, f"u-{n}") for n in range(4)),
        (EVE, 15050, EVE),
    ]
    pages = [c.param("page") for c in proxy.calls_to("GET", "/user/list")]
    assert pages == ["1", "2", "3"]


def test_a_cap_is_applied_and_reverted_as_max_budget(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    connector = connect(litellm_fake, sleeps)

    connector.set_cap("m1@example.com", 23500, idempotency_key="request-1-apply")
    assert proxy.users["u-1"]["max_budget"] == 235.0
    connector.set_cap("m1@example.com", 8500, idempotency_key="grant-1-revert")

    assert proxy.users["u-1"]["max_budget"] == 85.0
    assert proxy.updates[0] == {"user_id": "u-1", "max_budget": 235.0, "budget_duration": "30d"}
    assert Capability.SET_TIER not in connector.capabilities


def test_a_user_keyed_by_email_is_found_with_user_info(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    connect(litellm_fake, sleeps).set_cap(EVE, 20000, idempotency_key="k")

    assert proxy.users[EVE]["max_budget"] == 200.0
    assert [c.path for c in proxy.calls] == ["/user/info", "/user/update"]


def test_usage_per_day_and_hour_comes_from_the_spend_log(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    proxy.log("u-1", "2026-11-19T22:10:00Z", 0.5)
    proxy.log("u-1", "2026-11-19T22:50:00Z", 0.25)
    proxy.log("u-1", "2026-11-20T00:00:00Z", 1.0)  # the next day, though the proxy sends it too
    proxy.log("svc-batch", "2026-11-19T10:00:00Z", 9.0)  # no member
    connector = connect(litellm_fake, sleeps)

    daily = connector.daily_usage(date(2026, 11, 19), date(2026, 11, 20))
    hourly = connector.hourly_usage(
        datetime(2026, 11, 19, 22, tzinfo=UTC), datetime(2026, 11, 19, 23, tzinfo=UTC)
    )

    assert daily == [
        DailyUsage("m1@example.com", date(2026, 11, 19), 75, 2),
        DailyUsage("m1@example.com", date(2026, 11, 20), 100, 1),
    ]
    assert hourly == [HourlyUsage("m1@example.com", datetime(2026, 11, 19, 22, tzinfo=UTC), 75, 2)]


def test_a_429_with_retry_after_then_success(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    proxy.fail_next(Fault(status=429, retry_after="3", path="/user/update"))

    connect(litellm_fake, sleeps).set_cap("m0@example.com", 10000, idempotency_key="k")

    assert proxy.users["u-0"]["max_budget"] == 100.0
    assert sleeps.waits[-1] >= 3


def test_500s_then_success(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    proxy.fail_next(Fault(status=500), Fault(status=502))

    assert len(connect(litellm_fake, sleeps).list_members()) == 5
    assert len(sleeps.waits) == 2


def test_a_timeout_is_transient(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    proxy.fail_next(Fault(stall=True))
    connector = connect(
        litellm_fake, sleeps, timeout=httpx.Timeout(0.2), retry=RetryBudget(attempts=1)
    )

    with pytest.raises(TransientConnectorError, match="LiteLLM proxy did not answer"):
        connector.list_members()


def test_401_and_403_are_clear(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps
) -> None:
    wrong = litellm.build(litellm_fake.url, "sk-wrong", sleep=sleeps)
    with pytest.raises(PermanentConnectorError) as caught:
        wrong.list_members()
    assert str(caught.value) == (
        "the LiteLLM proxy refused the key in LITELLM_MASTER_KEY (401: Authentication Error, "
        "Invalid proxy server token passed.); check that it is current and complete."
    )

    proxy.fail_next(Fault(status=403, path="/user/update"))
    with pytest.raises(PermanentConnectorError, match="lacks the proxy admin role"):
        connect(litellm_fake, sleeps).set_cap("m0@example.com", 1, idempotency_key="k")


@pytest.mark.parametrize(
    "fault",
    [
        Fault(raw=b"{not json", path="/user/list"),
        Fault(status=200, body={"users": [{"max_budget": 3}]}, path="/user/list"),
        Fault(status=200, body={"detail": "a dict, not a list"}, path="/spend/logs"),
    ],
)
def test_a_malformed_body_is_an_error_not_a_crash(
    litellm_fake: Served[FakeLiteLLM], proxy: FakeLiteLLM, sleeps: Sleeps, fault: Fault
) -> None:
    proxy.fail_next(fault)

    with pytest.raises(ConnectorError, match="LiteLLM proxy"):
        connect(litellm_fake, sleeps).daily_usage(date(2026, 11, 19), date(2026, 11, 19))
