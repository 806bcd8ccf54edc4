"""The access review: every seat with the request behind it, and the elevations of a period."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from store.repositories.history import joins_times, request_times
from store.repositories.requests import request_record
from store.tables import GroupMemberRow, MemberRow, RequestRow, SeatRow, UsageDailyRow, table
from workflows.model import Period, Request, RequestKind, RequestStatus
from workflows.reports.records import AccessData, AccessQuery, Elevation, Holding

_R = table(RequestRow)
_GM = table(GroupMemberRow)
_M = table(MemberRow)
_S = table(SeatRow)
_D = table(UsageDailyRow)


def access(session: Session, query: AccessQuery) -> AccessData:
    return AccessData(holdings=_holdings(session), elevations=_elevations(session, query))


def _holdings(session: Session) -> list[Holding]:
    """Active seats. The request behind a tier or a cap is the latest of its kind applied and
    still in force (a monthly cap's, for the cap)."""
    times = request_times()
    ranked = (
        select(
            _R.c.id,
            _R.c.requester,
            _R.c.kind,
            times.c.applied_at,
            func.row_number()
            .over(
                partition_by=(_R.c.requester, _R.c.kind),
                order_by=(times.c.applied_at.desc(), _R.c.id.desc()),
            )
            .label("rank"),
        )
        .join(times, joins_times(times))
        .where(
            _R.c.status == RequestStatus.APPLIED,
            times.c.applied_at.is_not(None),
            or_(_R.c.kind == RequestKind.SEAT_UPGRADE, _R.c.period == Period.MONTHLY),
        )
        .subquery("ranked")
    )
    behind = select(ranked).where(ranked.c.rank == 1).subquery("behind")
    tier = behind.alias("tier_request")
    cap = behind.alias("cap_request")
    used = (
        select(
            _D.c.member_id,
            func.min(_D.c.day).label("first_used"),
            func.max(_D.c.day).label("last_active"),
        )
        .where(or_(_D.c.spend_cents > 0, _D.c.commands > 0))
        .group_by(_D.c.member_id)
        .subquery("used")
    )
    rows = session.execute(
        select(
            _M.c.email,
            _M.c.name,
            _M.c.first_seen,
            _GM.c.group_name,
            _S.c.tier,
            _S.c.cap_cents,
            used.c.first_used,
            used.c.last_active,
            tier.c.id.label("tier_request"),
            tier.c.applied_at.label("tier_since"),
            cap.c.id.label("cap_request"),
            cap.c.applied_at.label("cap_since"),
        )
        .select_from(_M)
        .join(_S, _S.c.member_id == _M.c.id)
        .outerjoin(_GM, _GM.c.member_id == _M.c.id)
        .outerjoin(used, used.c.member_id == _M.c.id)
        .outerjoin(
            tier, and_(tier.c.requester == _M.c.email, tier.c.kind == RequestKind.SEAT_UPGRADE)
        )
        .outerjoin(cap, and_(cap.c.requester == _M.c.email, cap.c.kind == RequestKind.CAP_INCREASE))
        .where(_M.c.active)
        .order_by(_GM.c.group_name, _M.c.email)
    ).all()
    ids = {i for row in rows for i in (row.tier_request, row.cap_request) if i is not None}
    requests = _requests(session, ids)
    return [
        Holding(
            email=row.email,
            name=row.name,
            group=row.group_name,
            tier=row.tier,
            cap_cents=row.cap_cents,
            first_seen=min(
                (d for d in (row.first_seen, row.first_used) if d is not None), default=None
            ),
            last_active=row.last_active,
            tier_request=requests.get(row.tier_request),
            tier_since=row.tier_since,
            cap_request=requests.get(row.cap_request),
            cap_since=row.cap_since,
        )
        for row in rows
    ]


def _requests(session: Session, ids: set[int]) -> dict[int | None, Request]:
    if not ids:
        return {}
    rows = session.execute(select(_R).where(_R.c.id.in_(sorted(ids)))).mappings()
    return {row["id"]: request_record(row) for row in rows}


def _elevations(session: Session, query: AccessQuery) -> list[Elevation]:
    times = request_times()
    rows = session.execute(
        select(*_R.c, times.c.applied_at, times.c.reverted_at, _M.c.name.label("member_name"))
        .join(times, joins_times(times))
        .outerjoin(_M, _M.c.email == _R.c.requester)
        .where(times.c.applied_at >= query.since, times.c.applied_at < query.now)
        .order_by(times.c.applied_at, _R.c.id)
    ).mappings()
    return [
        Elevation(
            request=request_record(row),
            name=row["member_name"],
            applied_at=row["applied_at"],
            reverted_at=row["reverted_at"],
        )
        for row in rows
    ]
