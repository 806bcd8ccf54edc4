"""The `anthropic` admin connector: the Anthropic Admin API of a Claude Team/Enterprise org.

Reads members (`/v1/organizations/users`), their effective spend limits per period and where
each comes from (`/v1/organizations/spend_limits/effective`), Enterprise groups and their
members (`/v1/organizations/rbac_groups`), Claude Code usage per user per day
(`/v1/organizations/usage_report/claude_code`) and real cost per person per hour
(`/v1/organizations/analytics/cost`, falling back to token estimates from
`/v1/organizations/usage_report/messages` where that report is not available). Writes
per-user spend limits (`POST /v1/organizations/spend_limits`, an upsert on user and period),
deletes them so a member inherits again (`DELETE /v1/organizations/spend_limits/{id}`),
decisions on native increase requests, and member removal. Seat tiers have no API: a tier
change becomes a manual task.

None of these endpoints takes an idempotency key; each write is safe to repeat instead. A
spend limit is an upsert on (user, period); deleting a limit that is gone is done; removing a
removed member finds a 404, which is success; a native approve or deny that finds the request
already decided checks that it was decided the same way, and makes sure of the limit with the
upsert.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from bot.connectors.anthropic import wire
from bot.connectors.anthropic.pricing import estimated_cents
from bot.connectors.http_client import JsonApi, RateLimiter, Reply, error_code, paginate
from workflows.admin import (
    Capability,
    DailyUsage,
    HourlyUsage,
    NativeIncreaseRequest,
    PermanentConnectorError,
    RemoteGroup,
    RemoteMember,
    UnsupportedOperation,
)
from workflows.model import Period

log = logging.getLogger(__name__)

SERVICE = "the Anthropic Admin API"
CREDENTIAL = "ANTHROPIC_ADMIN_KEY"
API_VERSION = "2023-06-01"
COST_BETA = "analytics-usage-cost-2026-08-24"
"""The beta the SDK sends with `GET /v1/organizations/analytics/cost`."""
SPEND_LIMITS_PER_MINUTE = 60
"""The spend-limits endpoints share this many requests per minute per organisation."""

_SPEND = "/v1/organizations/spend_limits"
_INCREASES = "/v1/organizations/spend_limit_increase_requests"
_USERS = "/v1/organizations/users"
_GROUPS = "/v1/organizations/rbac_groups"
_COST = "/v1/organizations/analytics/cost"
_SPEND_PREFIX = "/v1/organizations/spend_limit"  # spend_limits and spend_limit_increase_requests
_ADMIN_ROLES = frozenset({"admin", "owner", "primary_owner"})
"""Organisation roles that administer it (Claude Console: admin; Claude Enterprise: owners)."""
_OWN = "user"
"""The source of a limit that is the member's own."""
# Hourly buckets per page: the API allows up to 168 (a week) for bucket_width=1h.
_HOURS_PER_PAGE = 168
_COST_ROWS_PER_PAGE = 1000
_COST_RANGE = timedelta(days=31)
_COST_EARLIEST = datetime(2026, 1, 1, tzinfo=UTC)
"""The analytics cost report starts on this day; nothing earlier can be asked for."""
_REFUSALS = {
    "spend_limits_admin_api_writes_not_enabled": (
        "Spend-limit writes are not enabled for this organisation: Anthropic has to switch on "
        "spend-limit management through the Admin API before capdesk can change limits"
    ),
    "organization_type_not_supported": (
        "This kind of Anthropic organisation does not offer this part of the Admin API "
        "(spend limits and groups are for Claude Enterprise organisations)"
    ),
}


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
    email_members: bool = False,
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
            refusals=_REFUSALS,
            **api,
        ),
        email_members=email_members,
    )


class AnthropicConnector:
    """`AdminConnector`, `NativeRequestSource`, `InheritedCaps` and `GroupSource` on the
    Anthropic Admin API.

    `email_members`: let Anthropic e-mail the member when capdesk approves or denies their
    increase request (capdesk tells them in chat itself, so by default it does not).
    """

    name = "anthropic"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.READ_MEMBERS,
            Capability.READ_DAILY_USAGE,
            Capability.READ_HOURLY_USAGE,
            Capability.SET_CAP,
            Capability.REMOVE_SEAT,
            Capability.NATIVE_REQUESTS,
            Capability.INHERITED_CAPS,
            Capability.READ_GROUPS,
        }
    )

    def __init__(self, api: JsonApi, *, email_members: bool = False) -> None:
        self._api = api
        self._suppress = not email_members
        self._ids: dict[str, str] = {}
        """Email (lower case) -> user id, from the last listing or look-up."""
        self._emails: dict[str, str] = {}

    def close(self) -> None:
        """Release the HTTP connections."""
        self._api.close()

    # ------------------------------------------------------------------------------- reading

    def list_members(self) -> list[RemoteMember]:
        """Every member with the monthly limit in force for them (None: no limit).

        The seat tier shows only where a limit is inherited from it: a member with their own
        limit, or one from a group, has no tier here (None), and the store keeps the one it had.
        """
        users = list(self._users())
        monthly: dict[str, wire.SpendSummary] = {}
        tiers: dict[str, str] = {}
        for row in self._effective():
            user_id = row.actor.member_id
            if user_id is None:
                continue
            if row.period == Period.MONTHLY.value:
                monthly[user_id] = row
            if row.source is not None and row.source.type == "seat_tier" and row.source.seat_tier:
                tiers[user_id] = row.source.seat_tier
        return [
            RemoteMember(
                email=user.email.lower(),
                name=user.name or user.email,
                tier=tiers.get(user.id),
                monthly_cap_cents=_cents(monthly[user.id].amount) if user.id in monthly else None,
                external_id=user.id,
                admin=user.role in _ADMIN_ROLES,
            )
            for user in users
        ]

    def list_groups(self) -> list[RemoteGroup]:
        """The organisation's groups with their members; none for an org without groups."""
        groups = list(
            self._cursor(
                wire.RbacGroupPage,
                _GROUPS,
                {"limit": 100},
                what="the groups",
                scope=None,
                optional=True,
            )
        )
        return [
            RemoteGroup(
                id=group.id,
                name=group.name,
                members=tuple(
                    sorted(
                        member.email.lower()
                        for member in self._cursor(
                            wire.RbacGroupMemberPage,
                            f"{_GROUPS}/{quote(group.id, safe='')}/members",
                            {"limit": 1000},
                            what=f"the members of the group {group.name!r}",
                            scope=None,
                        )
                    )
                ),
            )
            for group in groups
        ]

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
        """Real cost per member per hour (the analytics cost report); commands unknown (0).

        Where that report is not available to the key, the legacy messages report's tokens
        are priced at list prices instead; it is empty for Claude Enterprise organisations.
        """
        self._ensure_directory()
        totals = self._hourly_cost(since, until)
        if totals is None:
            totals = self._hourly_estimate(since, until)
        return [
            HourlyUsage(email=email, hour=hour, spend_cents=round(cents), commands=0)
            for (email, hour), cents in sorted(totals.items())
            if round(cents) > 0
        ]

    def pending_native_requests(self) -> list[NativeIncreaseRequest]:
        """Members' increase requests waiting for a decision (keys' requests are skipped)."""
        found = []
        for request in self._increase_requests():
            email = request.actor.email_address
            if request.status != "pending" or request.actor.member_id is None or email is None:
                continue
            summary = request.spend_summary
            if summary is not None:
                _usd(summary.currency)
            found.append(
                NativeIncreaseRequest(
                    id=request.id,
                    email=email.lower(),
                    created_at=_instant(request.created_at),
                    limit_cents=_cents(summary.amount) if summary is not None else None,
                    period=Period(request.period),
                )
            )
        return found

    def cap_inherited(self, email: str, period: Period) -> bool:
        """Whether the member's limit at `period` is inherited (or there is none) right now."""
        row = self._effective_row(self._user_id(email), period)
        return row is None or row.source is None or row.source.type != _OWN

    # ------------------------------------------------------------------------------- writing

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        """Set the member's monthly spend limit (an upsert on user and period)."""
        self._set_limit(self._user_id(email), cap_cents, Period.MONTHLY)

    def set_period_cap(
        self, email: str, cap_cents: int, period: Period, *, idempotency_key: str
    ) -> None:
        """Set the member's own limit at `period` (an upsert on user and period)."""
        self._set_limit(self._user_id(email), cap_cents, period)

    def inherit_cap(self, email: str, period: Period, *, idempotency_key: str) -> None:
        """Delete the member's own limit at `period`; none left (a repeat) is done already."""
        row = self._effective_row(self._user_id(email), period)
        if row is None or row.source is None or row.source.type != _OWN:
            return
        if not row.spend_limit_id:
            raise PermanentConnectorError(
                f"{SERVICE} did not say which spend limit is {email}'s own, so capdesk "
                "cannot delete it; delete it in the admin console."
            )
        self._api.call(
            "DELETE",
            f"{_SPEND}/{quote(row.spend_limit_id, safe='')}",
            scope="write:spend_limits",
            accept=(404,),
        )

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

    def approve_native(
        self, native_id: str, cap_cents: int, *, period: Period, idempotency_key: str
    ) -> None:
        """Approve a native request with the new limit at its period."""
        _amount(cap_cents)
        path = f"{_INCREASES}/{quote(native_id, safe='')}"
        reply = self._api.call(
            "POST",
            f"{path}/approve",
            json={
                "amount": str(cap_cents),
                "period": period.value,
                "suppress_notification": self._suppress,
            },
            scope="write:spend_limits",
            accept=(400, 409),
        )
        if reply.status < 300:
            return
        # Already decided: fine if it was approved (by our earlier try, or in the console);
        # the upsert then makes sure the limit is the one capdesk approved.
        request = self._increase_request(path, reply)
        if request.status != "approved" or request.actor.member_id is None:
            raise PermanentConnectorError(
                f"The increase request {native_id} is already {request.status} in the "
                "Anthropic console, so capdesk cannot approve it."
            )
        self._set_limit(request.actor.member_id, cap_cents, period)

    def deny_native(self, native_id: str, *, idempotency_key: str) -> None:
        """Deny a native request (the API treats a repeated denial as done)."""
        path = f"{_INCREASES}/{quote(native_id, safe='')}"
        reply = self._api.call(
            "POST",
            f"{path}/deny",
            json={"suppress_notification": self._suppress},
            scope="write:spend_limits",
            accept=(400, 409),
        )
        if reply.status < 300:
            return
        request = self._increase_request(path, reply)
        if request.status != "denied":
            raise PermanentConnectorError(
                f"The increase request {native_id} is already {request.status} in the "
                "Anthropic console, so capdesk cannot deny it."
            )

    # ------------------------------------------------------------------------------- details

    def _set_limit(self, user_id: str, cap_cents: int, period: Period) -> None:
        _amount(cap_cents)
        self._api.call(
            "POST",
            _SPEND,
            json={
                "amount": str(cap_cents),
                "period": period.value,
                "scope": {"type": "user", "user_id": user_id},
            },
            scope="write:spend_limits",
        )

    def _increase_request(self, path: str, refused: Reply) -> wire.IncreaseRequest:
        """The request a decision was refused on; still pending, the refusal had another cause."""
        body = self._api.get(path, scope="read:spend_limits")
        request = self._api.parse(wire.IncreaseRequest, body, "an increase request")
        if request.status == "pending":
            raise self._api.error("POST", path, refused, "write:spend_limits")
        return request

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
            return found.data, found.following

        return paginate(page, service=SERVICE)

    def _effective(self, params: dict[str, Any] | None = None) -> Iterator[wire.SpendSummary]:
        for row in self._cursor(
            wire.SpendSummaryPage,
            f"{_SPEND}/effective",
            {"limit": 100, **(params or {})},
            what="the effective spend limits",
        ):
            _usd(row.currency)
            yield row

    def _effective_row(self, user_id: str, period: Period) -> wire.SpendSummary | None:
        rows = self._effective({"user_ids[]": user_id, "period[]": period.value})
        return next(
            (r for r in rows if r.actor.member_id == user_id and r.period == period.value), None
        )

    def _hourly_cost(
        self, since: datetime, until: datetime
    ) -> dict[tuple[str, datetime], float] | None:
        """Cost per (member, hour), or None where the key may not read the report."""
        totals: defaultdict[tuple[str, datetime], float] = defaultdict(float)
        start = max(since.astimezone(UTC), _COST_EARLIEST)
        end = until.astimezone(UTC)
        while start < end:
            stop = min(end, start + _COST_RANGE)
            params = {
                "starting_at": _rfc3339(start),
                "ending_at": _rfc3339(stop),
                "time_bucket_width": "1h",
                "group_by[]": "actor",
                "limit": _COST_ROWS_PER_PAGE,
            }
            rows = self._pages(
                wire.CostPage,
                _COST,
                params,
                what="the analytics cost report",
                scope="read:usage",
                absent=(403, 404),
                headers={"anthropic-beta": COST_BETA},
            )
            if rows is None:
                return None
            for item in rows:
                email = self._email_of(item.group.actor)
                if email is None:
                    continue  # an API key, a service account, or a deleted account
                _usd(item.cost.currency)
                totals[email, _instant(item.starting_at)] += _fraction(item.cost.amount)
            start = stop
        return totals

    def _hourly_estimate(
        self, since: datetime, until: datetime
    ) -> dict[tuple[str, datetime], float]:
        totals: defaultdict[tuple[str, datetime], float] = defaultdict(float)
        params: dict[str, Any] = {
            "starting_at": _rfc3339(since),
            "ending_at": _rfc3339(until),
            "bucket_width": "1h",
            "group_by[]": ["account_id", "model"],
            "limit": _HOURS_PER_PAGE,
        }
        buckets = self._pages(
            wire.MessagesPage,
            "/v1/organizations/usage_report/messages",
            params,
            what="the messages usage report",
            scope="read:usage",
            absent=(403, 404),
        )
        for bucket in buckets or []:
            hour = _instant(bucket.starting_at)
            for result in bucket.results:
                email = self._emails.get(result.account_id or "")
                if email is not None:
                    totals[email, hour] += estimated_cents(result)
        return totals

    def _email_of(self, actor: wire.Actor | None) -> str | None:
        if actor is None or actor.member_id is None:
            return None
        if actor.email_address:
            return actor.email_address.lower()
        return self._emails.get(actor.member_id)

    def _claude_code(self, day: date) -> Iterator[wire.ClaudeCodeRecord]:
        return self._cursor(
            wire.ClaudeCodePage,
            "/v1/organizations/usage_report/claude_code",
            {"starting_at": day.isoformat(), "limit": 1000},
            what="the Claude Code usage report",
            scope="read:usage",
        )

    def _increase_requests(self) -> Iterator[wire.IncreaseRequest]:
        return self._cursor(
            wire.IncreaseRequestPage,
            _INCREASES,
            {"status[]": "pending", "limit": 100},
            what="the spend-limit increase requests",
        )

    def _cursor(
        self,
        model: type[Any],
        path: str,
        params: dict[str, Any],
        *,
        what: str,
        scope: str | None = "read:spend_limits",
        optional: bool = False,
    ) -> Iterator[Any]:
        """Every item of a `page`/`next_page` list; with `optional`, an organisation without
        the endpoint (404, or an organisation type that lacks it) has none."""
        absent = (404,) if optional else ()
        found = self._pages(model, path, params, what=what, scope=scope, absent=absent)
        return iter(()) if found is None else found

    def _pages(
        self,
        model: type[Any],
        path: str,
        params: dict[str, Any],
        *,
        what: str,
        scope: str | None,
        absent: Collection[int],
        headers: dict[str, str] | None = None,
    ) -> Iterator[Any] | None:
        """Every item of a `page`/`next_page` list, or None when the first page answers a status
        in `absent` (or, with `absent` at all, says the organisation type lacks the list)."""
        first = self._api.call(
            "GET", path, params=params, headers=headers, scope=scope, accept=(*absent, 400)
        )
        if first.status in absent or (absent and _unsupported(first)):
            log.info("%s has no %s for this organisation (%d)", SERVICE, what, first.status)
            return None
        if first.status >= 300:
            raise self._api.error("GET", path, first, scope)

        def page(cursor: str | None) -> tuple[list[Any], str | None]:
            if cursor is None:
                reply = first
            else:
                query = {**params, "page": cursor}
                reply = self._api.call("GET", path, params=query, headers=headers, scope=scope)
            parsed = self._api.parse(model, reply.body, what)
            return list(parsed.data), parsed.following

        return paginate(page, service=SERVICE)


def _unsupported(reply: Reply) -> bool:
    return reply.status == 400 and error_code(reply.body) == "organization_type_not_supported"


def _usd(currency: str) -> None:
    if currency.upper() != "USD":
        raise PermanentConnectorError(
            f"The Anthropic organisation is billed in {currency}; capdesk reads caps and "
            "spend in USD only."
        )


def _amount(cap_cents: int) -> None:
    if cap_cents < 0:
        raise PermanentConnectorError(f"A spend limit cannot be negative ({cap_cents}).")


def _fraction(amount: str) -> float:
    """Fractional minor units (`"12050.125"`) as a float of cents."""
    try:
        value = Decimal(amount)
    except InvalidOperation:
        raise PermanentConnectorError(
            f"{SERVICE} gave an amount capdesk cannot read: {amount!r}."
        ) from None
    if not value.is_finite() or value < 0:
        raise PermanentConnectorError(f"{SERVICE} gave an impossible amount: {amount!r}.")
    return float(value)


def _cents(amount: str | None) -> int | None:
    """A minor-units decimal string (`"12050"`, `"12050.5"`) as whole cents; None stays None."""
    return None if amount is None else round(_fraction(amount))


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
