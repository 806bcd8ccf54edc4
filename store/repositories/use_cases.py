"""The use-case questions: one per request, answered or skipped once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.orm import Session

from store.repositories._rows import to_record
from store.tables import UseCaseQuestionRow, table
from store.upsert import insert_unless_exists
from workflows.model import UseCaseQuestion

_Q = table(UseCaseQuestionRow)


def _question(row: RowMapping | None) -> UseCaseQuestion | None:
    return None if row is None else to_record(UseCaseQuestion, row)


class SqlUseCases:
    """Questions keyed by their request (a unique constraint); answers are compare-and-set."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def ask(
        self, *, request_id: int, email: str, asked_at: datetime, grant_id: int | None = None
    ) -> UseCaseQuestion | None:
        values = {
            "request_id": request_id,
            "grant_id": grant_id,
            "email": email.lower(),
            "asked_at": asked_at,
        }
        return _question(insert_unless_exists(self._s, _Q, values, keys=["request_id"]))

    def _first(self, *where: Any, newest: bool = False) -> UseCaseQuestion | None:
        order = (_Q.c.asked_at.desc(), _Q.c.id.desc()) if newest else (_Q.c.id,)
        query = select(_Q).where(*where).order_by(*order).limit(1)
        return _question(self._s.execute(query).mappings().first())

    def get(self, question_id: int) -> UseCaseQuestion | None:
        return self._first(_Q.c.id == question_id)

    def of_request(self, request_id: int) -> UseCaseQuestion | None:
        return self._first(_Q.c.request_id == request_id)

    def latest_of(self, email: str) -> UseCaseQuestion | None:
        return self._first(_Q.c.email == email.lower(), newest=True)

    def to_remind(self, asked_before: datetime) -> Sequence[UseCaseQuestion]:
        query = (
            select(_Q)
            .where(
                _Q.c.answered_at.is_(None),
                _Q.c.reminded_at.is_(None),
                _Q.c.asked_at < asked_before,
            )
            .order_by(_Q.c.asked_at, _Q.c.id)
        )
        return [to_record(UseCaseQuestion, row) for row in self._s.execute(query).mappings()]

    def mark_reminded(self, question_id: int, at: datetime) -> None:
        self._s.execute(update(_Q).where(_Q.c.id == question_id).values(reminded_at=at))

    def _close(self, question_id: int, values: dict[str, Any]) -> UseCaseQuestion | None:
        row = (
            self._s.execute(
                update(_Q)
                .where(_Q.c.id == question_id, _Q.c.answered_at.is_(None))
                .values(values)
                .returning(*_Q.c)
            )
            .mappings()
            .first()
        )
        return _question(row)

    def answer(
        self, question_id: int, *, at: datetime, use_case: str, note: str | None = None
    ) -> UseCaseQuestion | None:
        return self._close(question_id, {"answered_at": at, "use_case": use_case, "note": note})

    def skip(self, question_id: int, *, at: datetime) -> UseCaseQuestion | None:
        return self._close(question_id, {"answered_at": at, "skipped": True})
