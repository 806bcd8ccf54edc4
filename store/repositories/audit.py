"""The append-only audit log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from store.repositories._rows import to_record
from store.tables import AuditRow, table
from workflows.model import AuditEntry

_T = table(AuditRow)
_INSERT = insert(_T)  # built once: every transition writes one


class SqlAudit:
    """Inserts only; the database's triggers refuse anything else."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def append(self, entry: AuditEntry) -> None:
        self._s.execute(
            _INSERT,
            {
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "subject": entry.subject,
                "before": _jsonable(entry.before),
                "after": _jsonable(entry.after),
            },
        )

    def of(self, subject: str) -> Sequence[AuditEntry]:
        query = select(_T).where(_T.c.subject == subject).order_by(_T.c.id)
        return [to_record(AuditEntry, row) for row in self._s.execute(query).mappings()]


def _jsonable(values: dict[str, object]) -> dict[str, object]:
    return {
        k: (str(v) if not isinstance(v, int | float | bool | type(None)) else v)
        for k, v in values.items()
    }
