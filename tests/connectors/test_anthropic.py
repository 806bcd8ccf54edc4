"""The `anthropic` connector against the fake Admin API, over real HTTP."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from bot.connectors import anthropic
from bot.connectors.anthropic import AnthropicConnector
from bot.connectors.http_client import RateLimiter, RetryBudget
from tests.connectors.conftest import Sleeps
from tests.connectors.fake_anthropic import KEY, FakeAnthropic
from tests.connectors.server import Fault, Served
from workflows.admin import (
    ConnectorError,
    DailyUsage,
    HourlyUsage,
    PermanentConnectorError,
    RemoteGroup,
    TransientConnectorError,
    UnsupportedOperation,
)
from workflows.model import Period

EVE, DANA, OLAF = "eve@example.com", "dana@example.com", "olaf@example.com"
DANA_M = "m3@example.com"


def connect(served: Served[FakeAnthropic], sleeps: Sleeps, **api: Any) -> AnthropicConnector:
    api.setdefault("retry", RetryBudget(attempts=3, max_wait=30))
    return anthropic.build(
        KEY,
        served.url,
        sleep=sleeps,
        limiter=RateLimiter(50, 60.0, sleep=sleeps),
        **api,
    )


@pytest.fixture
def org(anthropic_fake: Served[FakeAnthropic]) -> FakeAnthropic:
    fake = anthropic_fake.backend
    for n in range(5):
        fake.add_user(f"m{n}@example.com", f"M{n}", tier="premium" if n == 2 else "standard")
    fake.add_user(EVE, "Eve Novak")
    fake.set_own(EVE, "15000")
    fake.tier_limits["premium", "monthly"] = "30000"
    return fake


def test_members_follow_the_cursor_over_several_pages(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.page_size = 2

    members = connect(anthropic_fake, sleeps).list_members()

    assert [m.email for m in members] == [*(f"m{n}@example.com" for n in range(5)), EVE]
    eve = members[-1]
    # Her own limit hides her seat tier: the connector does not guess it.
    assert (eve.monthly_cap_cents, eve.tier, eve.external_id) == (15000, None, "user_0006")
    # A limit inherited from the seat tier names the tier; one from the organisation does not.
    assert [(m.monthly_cap_cents, m.tier) for m in members[1:3]] == [
        (8500, None),
        (30000, "premium"),
    ]
    pages = org.calls_to("GET", "/v1/organizations/users")
    assert [c.param("after_id") for c in pages] == [None, "user_0002", "user_0004"]
    assert {c.headers["anthropic-version"] for c in org.calls} == {"2023-06-01"}
    assert len(org.calls_to("GET", "/v1/organizations/spend_limits/effective")) == 3


def test_a_cap_is_applied_and_reverted_as_a_user_scoped_monthly_limit(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    connector = connect(anthropic_fake, sleeps)

    connector.set_cap(EVE, 23500, idempotency_key="request-1-apply")
    assert org.effective(EVE) == "23500"
    connector.set_cap(EVE, 23500, idempotency_key="request-1-apply")  # a retry: same state
    connector.set_cap(EVE, 15000, idempotency_key="grant-1-revert")

    assert org.effective(EVE) == "15000"
    (post, *_) = org.calls_to("POST", "/v1/organizations/spend_limits")
    assert post.body == {
        "amount": "23500",
        "period": "monthly",
        "scope": {"type": "user", "user_id": "user_0006"},
    }
    assert org.limit_writes == [("user_0006", "23500", "monthly")] * 2 + [
        ("user_0006", "15000", "monthly")
    ]


def test_a_429_with_retry_after_is_waited_out_then_succeeds(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.fail_next(Fault(status=429, retry_after="7", path="/v1/organizations/spend_limits"))

    connect(anthropic_fake, sleeps).set_cap(EVE, 20000, idempotency_key="k")

    assert org.effective(EVE) == "20000"
    assert sleeps.waits[-1] >= 7
    assert len(org.calls_to("POST", "/v1/organizations/spend_limits")) == 2


def test_a_long_retry_after_goes_to_the_outbox_instead_of_blocking(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.fail_next(Fault(status=429, retry_after="120"))

    with pytest.raises(TransientConnectorError) as caught:
        connect(anthropic_fake, sleeps).set_cap(EVE, 20000, idempotency_key="k")

    assert caught.value.retry_after == 120
    assert "rate_limit" not in str(caught.value)  # the sentence, not the error type
    assert "429" in str(caught.value)
    assert sleeps.waits == []


def test_500s_then_success(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.fail_next(Fault(status=500), Fault(status=529))

    members = connect(anthropic_fake, sleeps).list_members()

    assert len(members) == 6
    assert len(sleeps.waits) == 2
    assert all(0 <= w <= 4 for w in sleeps.waits)


def test_500s_beyond_the_quick_retries_are_transient(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.fail_next(*[Fault(status=503)] * 3)

    with pytest.raises(TransientConnectorError, match="503: injected 503"):
        connect(anthropic_fake, sleeps).set_cap(EVE, 20000, idempotency_key="k")
    assert len(sleeps.waits) == 2


def test_a_timeout_is_a_transient_error(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.fail_next(Fault(stall=True))
    connector = connect(
        anthropic_fake, sleeps, timeout=httpx.Timeout(0.2), retry=RetryBudget(attempts=1)
    )

    with pytest.raises(TransientConnectorError, match=r"did not answer .* in time"):
        connector.list_members()


def test_401_names_the_setting_and_never_the_key(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    connector = anthropic.build("sk-ant-admin01-wrong", anthropic_fake.url, sleep=sleeps)

    with pytest.raises(PermanentConnectorError) as caught:
        connector.list_members()

    assert str(caught.value) == (
        "the Anthropic Admin API refused the key in ANTHROPIC_ADMIN_KEY "
        "(401: invalid x-api-key); check that it is current and complete."
    )
    assert sleeps.waits == []


def test_403_says_which_scope_the_key_lacks(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.fail_next(
        Fault(
            status=403,
            body={
                "type": "error",
                "error": {"type": "permission_error", "message": "not allowed"},
            },
            path="/v1/organizations/spend_limits",
        )
    )

    with pytest.raises(PermanentConnectorError) as caught:
        connect(anthropic_fake, sleeps).set_cap(EVE, 20000, idempotency_key="k")

    assert "lacks write:spend_limits" in str(caught.value)
    assert "not allowed" in str(caught.value)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(raw=b"<html>captive portal</html>"),
        Fault(status=200, body={"data": "not a list", "has_more": False}),
        Fault(status=200, body={"data": [{"id": 7}], "has_more": False}),
    ],
)
def test_a_malformed_body_is_an_error_not_a_crash(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps, fault: Fault
) -> None:
    org.fail_next(fault)

    with pytest.raises(ConnectorError, match="Anthropic Admin API answered"):
        connect(anthropic_fake, sleeps).list_members()


def test_daily_usage_sums_the_claude_code_report_in_cents(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    def record(email: str | None, cents: list[float], sessions: int) -> dict[str, Any]:
        actor = (
            {"type": "user_actor", "email_address": email}
            if email
            else {"type": "api_actor", "api_key_name": "ci"}
        )
        return {
            "actor": actor,
            "core_metrics": {"num_sessions": sessions, "lines_of_code": {"added": 1}},
            "customer_type": "subscription",
            "date": "2026-11-19T00:00:00Z",
            "model_breakdown": [
                {"model": "claude-sonnet-4", "estimated_cost": {"amount": c, "currency": "USD"}}
                for c in cents
            ],
        }

    org.page_size = 1
    org.claude_code["2026-11-19"] = [
        record("Eve@example.com", [186, 42.5], 15),
        record(None, [999], 3),
        record(DANA, [10], 1),
    ]

    rows = connect(anthropic_fake, sleeps).daily_usage(date(2026, 11, 18), date(2026, 11, 19))

    assert rows == [
        DailyUsage(DANA, date(2026, 11, 19), 10, 1),
        DailyUsage(EVE, date(2026, 11, 19), 228, 15),
    ]
    days = [c.param("starting_at") for c in org.calls if c.path.endswith("/claude_code")]
    assert days == ["2026-11-18", "2026-11-19", "2026-11-19", "2026-11-19"]


def test_hourly_usage_is_real_cost_per_member_from_the_analytics_report(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.page_size = 1
    org.add_cost(org.user_actor(EVE), "2026-11-19T22:00:00Z", "450.4")
    org.add_cost(org.user_actor(EVE), "2026-11-19T23:00:00Z", "0.25")  # under a cent: no row
    org.add_cost({"type": "api_actor", "api_key_id": "apikey_01"}, "2026-11-19T22:00:00Z", "90")
    deleted = {"type": "user_actor", "user_id": "user_0404", "deleted": True}
    org.add_cost(deleted, "2026-11-19T22:00:00Z", "70")
    # A member whose address the report leaves out is found by their user id.
    org.add_cost({**org.user_actor(DANA_M), "email_address": None}, "2026-11-19T21:00:00Z", "30")
    start = datetime(2026, 11, 19, tzinfo=UTC)

    rows = connect(anthropic_fake, sleeps).hourly_usage(start, datetime(2026, 11, 20, tzinfo=UTC))

    assert rows == [
        HourlyUsage(EVE, datetime(2026, 11, 19, 22, tzinfo=UTC), 450, 0),
        HourlyUsage(DANA_M, datetime(2026, 11, 19, 21, tzinfo=UTC), 30, 0),
    ]
    first, *rest = org.calls_to("GET", "/v1/organizations/analytics/cost")
    assert first.headers["anthropic-beta"] == "analytics-usage-cost-2026-08-24"
    assert (first.param("time_bucket_width"), first.param("group_by[]")) == ("1h", "actor")
    assert (first.param("starting_at"), first.param("ending_at")) == (
        "2026-11-19T00:00:00Z",
        "2026-11-20T00:00:00Z",
    )
    assert len(rest) == 4  # one row per page, followed by next_page
    assert org.calls_to("GET", "/v1/organizations/usage_report/messages") == []


def test_hourly_cost_is_asked_in_ranges_the_report_allows(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.add_cost(org.user_actor(EVE), "2026-01-01T03:00:00Z", "100")

    rows = connect(anthropic_fake, sleeps).hourly_usage(
        datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    )

    assert [r.spend_cents for r in rows] == [100]
    ranges = [
        (c.param("starting_at"), c.param("ending_at"))
        for c in org.calls_to("GET", "/v1/organizations/analytics/cost")
    ]
    assert ranges == [
        ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
        ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
    ]


def test_without_the_cost_report_hourly_spend_is_estimated_from_tokens(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.cost_available = False
    eve = org.user(EVE).id
    org.buckets = [
        {
            "starting_at": "2026-11-19T22:00:00Z",
            "ending_at": "2026-11-19T23:00:00Z",
            "results": [
                {
                    "account_id": eve,
                    "model": "claude-sonnet-4",
                    "uncached_input_tokens": 1_000_000,
                    "output_tokens": 100_000,
                    "cache_read_input_tokens": 0,
                },
                {"account_id": None, "model": "claude-opus-4", "output_tokens": 5},
            ],
        }
    ]
    start = datetime(2026, 11, 19, tzinfo=UTC)

    rows = connect(anthropic_fake, sleeps).hourly_usage(start, datetime(2026, 11, 20, tzinfo=UTC))

    assert rows == [HourlyUsage(EVE, datetime(2026, 11, 19, 22, tzinfo=UTC), 450, 0)]
    (call,) = org.calls_to("GET", "/v1/organizations/usage_report/messages")
    assert call.param("bucket_width") == "1h"
    assert ("group_by[]", "account_id") in call.query


def test_an_org_without_either_report_has_no_hourly_rows(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.cost_available = False
    org.fail_next(Fault(status=404, path="/v1/organizations/usage_report/messages"))
    start = datetime(2026, 11, 19, tzinfo=UTC)

    assert connect(anthropic_fake, sleeps).hourly_usage(start, start.replace(day=20)) == []


def test_native_requests_are_listed_approved_and_denied(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.ask_for_more(EVE, "slir_1", "2026-11-20T08:00:00Z")
    org.ask_for_more("m1@example.com", "slir_2", "2026-11-20T09:00:00Z")
    connector = connect(anthropic_fake, sleeps)

    pending = connector.pending_native_requests()
    assert [(r.id, r.email, r.limit_cents) for r in pending] == [
        ("slir_2", "m1@example.com", 8500),
        ("slir_1", EVE, 15000),
    ]

    connector.approve_native(
        "slir_1", 23500, period=Period.MONTHLY, idempotency_key="request-1-apply"
    )
    connector.deny_native("slir_2", idempotency_key="request-2-deny")

    assert org.approvals == [("slir_1", "23500", "monthly")]
    assert org.effective(EVE) == "23500"
    assert connector.pending_native_requests() == []
    (approve,) = org.calls_to(
        "POST", "/v1/organizations/spend_limit_increase_requests/slir_1/approve"
    )
    # capdesk tells the member itself, so Anthropic's own e-mail is suppressed.
    assert approve.body == {"amount": "23500", "period": "monthly", "suppress_notification": True}
    assert org.emails == []


def test_a_repeated_native_decision_is_done_once_and_leaves_the_limit_right(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.ask_for_more(EVE, "slir_1", "2026-11-20T08:00:00Z")
    org.ask_for_more("m1@example.com", "slir_2", "2026-11-20T09:00:00Z")
    connector = connect(anthropic_fake, sleeps)
    connector.approve_native("slir_1", 23500, period=Period.MONTHLY, idempotency_key="k1")
    connector.deny_native("slir_2", idempotency_key="k2")

    connector.approve_native("slir_1", 23500, period=Period.MONTHLY, idempotency_key="k1")
    connector.deny_native("slir_2", idempotency_key="k2")

    assert org.approvals == [("slir_1", "23500", "monthly")]
    assert org.effective(EVE) == "23500"
    with pytest.raises(PermanentConnectorError, match="already denied"):
        connector.approve_native("slir_2", 10000, period=Period.MONTHLY, idempotency_key="k3")
    with pytest.raises(PermanentConnectorError, match="already approved"):
        connector.deny_native("slir_1", idempotency_key="k4")


def test_seat_removal_and_tiers(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    connector = connect(anthropic_fake, sleeps)

    connector.remove_seat("m0@example.com", idempotency_key="k")
    connector.remove_seat("m0@example.com", idempotency_key="k")  # already gone: fine

    assert "m0@example.com" not in [u.email for u in org.users]
    with pytest.raises(UnsupportedOperation, match="admin console"):
        connector.set_tier(EVE, "standard", idempotency_key="k2")
    with pytest.raises(PermanentConnectorError, match=r"no member nobody@example\.com"):
        connector.set_cap("nobody@example.com", 1, idempotency_key="k3")


def test_the_spend_limit_endpoints_are_kept_under_their_rate(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        now[0] += seconds

    limiter = RateLimiter(3, 60.0, clock=lambda: now[0], sleep=sleep)
    connector = anthropic.build(KEY, anthropic_fake.url, limiter=limiter, sleep=sleeps)

    for n in range(7):
        connector.set_cap(EVE, 10000 + n, idempotency_key=f"k{n}")

    assert sleeps.waits == [60.0, 60.0]
    assert org.effective(EVE) == "10006"


def test_threads_applying_at_once_share_the_limit() -> None:
    """The outbox worker's threads call through one connector, so through one limiter: however
    many wait at once, no 60 s window has more calls than the limit."""
    now = [0.0]
    turn = threading.Lock()
    taken: list[float] = []

    def sleep(seconds: float) -> None:
        with turn:
            now[0] += seconds

    limiter = RateLimiter(3, 60.0, clock=lambda: now[0], sleep=sleep)

    def call() -> None:
        for _ in range(3):
            limiter.acquire()
            with turn:
                taken.append(now[0])

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(taken) == 24
    assert max(sum(1 for t in taken if start <= t < start + 60.0) for start in taken) == 3


def test_secrets_never_reach_the_log(
    anthropic_fake: Served[FakeAnthropic],
    org: FakeAnthropic,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    org.fail_next(Fault(status=503), Fault(status=401))
    connector = connect(anthropic_fake, sleeps)

    with pytest.raises(PermanentConnectorError) as caught:
        connector.list_members()

    assert KEY not in caplog.text
    assert KEY not in str(caught.value)
    assert KEY not in repr(connector.__dict__)
    assert "retrying" in caplog.text


def test_a_weekly_native_request_is_listed_and_approved_as_weekly(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.set_own(EVE, "4000", "weekly")
    org.ask_for_more(EVE, "slir_1", "2026-11-20T08:00:00Z", period="weekly")
    connector = connect(anthropic_fake, sleeps)

    (pending,) = connector.pending_native_requests()
    connector.approve_native("slir_1", 8000, period=Period.WEEKLY, idempotency_key="k")

    assert (pending.period, pending.limit_cents) == (Period.WEEKLY, 4000)
    assert org.approvals == [("slir_1", "8000", "weekly")]
    assert (org.effective(EVE, "weekly"), org.effective(EVE)) == ("8000", "15000")


def test_anthropic_emails_the_member_only_when_the_setting_says_so(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.ask_for_more(EVE, "slir_1", "2026-11-20T08:00:00Z")
    org.ask_for_more("m1@example.com", "slir_2", "2026-11-20T09:00:00Z")
    connector = anthropic.build(KEY, anthropic_fake.url, email_members=True, sleep=sleeps)

    connector.approve_native("slir_1", 20000, period=Period.MONTHLY, idempotency_key="k1")
    connector.deny_native("slir_2", idempotency_key="k2")

    assert org.emails == [("slir_1", "approved"), ("slir_2", "denied")]
    (deny,) = org.calls_to("POST", "/v1/organizations/spend_limit_increase_requests/slir_2/deny")
    assert deny.body == {"suppress_notification": False}


def test_a_limit_is_known_as_own_or_inherited_and_inheriting_deletes_the_own(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    connector = connect(anthropic_fake, sleeps)
    assert connector.cap_inherited(EVE, Period.MONTHLY) is False
    assert connector.cap_inherited("m1@example.com", Period.MONTHLY) is True
    assert connector.cap_inherited("m1@example.com", Period.WEEKLY) is True  # none at all

    connector.inherit_cap(EVE, Period.MONTHLY, idempotency_key="grant-1-revert")
    connector.inherit_cap(EVE, Period.MONTHLY, idempotency_key="grant-1-revert")  # a retry

    assert org.deletions == [(org.user(EVE).id, "monthly")]
    assert (org.effective(EVE), org.source(EVE)) == ("8500", "organization")
    assert connector.cap_inherited(EVE, Period.MONTHLY) is True
    connector.set_period_cap(EVE, 3000, Period.DAILY, idempotency_key="k")
    assert org.limit_writes[-1] == (org.user(EVE).id, "3000", "daily")


def test_spend_limit_writes_not_enabled_are_told_as_such_not_as_a_missing_scope(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.writes_enabled = False

    with pytest.raises(PermanentConnectorError) as caught:
        connect(anthropic_fake, sleeps).set_cap(EVE, 20000, idempotency_key="k")

    said = str(caught.value)
    assert said.startswith("Spend-limit writes are not enabled for this organisation")
    assert "403 from the Anthropic Admin API" in said
    assert "lacks" not in said
    assert len(org.calls_to("POST", "/v1/organizations/spend_limits")) == 1


def test_groups_are_listed_with_their_members(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.page_size = 1
    org.add_group("Embedded", [EVE, "m0@example.com"])
    org.add_group("Embedded", ["m4@example.com"])  # names are not unique; ids are
    org.add_group("Empty", [])

    groups = connect(anthropic_fake, sleeps).list_groups()

    assert groups == [
        RemoteGroup("rbac_group_01", "Embedded", (EVE, "m0@example.com")),
        RemoteGroup("rbac_group_02", "Embedded", ("m4@example.com",)),
        RemoteGroup("rbac_group_03", "Empty", ()),
    ]


def test_an_organisation_without_groups_or_effective_limits(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    org.enterprise = False
    connector = connect(anthropic_fake, sleeps)

    assert connector.list_groups() == []
    with pytest.raises(PermanentConnectorError, match="does not offer this part"):
        connector.list_members()


def test_limits_in_another_currency_are_refused_in_a_sentence(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    euro = {
        "actor": {"type": "user_actor", "user_id": "user_0001", "deleted": False},
        "amount": "8500",
        "currency": "EUR",
        "period": "monthly",
        "period_to_date_spend": "0",
        "scope": {"type": "user", "user_id": "user_0001"},
        "source": {"type": "organization"},
        "spend_limit_id": "spl_1",
    }
    org.fail_next(Fault(status=200, body={"data": [euro]}, path="/v1/organizations/spend_limits"))

    with pytest.raises(PermanentConnectorError, match="billed in EUR; capdesk reads"):
        connect(anthropic_fake, sleeps).list_members()
