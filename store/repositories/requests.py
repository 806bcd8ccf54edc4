"""Requests, decisions and grants."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Label,
    RowMapping,
    Select,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from store.repositories._rows import to_record
from store.repositories.figures import daily_figures
from store.repositories.outbox import UNFINISHED
from store.tables import (
    DecisionRow,
    GrantRow,
    MemberRow,
    OperationRow,
    RequestRow,
    SeatRow,
    table,
)
from store.upsert import insert_unless_exists
from workflows.model import (
    Decision,
    Grant,
    GrantStatus,
    Member,
    NewRequest,
    OperationKind,
    Period,
    Request,
    RequestKind,
    RequestStatus,
    check_transition,
)
from workflows.ports import Conflict, Settled

_R = table(RequestRow)
_D = table(DecisionRow)
_G = table(GrantRow)


def request_record(row: RowMapping) -> Request:
    """A request from a row holding the request table's columns under their own names."""
    return to_record(Request, row, group="group_name")


class _Qualified(ColumnElement[Any]):
    """A scalar subquery whose columns keep their table names inside RETURNING. SQLite's
    compiler drops them there, so `earlier.requester = this.requester` would read
    `requester = requester`, and SQLite would take both for the nearest table's."""

    inherit_cache = True
    _traverse_internals = [("inner", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, inner: ColumnElement[Any]) -> None:
        self.inner = inner
        self.type = inner.type


@compiles(_Qualified)
def _qualified(element: _Qualified, compiler: SQLCompiler, **kw: Any) -> str:
    kw["include_table"] = True
    return compiler.process(element.inner, **kw)


def _settling(*, single_approval: bool) -> Update:
    """The decision's compare-and-set, returning the request and, as scalar subqueries, what
    the decision goes on to read: the requester's seat, the decider's name, the requester's
    spend and count of requests, and the cap already queued for them. Built once: one round
    trip instead of seven, and no statement building per decision.

    The subqueries find the requester by the request's id, not through the row being updated:
    SQLite cannot use an index for a column of that row inside RETURNING, and would scan."""
    member, seat, operation = table(MemberRow), table(SeatRow), table(OperationRow)
    usage = daily_figures(bindparam("since"), name="spent")
    this, earlier = _R.alias("this"), _R.alias("earlier")
    asking = select(this.c.requester).where(this.c.id == bindparam("request_id"))
    period = select(this.c.period).where(this.c.id == bindparam("request_id"))
    requester = member.c.email == asking.scalar_subquery()

    def fact(query: Select[Any], name: str) -> Label[Any]:
        return _Qualified(query.scalar_subquery()).label(name)

    seats = member.join(seat, seat.c.member_id == member.c.id)
    facts = [
        fact(select(column).select_from(seats).where(requester), f"m_{column.name}")
        for column in (
            member.c.email,
            member.c.name,
            member.c.external_id,
            member.c.active,
            member.c.backend_groups,
            seat.c.tier,
            seat.c.cap_cents,
        )
    ]
    facts += [
        fact(select(member.c.name).where(member.c.email == bindparam("actor")), "decider_name"),
        # The same figures as `spend_since`: the backend's day, else telemetry's estimate.
        fact(
            select(func.coalesce(func.sum(usage.c.spend_cents), 0))
            .select_from(usage.join(member, member.c.id == usage.c.member_id))
            .where(requester),
            "spent_cents",
        ),
        fact(
            select(func.count())
            .select_from(earlier)
            .where(earlier.c.requester == asking.scalar_subquery()),
            "requests_made",
        ),
        fact(
            select(operation.c.cap_cents)
            .where(
                operation.c.email == asking.scalar_subquery(),
                operation.c.kind == OperationKind.SET_CAP,
                operation.c.period == period.scalar_subquery(),
                operation.c.status.in_(UNFINISHED),
            )
            .order_by(operation.c.id.desc())
            .limit(1),
            "queued_cap_cents",
        ),
    ]
    # A requester never settles their own request: theirs takes the path that refuses it.
    where = [
        _R.c.id == bindparam("request_id"),
        _R.c.status == RequestStatus.PENDING,
        _R.c.requester != bindparam("actor"),
    ]
    if single_approval:
        where.append(_R.c.approvals_required == 1)
    return (
        update(_R)
        .where(*where)
        .values(
            status=bindparam("new"),
            updated_at=bindparam("at"),
            decided_by=bindparam("actor"),
            decided_at=bindparam("at"),
            decision_note=bindparam("note"),
        )
        .returning(*_R.c, *facts)
    )


_SETTLE = {single: _settling(single_approval=single) for single in (True, False)}


def _settled(row: RowMapping) -> Settled:
    requester = None
    if row["m_email"] is not None:
        requester = Member(
            email=row["m_email"],
            name=row["m_name"],
            tier=row["m_tier"],
            cap_cents=row["m_cap_cents"],
            active=bool(row["m_active"]),
            external_id=row["m_external_id"],
            backend_groups=tuple(row["m_backend_groups"] or ()),
        )
    return Settled(
        request=request_record(row),
        requester=requester,
        decider_name=row["decider_name"],
        spent_cents=int(row["spent_cents"]),
        requests_made=int(row["requests_made"]),
        queued_cap_cents=row["queued_cap_cents"],
    )


class SqlRequests:
    """Requests; every state change is an UPDATE ... WHERE status = expected."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, new: NewRequest) -> Request:
        values: dict[str, Any] = {
            "requester": new.requester,
            "group_name": new.group,
            "kind": new.kind,
            "reason": new.reason,
            "status": RequestStatus.PENDING,
            "created_at": new.created_at,
            "updated_at": new.created_at,
            "approvals_required": new.approvals_required,
            "cap_before_cents": new.cap_before_cents,
            "tier_before": new.tier_before,
            "amount_cents": new.amount_cents,
            "new_cap_cents": new.new_cap_cents,
            "target_tier": new.target_tier,
            "ends_at": new.ends_at,
            "source": new.source,
            "period": new.period,
        }
        try:
            with self._s.begin_nested():
                row = self._s.execute(insert(_R).values(values).returning(*_R.c)).mappings().one()
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc
        return request_record(row)

    def get(self, request_id: int, *, lock: bool = False) -> Request | None:
        query = select(_R).where(_R.c.id == request_id)
        if lock:
            query = query.with_for_update()
        row = self._s.execute(query).mappings().first()
        return None if row is None else request_record(row)

    def transition(
        self,
        request_id: int,
        *,
        expected: RequestStatus,
        new: RequestStatus,
        at: datetime,
        decided_by: str | None = None,
        decision_note: str | None = None,
    ) -> Request | None:
        check_transition(expected, new)
        values: dict[str, Any] = {"status": new, "updated_at": at}
        if decided_by is not None:
            values.update(decided_by=decided_by, decided_at=at, decision_note=decision_note)
        row = (
            self._s.execute(
                update(_R)
                .where(_R.c.id == request_id, _R.c.status == expected)
                .values(values)
                .returning(*_R.c)
            )
            .mappings()
            .first()
        )
        return None if row is None else request_record(row)

    def settle(
        self,
        request_id: int,
        *,
        new: RequestStatus,
        actor: str,
        at: datetime,
        note: str | None,
        since: date,
        single_approval: bool,
    ) -> Settled | None:
        check_transition(RequestStatus.PENDING, new)
        params = {
            "request_id": request_id,
            "new": new,
            "actor": actor,
            "at": at,
            "note": note,
            "since": since,
        }
        row = self._s.execute(_SETTLE[single_approval], params).mappings().first()
        return None if row is None else _settled(row)

    def mark(
        self,
        request_id: int,
        *,
        reminded_at: datetime | None = None,
        escalated_at: datetime | None = None,
    ) -> None:
        values = {
            k: v for k, v in {"reminded_at": reminded_at, "escalated_at": escalated_at}.items() if v
        }
        if values:
            self._s.execute(update(_R).where(_R.c.id == request_id).values(values))

    def pending_of(self, requester: str, kind: RequestKind) -> Request | None:
        row = (
            self._s.execute(
                select(_R).where(
                    _R.c.requester == requester.lower(),
                    _R.c.kind == kind,
                    _R.c.status == RequestStatus.PENDING,
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else request_record(row)

    def list(
        self, *, status: RequestStatus | None = None, requester: str | None = None
    ) -> Sequence[Request]:
        query = select(_R).order_by(_R.c.id.desc())
        if status is not None:
            query = query.where(_R.c.status == status)
        if requester is not None:
            query = query.where(_R.c.requester == requester.lower())
        return [request_record(row) for row in self._s.execute(query).mappings()]

    def count_of(self, requester: str) -> int:
        query = select(func.count()).select_from(_R).where(_R.c.requester == requester.lower())
        return int(self._s.execute(query).scalar() or 0)


class SqlDecisions:
    """Verdicts, one per approver and request (a unique constraint)."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, decision: Decision) -> bool:
        values = {
            "request_id": decision.request_id,
            "actor": decision.actor,
            "verdict": decision.verdict,
            "at": decision.at,
            "note": decision.note,
        }
        return insert_unless_exists(self._s, _D, values, keys=["request_id", "actor"]) is not None

    def of(self, request_id: int) -> Sequence[Decision]:
        query = select(_D).where(_D.c.request_id == request_id).order_by(_D.c.id)
        return [to_record(Decision, row) for row in self._s.execute(query).mappings()]


class SqlGrants:
    """Temporary grants."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(
        self,
        *,
        request_id: int,
        email: str,
        kind: RequestKind,
        ends_at: datetime,
        delta_cents: int = 0,
        tier_before: str | None = None,
        tier_after: str | None = None,
        period: Period = Period.MONTHLY,
        cap_before_cents: int | None = None,
        inherited_before: bool = False,
    ) -> Grant:
        values = {
            "period": period,
            "cap_before_cents": cap_before_cents,
            "inherited_before": inherited_before,
            "request_id": request_id,
            "email": email,
            "kind": kind,
            "ends_at": ends_at,
            "status": GrantStatus.ACTIVE,
            "delta_cents": delta_cents,
            "tier_before": tier_before,
            "tier_after": tier_after,
        }
        row = self._s.execute(insert(_G).values(values).returning(*_G.c)).mappings().one()
        return to_record(Grant, row)

    def _one(self, *where: Any) -> Grant | None:
        row = self._s.execute(select(_G).where(*where)).mappings().first()
        return None if row is None else to_record(Grant, row)

    def get(self, grant_id: int) -> Grant | None:
        return self._one(_G.c.id == grant_id)

    def of_request(self, request_id: int) -> Grant | None:
        return self._one(_G.c.request_id == request_id)

    def due(self, now: datetime) -> Sequence[Grant]:
        query = select(_G).where(_G.c.status == GrantStatus.ACTIVE, _G.c.ends_at <= now)
        return [
            to_record(Grant, row) for row in self._s.execute(query.order_by(_G.c.id)).mappings()
        ]

    def ending_unwarned(self, before: datetime) -> Sequence[Grant]:
        # Taken for this transaction, so that two schedulers at once do not both warn a holder
        # (SKIP LOCKED on PostgreSQL; SQLite serialises writers).
        query = (
            select(_G)
            .where(
                _G.c.status == GrantStatus.ACTIVE, _G.c.ends_at <= before, _G.c.warned_at.is_(None)
            )
            .order_by(_G.c.id)
            .with_for_update(skip_locked=True)
        )
        return [to_record(Grant, row) for row in self._s.execute(query).mappings()]

    def transition(self, grant_id: int, *, expected: GrantStatus, new: GrantStatus) -> bool:
        result = self._s.execute(
            update(_G).where(_G.c.id == grant_id, _G.c.status == expected).values(status=new)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_warned(self, grant_id: int, at: datetime) -> None:
        self._s.execute(update(_G).where(_G.c.id == grant_id).values(warned_at=at))
