"""The quarterly review's figures: each a grouped statement over the period's rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from store.repositories.history import (
    APPROVED_STATES,
    delegation_until,
    joins_times,
    request_times,
    seconds_between,
    subject_of,
)
from store.repositories.requests import request_record
from store.tables import (
    AuditRow,
    DecisionRow,
    DelegationRow,
    GrantRow,
    GroupMemberRow,
    GroupOwnerRow,
    MemberRow,
    RequestRow,
    SeatRow,
    UsageDailyRow,
    UseCaseQuestionRow,
    table,
)
from workflows.audit import SELF_APPROVAL_REFUSED
from workflows.model import (
    POLICY_ACTOR,
    GrantStatus,
    Period,
    RequestKind,
    RequestStatus,
    Verdict,
)
from workflows.reports.records import (
    ApproverFigures,
    DelegationSpell,
    GrantSpell,
    MemberMonth,
    RequestFigures,
    ReviewData,
    ReviewQuery,
    UseCaseCount,
)

_R = table(RequestRow)
_A = table(AuditRow)
_DEC = table(DecisionRow)
_DL = table(DelegationRow)
_G = table(GrantRow)
_GM = table(GroupMemberRow)
_GO = table(GroupOwnerRow)
_M = table(MemberRow)
_S = table(SeatRow)
_D = table(UsageDailyRow)
_Q = table(UseCaseQuestionRow)

_HOLDING = (GrantStatus.ACTIVE, GrantStatus.REVERTING)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def review(session: Session, query: ReviewQuery) -> ReviewData:
    """Every figure of the review, for every group or for `query.group`."""
    return ReviewData(
        requests=_requests(session, query),
        approvers=_approvers(session, query),
        grants=_grants(session, query),
        use_cases=_use_cases(session, query),
        members=_members(session, query),
        delegations=_delegations(session, query),
    )


def _of_group(column: ColumnElement[Any], query: ReviewQuery) -> ColumnElement[bool]:
    return true() if query.group is None else column == query.group


def _made_in(query: ReviewQuery) -> ColumnElement[bool]:
    window = query.window
    return and_(
        _R.c.created_at >= window.start,
        _R.c.created_at < window.until,
        _of_group(_R.c.group_name, query),
    )


def _requests(session: Session, query: ReviewQuery) -> list[RequestFigures]:
    status = _R.c.status
    approved = status.in_(APPROVED_STATES)
    counts = (
        select(
            _R.c.group_name,
            func.count().label("requests"),
            _count_if(approved).label("approved"),
            _count_if(status == RequestStatus.DENIED).label("denied"),
            _count_if(status == RequestStatus.CANCELLED).label("cancelled"),
            _count_if(status == RequestStatus.EXPIRED).label("expired"),
            _count_if(status == RequestStatus.PENDING).label("pending"),
            _count_if(and_(approved, _R.c.decided_by == POLICY_ACTOR)).label("auto"),
        )
        .where(_made_in(query))
        .group_by(_R.c.group_name)
    )
    found = {row.group_name: row for row in session.execute(counts)}
    waits = _decision_waits(session, query)
    refused = _self_approvals_refused(session, query)
    figures = []
    for group in sorted(set(found) | set(refused)):
        row = found.get(group)
        median, p90 = waits.get(group, (None, None))
        figures.append(
            RequestFigures(
                group=group,
                requests=int(row.requests) if row else 0,
                approved=int(row.approved) if row else 0,
                denied=int(row.denied) if row else 0,
                cancelled=int(row.cancelled) if row else 0,
                expired=int(row.expired) if row else 0,
                pending=int(row.pending) if row else 0,
                auto_approved=int(row.auto) if row else 0,
                self_approvals_refused=refused.get(group, 0),
                median_decision_seconds=median,
                p90_decision_seconds=p90,
            )
        )
    return figures


def _decision_waits(
    session: Session, query: ReviewQuery
) -> dict[str, tuple[float | None, float | None]]:
    """Per group, the median and the 90th percentile (nearest rank) of how long the requests
    a person decided on waited: ranked by a window, picked by rank."""
    decided = (
        select(
            _R.c.group_name,
            seconds_between(session, _R.c.created_at, _R.c.decided_at).label("seconds"),
        )
        .where(
            _made_in(query),
            _R.c.decided_at.is_not(None),
            _R.c.decided_by != POLICY_ACTOR,
            _R.c.status.in_((*APPROVED_STATES, RequestStatus.DENIED)),
        )
        .subquery("decided")
    )
    ranked = select(
        decided.c.group_name,
        decided.c.seconds,
        func.row_number()
        .over(partition_by=decided.c.group_name, order_by=decided.c.seconds)
        .label("rank"),
        func.count().over(partition_by=decided.c.group_name).label("n"),
    ).subquery("ranked")
    rank, n = ranked.c.rank, ranked.c.n
    middle = or_(rank == (n + 1) // 2, rank == (n + 2) // 2)
    rows = session.execute(
        select(
            ranked.c.group_name,
            func.avg(case((middle, ranked.c.seconds))).label("median"),
            func.min(case((rank == (n * 9 + 9) // 10, ranked.c.seconds))).label("p90"),
        ).group_by(ranked.c.group_name)
    )
    # Whole seconds: SQLite's julianday() arithmetic is a few microseconds off.
    return {row.group_name: (round(row.median), round(row.p90)) for row in rows}


def _self_approvals_refused(session: Session, query: ReviewQuery) -> dict[str, int]:
    window = query.window
    rows = session.execute(
        select(_R.c.group_name, func.count())
        .select_from(_A)
        .join(_R, _A.c.subject == subject_of(_R.c.id))
        .where(
            _A.c.action == SELF_APPROVAL_REFUSED,
            _A.c.at >= window.start,
            _A.c.at < window.until,
            _of_group(_R.c.group_name, query),
        )
        .group_by(_R.c.group_name)
    )
    return {group: int(count) for group, count in rows}


def _stood_in() -> ColumnElement[bool]:
    """The decision was made by someone standing in for one of the group's owners."""
    return exists(
        select(_DL.c.id)
        .join(_GO, _GO.c.email == _DL.c.delegator)
        .where(
            _GO.c.group_name == _R.c.group_name,
            _DL.c.delegate == _DEC.c.actor,
            _DL.c.delegator != _DEC.c.actor,
            _DL.c.starts_at <= _DEC.c.at,
            delegation_until() > _DEC.c.at,
        )
    )


def _approvers(session: Session, query: ReviewQuery) -> list[ApproverFigures]:
    window = query.window
    rows = session.execute(
        select(
            _R.c.group_name,
            _DEC.c.actor,
            _M.c.name,
            _count_if(_DEC.c.verdict == Verdict.APPROVE).label("approved"),
            _count_if(_DEC.c.verdict == Verdict.DENY).label("denied"),
            _count_if(_stood_in()).label("as_delegate"),
        )
        .select_from(_DEC)
        .join(_R, _R.c.id == _DEC.c.request_id)
        .outerjoin(_M, _M.c.email == _DEC.c.actor)
        .where(
            _DEC.c.at >= window.start,
            _DEC.c.at < window.until,
            _DEC.c.actor != POLICY_ACTOR,
            _of_group(_R.c.group_name, query),
        )
        .group_by(_R.c.group_name, _DEC.c.actor, _M.c.name)
        .order_by(_R.c.group_name, _DEC.c.actor)
    )
    return [
        ApproverFigures(
            group=row.group_name,
            email=row.actor,
            name=row.name,
            approved=int(row.approved),
            denied=int(row.denied),
            as_delegate=int(row.as_delegate),
        )
        for row in rows
    ]


def _grants(session: Session, query: ReviewQuery) -> list[GrantSpell]:
    """Temporary grants that were in force at some point of the period, or that should have
    ended by then and have not."""
    window = query.window
    times = request_times()
    rows = session.execute(
        select(
            *_R.c,
            _G.c.ends_at.label("grant_ends_at"),
            times.c.applied_at,
            times.c.reverted_at,
            _M.c.name.label("member_name"),
        )
        .select_from(_G)
        .join(_R, _R.c.id == _G.c.request_id)
        .outerjoin(times, joins_times(times))
        .outerjoin(_M, _M.c.email == _G.c.email)
        .where(
            _of_group(_R.c.group_name, query),
            or_(times.c.applied_at.is_(None), times.c.applied_at < window.until),
            or_(times.c.reverted_at.is_(None), times.c.reverted_at >= window.start),
        )
        .order_by(_R.c.group_name, _G.c.ends_at, _R.c.id)
    ).mappings()
    return [
        GrantSpell(
            group=row["group_name"],
            request=request_record(row),
            name=row["member_name"],
            applied_at=row["applied_at"],
            ends_at=row["grant_ends_at"],
            reverted_at=row["reverted_at"],
        )
        for row in rows
    ]


def _use_cases(session: Session, query: ReviewQuery) -> list[UseCaseCount]:
    window = query.window
    answered = and_(_Q.c.answered_at.is_not(None), ~_Q.c.skipped)
    rows = session.execute(
        select(
            _R.c.group_name,
            _Q.c.email,
            _M.c.name,
            _Q.c.use_case,
            func.count().label("asked"),
            _count_if(answered).label("answered"),
            _count_if(_Q.c.skipped).label("skipped"),
        )
        .select_from(_Q)
        .join(_R, _R.c.id == _Q.c.request_id)
        .outerjoin(_M, _M.c.email == _Q.c.email)
        .where(
            _Q.c.asked_at >= window.start,
            _Q.c.asked_at < window.until,
            _of_group(_R.c.group_name, query),
        )
        .group_by(_R.c.group_name, _Q.c.email, _M.c.name, _Q.c.use_case)
        .order_by(_R.c.group_name, _Q.c.email, _Q.c.use_case)
    )
    return [
        UseCaseCount(
            group=row.group_name,
            email=row.email,
            name=row.name,
            use_case=row.use_case,
            asked=int(row.asked),
            answered=int(row.answered),
            skipped=int(row.skipped),
        )
        for row in rows
    ]


def _members(session: Session, query: ReviewQuery) -> list[MemberMonth]:
    """Each member's spend in each month of the period, and their monthly cap at its end.

    A member's cap at a month's end is their cap now, less the temporary raises they hold now,
    less the permanent raises capdesk applied since then (a change made in the backend alone
    is not known).
    """
    window, months = query.window, query.months
    if not months:
        return []
    in_month = [and_(_D.c.day >= m.first_day, _D.c.day <= m.last_day) for m in months]
    spend = (
        select(
            _D.c.member_id,
            *(
                func.sum(case((inside, _D.c.spend_cents), else_=0)).label(f"spent_{i}")
                for i, inside in enumerate(in_month)
            ),
        )
        .where(_D.c.day >= window.first_day, _D.c.day <= window.last_day)
        .group_by(_D.c.member_id)
        .subquery("spend")
    )
    held = (
        select(_G.c.email, func.sum(_G.c.delta_cents).label("held"))
        .where(
            _G.c.kind == RequestKind.CAP_INCREASE,
            _G.c.status.in_(_HOLDING),
            _G.c.period == Period.MONTHLY,
        )
        .group_by(_G.c.email)
        .subquery("held")
    )
    later = _raises_after(months)
    spent_columns = [func.coalesce(spend.c[f"spent_{i}"], 0) for i in range(len(months))]
    rows = session.execute(
        select(
            _GM.c.group_name,
            _M.c.email,
            _M.c.name,
            (_S.c.cap_cents - func.coalesce(held.c.held, 0)).label("base_cap"),
            *(c.label(f"spent_{i}") for i, c in enumerate(spent_columns)),
            *(
                func.coalesce(later.c[f"later_{i}"], 0).label(f"later_{i}")
                for i in range(len(months))
            ),
        )
        .select_from(_GM)
        .join(_M, _M.c.id == _GM.c.member_id)
        .join(_S, _S.c.member_id == _M.c.id)
        .outerjoin(spend, spend.c.member_id == _M.c.id)
        .outerjoin(held, held.c.email == _M.c.email)
        .outerjoin(later, later.c.requester == _M.c.email)
        .where(
            _of_group(_GM.c.group_name, query),
            or_(_M.c.active, *(c > 0 for c in spent_columns)),
        )
        .order_by(_GM.c.group_name, _M.c.email)
    )
    return [
        MemberMonth(
            group=row.group_name,
            email=row.email,
            name=row.name,
            month=month.label,
            spent_cents=int(getattr(row, f"spent_{i}")),
            cap_cents=max(0, int(row.base_cap) - int(getattr(row, f"later_{i}"))),
        )
        for row in rows
        for i, month in enumerate(months)
    ]


def _raises_after(months: Sequence[Any]) -> Subquery:
    """Per member, the permanent monthly raises capdesk applied after each month's end."""
    times = request_times("raise_times")
    return (
        select(
            _R.c.requester,
            *(
                func.sum(case((times.c.applied_at >= m.cap_at, _R.c.amount_cents), else_=0)).label(
                    f"later_{i}"
                )
                for i, m in enumerate(months)
            ),
        )
        .select_from(_R)
        .join(times, joins_times(times))
        .where(
            _R.c.kind == RequestKind.CAP_INCREASE,
            _R.c.ends_at.is_(None),
            _R.c.period == Period.MONTHLY,
            times.c.applied_at.is_not(None),
        )
        .group_by(_R.c.requester)
        .subquery("later")
    )


def _delegations(session: Session, query: ReviewQuery) -> list[DelegationSpell]:
    window = query.window
    until = delegation_until()
    delegator = _M.alias("delegator")
    delegate = _M.alias("delegate")
    decisions = (
        select(func.count())
        .select_from(_DEC)
        .join(_R, _R.c.id == _DEC.c.request_id)
        .where(
            _DEC.c.actor == _DL.c.delegate,
            _DEC.c.at >= _DL.c.starts_at,
            _DEC.c.at < until,
            or_(_GO.c.group_name.is_(None), _R.c.group_name == _GO.c.group_name),
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            _GO.c.group_name,
            _DL.c.delegator,
            delegator.c.name.label("delegator_name"),
            _DL.c.delegate,
            delegate.c.name.label("delegate_name"),
            _DL.c.starts_at,
            _DL.c.ends_at,
            _DL.c.ended_at,
            decisions.label("decisions"),
        )
        .select_from(_DL)
        .outerjoin(_GO, _GO.c.email == _DL.c.delegator)
        .outerjoin(delegator, delegator.c.email == _DL.c.delegator)
        .outerjoin(delegate, delegate.c.email == _DL.c.delegate)
        .where(
            _DL.c.starts_at < window.until,
            until > window.start,
            until > _DL.c.starts_at,
            _of_group(_GO.c.group_name, query),
        )
        .order_by(_GO.c.group_name, _DL.c.starts_at, _DL.c.id)
    )
    return [
        DelegationSpell(
            group=row.group_name,
            delegator=row.delegator,
            delegator_name=row.delegator_name,
            delegate=row.delegate,
            delegate_name=row.delegate_name,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            ended_at=row.ended_at,
            decisions=int(row.decisions) if row.delegate is not None else 0,
        )
        for row in rows
    ]
