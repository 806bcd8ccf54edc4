"""The seat pool: each tier's seats in use, held temporarily, and left idle, counted in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, Select, and_, exists, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from store.tables import GrantRow, MemberRow, OperationRow, SeatRow, UsageDailyRow, table
from workflows.model import (
    GrantStatus,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    RequestKind,
)
from workflows.pool.records import IdleHolder, TierUse

_M = table(MemberRow)
_S = table(SeatRow)
_G = table(GrantRow)
_O = table(OperationRow)
_D = table(UsageDailyRow)

_HOLDING = (GrantStatus.ACTIVE, GrantStatus.REVERTING)
"""A grant holds its seat until its revert has been applied."""
_UNFINISHED = (
    OperationStatus.PENDING,
    OperationStatus.IN_PROGRESS,
    OperationStatus.MANUAL,
    OperationStatus.FAILED,
)


_USED = or_(_D.c.spend_cents > 0, _D.c.commands > 0)
"""A day the seat was used on."""


class SqlSeatPool:
    """Counts per tier in one grouped statement each; idle holders ranked by a window."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def tiers(
        self, tiers: Sequence[str], *, idle_since: date, idle_limit: int
    ) -> Sequence[TierUse]:
        wanted = list(tiers)
        if not wanted:
            return []
        holders = self._counts(
            select(_S.c.tier, func.count())
            .join(_M, _M.c.id == _S.c.member_id)
            .where(_M.c.active, _S.c.tier.in_(wanted))
            .group_by(_S.c.tier)
        )
        temporary = self._counts(
            select(_G.c.tier_after, func.count(func.distinct(_G.c.email)))
            .join(_M, _M.c.email == _G.c.email)
            .join(_S, and_(_S.c.member_id == _M.c.id, _S.c.tier == _G.c.tier_after))
            .where(
                _M.c.active,
                _G.c.kind == RequestKind.SEAT_UPGRADE,
                _G.c.status.in_(_HOLDING),
                _G.c.tier_after.in_(wanted),
            )
            .group_by(_G.c.tier_after)
        )
        # Approved upgrades still on their way take their seat already, so two owners cannot
        # both give away the last one.
        coming = self._counts(
            select(_O.c.tier, func.count(func.distinct(_O.c.email)))
            .join(_M, _M.c.email == _O.c.email)
            .join(_S, _S.c.member_id == _M.c.id)
            .where(
                _M.c.active,
                _O.c.kind == OperationKind.SET_TIER,
                _O.c.purpose == OperationPurpose.APPLY,
                _O.c.status.in_(_UNFINISHED),
                _O.c.tier.in_(wanted),
                _S.c.tier != _O.c.tier,
            )
            .group_by(_O.c.tier)
        )
        idle = self._idle(wanted, idle_since=idle_since, limit=idle_limit)
        return [
            TierUse(
                tier=tier,
                in_use=holders.get(tier, 0) + coming.get(tier, 0),
                held_temporarily=temporary.get(tier, 0),
                idle_count=idle[tier][0] if tier in idle else 0,
                idle=tuple(idle[tier][1]) if tier in idle else (),
            )
            for tier in wanted
        ]

    def _counts(self, statement: Select[Any]) -> dict[str, int]:
        """`tier, count` rows as a mapping."""
        return {row[0]: int(row[1]) for row in self._s.execute(statement) if row[0] is not None}

    def _idle(
        self, tiers: list[str], *, idle_since: date, limit: int
    ) -> dict[str, tuple[int, list[IdleHolder]]]:
        # Only holders with no use since `idle_since` have their last day looked up further
        # back (in the primary key, newest first): most holders used their seat lately.
        used_since = exists().where(_D.c.member_id == _M.c.id, _D.c.day > idle_since, _USED)
        last_use = (
            select(func.max(_D.c.day)).where(_D.c.member_id == _M.c.id, _USED).scalar_subquery()
        )
        temporary = exists().where(
            _G.c.email == _M.c.email,
            _G.c.kind == RequestKind.SEAT_UPGRADE,
            _G.c.status.in_(_HOLDING),
            _G.c.tier_after == _S.c.tier,
        )
        candidates = (
            select(
                _S.c.tier,
                _M.c.email,
                _M.c.name,
                type_coerce(func.coalesce(last_use, _M.c.first_seen), Date).label("last_active"),
                temporary.label("temporary"),
            )
            .join(_S, _S.c.member_id == _M.c.id)
            .where(_M.c.active, _S.c.tier.in_(tiers), ~used_since)
            .subquery("candidates")
        )
        ranked = select(
            candidates,
            func.row_number()
            .over(
                partition_by=candidates.c.tier,
                order_by=(candidates.c.last_active, candidates.c.email),
            )
            .label("rank"),
            func.count().over(partition_by=candidates.c.tier).label("idle_count"),
        ).where(candidates.c.last_active <= idle_since)
        listed = ranked.subquery("ranked")
        rows = self._s.execute(
            select(listed)
            .where(listed.c.rank <= literal(max(limit, 1)))
            .order_by(listed.c.tier, listed.c.rank)
        ).all()
        found: dict[str, tuple[int, list[IdleHolder]]] = {}
        for row in rows:
            _count, holders = found.setdefault(row.tier, (int(row.idle_count), []))
            if len(holders) >= limit:
                continue
            holders.append(
                IdleHolder(
                    email=row.email,
                    name=row.name,
                    last_active=row.last_active,
                    temporary=bool(row.temporary),
                )
            )
        return found
