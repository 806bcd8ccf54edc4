"""A fake of capdesk's generic admin contract, as `manifests/admin-api.openapi.yaml` says.

Source: the contract itself (this repository), written for SPEC section 7: `GET /members`,
`GET /usage?since=`, `PUT /members/{email}/cap`, `PUT /members/{email}/tier`,
`DELETE /members/{email}/seat`, `Idempotency-Key` on every write, bearer token auth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.connectors.server import FakeBackend

TOKEN = "capdesk-admin-token-test-secret"


@dataclass
class FakeContract(FakeBackend):
    """Seats and usage behind the contract; each idempotency key applies once."""

    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 1000
    tiers: tuple[str, ...] = ("standard", "premium")
    tiers_supported: bool = True
    replies: dict[str, tuple[str, int, Any]] = field(default_factory=dict)
    """Idempotency key -> (fingerprint of the request, status, body) of its first answer."""
    applied: list[tuple[str, str, Any]] = field(default_factory=list)
    """(key, path, body) of each write that took effect."""

    def add_member(self, email: str, name: str, *, cap: int | None = 8500) -> None:
        self.members[email] = {
            "email": email,
            "name": name,
            "tier": "standard",
            "monthly_cap_cents": cap,
            "active": True,
            "id": f"m-{len(self.members) + 1}",
        }

    def authorised(self, request: web.Request) -> web.Response | None:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return self.error(401, "missing or wrong bearer token", "unauthorized")
        return None

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/members", self._members),
            web.get("/usage", self._usage),
            web.put("/members/{email}/cap", self._write),
            web.put("/members/{email}/tier", self._write),
            web.delete("/members/{email}/seat", self._write),
        ]

    def _page(self, request: web.Request, items: list[Any], name: str) -> web.Response:
        start = int(request.query.get("cursor", 0))
        size = min(int(request.query.get("limit", 100)), self.page_size)
        more = start + size < len(items)
        return web.json_response(
            {name: items[start : start + size], "next_cursor": str(start + size) if more else None}
        )

    async def _members(self, request: web.Request) -> web.Response:
        return self._page(request, list(self.members.values()), "members")

    async def _usage(self, request: web.Request) -> web.Response:
        if "since" not in request.query:
            return self.error(400, "since is required", "bad_request")
        granularity = request.query.get("granularity", "day")
        since, until = request.query["since"], request.query.get("until", "9999")
        if granularity == "day":
            rows = [r for r in self.usage if "day" in r and since <= r["day"] <= until]
        else:
            rows = [r for r in self.usage if "hour" in r and since <= r["hour"] < until]
        return self._page(request, rows, "usage")

    async def _write(self, request: web.Request) -> web.Response:
        key = request.headers.get("Idempotency-Key")
        if not key:
            return self.error(400, "Idempotency-Key is required", "bad_request")
        raw = await request.read()
        fingerprint = json.dumps([request.method, request.path, raw.decode()])
        if key in self.replies:
            seen, status, body = self.replies[key]
            if seen != fingerprint:
                return self.error(
                    409, "this Idempotency-Key was used for another change", "conflict"
                )
            return web.json_response(body, status=status)
        response = self._apply(request, json.loads(raw) if raw else None)
        if response.status < 500:
            self.replies[key] = (fingerprint, response.status, json.loads(response.text or "null"))
        if response.status == 200:
            self.applied.append((key, request.path, json.loads(raw) if raw else None))
        return response

    def _apply(self, request: web.Request, body: Any) -> web.Response:
        member = self.members.get(request.match_info["email"].lower())
        if member is None:
            return self.error(404, f"no member {request.match_info['email']}", "not_found")
        what = request.path.rsplit("/", 1)[1]
        if what == "cap":
            cap = (body or {}).get("monthly_cap_cents", "missing")
            if cap is not None and (not isinstance(cap, int) or cap < 0):
                return self.error(
                    400, "monthly_cap_cents must be a whole number of cents", "bad_request"
                )
            member["monthly_cap_cents"] = cap
        elif what == "tier":
            if not self.tiers_supported:
                return self.error(501, "this backend has no seat tiers", "not_implemented")
            tier = (body or {}).get("tier")
            if tier not in self.tiers:
                return self.error(400, f"unknown tier {tier!r}", "bad_request")
            member["tier"] = tier
        else:
            member["active"] = False
        return web.json_response(member)
