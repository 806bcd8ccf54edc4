"""Chargeback: each group's seats by tier, active users, spend and grants in a month."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from store.repositories.history import joins_times, request_times
from store.tables import (
    GrantRow,
    GroupMemberRow,
    MemberRow,
    RequestRow,
    SeatRow,
    UsageDailyRow,
    table,
)
from workflows.model import RequestKind
from workflows.reports.records import GroupMonth, Window

_R = table(RequestRow)
_G = table(GrantRow)
_GM = table(GroupMemberRow)
_M = table(MemberRow)
_S = table(SeatRow)
_D = table(UsageDailyRow)


def chargeback(session: Session, window: Window) -> list[GroupMonth]:
    """Per group (None: members in no group), in group order."""
    seats = _seats(session, window)
    usage = {
        row.group_name: (int(row.active_users), int(row.spent))
        for row in session.execute(
            select(
                _GM.c.group_name,
                func.count(func.distinct(_D.c.member_id)).label("active_users"),
                func.coalesce(func.sum(_D.c.spend_cents), 0).label("spent"),
            )
            .select_from(_D)
            .outerjoin(_GM, _GM.c.member_id == _D.c.member_id)
            .where(
                _D.c.day >= window.first_day,
                _D.c.day <= window.last_day,
                or_(_D.c.spend_cents > 0, _D.c.commands > 0),
            )
            .group_by(_GM.c.group_name)
        )
    }
    grants = _grants_in_force(session, window)
    groups = sorted(set(seats) | set(usage) | set(grants), key=lambda g: (g is None, g or ""))
    return [
        GroupMonth(
            group=group,
            seats=seats.get(group, {}),
            active_users=usage.get(group, (0, 0))[0],
            spent_cents=usage.get(group, (0, 0))[1],
            grants_in_force=grants.get(group, 0),
        )
        for group in groups
    ]


def _seats(session: Session, window: Window) -> dict[str | None, dict[str, int]]:
    """Active seats by group and by the tier they had at `window.until`.

    That tier is the one a temporary upgrade in force then gave; else the tier before the
    first upgrade capdesk applied after then; else the tier now.
    """
    at = window.until
    times = request_times()
    upgrades = (
        select(
            _R.c.id,
            _R.c.requester,
            _R.c.tier_before,
            _R.c.target_tier,
            _R.c.ends_at,
            times.c.applied_at,
            times.c.reverted_at,
        )
        .join(times, joins_times(times))
        .where(_R.c.kind == RequestKind.SEAT_UPGRADE, times.c.applied_at.is_not(None))
        .cte("upgrades")
    )
    in_force = (
        select(upgrades.c.requester, func.max(upgrades.c.target_tier).label("tier"))
        .where(
            upgrades.c.ends_at.is_not(None),
            upgrades.c.applied_at < at,
            or_(upgrades.c.reverted_at.is_(None), upgrades.c.reverted_at >= at),
        )
        .group_by(upgrades.c.requester)
        .subquery("in_force")
    )
    ranked = (
        select(
            upgrades.c.requester,
            upgrades.c.tier_before,
            func.row_number()
            .over(
                partition_by=upgrades.c.requester,
                order_by=(upgrades.c.applied_at, upgrades.c.id),
            )
            .label("rank"),
        )
        .where(upgrades.c.applied_at >= at)
        .subquery("later")
    )
    later = select(ranked.c.requester, ranked.c.tier_before).where(ranked.c.rank == 1).subquery()
    tier = func.coalesce(in_force.c.tier, later.c.tier_before, _S.c.tier).label("tier")
    rows = session.execute(
        select(_GM.c.group_name, tier, func.count().label("seats"))
        .select_from(_M)
        .join(_S, _S.c.member_id == _M.c.id)
        .outerjoin(_GM, _GM.c.member_id == _M.c.id)
        .outerjoin(in_force, in_force.c.requester == _M.c.email)
        .outerjoin(later, later.c.requester == _M.c.email)
        .where(_M.c.active)
        .group_by(_GM.c.group_name, tier)
    )
    found: dict[str | None, dict[str, int]] = defaultdict(dict)
    for row in rows:
        found[row.group_name][row.tier] = int(row.seats)
    return dict(found)


def _grants_in_force(session: Session, window: Window) -> dict[str | None, int]:
    """Temporary grants in force at some point of the month, by the holder's group."""
    times = request_times()
    rows = session.execute(
        select(_GM.c.group_name, func.count(func.distinct(_G.c.id)))
        .select_from(_G)
        .join(_R, _R.c.id == _G.c.request_id)
        .join(times, joins_times(times))
        .outerjoin(_M, _M.c.email == _G.c.email)
        .outerjoin(_GM, _GM.c.member_id == _M.c.id)
        .where(
            and_(times.c.applied_at.is_not(None), times.c.applied_at < window.until),
            or_(times.c.reverted_at.is_(None), times.c.reverted_at >= window.start),
        )
        .group_by(_GM.c.group_name)
    )
    return {group: int(count) for group, count in rows}
