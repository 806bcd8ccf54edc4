"""The Anthropic wire format checked against the official `anthropic` SDK, in both directions.

1. The SDK's own client, pointed at the fake, reads every answer of it, and each answer is
   valid for the SDK type of its route with no field that type lacks (`strict`).
2. Answers built from the SDK's types (optional and nullable fields present, null and absent;
   every scope, actor and period) are read by capdesk's wire models and connector, or refused
   with a sentence where capdesk cannot use them.
3. capdesk asks what the SDK asks: the same paths, query names, bodies and beta headers.

The usage reports (`usage_report/claude_code`, `usage_report/messages`) are not in the SDK
(2.10); their fake answers follow the API reference instead.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, get_type_hints

import anthropic
import pytest
from anthropic.pagination import SyncPage, SyncPageCursor, SyncReportPageCursor
from anthropic.types.beta.organization import BetaSpendLimit, SpendLimitDeleteResponse
from anthropic.types.beta.organization.analytics import BetaAnalyticsCostItem
from anthropic.types.beta.organization.beta_spend_limits_admin_api_writes_not_enabled_error import (
    BetaSpendLimitsAdminAPIWritesNotEnabledError,
)
from anthropic.types.beta.organization.spend_limit_set_params import SpendLimitSetParams
from anthropic.types.organization import (
    OrganizationUser,
    RBACGroup,
    SpendSummary,
    UserRemoveResponse,
)
from anthropic.types.organization.rbac_groups import RBACGroupMember
from anthropic.types.organization.spend_limits import (
    IncreaseRequestApproveParams,
    IncreaseRequestApproveResponse,
    IncreaseRequestDenyParams,
    SpendLimitIncreaseRequest,
)
from anthropic.types.shared.organization_type_not_supported_error import (
    OrganizationTypeNotSupportedError,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from bot.connectors import anthropic as connector_module
from bot.connectors.anthropic import AnthropicConnector, wire
from bot.connectors.http_client import RateLimiter, RetryBudget
from tests.connectors.conftest import Sleeps
from tests.connectors.fake_anthropic import COST_BETA, KEY, FakeAnthropic
from tests.connectors.server import Call, Fault, Served
from workflows.admin import PermanentConnectorError
from workflows.model import Period

ORG = "/v1/organizations"
INCREASES = f"{ORG}/spend_limit_increase_requests"
ROUTES: dict[tuple[str, str], Any] = {
    ("GET", f"{ORG}/users"): SyncPage[OrganizationUser],
    ("DELETE", f"{ORG}/users/{{id}}"): UserRemoveResponse,
    ("GET", f"{ORG}/spend_limits/effective"): SyncPageCursor[SpendSummary],
    ("POST", f"{ORG}/spend_limits"): BetaSpendLimit,
    ("GET", f"{ORG}/spend_limits/{{id}}"): BetaSpendLimit,
    ("DELETE", f"{ORG}/spend_limits/{{id}}"): SpendLimitDeleteResponse,
    ("GET", f"{ORG}/rbac_groups"): SyncPageCursor[RBACGroup],
    ("GET", f"{ORG}/rbac_groups/{{id}}/members"): SyncPageCursor[RBACGroupMember],
    ("GET", f"{ORG}/analytics/cost"): SyncReportPageCursor[BetaAnalyticsCostItem],
    ("GET", INCREASES): SyncPageCursor[SpendLimitIncreaseRequest],
    ("GET", f"{INCREASES}/{{id}}"): SpendLimitIncreaseRequest,
    ("POST", f"{INCREASES}/{{id}}/approve"): IncreaseRequestApproveResponse,
    ("POST", f"{INCREASES}/{{id}}/deny"): SpendLimitIncreaseRequest,
}
NOT_IN_THE_SDK = {f"{ORG}/usage_report/claude_code", f"{ORG}/usage_report/messages"}
EVE, DANA = "eve@example.com", "dana@example.com"


def strict(model: Any, body: Any) -> None:
    """`body` is valid for the SDK type `model`, and has no field that type does not know."""
    parsed = model.model_validate(body)
    extras = list(_extras(parsed, "$"))
    assert not extras, f"{model.__name__} has no field {', '.join(extras)}"


def _extras(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, BaseModel):
        yield from (f"{where}.{key}" for key in value.model_extra or {})
        for name in type(value).model_fields:
            yield from _extras(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _extras(item, f"{where}[{index}]")


def sdk_client(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        base_url=url,
        default_headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        api_key="unused",
        max_retries=0,
    )


def connect(served: Served[FakeAnthropic], sleeps: Sleeps) -> AnthropicConnector:
    return connector_module.build(
        KEY,
        served.url,
        sleep=sleeps,
        limiter=RateLimiter(1000, 60.0, sleep=sleeps),
        retry=RetryBudget(attempts=1),
    )


@pytest.fixture
def org(anthropic_fake: Served[FakeAnthropic]) -> FakeAnthropic:
    fake = anthropic_fake.backend
    fake.page_size = 2
    for n in range(4):
        fake.add_user(f"m{n}@example.com", f"M{n}", tier="premium" if n == 1 else "standard")
    fake.add_user(DANA, "Dana Okafor")
    fake.add_user(EVE, "Eve Novak")
    fake.set_own(EVE, "15000")
    fake.set_own(EVE, "4000", "weekly")
    fake.set_own("m3@example.com", None)  # an explicit no-limit
    embedded = fake.add_group("Embedded", [EVE, DANA, "m0@example.com"])
    fake.add_group("Systems", ["m1@example.com"])
    fake.group_limits[embedded.id, "daily"] = "1500"
    fake.tier_limits["premium", "monthly"] = "30000"
    fake.ask_for_more(EVE, "slir_1", "2026-11-20T08:00:00Z", period="weekly")
    fake.ask_for_more(DANA, "slir_2", "2026-11-20T09:00:00Z")
    fake.ask_for_more("m0@example.com", "slir_3", "2026-11-20T10:00:00Z", period="daily")
    fake.add_cost(fake.user_actor(EVE), "2026-11-19T22:00:00Z", "450.125")
    fake.add_cost({"type": "api_actor", "api_key_id": "apikey_01"}, "2026-11-19T22:00:00Z", "7")
    fake.add_cost(
        {"type": "user_actor", "user_id": "user_9999", "deleted": True, "name": "Deleted User"},
        "2026-11-19T23:00:00Z",
        "12",
    )
    fake.add_cost(None, "2026-11-19T23:00:00Z", "3")
    return fake


# ----------------------------------------------------------- 1. the SDK reads the fake


def test_the_sdk_reads_every_answer_of_the_fake(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic
) -> None:
    client = sdk_client(anthropic_fake.url)
    organization, beta = client.organization, client.beta.organization

    assert len(list(organization.users.list(limit=2))) == 6
    rows = list(organization.spend_limits.effective.list(limit=2))
    assert {(r.actor.user_id, r.period, r.source.type) for r in rows} >= {
        (org.user(EVE).id, "weekly", "user"),
        (org.user(EVE).id, "daily", "rbac_group"),
        ("user_0002", "monthly", "seat_tier"),
        ("user_0001", "monthly", "organization"),
    }
    assert len(list(organization.spend_limits.effective.list(period=["weekly"]))) == 1
    groups = list(organization.rbac_groups.list(limit=1))
    assert [g.name for g in groups] == ["Embedded", "Systems"]
    members = organization.rbac_groups.members.list(groups[0].id, limit=2)
    assert sorted(m.email for m in members) == sorted([EVE, DANA, "m0@example.com"])
    pending = list(organization.spend_limits.increase_requests.list(status=["pending"], limit=2))
    assert [(r.id, r.period) for r in pending] == [
        ("slir_3", "daily"),
        ("slir_2", "monthly"),
        ("slir_1", "weekly"),
    ]
    assert organization.spend_limits.increase_requests.retrieve("slir_1").spend_summary
    approved = organization.spend_limits.increase_requests.approve(
        "slir_1", amount="6000", suppress_notification=True
    )
    assert approved.spend_limit is not None
    assert (approved.spend_limit.amount, approved.spend_limit.period) == ("6000", "weekly")
    organization.spend_limits.increase_requests.deny("slir_2", suppress_notification=True)
    written = beta.spend_limits.set(
        amount="20000", scope={"type": "user", "user_id": org.user(DANA).id}, period="monthly"
    )
    assert beta.spend_limits.retrieve(written.id).amount == "20000"
    assert beta.spend_limits.delete(written.id).type == "spend_limit_deleted"
    costs = list(
        beta.analytics.cost.list(
            starting_at="2026-11-19T00:00:00Z",
            ending_at="2026-11-20T00:00:00Z",
            time_bucket_width="1h",
            group_by=["actor"],
            limit=1,
        )
    )
    assert len(costs) == 4
    assert organization.users.remove("user_0001").type == "user_deleted"

    seen = set()
    for answer in org.answers:
        if answer.route in NOT_IN_THE_SDK:
            continue
        assert answer.status < 300, answer
        strict(ROUTES[answer.method, answer.route], answer.body)
        seen.add((answer.method, answer.route))
    assert seen == set(ROUTES)


def test_the_fake_refuses_as_the_sdk_expects(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic
) -> None:
    client = sdk_client(anthropic_fake.url)
    org.writes_enabled = False
    with pytest.raises(BetaSpendLimitsAdminAPIWritesNotEnabledError):
        client.beta.organization.spend_limits.set(
            amount="1", scope={"type": "user", "user_id": org.user(EVE).id}
        )
    org.enterprise = False
    with pytest.raises(OrganizationTypeNotSupportedError):
        list(client.organization.spend_limits.effective.list())


def test_strict_refuses_what_the_sdk_type_lacks() -> None:
    """The mismatch that broke the first real sync: `has_more` on a cursor page."""
    with pytest.raises(AssertionError, match=r"\$\.has_more"):
        strict(SyncPageCursor[SpendSummary], {"data": [], "has_more": False, "next_page": None})


# ----------------------------------------------- 2. SDK-built answers, read by capdesk

_ids = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
_periods = st.sampled_from(["daily", "weekly", "monthly"])
_amounts = st.integers(0, 10**8).map(str)
_emails = st.builds("{}@example.com".format, _ids)
_user_actors = st.fixed_dictionaries(
    {
        "type": st.just("user_actor"),
        "user_id": _ids.map("user_{}".format),
        "deleted": st.booleans(),
    },
    optional={"email_address": st.none() | _emails, "name": st.none() | _ids},
)
_key_actors = st.fixed_dictionaries(
    {"type": st.just("scoped_api_key_actor"), "scoped_api_key_id": _ids}
)
_scopes = st.one_of(
    st.fixed_dictionaries({"type": st.just("user"), "user_id": _ids.map("user_{}".format)}),
    st.fixed_dictionaries(
        {"type": st.just("seat_tier"), "seat_tier": st.sampled_from(["standard", "premium"])}
    ),
    st.fixed_dictionaries({"type": st.just("rbac_group"), "rbac_group_id": _ids}),
    st.fixed_dictionaries({"type": st.just("organization_service"), "service": _ids}),
    st.fixed_dictionaries({"type": st.just("organization")}),
    st.fixed_dictionaries({"type": st.just("workspace"), "workspace_id": _ids}),
    st.fixed_dictionaries({"type": st.just("usage_tier")}),
)
_summaries = st.fixed_dictionaries(
    {
        "actor": _user_actors | _key_actors,
        "currency": st.just("USD"),
        "period": _periods,
        "period_to_date_spend": st.decimals(0, 10**6, places=3).map(str),
        "scope": _scopes,
        "source": _scopes,
        "spend_limit_id": _ids.map("spl_{}".format),
    },
    optional={"amount": st.none() | _amounts},
)
_stamps = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


def _sdk(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    """`data` as an SDK instance of `model`, then as the JSON that instance stands for."""
    dumped: dict[str, Any] = model.model_validate(data).to_dict(mode="json")
    return dumped


def _cursor_page(items: list[dict[str, Any]], next_page: str | bool | None) -> dict[str, Any]:
    page: dict[str, Any] = {"data": items}
    if next_page is not False:
        page["next_page"] = next_page
    return page


@given(
    rows=st.lists(_summaries, max_size=4),
    next_page=st.none() | st.just(False) | _ids.map("page_{}".format),
)
def test_effective_pages_built_from_the_sdk_types_are_read(
    rows: list[dict[str, Any]], next_page: str | bool | None
) -> None:
    sdk = [_sdk(SpendSummary, row) for row in rows]

    page = wire.SpendSummaryPage.model_validate(_cursor_page(sdk, next_page))

    assert page.following == (next_page or None)
    for ours, theirs in zip(page.data, sdk, strict=True):
        assert ours.amount == theirs.get("amount")
        assert ours.period == theirs["period"]
        user = theirs["actor"]["type"] == "user_actor"
        assert ours.actor.member_id == (theirs["actor"]["user_id"] if user else None)
        assert ours.source is not None
        assert ours.source.type == theirs["source"]["type"]


@given(
    request=st.fixed_dictionaries(
        {
            "id": _ids,
            "type": st.just("spend_limit_increase_request"),
            "actor": _user_actors | _key_actors,
            "created_at": _stamps.map(datetime.isoformat),
            "period": _periods,
            "status": st.sampled_from(["pending", "approved", "denied"]),
        },
        optional={
            "resolved_at": st.none() | _stamps.map(datetime.isoformat),
            "resolved_by": st.none() | _user_actors | _key_actors,
            "spend_summary": st.none() | _summaries,
        },
    )
)
def test_increase_requests_built_from_the_sdk_types_are_read(request: dict[str, Any]) -> None:
    sdk = _sdk(SpendLimitIncreaseRequest, request)

    ours = wire.IncreaseRequest.model_validate(sdk)

    assert (ours.id, ours.period, ours.status) == (sdk["id"], sdk["period"], sdk["status"])
    summary = sdk.get("spend_summary")
    assert (ours.spend_summary is None) == (summary is None)


_cost_actors = st.one_of(
    st.none(),
    _user_actors,
    st.fixed_dictionaries({"type": st.just("api_actor"), "api_key_id": _ids}),
    st.fixed_dictionaries({"type": st.just("service_account_actor"), "service_account_id": _ids}),
    st.fixed_dictionaries(
        {
            "type": st.just("federated_actor"),
            "provider": st.fixed_dictionaries(
                {"type": st.just("aws"), "account_id": _ids, "signed_principal": _ids}
            ),
        }
    ),
)


@given(
    items=st.lists(
        st.fixed_dictionaries(
            {
                "cost": st.fixed_dictionaries(
                    {
                        "amount": st.decimals(0, 10**6, places=3).map(str),
                        "currency": st.just("USD"),
                        "list_amount": st.decimals(0, 10**6, places=3).map(str),
                    },
                    optional={"requests": st.none() | st.integers(0, 10**4)},
                ),
                "starting_at": _stamps.map(datetime.isoformat),
                "ending_at": _stamps.map(datetime.isoformat),
                "group": st.fixed_dictionaries({}, optional={"actor": _cost_actors}),
            }
        ),
        max_size=4,
    ),
    has_more=st.none() | st.booleans(),
)
def test_cost_pages_built_from_the_sdk_types_are_read(
    items: list[dict[str, Any]], has_more: bool | None
) -> None:
    sdk = [_sdk(BetaAnalyticsCostItem, item) for item in items]
    body: dict[str, Any] = {"data": sdk, "next_page": "page_2"}
    if has_more is not None:
        body["has_more"] = has_more

    page = wire.CostPage.model_validate(body)

    assert page.following == (None if has_more is False else "page_2")
    for ours, theirs in zip(page.data, sdk, strict=True):
        actor = theirs["group"].get("actor")
        user = actor is not None and actor["type"] == "user_actor"
        assert (ours.group.actor.member_id if ours.group.actor else None) == (
            actor["user_id"] if user else None
        )


@given(
    users=st.lists(
        st.fixed_dictionaries(
            {
                "id": _ids.map("user_{}".format),
                "added_at": _stamps.map(datetime.isoformat),
                "email": _emails,
                "name": _ids,
                "role": st.sampled_from(["user", "owner", "primary_owner", "managed"]),
                "type": st.just("user"),
            }
        ),
        max_size=3,
        unique_by=lambda u: u["id"],
    ),
    has_more=st.none() | st.booleans(),
)
def test_user_pages_built_from_the_sdk_types_are_read(
    users: list[dict[str, Any]], has_more: bool | None
) -> None:
    body: dict[str, Any] = {"data": [_sdk(OrganizationUser, u) for u in users]}
    if has_more is not None:
        body["has_more"] = has_more
    if users:
        body["last_id"] = users[-1]["id"]

    page = wire.UserPage.model_validate(body)

    expected = None if has_more is False or not users else users[-1]["id"]
    assert page.following == expected


@given(
    groups=st.lists(
        st.fixed_dictionaries(
            {
                "id": _ids.map("rbac_group_{}".format),
                "created_at": _stamps.map(datetime.isoformat),
                "name": st.text(min_size=1, max_size=20),
                "source_type": st.sampled_from(["direct", "scim"]),
                "type": st.just("rbac_group"),
                "updated_at": _stamps.map(datetime.isoformat),
            },
            optional={"role_ids": st.none() | st.lists(_ids, max_size=2)},
        ),
        max_size=3,
    ),
    members=st.lists(
        st.fixed_dictionaries(
            {
                "created_at": _stamps.map(datetime.isoformat),
                "email": _emails,
                "rbac_group_id": _ids,
                "type": st.just("rbac_group_member"),
                "user_id": _ids.map("user_{}".format),
            }
        ),
        max_size=3,
    ),
    next_page=st.none() | st.just(False) | _ids,
)
def test_group_pages_built_from_the_sdk_types_are_read(
    groups: list[dict[str, Any]], members: list[dict[str, Any]], next_page: str | bool | None
) -> None:
    sdk_groups = [_sdk(RBACGroup, g) for g in groups]
    sdk_members = [_sdk(RBACGroupMember, m) for m in members]

    ours = wire.RbacGroupPage.model_validate(_cursor_page(sdk_groups, next_page))
    theirs = wire.RbacGroupMemberPage.model_validate(_cursor_page(sdk_members, next_page))

    assert [(g.id, g.name) for g in ours.data] == [(g["id"], g["name"]) for g in sdk_groups]
    assert [m.email for m in theirs.data] == [m["email"] for m in sdk_members]
    assert ours.following == theirs.following == (next_page or None)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
@given(
    rows=st.lists(_summaries, max_size=5),
    currency=st.sampled_from(["USD", "USD", "USD", "EUR"]),
)
def test_the_connector_reads_sdk_built_limits_or_refuses_them_in_a_sentence(
    anthropic_fake: Served[FakeAnthropic],
    sleeps: Sleeps,
    rows: list[dict[str, Any]],
    currency: str,
) -> None:
    fake = anthropic_fake.backend
    fake.faults.clear()
    ids = sorted({r["actor"]["user_id"] for r in rows if r["actor"]["type"] == "user_actor"})
    users = [
        _sdk(
            OrganizationUser,
            {
                "id": user_id,
                "added_at": "2026-01-05T09:00:00Z",
                "email": f"{user_id}@example.com",
                "name": user_id,
                "role": "user",
                "type": "user",
            },
        )
        for user_id in ids
    ]
    sdk = [_sdk(SpendSummary, {**row, "currency": currency}) for row in rows]
    fake.fail_next(
        Fault(status=200, body={"data": users, "has_more": False}, path=f"{ORG}/users"),
        Fault(status=200, body={"data": sdk, "next_page": None}, path=f"{ORG}/spend_limits"),
    )
    connector = connect(anthropic_fake, sleeps)

    if currency != "USD" and sdk:
        with pytest.raises(PermanentConnectorError, match="billed in EUR"):
            connector.list_members()
        return
    members = {m.external_id: m for m in connector.list_members()}

    for user_id in ids:
        own = [
            r
            for r in sdk
            if r["actor"]["type"] == "user_actor" and r["actor"]["user_id"] == user_id
        ]
        monthly = [r for r in own if r["period"] == "monthly"]
        expected = monthly[-1].get("amount") if monthly else None
        assert members[user_id].monthly_cap_cents == (None if expected is None else int(expected))
        tiers = [r["source"]["seat_tier"] for r in own if r["source"]["type"] == "seat_tier"]
        assert members[user_id].tier == (tiers[-1] if tiers else None)


# ---------------------------------------------------- 3. capdesk asks what the SDK asks


def _shape(call: Call) -> tuple[str, str, frozenset[str]]:
    return call.method, call.path, frozenset(k for k, _ in call.query if k not in {"limit", "page"})


def test_capdesk_asks_the_routes_the_sdk_asks(
    anthropic_fake: Served[FakeAnthropic], org: FakeAnthropic, sleeps: Sleeps
) -> None:
    connector = connect(anthropic_fake, sleeps)
    connector.list_members()
    connector.list_groups()
    connector.pending_native_requests()
    connector.cap_inherited(EVE, Period.WEEKLY)
    connector.hourly_usage(datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC))
    connector.approve_native("slir_1", 6000, period=Period.WEEKLY, idempotency_key="k1")
    connector.deny_native("slir_2", idempotency_key="k2")
    connector.set_cap(DANA, 20000, idempotency_key="k3")
    connector.inherit_cap(DANA, Period.MONTHLY, idempotency_key="k4")
    ours = list(org.calls)
    org.calls.clear()

    client = sdk_client(anthropic_fake.url)
    organization, beta = client.organization, client.beta.organization
    list(organization.users.list(limit=100))
    list(organization.spend_limits.effective.list(limit=100))
    list(organization.spend_limits.effective.list(user_ids=["u"], period=["weekly"]))
    list(organization.rbac_groups.list())
    list(organization.rbac_groups.members.list("rbac_group_01"))
    list(organization.spend_limits.increase_requests.list(status=["pending"]))
    list(
        beta.analytics.cost.list(
            starting_at="2026-11-19T00:00:00Z",
            ending_at="2026-11-20T00:00:00Z",
            time_bucket_width="1h",
            group_by=["actor"],
        )
    )
    theirs = list(org.calls)

    def reads(calls: list[Call]) -> set[tuple[str, str, frozenset[str]]]:
        return {
            _shape(c)
            for c in calls
            if c.method == "GET"
            and "/rbac_groups/" not in c.path
            and "/usage_report/" not in c.path
        }

    assert reads(ours) <= reads(theirs) | {
        ("GET", f"{ORG}/users", frozenset({"email"})),
        ("GET", f"{ORG}/users", frozenset({"after_id"})),
    }
    cost = next(c for c in ours if c.path.endswith("/analytics/cost"))
    sdk_cost = next(c for c in theirs if c.path.endswith("/analytics/cost"))
    assert cost.headers["anthropic-beta"] == sdk_cost.headers["anthropic-beta"] == COST_BETA
    bodies = {(c.method, c.path): c.body for c in ours if c.method == "POST"}
    assert set(bodies[("POST", f"{INCREASES}/slir_1/approve")]) <= set(
        get_type_hints(IncreaseRequestApproveParams)
    )
    assert set(bodies[("POST", f"{INCREASES}/slir_2/deny")]) <= set(
        get_type_hints(IncreaseRequestDenyParams)
    )
    assert set(bodies[("POST", f"{ORG}/spend_limits")]) <= set(get_type_hints(SpendLimitSetParams))
