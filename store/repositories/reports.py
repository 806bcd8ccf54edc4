"""The reports' figures, computed in SQL (`workflows.ports.ReportRepository`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from store.repositories.access import access
from store.repositories.chargeback import chargeback
from store.repositories.review import review
from workflows.reports.records import (
    AccessData,
    AccessQuery,
    GroupMonth,
    ReviewData,
    ReviewQuery,
    Window,
)


class SqlReports:
    """Read-only: each report is a handful of grouped statements in the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def review(self, query: ReviewQuery) -> ReviewData:
        return review(self._s, query)

    def chargeback(self, window: Window) -> Sequence[GroupMonth]:
        return chargeback(self._s, window)

    def access(self, query: AccessQuery) -> AccessData:
        return access(self._s, query)
