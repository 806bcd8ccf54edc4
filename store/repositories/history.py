"""What the reports read of a request's life: when it was applied and reverted (the audit
log's entries), and time spans in seconds, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from store.tables import AuditRow, DelegationRow, RequestRow, table
from store.types import UTCDateTime
from workflows.model import RequestStatus

_A = table(AuditRow)
_R = table(RequestRow)
_DL = table(DelegationRow)

APPLIED = "request.applied"
REVERTED = "request.reverted"

APPROVED_STATES = (
    RequestStatus.APPROVED,
    RequestStatus.APPLYING,
    RequestStatus.APPLIED,
    RequestStatus.FAILED,
    RequestStatus.REVERTED,
)
"""A request that was approved, whatever became of it since."""


def subject_of(request_id: ColumnElement[Any]) -> ColumnElement[str]:
    """`request:12`, the audit log's subject for a request."""
    return literal("request:") + cast(request_id, _A.c.subject.type)


def request_times(name: str = "times") -> CTE:
    """When each request was applied and when it was reverted (None: not yet, or never), read
    once from the audit log's entries of those two kinds (an index on action)."""
    applied = case((_A.c.action == APPLIED, _A.c.at))
    reverted = case((_A.c.action == REVERTED, _A.c.at))
    return (
        select(
            _A.c.subject,
            type_coerce(func.min(applied), UTCDateTime).label("applied_at"),
            type_coerce(func.min(reverted), UTCDateTime).label("reverted_at"),
        )
        .where(_A.c.action.in_([APPLIED, REVERTED]))
        .group_by(_A.c.subject)
        .cte(name)
    )


def joins_times(times: CTE, requests: Table = _R) -> ColumnElement[bool]:
    return times.c.subject == subject_of(requests.c.id)


def delegation_until(delegations: Table = _DL) -> ColumnElement[datetime]:
    """When a delegation stops: its end, or earlier if it was ended (`Delegation.until`)."""
    ended = delegations.c.ended_at
    return case(
        (and_(ended.is_not(None), ended < delegations.c.ends_at), ended),
        else_=delegations.c.ends_at,
    )


def seconds_between(
    session: Session, start: ColumnElement[datetime], end: ColumnElement[datetime]
) -> ColumnElement[float]:
    """`end - start` in seconds. SQLite keeps instants as text, which julianday() reads."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", end - start), Float)
    return cast((func.julianday(end) - func.julianday(start)) * 86400.0, Float)
