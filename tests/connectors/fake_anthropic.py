"""A fake Anthropic Admin API: the endpoints capdesk uses, in their documented wire format.

Sources:
- users: https://platform.claude.com/docs/en/api/admin/users/list (`after_id`, `limit`,
  `email`; `data`, `has_more`, `first_id`, `last_id`) and .../users/delete;
- Claude Code report: https://platform.claude.com/docs/en/api/admin-api/claude-code/get-claude-code-usage-report
  (one day per `starting_at`, `limit`/`page`; `actor`, `core_metrics`, `model_breakdown[]`
  with `estimated_cost.amount` in cents; `has_more`, `next_page`);
- messages report: https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_messages
  (`bucket_width=1h`, `group_by[]=account_id`; buckets of `results`);
- spend limits, effective limits, increase requests: the types and resources of
  github.com/anthropics/anthropic-sdk-python (src/anthropic/resources/beta/organization/
  spend_limits/*.py, types/beta/organization/beta_spend_summary.py, beta_spend_limit.py,
  spend_limits/beta_spend_limit_increase_request.py) and
  https://platform.claude.com/docs/en/api/admin/spend_limits/increase_requests/approve.md
  (approve writes the per-user limit at `amount`; deny is idempotent on `denied` and
  answers 400 on an approved request);
- errors: `{"type": "error", "error": {"type", "message"}}`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web

from tests.connectors.server import FakeBackend

KEY = "sk-ant-admin01-test-secret"


@dataclass
class User:
    id: str
    email: str
    name: str
    tier: str = "standard"


@dataclass
class IncreaseRequest:
    id: str
    user_id: str
    created_at: str
    status: str = "pending"


@dataclass
class FakeAnthropic(FakeBackend):
    """The organisation: users, limits, usage and increase requests, changed by the API."""

    users: list[User] = field(default_factory=list)
    limits: dict[str, str | None] = field(default_factory=dict)
    """User id -> their own monthly limit (minor units; None: an explicit no-limit)."""
    org_limit: str | None = "8500"
    page_size: int = 1000
    """The most items the fake puts on a page, whatever `limit` asks (to test paging)."""
    claude_code: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Day (YYYY-MM-DD) -> records as the report gives them."""
    buckets: list[dict[str, Any]] = field(default_factory=list)
    increase_requests: list[IncreaseRequest] = field(default_factory=list)
    approvals: list[tuple[str, str]] = field(default_factory=list)
    """(request id, amount) of each approve call that took effect."""
    limit_writes: list[tuple[str, str | None]] = field(default_factory=list)
    """(user id, amount) of each spend-limit upsert."""

    # ----------------------------------------------------------------- the fake's own helpers

    def add_user(self, email: str, name: str, *, tier: str = "standard") -> User:
        user = User(f"user_{len(self.users) + 1:04d}", email, name, tier)
        self.users.append(user)
        return user

    def user(self, email: str) -> User:
        return next(u for u in self.users if u.email == email)

    def effective(self, email: str) -> str | None:
        user = self.user(email)
        return self.limits.get(user.id, self.org_limit)

    def ask_for_more(self, email: str, request_id: str, at: str) -> None:
        self.increase_requests.append(IncreaseRequest(request_id, self.user(email).id, at))

    def error(self, status: int, message: str, kind: str = "api_error") -> web.Response:
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        return web.json_response(
            {"type": "error", "error": {"type": kinds.get(status, kind), "message": message}},
            status=status,
        )

    def authorised(self, request: web.Request) -> web.Response | None:
        if request.headers.get("x-api-key") != KEY:
            return self.error(401, "invalid x-api-key")
        if request.headers.get("anthropic-version") != "2023-06-01":
            return self.error(400, "anthropic-version header is required")
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
            web.get(f"{base}/usage_report/claude_code", self._claude_code),
            web.get(f"{base}/usage_report/messages", self._messages),
            web.get(increases, self._increases),
            web.get(f"{increases}/{{id}}", self._increase),
            web.post(f"{increases}/{{id}}/approve", self._approve),
            web.post(f"{increases}/{{id}}/deny", self._deny),
        ]

    def _limit(self, request: web.Request, default: int) -> int:
        return min(int(request.query.get("limit", default)), self.page_size)

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
                        "role": "user",
                        "added_at": "2026-01-05T09:00:00Z",
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

    def _summary(self, user: User) -> dict[str, Any]:
        own = user.id in self.limits
        source = (
            {"type": "user", "user_id": user.id}
            if own
            else {"type": "seat_tier", "seat_tier": user.tier}
        )
        return {
            "actor": {
                "type": "user_actor",
                "user_id": user.id,
                "email_address": user.email,
                "name": user.name,
                "deleted": False,
            },
            "amount": self.limits[user.id] if own else self.org_limit,
            "currency": "USD",
            "period": "monthly",
            "period_to_date_spend": "1234.5",
            "scope": {"type": "user", "user_id": user.id},
            "source": source,
            "spend_limit_id": f"spl_{user.id}",
        }

    async def _effective(self, request: web.Request) -> web.Response:
        return self._paged(request, [self._summary(u) for u in self.users], 20)

    async def _set_limit(self, request: web.Request) -> web.Response:
        body = await request.json()
        scope = body.get("scope") or {}
        amount = body.get("amount")
        if scope.get("type") != "user" or not any(u.id == scope.get("user_id") for u in self.users):
            return self.error(400, "scope must name a user of the organization")
        if amount is not None and (not isinstance(amount, str) or not amount.isdigit()):
            return self.error(400, "amount must be a non-negative integer decimal string")
        if body.get("period", "monthly") != "monthly":
            return self.error(400, "this fake only keeps monthly limits")
        self.limits[scope["user_id"]] = amount
        self.limit_writes.append((scope["user_id"], amount))
        return web.json_response(self._spend_limit(scope["user_id"]))

    def _spend_limit(self, user_id: str) -> dict[str, Any]:
        return {
            "type": "spend_limit",
            "id": f"spl_{user_id}",
            "amount": self.limits.get(user_id),
            "currency": "USD",
            "is_enabled": True,
            "period": "monthly",
            "scope": {"type": "user", "user_id": user_id},
            "created_at": "2026-01-05T09:00:00Z",
            "updated_at": "2026-01-05T09:00:00Z",
        }

    async def _claude_code(self, request: web.Request) -> web.Response:
        day = request.query.get("starting_at", "")
        try:
            date.fromisoformat(day)
        except ValueError:
            return self.error(400, "starting_at must be a UTC date YYYY-MM-DD")
        return self._paged(request, self.claude_code.get(day, []), 20)

    async def _messages(self, request: web.Request) -> web.Response:
        if request.query.get("bucket_width") != "1h":
            return self.error(400, "this fake serves hourly buckets only")
        start = _instant(request.query["starting_at"])
        end = _instant(request.query.get("ending_at", "2999-01-01T00:00:00Z"))
        wanted = [b for b in self.buckets if start <= _instant(b["starting_at"]) < end]
        return self._paged(request, wanted, 24)

    def _increase_json(self, item: IncreaseRequest) -> dict[str, Any]:
        user = next(u for u in self.users if u.id == item.user_id)
        summary = self._summary(user)
        return {
            "type": "spend_limit_increase_request",
            "id": item.id,
            "actor": summary["actor"],
            "created_at": item.created_at,
            "period": "monthly",
            "status": item.status,
            "resolved_at": None if item.status == "pending" else "2026-11-20T12:00:00Z",
            "resolved_by": None,
            "spend_summary": summary if item.status == "pending" else None,
        }

    async def _increases(self, request: web.Request) -> web.Response:
        statuses = request.query.getall("status[]", [])
        items = [r for r in self.increase_requests if not statuses or r.status in statuses]
        return self._paged(request, [self._increase_json(r) for r in reversed(items)], 20)

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
        amount = (await request.json()).get("amount")
        if not isinstance(amount, str) or not amount.isdigit():
            return self.error(400, "amount must be a non-negative integer decimal string")
        item.status = "approved"
        self.limits[item.user_id] = amount
        self.approvals.append((item.id, amount))
        return web.json_response(
            {**self._increase_json(item), "spend_limit": self._spend_limit(item.user_id)}
        )

    async def _deny(self, request: web.Request) -> web.Response:
        item = self._find(request)
        if item is None:
            return self.error(404, "spend limit increase request not found")
        if item.status == "approved":
            return self.error(400, "request is already approved")
        item.status = "denied"
        return web.json_response(self._increase_json(item))

    def _paged(self, request: web.Request, items: list[Any], default: int) -> web.Response:
        start = _offset(request.query.get("page"))
        size = self._limit(request, default)
        page = items[start : start + size]
        more = start + size < len(items)
        return web.json_response(
            {
                "data": page,
                "has_more": more,
                "next_page": _cursor(start + size) if more else None,
            }
        )


def _cursor(offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(str(offset).encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.urlsafe_b64decode(cursor.removeprefix("page_")).decode())


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
