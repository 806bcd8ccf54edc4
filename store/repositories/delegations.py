"""Delegations while away."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import RowMapping, insert, or_, select, update
from sqlalchemy.orm import Session

from store.repositories._rows import to_record
from store.tables import DelegationRow, table
from workflows.model import Delegation

_T = table(DelegationRow)


def _delegation(row: RowMapping) -> Delegation:
    return to_record(Delegation, row)


class SqlDelegations:
    """Delegations; ending one is an UPDATE ... WHERE it is still in force."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(
        self,
        *,
        delegator: str,
        delegate: str | None,
        starts_at: datetime,
        ends_at: datetime,
        created_at: datetime,
    ) -> Delegation:
        values = {
            "delegator": delegator.lower(),
            "delegate": None if delegate is None else delegate.lower(),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "created_at": created_at,
        }
        row = self._s.execute(insert(_T).values(values).returning(*_T.c)).mappings().one()
        return _delegation(row)

    def get(self, delegation_id: int) -> Delegation | None:
        row = self._s.execute(select(_T).where(_T.c.id == delegation_id)).mappings().first()
        return None if row is None else _delegation(row)

    def in_force(
        self, at: datetime, *, delegators: Collection[str] | None = None
    ) -> Sequence[Delegation]:
        query = select(_T).where(
            _T.c.starts_at <= at,
            _T.c.ends_at > at,
            or_(_T.c.ended_at.is_(None), _T.c.ended_at > at),
        )
        if delegators is not None:
            query = query.where(_T.c.delegator.in_(sorted({d.lower() for d in delegators})))
        rows = self._s.execute(query.order_by(_T.c.delegator, _T.c.id)).mappings()
        return [_delegation(row) for row in rows]

    def of(self, delegator: str) -> Sequence[Delegation]:
        query = select(_T).where(_T.c.delegator == delegator.lower())
        rows = self._s.execute(query.order_by(_T.c.starts_at.desc(), _T.c.id.desc())).mappings()
        return [_delegation(row) for row in rows]

    def end(self, delegation_id: int, *, at: datetime) -> Delegation | None:
        row = (
            self._s.execute(
                update(_T)
                .where(
                    _T.c.id == delegation_id,
                    _T.c.ended_at.is_(None),
                    _T.c.ends_at > at,
                )
                .values(ended_at=at)
                .returning(*_T.c)
            )
            .mappings()
            .first()
        )
        return None if row is None else _delegation(row)
