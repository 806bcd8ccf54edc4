"""Members, their seats and their usage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import RowMapping, bindparam, func, select, update
from sqlalchemy.orm import Session

from store.repositories.figures import daily_figures
from store.tables import MemberRow, SeatRow, UsageDailyRow, UsageHourlyRow, table
from store.upsert import upsert
from workflows.admin import DailyUsage, HourlyUsage
from workflows.model import Member

_M = table(MemberRow)
_S = table(SeatRow)
_D = table(UsageDailyRow)
_H = table(UsageHourlyRow)

_MEMBER_COLUMNS = (
    _M.c.email,
    _M.c.name,
    _M.c.external_id,
    _M.c.active,
    _M.c.backend_groups,
    _S.c.tier,
    _S.c.cap_cents,
)

# Statements run several times per request are built once: building one and computing its cache
# key cost more Python time than the round trip itself.
_MEMBERS = select(*_MEMBER_COLUMNS).join(_S, _S.c.member_id == _M.c.id)
_MEMBER_BY_EMAIL = _MEMBERS.where(_M.c.email == bindparam("email"))
_ID_BY_EMAIL = select(_M.c.id).where(_M.c.email == bindparam("email"))
_SINCE = daily_figures(bindparam("since"))
_SPEND_SINCE = (
    select(func.coalesce(func.sum(_SINCE.c.spend_cents), 0))
    .select_from(_SINCE)
    .join(_M, _M.c.id == _SINCE.c.member_id)
    .where(_M.c.email == bindparam("email"))
)
_ESTIMATED_SINCE = (
    select(func.coalesce(func.sum(_SINCE.c.estimated_cents), 0))
    .select_from(_SINCE)
    .join(_M, _M.c.id == _SINCE.c.member_id)
    .where(_M.c.email == bindparam("email"))
)


class SqlMembers:
    """Members joined with their seats."""

    def __init__(self, session: Session) -> None:
        self._s = session
        self._ids: dict[str, int] = {}
        # A transaction reads the same few members several times (requester, approver).
        self._seen: dict[str, Member | None] = {}

    def get(self, email: str) -> Member | None:
        key = email.lower()
        if key not in self._seen:
            row = self._s.execute(_MEMBER_BY_EMAIL, {"email": key}).mappings().first()
            self._seen[key] = None if row is None else _member(row)
        return self._seen[key]

    def list(self) -> Sequence[Member]:
        rows = self._s.execute(_MEMBERS.order_by(_M.c.email)).mappings()
        return [_member(row) for row in rows]

    def id_of(self, email: str) -> int | None:
        """The member's row id (cached for the transaction)."""
        key = email.lower()
        if key not in self._ids:
            found = self._s.execute(_ID_BY_EMAIL, {"email": key}).scalar()
            if found is None:
                return None
            self._ids[key] = found
        return self._ids[key]

    def ids(self) -> dict[str, int]:
        """Every member's row id by email."""
        self._ids = {email: id_ for id_, email in self._s.execute(select(_M.c.id, _M.c.email))}
        return dict(self._ids)

    def upsert(self, member: Member) -> None:
        email = member.email.lower()
        self._seen.pop(email, None)
        values = {
            "name": member.name,
            "external_id": member.external_id,
            "active": member.active,
            "backend_groups": list(member.backend_groups),
        }
        upsert(self._s, _M, {"email": email, **values}, keys=["email"], update=list(values))
        member_id = self.id_of(email)
        seat = {"tier": member.tier, "cap_cents": member.cap_cents}
        upsert(self._s, _S, {"member_id": member_id, **seat}, keys=["member_id"], update=list(seat))

    def set_seat(
        self, email: str, *, cap_cents: int | None = None, tier: str | None = None
    ) -> None:
        self._seen.pop(email.lower(), None)
        values: dict[str, object] = {}
        if cap_cents is not None:
            values["cap_cents"] = cap_cents
        if tier is not None:
            values["tier"] = tier
        member_id = self.id_of(email)
        if values and member_id is not None:
            self._s.execute(update(_S).where(_S.c.member_id == member_id).values(**values))

    def deactivate(self, email: str) -> None:
        self._seen.pop(email.lower(), None)
        self._s.execute(update(_M).where(_M.c.email == email.lower()).values(active=False))


def _member(row: RowMapping) -> Member:
    return Member(
        email=row["email"],
        name=row["name"],
        tier=row["tier"],
        cap_cents=row["cap_cents"],
        active=row["active"],
        external_id=row["external_id"],
        backend_groups=tuple(row["backend_groups"] or ()),
    )


class SqlUsage:
    """Usage per day and per hour."""

    def __init__(self, session: Session, members: SqlMembers) -> None:
        self._s = session
        self._members = members

    def _rows(
        self, rows: Sequence[DailyUsage] | Sequence[HourlyUsage], when: str
    ) -> list[dict[str, object]]:
        ids = self._members.ids()
        out = []
        for r in rows:
            member_id = ids.get(r.email.lower())
            if member_id is not None:
                out.append(
                    {
                        "member_id": member_id,
                        when: getattr(r, when),
                        "spend_cents": r.spend_cents,
                        "commands": r.commands,
                    }
                )
        return out

    def replace_daily(self, rows: Sequence[DailyUsage]) -> int:
        values = self._rows(rows, "day")
        for chunk in _chunks(values):
            upsert(
                self._s, _D, chunk, keys=["member_id", "day"], update=["spend_cents", "commands"]
            )
        return len(values)

    def replace_hourly(self, rows: Sequence[HourlyUsage]) -> int:
        values = self._rows(rows, "hour")
        for chunk in _chunks(values):
            upsert(
                self._s, _H, chunk, keys=["member_id", "hour"], update=["spend_cents", "commands"]
            )
        return len(values)

    def spend_since(self, email: str, since: date) -> int:
        # One query joined on the email (0 for an unknown member), not an id lookup first.
        total = self._s.execute(_SPEND_SINCE, {"email": email.lower(), "since": since}).scalar()
        return int(total or 0)

    def spend_by_member(self, since: date) -> dict[str, int]:
        daily = daily_figures(since)
        rows = self._s.execute(
            select(_M.c.email, func.sum(daily.c.spend_cents))
            .join(daily, daily.c.member_id == _M.c.id)
            .group_by(_M.c.email)
        )
        return {email: int(total) for email, total in rows}

    def estimated_since(self, email: str, since: date) -> int:
        params = {"email": email.lower(), "since": since}
        return int(self._s.execute(_ESTIMATED_SINCE, params).scalar() or 0)


def _chunks(values: list[dict[str, object]], size: int = 500) -> list[list[dict[str, object]]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
