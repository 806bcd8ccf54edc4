"""Which usage figure wins, in SQL: the backend's for a member's day or hour where it has one,
else the sum of Claude Code's telemetry (an estimate at list prices).

Every query that reads usage reads these selectables instead of the tables, so the rules, the
digest and `status` agree; each names how much of its spend is an estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Subquery, cast, exists, func, literal, select
from sqlalchemy import union_all as union_all_

from store.tables import TelemetryHourRow, UsageDailyRow, UsageHourlyRow, table

_D = table(UsageDailyRow)
_H = table(UsageHourlyRow)
_T = table(TelemetryHourRow)


def cents(micros: ColumnElement[Any]) -> ColumnElement[int]:
    """Micro-dollars to whole cents, rounded half up, in integers on both dialects.

    The cast comes first: PostgreSQL's SUM of a bigint is a numeric, which would divide
    exactly (450.5) and then round half away from zero when cast back.
    """
    return cast(cast(micros, BigInteger) + 5000, BigInteger) // 10000


def daily_figures(since: Any = None, until: Any = None, *, name: str = "daily") -> Subquery:
    """(member_id, day, spend_cents, commands, estimated_cents) for days in [since, until]
    (either bound may be None): the backend's row, or else the day's telemetry hours."""
    backend = select(
        _D.c.member_id,
        _D.c.day,
        cast(_D.c.spend_cents, BigInteger).label("spend_cents"),
        cast(_D.c.commands, BigInteger).label("commands"),
        cast(literal(0), BigInteger).label("estimated_cents"),
    )
    spend = cents(func.sum(_T.c.cost_micros))
    telemetry = (
        select(
            _T.c.member_id,
            _T.c.day,
            spend.label("spend_cents"),
            cast(func.sum(_T.c.prompts + _T.c.tool_runs), BigInteger).label("commands"),
            spend.label("estimated_cents"),
        )
        .where(~exists().where(_D.c.member_id == _T.c.member_id, _D.c.day == _T.c.day))
        .group_by(_T.c.member_id, _T.c.day)
    )
    if since is not None:
        backend = backend.where(_D.c.day >= since)
        telemetry = telemetry.where(_T.c.day >= since)
    if until is not None:
        backend = backend.where(_D.c.day <= until)
        telemetry = telemetry.where(_T.c.day <= until)
    return union_all_(backend, telemetry).subquery(name)


def hourly_figures(hours: Sequence[datetime], one_of: Any, *, name: str = "hourly") -> Subquery:
    """(member_id, hour, spend_cents, commands, estimated) for these hours: the backend's row,
    or else telemetry's. `one_of(column, values)` is the dialect's `IN`."""
    first = min(hours)
    backend = select(
        _H.c.member_id,
        _H.c.hour,
        cast(_H.c.spend_cents, BigInteger).label("spend_cents"),
        cast(_H.c.commands, BigInteger).label("commands"),
        literal(False).label("estimated"),
    ).where(_H.c.hour >= first, one_of(_H.c.hour, list(hours)))
    telemetry = select(
        _T.c.member_id,
        _T.c.hour,
        cents(_T.c.cost_micros).label("spend_cents"),
        cast(_T.c.prompts + _T.c.tool_runs, BigInteger).label("commands"),
        literal(True).label("estimated"),
    ).where(
        _T.c.hour >= first,
        one_of(_T.c.hour, list(hours)),
        ~exists().where(_H.c.member_id == _T.c.member_id, _H.c.hour == _T.c.hour),
    )
    return union_all_(backend, telemetry).subquery(name)
