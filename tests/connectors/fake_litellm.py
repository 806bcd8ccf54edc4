"""A fake LiteLLM proxy: the admin endpoints capdesk uses, in their wire format.

Sources: https://docs.litellm.ai/docs/proxy/users and the proxy's code at
github.com/BerriAI/litellm: litellm/proxy/management_endpoints/internal_user_endpoints.py
(`GET /user/list?page&page_size` answers `{users, total, page, page_size, total_pages}`;
`GET /user/info?user_id` answers `{user_id, user_info, keys, teams}`; `POST /user/update`
takes `user_id`, `max_budget` (USD), `budget_duration`) and
litellm/proxy/spend_tracking/spend_management_endpoints.py (`GET /spend/logs` with
`start_date`, `end_date` (YYYY-MM-DD, startTime from start 00:00 to end 00:00 inclusive) and
`summarize=false` lists request rows with `user`, `spend` in USD, `startTime`). Errors are
`{"error": {"message", "type", "param", "code"}}` (ProxyException).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiohttp import web

from tests.connectors.server import FakeBackend

MASTER_KEY = "sk-litellm-master-test-secret"


@dataclass
class FakeLiteLLM(FakeBackend):
    """Users with budgets, and the spend log."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 1000
    updates: list[dict[str, Any]] = field(default_factory=list)

    def add_user(self, user_id: str, email: str | None, *, max_budget: float | None) -> None:
        self.users[user_id] = {
            "user_id": user_id,
            "user_email": email,
            "user_alias": None,
            "user_role": "internal_user",
            "max_budget": max_budget,
            "budget_duration": "30d" if max_budget is not None else None,
            "spend": 0.0,
            "teams": [],
            "key_count": 1,
        }

    def log(self, user_id: str, at: str, spend: float) -> None:
        self.logs.append(
            {
                "request_id": f"chatcmpl-{len(self.logs)}",
                "call_type": "acompletion",
                "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
                "spend": spend,
                "total_tokens": 100,
                "startTime": at,
                "endTime": at,
                "model": "claude-sonnet-4",
                "user": user_id,
                "team_id": None,
            }
        )

    def error(self, status: int, message: str, kind: str = "internal_error") -> web.Response:
        return web.json_response(
            {"error": {"message": message, "type": kind, "param": "None", "code": str(status)}},
            status=status,
        )

    def authorised(self, request: web.Request) -> web.Response | None:
        if request.headers.get("authorization") != f"Bearer {MASTER_KEY}":
            return self.error(
                401, "Authentication Error, Invalid proxy server token passed.", "auth_error"
            )
        return None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/user/list", self._list),
            web.get("/user/info", self._info),
            web.post("/user/update", self._update),
            web.get("/spend/logs", self._logs),
        ]

    async def _list(self, request: web.Request) -> web.Response:
        page = int(request.query.get("page", 1))
        size = min(int(request.query.get("page_size", 25)), self.page_size)
        users = list(self.users.values())
        return web.json_response(
            {
                "users": users[(page - 1) * size : page * size],
                "total": len(users),
                "page": page,
                "page_size": size,
                "total_pages": max(1, math.ceil(len(users) / size)),
            }
        )

    async def _info(self, request: web.Request) -> web.Response:
        user = self.users.get(request.query.get("user_id", ""))
        if user is None:
            return self.error(404, "User not found", "not_found")
        return web.json_response(
            {"user_id": user["user_id"], "user_info": user, "keys": [], "teams": []}
        )

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        user = self.users.get(body.get("user_id", ""))
        if user is None:
            return self.error(400, "user not found", "bad_request")
        for name in ("max_budget", "budget_duration"):
            if name in body:
                user[name] = body[name]
        self.updates.append(body)
        return web.json_response({"user_id": user["user_id"], "data": user})

    async def _logs(self, request: web.Request) -> web.Response:
        if request.query.get("summarize") != "false":
            return self.error(400, "this fake serves unsummarized logs only", "bad_request")
        start = datetime.fromisoformat(request.query["start_date"])
        end = datetime.fromisoformat(request.query["end_date"])
        rows = [r for r in self.logs if start <= _naive(r["startTime"]) <= end]
        return web.json_response(sorted(rows, key=lambda r: r["startTime"], reverse=True))


def _naive(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
