"""Claude Code's telemetry as counted: hourly figures, series and batches seen, unknown e-mails.

Adding to the hourly figures is one `INSERT ... ON CONFLICT DO UPDATE SET x = x + excluded.x`
per batch of rows. Series are locked before they are read: a placeholder row is inserted for
each new one (a concurrent writer of the same series then waits for this transaction), and on
PostgreSQL every row is read `FOR UPDATE`, so two replicas counting the same series count each
point once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.repositories.members import SqlMembers
from store.tables import (
    MemberRow,
    TelemetryBatchRow,
    TelemetryHourRow,
    TelemetrySeriesRow,
    TelemetryUnmatchedRow,
    table,
)
from store.upsert import insert_unless_exists
from workflows.telemetry.model import (
    NEW_SERIES,
    HourFigures,
    SeriesState,
    Unmatched,
    UnmatchedReport,
)
from workflows.telemetry.names import FIELDS

_M = table(MemberRow)
_T = table(TelemetryHourRow)
_S = table(TelemetrySeriesRow)
_B = table(TelemetryBatchRow)
_U = table(TelemetryUnmatchedRow)

_CHUNK = 500
_NO_GROUP = ""


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


class SqlTelemetry:
    """Telemetry figures on SQLite and PostgreSQL."""

    def __init__(self, session: Session, members: SqlMembers) -> None:
        self._s = session
        self._members = members
        self._postgresql = session.get_bind().dialect.name == "postgresql"

    def _insert(self, target: Table) -> Any:
        return (postgresql.insert if self._postgresql else sqlite.insert)(target)

    def first_time(self, digest: str, *, at: datetime) -> bool:
        row = insert_unless_exists(
            self._s, _B, {"digest": digest, "received_at": at}, keys=["digest"]
        )
        return row is not None

    def lock_series(self, keys: Sequence[str]) -> dict[str, SeriesState]:
        found: dict[str, SeriesState] = {}
        for chunk in _chunks(sorted(set(keys))):
            placeholders = [
                {"key": k, "start_ns": 0, "position": 0, "value": 0.0, "seen_at": _EPOCH}
                for k in chunk
            ]
            self._s.execute(
                self._insert(_S).on_conflict_do_nothing(index_elements=["key"]), placeholders
            )
            statement = select(_S.c.key, _S.c.start_ns, _S.c.position, _S.c.value).where(
                _S.c.key.in_(chunk)
            )
            if self._postgresql:
                statement = statement.order_by(_S.c.key).with_for_update()
            for key, start_ns, position, value in self._s.execute(statement):
                found[key] = SeriesState(start_ns=start_ns, position=position, value=value)
        return {key: found.get(key, NEW_SERIES) for key in keys}

    def save_series(self, states: Mapping[str, SeriesState], *, at: datetime) -> None:
        rows = [
            {
                "k": key,
                "start_ns": s.start_ns,
                "position": s.position,
                "value": s.value,
                "seen_at": at,
            }
            for key, s in sorted(states.items())
        ]
        statement = (
            update(_S)
            .where(_S.c.key == bindparam("k"))
            .values(
                start_ns=bindparam("start_ns"),
                position=bindparam("position"),
                value=bindparam("value"),
                seen_at=bindparam("seen_at"),
            )
        )
        for chunk in _chunks(rows):
            self._s.execute(statement, list(chunk))

    def member_emails(self, emails: Collection[str]) -> set[str]:
        wanted = sorted({e.lower() for e in emails})
        found: set[str] = set()
        for chunk in _chunks(wanted):
            found.update(self._s.execute(select(_M.c.email).where(_M.c.email.in_(chunk))).scalars())
        return found

    def add_hours(self, figures: Sequence[HourFigures], *, at: datetime) -> None:
        ids = {e: self._members.id_of(e) for e in {f.email for f in figures}}
        rows = [
            {
                "member_id": ids[f.email],
                "hour": f.hour,
                "day": f.day,
                "updated_at": at,
                **{name: f.values.get(name, 0) for name in FIELDS},
            }
            for f in sorted(figures, key=lambda f: (f.email, f.hour))
            if ids[f.email] is not None
        ]
        statement = self._insert(_T)
        statement = statement.on_conflict_do_update(
            index_elements=["member_id", "hour"],
            set_={
                "updated_at": statement.excluded.updated_at,
                **{name: _T.c[name] + statement.excluded[name] for name in FIELDS},
            },
        )
        for chunk in _chunks(rows):
            self._s.execute(statement, list(chunk))

    def note_unmatched(self, rows: Sequence[Unmatched], *, at: datetime) -> None:
        values = [
            {
                "email": r.email,
                "day": r.day,
                "group_name": r.group or _NO_GROUP,
                "points": r.points,
                "cost_micros": r.cost_micros,
                "first_seen": at,
                "last_seen": at,
            }
            for r in sorted(rows, key=lambda r: (r.email, r.day, r.group or _NO_GROUP))
        ]
        statement = self._insert(_U)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["email", "day", "group_name"],
            set_={
                "points": _U.c.points + excluded.points,
                "cost_micros": _U.c.cost_micros + excluded.cost_micros,
                "last_seen": excluded.last_seen,
            },
        )
        for chunk in _chunks(values):
            self._s.execute(statement, list(chunk))

    def hours(self, email: str, since: datetime) -> Sequence[HourFigures]:
        rows = self._s.execute(
            select(_T)
            .join(_M, _M.c.id == _T.c.member_id)
            .where(_M.c.email == email.lower(), _T.c.hour >= since)
            .order_by(_T.c.hour)
        ).mappings()
        return [
            HourFigures(
                email=email.lower(),
                hour=row["hour"],
                values={name: int(row[name]) for name in FIELDS if row[name]},
            )
            for row in rows
        ]

    def unmatched_to_report(self, *, now: datetime) -> Sequence[UnmatchedReport]:
        news = or_(_U.c.reported_at.is_(None), _U.c.last_seen > _U.c.reported_at)
        rows = self._s.execute(
            select(
                _U.c.email, _U.c.group_name, _U.c.points, _U.c.cost_micros, _U.c.last_seen
            ).where(news)
        ).all()
        if not rows:
            return []
        self._s.execute(update(_U).where(news).values(reported_at=now))
        merged: dict[tuple[str, str], list[Any]] = {}
        for email, group, points, cost, seen in rows:
            entry = merged.setdefault((email, group), [0, 0, seen])
            entry[0] += points
            entry[1] += cost
            entry[2] = max(entry[2], seen)
        reports = [
            UnmatchedReport(
                email=email,
                group=group or None,
                points=points,
                cost_micros=cost,
                last_seen=seen,
            )
            for (email, group), (points, cost, seen) in merged.items()
        ]
        return sorted(reports, key=lambda r: (-r.points, r.email))

    def forget(self, *, batches_before: datetime, series_before: datetime) -> int:
        gone = self._s.execute(delete(_B).where(_B.c.received_at < batches_before))
        stale = self._s.execute(delete(_S).where(_S.c.seen_at < series_before))
        return int(gone.rowcount) + int(stale.rowcount)  # type: ignore[attr-defined]


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
"""The `seen_at` of a placeholder series row: replaced when the series is saved, and old enough
to be forgotten when it never is (its points were refused)."""
