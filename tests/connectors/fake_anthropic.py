"""A fake Anthropic Admin API: the endpoints capdesk uses, in the official SDK's wire format.

The authority is the `anthropic` Python SDK (2.10, a test dependency), whose types are
generated from Anthropic's OpenAPI description; `tests/connectors/test_anthropic_contract.py`
points the SDK's own client at this fake and validates every answer against those types.
- users (`OrganizationUser`, `SyncPage`: `data`, `has_more`, `first_id`, `last_id`; paged by
  `after_id`) and their removal (`UserRemoveResponse`);
- effective limits (`SpendSummary`, `SyncPageCursor`: `data` and `next_page`, no `has_more`):
  one row per member and period the member resolves a limit for, with the `source` it comes
  from (the member's own, a group, the seat tier, the organisation); paged by member;
- spend limits (`BetaSpendLimit`): `POST` upserts on (scope, period), `GET`/`DELETE` by id;
  only a member's own limit can be deleted; an organisation without spend-limit writes
  answers 403 `spend_limits_admin_api_writes_not_enabled`;
- increase requests (`SpendLimitIncreaseRequest`, `SyncPageCursor`): approve writes the
  member's own limit at `amount` and `period` (by default the period they were blocked on),
  deny is idempotent on `denied` and answers 400 on an approved request; Anthropic e-mails
  the member unless `suppress_notification`;
- Enterprise groups (`RBACGroup`, `RBACGroupMember`, `SyncPageCursor`);
- the analytics cost report (`BetaAnalyticsCostItem`, `SyncReportPageCursor`), with the beta
  header the SDK sends;
- the usage reports, which that SDK does not have: the API reference
  (https://platform.claude.com/docs/en/api/admin/usage_report: `data`, `has_more`,
  `next_page`);
- errors: `{"type": "error", "error": {"type", "message", "details": {"error_code"}}}`.
Any `anthropic-version` is accepted.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.connectors.server import FakeBackend

KEY = "sk-ant-admin01-test-secret"
COST_BETA = "analytics-usage-cost-2026-08-24"
PERIODS = ("daily", "weekly", "monthly")
_STAMP = "2026-01-05T09:00:00Z"
_COST_EARLIEST = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class User:
    id: str
    email: str
    name: str
    tier: str = "standard"
    role: str = "user"


@dataclass
class Group:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    """User ids."""


@dataclass
class IncreaseRequest:
    id: str
    user_id: str
    created_at: str
    period: str = "monthly"
    status: str = "pending"


@dataclass
class FakeAnthropic(FakeBackend):
    """The organisation: users, limits, groups, usage and increase requests, changed by the API."""

    users: list[User] = field(default_factory=list)
    own: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(user id, period) -> the member's own limit (minor units; None: an explicit no-limit)."""
    group_limits: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(group id, period) -> the group's limit."""
    tier_limits: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(seat tier, period) -> the tier's limit."""
    org_limits: dict[str, str | None] = field(default_factory=lambda: {"monthly": "8500"})
    """Period -> the organisation's default limit."""
    groups: list[Group] = field(default_factory=list)
    enterprise: bool = True
    """False: a Claude Console organisation, without effective limits or groups."""
    writes_enabled: bool = True
    """False: the organisation has not had spend-limit writes through the Admin API enabled."""
    cost_available: bool = True
    page_size: int = 1000
    """The most items the fake puts on a page, whatever `limit` asks (to test paging)."""
    claude_code: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Day (YYYY-MONTH-DD) -> records as the report gives them."""
    buckets: list[dict[str, Any]] = field(default_factory=list)
    """The messages report's hourly buckets."""
    costs: list[dict[str, Any]] = field(default_factory=list)
    """The analytics cost report's rows (`BetaAnalyticsCostItem`), one per hour and actor."""
    increase_requests: list[IncreaseRequest] = field(default_factory=list)
    approvals: list[tuple[str, str, str]] = field(default_factory=list)
    """(request id, amount, period) of each approve call that took effect."""
    limit_writes: list[tuple[str, str | None, str]] = field(default_factory=list)
    """(user id, amount, period) of each spend-limit upsert."""
    deletions: list[tuple[str, str]] = field(default_factory=list)
    """(user id, period) of each own limit deleted."""
    emails: list[tuple[str, str]] = field(default_factory=list)
    """(request id, "approved" or "denied") of each e-mail Anthropic sent the member."""

    # ----------------------------------------------------------------- the fake's own helpers

    def add_user(
        self, email: str, name: str, *, tier: str = "standard", role: str = "user"
    ) -> User:
        user = User(f"user_{len(self.users) + 1:04d}", email, name, tier, role)
        self.users.append(user)
        return user

    def user(self, email: str) -> User:
        return next(u for u in self.users if u.email == email)

    def set_own(self, email: str, amount: str | None, period: str = "monthly") -> None:
        self.own[self.user(email).id, period] = amount

    def add_group(self, name: str, emails: list[str]) -> Group:
        group = Group(f"rbac_group_{len(self.groups) + 1:02d}", name)
        group.members = [self.user(e).id for e in emails]
        self.groups.append(group)
        return group

    def resolve(self, user: User, period: str) -> tuple[dict[str, Any], str | None, str] | None:
        """(source scope, amount, spend limit id) of the member's limit at `period`, if any."""
        if (user.id, period) in self.own:
            scope = {"type": "user", "user_id": user.id}
            return scope, self.own[user.id, period], _limit_id("user", user.id, period)
        for group in self.groups:
            if user.id in group.members and (group.id, period) in self.group_limits:
                scope = {"type": "rbac_group", "rbac_group_id": group.id}
                amount = self.group_limits[group.id, period]
                return scope, amount, _limit_id("group", group.id, period)
        if (user.tier, period) in self.tier_limits:
            scope = {"type": "seat_tier", "seat_tier": user.tier}
            amount = self.tier_limits[user.tier, period]
            return scope, amount, _limit_id("tier", user.tier, period)
        if period in self.org_limits:
            scope = {"type": "organization"}
            return scope, self.org_limits[period], _limit_id("org", "org", period)
        return None

    def effective(self, email: str, period: str = "monthly") -> str | None:
        found = self.resolve(self.user(email), period)
        return None if found is None else found[1]

    def source(self, email: str, period: str = "monthly") -> str | None:
        found = self.resolve(self.user(email), period)
        return None if found is None else str(found[0]["type"])

    def ask_for_more(self, email: str, request_id: str, at: str, period: str = "monthly") -> None:
        self.increase_requests.append(
            IncreaseRequest(request_id, self.user(email).id, at, period=period)
        )

    def add_cost(self, actor: dict[str, Any] | None, hour: str, amount: str) -> None:
        start = _instant(hour)
        self.costs.append(
            {
                "cost": {"amount": amount, "currency": "USD", "list_amount": amount, "requests": 3},
                "starting_at": _stamp(start),
                "ending_at": _stamp(start + timedelta(hours=1)),
                "group": {"actor": actor},
            }
        )

    def user_actor(self, email: str) -> dict[str, Any]:
        return _actor(self.user(email))

    def error(
        self, status: int, message: str, kind: str = "api_error", code: str | None = None
    ) -> web.Response:
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        error: dict[str, Any] = {"type": kinds.get(status, kind), "message": message}
        if code is not None:
            error["details"] = {"error_code": code}
        return web.json_response({"type": "error", "error": error}, status=status)

    def authorised(self, request: web.Request) -> web.Response | None:
        if request.headers.get("x-api-key") != KEY:
            return self.error(401, "invalid x-api-key")
        return None

    # ------------------------------------------------------------------------------- routes

    def routes(self) -> list[web.RouteDef]:
        base = "/v1/organizations"
        increases = f"{base}/spend_limit_increase_requests"
        return [
            web.get(f"{base}/users", self._users),
            web.delete(f"{base}/users/{{id}}", self._remove_user),
            web.get(f"{base}/spend_limits/effective", self._effective),
            web.post(f"{base}/spend_limits", self._set_limit),
            web.get(f"{base}/spend_limits/{{id}}", self._get_limit),
            web.delete(f"{base}/spend_limits/{{id}}", self._delete_limit),
            web.get(f"{base}/rbac_groups", self._groups),
            web.get(f"{base}/rbac_groups/{{id}}/members", self._group_members),
            web.get(f"{base}/usage_report/claude_code", self._claude_code),
            web.get(f"{base}/usage_report/messages", self._messages),
            web.get(f"{base}/analytics/cost", self._cost),
            web.get(increases, self._increases),
            web.get(f"{increases}/{{id}}", self._increase),
            web.post(f"{increases}/{{id}}/approve", self._approve),
            web.post(f"{increases}/{{id}}/deny", self._deny),
        ]

    def _limit(self, request: web.Request, default: int) -> int:
        return min(int(request.query.get("limit", default)), self.page_size)

    def _not_enterprise(self) -> web.Response:
        return self.error(
            400,
            "This endpoint is not supported for this organization type.",
            code="organization_type_not_supported",
        )

    def _writes_refused(self) -> web.Response:
        return self.error(
            403,
            "Spend limit management through the Admin API is not enabled for this organization.",
            code="spend_limits_admin_api_writes_not_enabled",
        )

    async def _users(self, request: web.Request) -> web.Response:
        found = self.users
        if "email" in request.query:
            found = [u for u in found if u.email == request.query["email"]]
        after = request.query.get("after_id")
        if after is not None:
            index = next((i for i, u in enumerate(found) if u.id == after), None)
            if index is None:
                return self.error(400, f"after_id {after} is not a user")
            found = found[index + 1 :]
        page = found[: self._limit(request, 20)]
        return web.json_response(
            {
                "data": [
                    {
                        "id": u.id,
                        "type": "user",
                        "email": u.email,
                        "name": u.name,
                        "role": u.role,
                        "added_at": _STAMP,
                    }
                    for u in page
                ],
                "has_more": len(found) > len(page),
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
            }
        )

    async def _remove_user(self, request: web.Request) -> web.Response:
        user = next((u for u in self.users if u.id == request.match_info["id"]), None)
        if user is None:
            return self.error(404, "user not found")
        self.users.remove(user)
        return web.json_response({"id": user.id, "type": "user_deleted"})

    def _summary(self, user: User, period: str) -> dict[str, Any] | None:
        found = self.resolve(user, period)
        if found is None:
            return None
        source, amount, limit_id = found
        return {
            "actor": _actor(user),
            "amount": amount,
            "currency": "USD",
            "period": period,
            "period_to_date_spend": "1234.5",
            "scope": {"type": "user", "user_id": user.id},
            "source": source,
            "spend_limit_id": limit_id,
        }

    async def _effective(self, request: web.Request) -> web.Response:
        if not self.enterprise:
            return self._not_enterprise()
        periods = request.query.getall("period[]", list(PERIODS))
        wanted = request.query.getall("user_ids[]", [])
        users = [u for u in self.users if not wanted or u.id in wanted]
        start = _offset(request.query.get("page"))
        size = self._limit(request, 20)
        page = users[start : start + size]
        rows = [
            row
            for user in page
            for period in PERIODS
            if period in periods and (row := self._summary(user, period)) is not None
        ]
        more = start + size < len(users)
        return web.json_response(
            {"data": rows, "next_page": _cursor(start + size) if more else None}
        )

    async def _set_limit(self, request: web.Request) -> web.Response:
        if not self.writes_enabled:
            return self._writes_refused()
        body = await request.json()
        scope = body.get("scope") or {}
        amount = body.get("amount")
        period = body.get("period", "monthly")
        if "amount" not in body:
            return self.error(400, "amount: field required")
        if scope.get("type") != "user" or not any(u.id == scope.get("user_id") for u in self.users):
            return self.error(400, "scope must name a user of the organization")
        if amount is not None and (not isinstance(amount, str) or not amount.isdigit()):
            return self.error(400, "amount must be a non-negative integer decimal string")
        if period not in PERIODS:
            return self.error(400, f"period must be one of {', '.join(PERIODS)}")
        self.own[scope["user_id"], period] = amount
        self.limit_writes.append((scope["user_id"], amount, period))
        return web.json_response(self._own_limit(scope["user_id"], period))

    def _own_limit(self, user_id: str, period: str) -> dict[str, Any]:
        return {
            "type": "spend_limit",
            "id": _limit_id("user", user_id, period),
            "amount": self.own.get((user_id, period)),
            "currency": "USD",
            "is_enabled": True,
            "period": period,
            "scope": {"type": "user", "user_id": user_id},
            "created_at": _STAMP,
            "updated_at": _STAMP,
        }

    def _own_of(self, limit_id: str) -> tuple[str, str] | None:
        return next(
            (key for key in self.own if _limit_id("user", key[0], key[1]) == limit_id), None
        )

    async def _get_limit(self, request: web.Request) -> web.Response:
        if not self.writes_enabled:
            return self._writes_refused()
        found = self._own_of(request.match_info["id"])
        if found is None:
            return self.error(404, "spend limit not found")
        return web.json_response(self._own_limit(*found))

    async def _delete_limit(self, request: web.Request) -> web.Response:
        if not self.writes_enabled:
            return self._writes_refused()
        limit_id = request.match_info["id"]
        found = self._own_of(limit_id)
        if found is None:
            if limit_id.startswith(("spl_group_", "spl_tier_", "spl_org_")):
                return self.error(400, "only a member's own limit can be deleted through the API")
            return self.error(404, "spend limit not found")
        del self.own[found]
        self.deletions.append(found)
        return web.json_response({"id": limit_id, "type": "spend_limit_deleted"})

    async def _groups(self, request: web.Request) -> web.Response:
        if not self.enterprise:
            return self._not_enterprise()
        items = [
            {
                "id": g.id,
                "type": "rbac_group",
                "name": g.name,
                "role_ids": [],
                "source_type": "scim",
                "created_at": _STAMP,
                "updated_at": _STAMP,
            }
            for g in self.groups
        ]
        return self._cursor_page(request, items, 20)

    async def _group_members(self, request: web.Request) -> web.Response:
        group = next((g for g in self.groups if g.id == request.match_info["id"]), None)
        if group is None:
            return self.error(404, "rbac group not found")
        by_id = {u.id: u for u in self.users}
        items = [
            {
                "type": "rbac_group_member",
                "rbac_group_id": group.id,
                "user_id": user_id,
                "email": by_id[user_id].email,
                "created_at": _STAMP,
            }
            for user_id in group.members
            if user_id in by_id
        ]
        return self._cursor_page(request, items, 20)

    async def _claude_code(self, request: web.Request) -> web.Response:
        day = request.query.get("starting_at", "")
        try:
            date.fromisoformat(day)
        except ValueError:
            return self.error(400, "starting_at must be a UTC date YYYY-MM-DD")
        return self._report_page(request, self.claude_code.get(day, []), 20)

    async def _messages(self, request: web.Request) -> web.Response:
        if request.query.get("bucket_width") != "1h":
            return self.error(400, "this fake serves hourly buckets only")
        start = _instant(request.query["starting_at"])
        end = _instant(request.query.get("ending_at", "2999-01-01T00:00:00Z"))
        wanted = [b for b in self.buckets if start <= _instant(b["starting_at"]) < end]
        return self._report_page(request, wanted, 24)

    async def _cost(self, request: web.Request) -> web.Response:
        if COST_BETA not in request.headers.get("anthropic-beta", "").split(","):
            return self.error(400, f"this endpoint is in beta; send anthropic-beta: {COST_BETA}")
        if not self.cost_available:
            return self.error(403, "the key may not read analytics")
        refused = _cost_query_refused(request)
        if refused is not None:
            return self.error(400, refused)
        start = _instant(request.query["starting_at"])
        end = _instant(request.query["ending_at"])
        if request.query.getall("group_by[]", []) != ["actor"]:
            return self.error(400, "this fake breaks cost out by actor only")
        rows = [c for c in self.costs if start <= _instant(c["starting_at"]) < end]
        return self._report_page(request, rows, 20)

    def _increase_json(self, item: IncreaseRequest) -> dict[str, Any]:
        user = next(u for u in self.users if u.id == item.user_id)
        pending = item.status == "pending"
        summary = self._summary(user, item.period) if pending else None
        return {
            "type": "spend_limit_increase_request",
            "id": item.id,
            "actor": _actor(user),
            "created_at": item.created_at,
            "period": item.period,
            "status": item.status,
            "resolved_at": None if pending else "2026-11-20T12:00:00Z",
            "resolved_by": None,
            "spend_summary": summary,
        }

    async def _increases(self, request: web.Request) -> web.Response:
        statuses = request.query.getall("status[]", [])
        items = [r for r in self.increase_requests if not statuses or r.status in statuses]
        return self._cursor_page(request, [self._increase_json(r) for r in reversed(items)], 20)

    def _find(self, request: web.Request) -> IncreaseRequest | None:
        wanted = request.match_info["id"]
        return next((r for r in self.increase_requests if r.id == wanted), None)

    async def _increase(self, request: web.Request) -> web.Response:
        item = self._find(request)
        if item is None:
            return self.error(404, "spend limit increase request not found")
        return web.json_response(self._increase_json(item))

    async def _approve(self, request: web.Request) -> web.Response:
        item = self._find(request)
        if item is None:
            return self.error(404, "spend limit increase request not found")
        if item.status != "pending":
            return self.error(400, f"request is {item.status}, not pending")
        body = await request.json()
        amount = body.get("amount")
        period = body.get("period") or item.period
        if not isinstance(amount, str) or not amount.isdigit():
            return self.error(400, "amount must be a non-negative integer decimal string")
        if period not in PERIODS:
            return self.error(400, f"period must be one of {', '.join(PERIODS)}")
        item.status = "approved"
        self.own[item.user_id, period] = amount
        self.approvals.append((item.id, amount, period))
        if not body.get("suppress_notification", False):
            self.emails.append((item.id, "approved"))
        return web.json_response(
            {**self._increase_json(item), "spend_limit": self._own_limit(item.user_id, period)}
        )

    async def _deny(self, request: web.Request) -> web.Response:
        item = self._find(request)
        if item is None:
            return self.error(404, "spend limit increase request not found")
        if item.status == "approved":
            return self.error(400, "request is already approved")
        body = await request.json() if request.body_exists else {}
        if item.status == "pending" and not body.get("suppress_notification", False):
            self.emails.append((item.id, "denied"))
        item.status = "denied"
        return web.json_response(self._increase_json(item))

    def _cursor_page(self, request: web.Request, items: list[Any], default: int) -> web.Response:
        """`SyncPageCursor`: `data` and `next_page` only."""
        return self._page(request, items, default, has_more=False)

    def _report_page(self, request: web.Request, items: list[Any], default: int) -> web.Response:
        """The reports' pages: `data`, `has_more` and `next_page`."""
        return self._page(request, items, default, has_more=True)

    def _page(
        self, request: web.Request, items: list[Any], default: int, *, has_more: bool
    ) -> web.Response:
        start = _offset(request.query.get("page"))
        size = self._limit(request, default)
        more = start + size < len(items)
        page: dict[str, Any] = {
            "data": items[start : start + size],
            "next_page": _cursor(start + size) if more else None,
        }
        if has_more:
            page["has_more"] = more
        return web.json_response(page)


def _cost_query_refused(request: web.Request) -> str | None:
    """Why the analytics cost report refuses a query, as its reference says; None if it does not."""
    query = request.query
    if query.get("time_bucket_width") not in (None, "1d", "1h", "1m"):
        return "time_bucket_width must be 1d, 1h or 1m"
    if "time_bucket_width" in query and "ending_at" not in query:
        return "ending_at is required when time_bucket_width is set"
    try:
        start = _instant(query["starting_at"])
        end = _instant(query["ending_at"])
    except (KeyError, ValueError):
        return "starting_at and ending_at must be RFC 3339 timestamps"
    if start < _COST_EARLIEST:
        return "starting_at must be no earlier than 2026-01-01T00:00:00Z"
    if end - start > timedelta(days=31):
        return "the range may span at most 31 days"
    if not 1 <= int(query.get("limit", 20)) <= 1000:
        return "limit must be from 1 to 1000"
    return None


def _actor(user: User) -> dict[str, Any]:
    return {
        "type": "user_actor",
        "user_id": user.id,
        "email_address": user.email,
        "name": user.name,
        "deleted": False,
    }


def _limit_id(kind: str, key: str, period: str) -> str:
    return f"spl_{kind}_{key}_{period}"


def _cursor(offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.urlsafe_b64decode(cursor.removeprefix("page_")).decode())


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
