"""The `litellm` admin connector: a LiteLLM proxy's internal users and their budgets.

Reads users with `GET /user/list` (page by page) and `GET /user/info`, usage from
`GET /spend/logs` (one row per request, so both daily and hourly figures and request counts
come from it). Applies a cap with `POST /user/update` (`max_budget` in USD and
`budget_duration`): it sets a value, so repeating it is harmless, which is how an
idempotency key is honoured here. LiteLLM has no seat tiers and capdesk does not delete
LiteLLM users (that would delete their keys): both become manual tasks.

A key that belongs to a team is limited by the team's budget, not its user's: raising a
user's `max_budget` does not help requests made with a team key.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from bot.connectors.http_client import JsonApi, paginate
from bot.connectors.litellm import wire
from workflows.admin import (
    Capability,
    DailyUsage,
    HourlyUsage,
    PermanentConnectorError,
    RemoteMember,
)

SERVICE = "the LiteLLM proxy"
CREDENTIAL = "LITELLM_MASTER_KEY"
DEFAULT_BUDGET_DURATION = "30d"
_PAGE_SIZE = 100
_LOGS = TypeAdapter(list[wire.SpendLog])


def build(
    base_url: str,
    master_key: str,
    *,
    tier: str = "standard",
    budget_duration: str = DEFAULT_BUDGET_DURATION,
    **api: Any,
) -> LiteLLMConnector:
    """The connector on a new HTTP client; `api` goes to `JsonApi` (timeout, retry, sleep...)."""
    return LiteLLMConnector(
        JsonApi(
            base_url,
            service=SERVICE,
            credential=CREDENTIAL,
            headers={"Authorization": f"Bearer {master_key}"},
            **api,
        ),
        tier=tier,
        budget_duration=budget_duration,
    )


class LiteLLMConnector:
    """`AdminConnector` on a LiteLLM proxy's admin API (needs the master key)."""

    name = "litellm"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.READ_MEMBERS,
            Capability.READ_DAILY_USAGE,
            Capability.READ_HOURLY_USAGE,
            Capability.SET_CAP,
        }
    )

    def __init__(
        self,
        api: JsonApi,
        *,
        tier: str = "standard",
        budget_duration: str = DEFAULT_BUDGET_DURATION,
    ) -> None:
        self._api = api
        self._tier = tier
        self._budget_duration = budget_duration
        self._emails: dict[str, str] = {}
        """LiteLLM user id -> email, from the last listing."""

    def close(self) -> None:
        """Release the HTTP connections."""
        self._api.close()

    def list_members(self) -> list[RemoteMember]:
        """Every user with an email; users without one (service accounts) are no members."""
        members = []
        for user in self._users():
            email = _email_of(user)
            if email is None:
                continue
            members.append(
                RemoteMember(
                    email=email,
                    name=user.user_alias or email,
                    tier=self._tier,
                    monthly_cap_cents=(
                        None if user.max_budget is None else round(user.max_budget * 100)
                    ),
                    external_id=user.user_id,
                )
            )
        return members

    def daily_usage(self, since: date, until: date) -> list[DailyUsage]:
        """Spend and requests per user per UTC day, summed from the request log."""
        totals: defaultdict[tuple[str, date], list[float]] = defaultdict(lambda: [0.0, 0])
        for email, at, spend in self._requests(since, until):
            total = totals[email, at.date()]
            total[0] += spend
            total[1] += 1
        return [
            DailyUsage(email=email, day=day, spend_cents=round(t[0] * 100), commands=int(t[1]))
            for (email, day), t in sorted(totals.items())
        ]

    def hourly_usage(self, since: datetime, until: datetime) -> list[HourlyUsage]:
        """Spend and requests per user per UTC hour in [since, until)."""
        since, until = since.astimezone(UTC), until.astimezone(UTC)
        totals: defaultdict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0.0, 0])
        for email, at, spend in self._requests(since.date(), until.date()):
            if since <= at < until:
                total = totals[email, at.replace(minute=0, second=0, microsecond=0)]
                total[0] += spend
                total[1] += 1
        return [
            HourlyUsage(email=email, hour=hour, spend_cents=round(t[0] * 100), commands=int(t[1]))
            for (email, hour), t in sorted(totals.items())
        ]

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        """Set the user's `max_budget` (USD) and its reset period."""
        if cap_cents < 0:
            raise PermanentConnectorError(f"A budget cannot be negative ({cap_cents}).")
        self._api.call(
            "POST",
            "/user/update",
            json={
                "user_id": self._user_id(email),
                "max_budget": cap_cents / 100,
                "budget_duration": self._budget_duration,
            },
            scope="the proxy admin role",
        )

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        """LiteLLM has no seat tiers; not in `capabilities`, so the worker never calls this."""
        raise PermanentConnectorError("LiteLLM has no seat tiers.")

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        """Not in `capabilities`: removing a LiteLLM user deletes their keys, so people do it."""
        raise PermanentConnectorError("capdesk does not delete LiteLLM users.")

    def _users(self) -> Iterator[wire.User]:
        def page(number: str | None) -> tuple[list[wire.User], str | None]:
            current = int(number or 1)
            body = self._api.get(
                "/user/list",
                params={"page": current, "page_size": _PAGE_SIZE},
                scope="the proxy admin role",
            )
            found = self._api.parse(wire.UserPage, body, "the user list")
            for user in found.users:
                email = _email_of(user)
                if email is not None:
                    self._emails[user.user_id] = email
            more = found.users and current < found.total_pages
            return found.users, str(current + 1) if more else None

        return paginate(page, service=SERVICE)

    def _user_id(self, email: str) -> str:
        email = email.lower()
        known = next((uid for uid, e in self._emails.items() if e == email), None)
        if known is not None:
            return known
        # Many proxies key users by their email: one look-up before listing everyone.
        reply = self._api.call(
            "GET",
            "/user/info",
            params={"user_id": email},
            scope="the proxy admin role",
            accept=(400, 404),
        )
        if reply.status < 300:
            info = self._api.parse(wire.UserInfo, reply.body, "the user info")
            if info.user_info is not None and _email_of(info.user_info) == email:
                return info.user_info.user_id
        for user in self._users():
            if _email_of(user) == email:
                return user.user_id
        raise PermanentConnectorError(f"The LiteLLM proxy has no user with the email {email}.")

    def _requests(self, since: date, until: date) -> Iterator[tuple[str, datetime, float]]:
        """(email, time, spend in USD) of each request from `since` through `until`, UTC."""
        if not self._emails:
            for _ in self._users():
                pass
        day = since
        while day <= until:
            # The proxy filters `startTime` from start_date 00:00 to end_date 00:00, inclusive.
            body = self._api.get(
                "/spend/logs",
                params={
                    "start_date": day.isoformat(),
                    "end_date": (day + timedelta(days=1)).isoformat(),
                    "summarize": "false",
                },
                scope="the proxy admin role",
            )
            for log in self._parse_logs(body):
                email = self._emails.get(log.user or "")
                at = _instant(log.startTime)
                if email is not None and at.date() == day:
                    yield email, at, log.spend
            day += timedelta(days=1)

    def _parse_logs(self, body: Any) -> list[wire.SpendLog]:
        try:
            return _LOGS.validate_python(body)
        except ValueError:
            raise PermanentConnectorError(
                f"{SERVICE} answered /spend/logs with something capdesk cannot read; "
                "is LITELLM_BASE_URL the proxy's address?"
            ) from None


def _email_of(user: wire.User) -> str | None:
    if user.user_email:
        return user.user_email.lower()
    return user.user_id.lower() if "@" in user.user_id else None


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PermanentConnectorError(
            f"{SERVICE} gave a request time capdesk cannot read: {text!r}."
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
