"""The `anthropic` admin connector: the Anthropic Admin API of a Claude Team/Enterprise org.

Reads members (`/v1/organizations/users`), their effective monthly spend limits
(`/v1/organizations/spend_limits/effective`), Claude Code usage per user per day
(`/v1/organizations/usage_report/claude_code`) and API usage per account per hour
(`/v1/organizations/usage_report/messages`). Writes per-user monthly spend limits
(`POST /v1/organizations/spend_limits`, an upsert), decisions on native increase requests,
and member removal. Seat tiers have no API: a tier change becomes a manual task.

None of these endpoints takes an idempotency key; each write is safe to repeat instead. A
spend limit is an upsert on (user, period); removing a removed member finds a 404, which is
success; a native approve or deny that finds the request already decided checks that it was
decided the same way, and makes sure of the limit with the upsert.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from bot.connectors.anthropic import wire
from bot.connectors.anthropic.pricing import estimated_cents
from bot.connectors.http_client import JsonApi, RateLimiter, paginate
from workflows.admin import (
    Capability,
    DailyUsage,
    HourlyUsage,
    NativeIncreaseRequest,
    PermanentConnectorError,
    RemoteMember,
    UnsupportedOperation,
)

log = logging.getLogger(__name__)

SERVICE = "the Anthropic Admin API"
CREDENTIAL = "ANTHROPIC_ADMIN_KEY"
API_VERSION = "2023-06-01"
SPEND_LIMITS_PER_MINUTE = 60
"""The spend-limits endpoints share this many requests per minute per organisation."""

_SPEND = "/v1/organizations/spend_limits"
_INCREASES = "/v1/organizations/spend_limit_increase_requests"
_USERS = "/v1/organizations/users"
_SPEND_PREFIX = "/v1/organizations/spend_limit"  # spend_limits and spend_limit_increase_requests
_MONTHLY = "monthly"
# Hourly buckets per page: the API allows up to 168 (a week) for bucket_width=1h.
_HOURS_PER_PAGE = 168


def headers(key: str) -> dict[str, str]:
    """The headers every Admin API call carries."""
    return {"x-api-key": key, "anthropic-version": API_VERSION}


def spend_limiter(*, headroom: int = 10) -> RateLimiter:
    """Keeps this process `headroom` calls a minute under the organisation's spend-limit quota."""
    return RateLimiter(SPEND_LIMITS_PER_MINUTE - headroom, 60.0)


def limited_paths(limiter: RateLimiter) -> Callable[[str], RateLimiter | None]:
    """`JsonApi(limits=...)`: the limiter for the spend-limit endpoints, nothing for the rest."""
    return lambda path: limiter if path.startswith(_SPEND_PREFIX) else None


def build(
    key: str,
    base_url: str = "https://api.anthropic.com",
    *,
    limiter: RateLimiter | None = None,
    **api: Any,
) -> AnthropicConnector:
    """The connector on a new HTTP client; `api` goes to `JsonApi` (timeout, retry, sleep...)."""
    return AnthropicConnector(
        JsonApi(
            base_url,
            service=SERVICE,
            credential=CREDENTIAL,
            headers=headers(key),
            limits=limited_paths(limiter or spend_limiter()),
            **api,
        )
    )


class AnthropicConnector:
    """`AdminConnector` and `NativeRequestSource` on the Anthropic Admin API."""

    name = "anthropic"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.READ_MEMBERS,
            Capability.READ_DAILY_USAGE,
            Capability.READ_HOURLY_USAGE,
            Capability.SET_CAP,
            Capability.REMOVE_SEAT,
            Capability.NATIVE_REQUESTS,
        }
    )

    def __init__(self, api: JsonApi, *, default_tier: str = "standard") -> None:
        self._api = api
        self._default_tier = default_tier
        self._ids: dict[str, str] = {}
        """Email (lower case) -> user id, from the last listing or look-up."""
        self._emails: dict[str, str] = {}

    def close(self) -> None:
        """Release the HTTP connections."""
        self._api.close()

    # ------------------------------------------------------------------------------- reading

    def list_members(self) -> list[RemoteMember]:
        """Every member with the monthly limit in force for them (None: no limit)."""
        users = list(self._users())
        limits = {row.actor.user_id: row for row in self._effective_monthly()}
        members = []
        for user in users:
            row = limits.get(user.id)
            tier = self._default_tier
            if row is not None and row.source is not None and row.source.seat_tier:
                tier = row.source.seat_tier
            members.append(
                RemoteMember(
                    email=user.email.lower(),
                    name=user.name or user.email,
                    tier=tier,
                    monthly_cap_cents=_cents(row.amount) if row is not None else None,
                    external_id=user.id,
                )
            )
        return members

    def daily_usage(self, since: date, until: date) -> list[DailyUsage]:
        """Claude Code usage per user per day; the report holds one day per call."""
        rows: list[DailyUsage] = []
        day = since
        while day <= until:
            spend: defaultdict[str, float] = defaultdict(float)
            sessions: defaultdict[str, int] = defaultdict(int)
            for record in self._claude_code(day):
                if record.actor.email_address is None:
                    continue  # an API key's usage belongs to no member
                email = record.actor.email_address.lower()
                spend[email] += sum(m.estimated_cost.amount for m in record.model_breakdown)
                sessions[email] += record.core_metrics.num_sessions
            rows += [
                DailyUsage(email=e, day=day, spend_cents=round(spend[e]), commands=sessions[e])
                for e in sorted(spend)
            ]
            day += timedelta(days=1)
        return rows

    def hourly_usage(self, since: datetime, until: datetime) -> list[HourlyUsage]:
        """API usage per member per hour, its cost estimated from tokens; commands unknown (0).

        An organisation without API usage (a Claude Enterprise seat org) has no such report;
        that is not an error: there is simply no hourly data.
        """
        self._ensure_directory()
        totals: defaultdict[tuple[str, datetime], float] = defaultdict(float)
        for bucket in self._messages(since, until):
            hour = _instant(bucket.starting_at)
            for result in bucket.results:
                email = self._emails.get(result.account_id or "")
                if email is not None:
                    totals[email, hour] += estimated_cents(result)
        return [
            HourlyUsage(email=email, hour=hour, spend_cents=round(cents), commands=0)
            for (email, hour), cents in sorted(totals.items())
        ]

    def pending_native_requests(self) -> list[NativeIncreaseRequest]:
        """Members' increase requests waiting for a decision (API keys' requests are skipped)."""
        found = []
        for request in self._increase_requests():
            email = request.actor.email_address
            if request.status != "pending" or email is None:
                continue
            limit = request.spend_summary.amount if request.spend_summary else None
            found.append(
                NativeIncreaseRequest(
                    id=request.id,
                    email=email.lower(),
                    created_at=_instant(request.created_at),
                    limit_cents=_cents(limit),
                )
            )
        return found

    # ------------------------------------------------------------------------------- writing

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        """Set the member's monthly spend limit (an upsert on user and period)."""
        self._set_limit(self._user_id(email), cap_cents)

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        """Seat tiers have no API; the worker turns this into a manual task."""
        raise UnsupportedOperation(
            f"Anthropic has no API for seat tiers: move {email} to {tier} in the admin console."
        )

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        """Remove the member from the organisation; one already gone counts as removed."""
        user_id = self._user_id(email)
        self._api.call(
            "DELETE", f"{_USERS}/{quote(user_id, safe='')}", scope="write:users", accept=(404,)
        )

    def approve_native(self, native_id: str, cap_cents: int, *, idempotency_key: str) -> None:
        """Approve a native request with the new monthly limit."""
        path = f"{_INCREASES}/{quote(native_id, safe='')}"
        reply = self._api.call(
            "POST",
            f"{path}/approve",
            json={"amount": str(cap_cents), "period": _MONTHLY},
            scope="write:spend_limits",
            accept=(400, 409),
        )
        if reply.status < 300:
            return
        # Already decided: fine if it was approved (by our earlier try, or in the console);
        # the upsert then makes sure the limit is the one capdesk approved.
        request = self._increase_request(path)
        if request.status != "approved" or request.actor.user_id is None:
            raise PermanentConnectorError(
                f"The increase request {native_id} is already {request.status} in the "
                "Anthropic console, so capdesk cannot approve it."
            )
        self._set_limit(request.actor.user_id, cap_cents)

    def deny_native(self, native_id: str, *, idempotency_key: str) -> None:
        """Deny a native request (the API treats a repeated denial as done)."""
        path = f"{_INCREASES}/{quote(native_id, safe='')}"
        reply = self._api.call(
            "POST", f"{path}/deny", json={}, scope="write:spend_limits", accept=(400, 409)
        )
        if reply.status < 300:
            return
        request = self._increase_request(path)
        if request.status != "denied":
            raise PermanentConnectorError(
                f"The increase request {native_id} is already {request.status} in the "
                "Anthropic console, so capdesk cannot deny it."
            )

    # ------------------------------------------------------------------------------- details

    def _set_limit(self, user_id: str, cap_cents: int) -> None:
        if cap_cents < 0:
            raise PermanentConnectorError(f"A spend limit cannot be negative ({cap_cents}).")
        self._api.call(
            "POST",
            _SPEND,
            json={
                "amount": str(cap_cents),
                "period": _MONTHLY,
                "scope": {"type": "user", "user_id": user_id},
            },
            scope="write:spend_limits",
        )

    def _increase_request(self, path: str) -> wire.IncreaseRequest:
        body = self._api.get(path, scope="read:spend_limits")
        return self._api.parse(wire.IncreaseRequest, body, "an increase request")

    def _user_id(self, email: str) -> str:
        email = email.lower()
        if email not in self._ids:
            body = self._api.get(_USERS, params={"email": email, "limit": 1}, scope="read:users")
            page = self._api.parse(wire.UserPage, body, "the user look-up")
            for user in page.data:
                self._remember(user)
        if email not in self._ids:
            raise PermanentConnectorError(f"The Anthropic organisation has no member {email}.")
        return self._ids[email]

    def _remember(self, user: wire.User) -> None:
        self._ids[user.email.lower()] = user.id
        self._emails[user.id] = user.email.lower()

    def _ensure_directory(self) -> None:
        if not self._emails:
            for _ in self._users():
                pass

    def _users(self) -> Iterator[wire.User]:
        def page(after: str | None) -> tuple[list[wire.User], str | None]:
            params: dict[str, str | int] = {"limit": 100}
            if after is not None:
                params["after_id"] = after
            body = self._api.get(_USERS, params=params, scope="read:users")
            found = self._api.parse(wire.UserPage, body, "the user list")
            for user in found.data:
                self._remember(user)
            following = found.last_id or (found.data[-1].id if found.data else None)
            return found.data, following if found.has_more else None

        return paginate(page, service=SERVICE)

    def _effective_monthly(self) -> Iterator[wire.SpendSummary]:
        rows = self._pages(
            wire.SpendSummaryPage,
            f"{_SPEND}/effective",
            {"period[]": _MONTHLY, "limit": 100},
            what="the effective spend limits",
            scope="read:spend_limits",
        )
        return (row for row in rows if row.period == _MONTHLY)

    def _claude_code(self, day: date) -> Iterator[wire.ClaudeCodeRecord]:
        return self._pages(
            wire.ClaudeCodePage,
            "/v1/organizations/usage_report/claude_code",
            {"starting_at": day.isoformat(), "limit": 1000},
            what="the Claude Code usage report",
            scope="read:usage",
        )

    def _messages(self, since: datetime, until: datetime) -> Iterator[wire.MessagesBucket]:
        return self._pages(
            wire.MessagesPage,
            "/v1/organizations/usage_report/messages",
            {
                "starting_at": _rfc3339(since),
                "ending_at": _rfc3339(until),
                "bucket_width": "1h",
                "group_by[]": ["account_id", "model"],
                "limit": _HOURS_PER_PAGE,
            },
            what="the messages usage report",
            scope="read:usage",
            absent=(403, 404),
        )

    def _increase_requests(self) -> Iterator[wire.IncreaseRequest]:
        return self._pages(
            wire.IncreaseRequestPage,
            _INCREASES,
            {"status[]": "pending", "limit": 100},
            what="the spend-limit increase requests",
            scope="read:spend_limits",
        )

    def _pages(
        self,
        model: type[wire.ClaudeCodePage]
        | type[wire.MessagesPage]
        | type[wire.SpendSummaryPage]
        | type[wire.IncreaseRequestPage],
        path: str,
        params: dict[str, str | int | list[str]],
        *,
        what: str,
        scope: str,
        absent: Collection[int] = (),
    ) -> Iterator[Any]:
        """Every item of a `page`/`next_page` list; a status in `absent` means none at all."""

        def page(cursor: str | None) -> tuple[list[Any], str | None]:
            query = dict(params) if cursor is None else {**params, "page": cursor}
            reply = self._api.call("GET", path, params=query, scope=scope, accept=absent)
            if reply.status in absent:
                log.info("%s has no %s for this organisation (%d)", SERVICE, what, reply.status)
                return [], None
            found = self._api.parse(model, reply.body, what)
            return list(found.data), found.next_page if found.has_more else None

        return paginate(page, service=SERVICE)


def _cents(amount: str | None) -> int | None:
    """A minor-units decimal string (`"12050"`, `"12050.5"`) as whole cents; None stays None."""
    if amount is None:
        return None
    try:
        value = float(amount)
    except ValueError:
        raise PermanentConnectorError(
            f"{SERVICE} gave an amount capdesk cannot read: {amount!r}."
        ) from None
    if not math.isfinite(value) or value < 0:
        raise PermanentConnectorError(f"{SERVICE} gave an impossible amount: {amount!r}.")
    return round(value)


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PermanentConnectorError(
            f"{SERVICE} gave a time capdesk cannot read: {text!r}."
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rfc3339(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
