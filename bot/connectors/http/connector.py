"""The `http` admin connector: capdesk's own contract, `manifests/admin-api.openapi.yaml`.

Every write carries the outbox operation's idempotency key as `Idempotency-Key`, so the
backend applies it once however often capdesk retries. A 501 means the backend cannot do
that kind of change: it becomes a manual task for the admins.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from bot.connectors.http import wire
from bot.connectors.http_client import JsonApi, error_detail, paginate
from workflows.admin import (
    Capability,
    DailyUsage,
    HourlyUsage,
    PermanentConnectorError,
    RemoteMember,
    UnsupportedOperation,
)

SERVICE = "the admin API at CAPDESK_ADMIN_URL"
CREDENTIAL = "CAPDESK_ADMIN_TOKEN"
_PAGE = 500


def build(base_url: str, token: str | None = None, **api: Any) -> HttpContractConnector:
    """The connector on a new HTTP client; `api` goes to `JsonApi` (timeout, retry, sleep...)."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return HttpContractConnector(
        JsonApi(base_url, service=SERVICE, credential=CREDENTIAL, headers=auth, **api)
    )


class HttpContractConnector:
    """`AdminConnector` on a service that implements capdesk's admin contract."""

    name = "http"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.READ_MEMBERS,
            Capability.READ_DAILY_USAGE,
            Capability.READ_HOURLY_USAGE,
            Capability.SET_CAP,
            Capability.SET_TIER,
            Capability.REMOVE_SEAT,
        }
    )

    def __init__(self, api: JsonApi) -> None:
        self._api = api

    def close(self) -> None:
        """Release the HTTP connections."""
        self._api.close()

    def list_members(self) -> list[RemoteMember]:
        """`GET /members`, every page."""

        def page(cursor: str | None) -> tuple[list[wire.Member], str | None]:
            body = self._api.get("/members", params=_paged({"limit": _PAGE}, cursor))
            found = self._api.parse(wire.MemberPage, body, "GET /members")
            return found.members, found.next_cursor

        return [
            RemoteMember(
                email=m.email.lower(),
                name=m.name,
                tier=m.tier,
                monthly_cap_cents=m.monthly_cap_cents,
                active=m.active,
                external_id=m.id,
            )
            for m in paginate(page, service=SERVICE)
        ]

    def daily_usage(self, since: date, until: date) -> list[DailyUsage]:
        """`GET /usage?granularity=day`, every page."""
        rows = self._usage(since.isoformat(), until.isoformat(), "day")
        return [
            DailyUsage(
                email=u.email.lower(), day=u.day, spend_cents=u.spend_cents, commands=u.commands
            )
            for u in rows
            if u.day is not None
        ]

    def hourly_usage(self, since: datetime, until: datetime) -> list[HourlyUsage]:
        """`GET /usage?granularity=hour`, every page."""
        rows = self._usage(_rfc3339(since), _rfc3339(until), "hour")
        return [
            HourlyUsage(
                email=u.email.lower(),
                hour=u.hour.astimezone(UTC),
                spend_cents=u.spend_cents,
                commands=u.commands,
            )
            for u in rows
            if u.hour is not None and u.hour.tzinfo is not None
        ]

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        """`PUT /members/{email}/cap`."""
        self._write("PUT", email, "cap", {"monthly_cap_cents": cap_cents}, idempotency_key)

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        """`PUT /members/{email}/tier`."""
        self._write("PUT", email, "tier", {"tier": tier}, idempotency_key)

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        """`DELETE /members/{email}/seat`."""
        self._write("DELETE", email, "seat", None, idempotency_key)

    def _write(
        self, method: str, email: str, what: str, body: dict[str, Any] | None, key: str
    ) -> None:
        path = f"/members/{quote(email.lower(), safe='@')}/{what}"
        reply = self._api.call(
            method, path, json=body, headers={"Idempotency-Key": key}, accept=(501,)
        )
        if reply.status == 501:
            detail = error_detail(reply.body) or "not implemented"
            raise UnsupportedOperation(f"{SERVICE} cannot {method} {path}: {detail}")
        self._api.parse(wire.Member, reply.body, f"{method} {path}")

    def _usage(self, since: str, until: str, granularity: str) -> Iterator[wire.Usage]:
        def page(cursor: str | None) -> tuple[list[wire.Usage], str | None]:
            params = {"since": since, "until": until, "granularity": granularity, "limit": _PAGE}
            body = self._api.get("/usage", params=_paged(params, cursor))
            found = self._api.parse(wire.UsagePage, body, "GET /usage")
            return found.usage, found.next_cursor

        return paginate(page, service=SERVICE)


def _paged(params: dict[str, Any], cursor: str | None) -> dict[str, Any]:
    return params if cursor is None else {**params, "cursor": cursor}


def _rfc3339(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise PermanentConnectorError("capdesk asked for usage with a time without a zone.")
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
