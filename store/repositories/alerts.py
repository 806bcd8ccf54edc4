"""The alert rules' queries: candidates by set-based SQL, and the firings they leave behind.

Each query reads the usage tables once and returns only the members or groups that meet a
condition; nothing loops over the organisation in Python. Claiming firings is one read of the
keys already held and one `INSERT ... ON CONFLICT` for the rest, so a key (rule, subject,
period) fires once however many transactions or replicas try at the same time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Float,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.repositories.figures import cents, daily_figures, hourly_figures
from store.tables import (
    AlertFiringRow,
    GroupMemberRow,
    GroupRow,
    MemberRow,
    SeatRow,
    TelemetryUnmatchedRow,
    UsageDailyRow,
    table,
)
from workflows.alerts.records import (
    Audience,
    FiringRecord,
    GroupStanding,
    HourSpike,
    MemberQuery,
    MemberStanding,
    NewFiring,
    Standings,
)

_M = table(MemberRow)
_S = table(SeatRow)
_G = table(GroupRow)
_GM = table(GroupMemberRow)
_D = table(UsageDailyRow)
_U = table(TelemetryUnmatchedRow)
_F = table(AlertFiringRow)

_BATCH = 500
_MEMBER, _GROUP = 0, 1
_KEY = ["rule_id", "subject", "period"]


class SqlAlerts:
    """Alert candidates and firings on SQLite and PostgreSQL."""

    def __init__(self, session: Session) -> None:
        self._s = session
        self._postgresql = session.get_bind().dialect.name == "postgresql"

    def _one_of(self, column: ColumnElement[Any], values: list[Any]) -> ColumnElement[bool]:
        """`column IN values`; on PostgreSQL `column = ANY(array)`, with one parameter.

        psycopg rewrites every placeholder of a statement on the client, and for an IN list of
        hundreds that cost more than running the statement: one array costs next to nothing.
        """
        if self._postgresql:
            return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
        return column.in_(values)

    def _batches(self, values: list[str]) -> list[list[str]]:
        """`values` in slices that stay under SQLite's limit on parameters (one on PostgreSQL)."""
        if self._postgresql or len(values) <= _BATCH:
            return [values]
        return [values[start : start + _BATCH] for start in range(0, len(values), _BATCH)]

    def note_new_seats(self, today: date) -> None:
        self._s.execute(update(_M).where(_M.c.first_seen.is_(None)).values(first_seen=today))

    def standings(self, query: MemberQuery) -> Standings:
        # The usage is aggregated over the recent days only: the month (its spend) and, for the
        # idle rule, the days since `idle_since`. A member active in those days was last active
        # then; only one who was not (an idle candidate, so a few) has their last active day
        # looked up further back, in the primary key, newest first. Aggregating all the history
        # instead cost most of the evaluation: most rows are older than the month.
        recent = (
            query.month_start
            if query.idle_since is None
            else min(query.month_start, query.idle_since)
        )
        daily = daily_figures(recent, query.today)
        active_day = case(
            (or_(daily.c.spend_cents > 0, daily.c.commands > 0), daily.c.day), else_=None
        )
        in_month = daily.c.day >= query.month_start
        per_member = select(
            daily.c.member_id,
            func.sum(case((in_month, daily.c.spend_cents), else_=0)).label("spent"),
            func.sum(case((in_month, daily.c.estimated_cents), else_=0)).label("estimated"),
            func.max(active_day).label("last_day"),
        ).group_by(daily.c.member_id)
        # A CTE: read once (both databases materialise a CTE used twice) when the group totals
        # are summed from it too, instead of reading the month's usage a second time.
        usage = per_member.cte("usage")
        spent = func.coalesce(usage.c.spent, 0)
        estimated = func.coalesce(usage.c.estimated, 0)
        last_day: ColumnElement[Any] = usage.c.last_day
        if query.idle_since is not None:
            earlier = daily_figures(name="earlier")
            before = (
                select(func.max(earlier.c.day))
                .where(
                    earlier.c.member_id == _M.c.id,
                    earlier.c.day < recent,
                    or_(earlier.c.spend_cents > 0, earlier.c.commands > 0),
                )
                .scalar_subquery()
            )
            # COALESCE evaluates its arguments in order: the lookup runs only when needed.
            last_day = func.coalesce(last_day, before)
        # Without an idle rule only the month is read, and a seat unused this month is
        # reported as last active on the day it was first seen, as it always was.
        last_active = type_coerce(func.coalesce(last_day, _M.c.first_seen), Date)
        conditions: list[ColumnElement[bool]] = []
        if query.near_cap_bp is not None:
            conditions.append(
                and_(
                    _S.c.cap_cents > 0,
                    cast(spent, BigInteger) * 10000
                    >= cast(_S.c.cap_cents, BigInteger) * query.near_cap_bp,
                )
            )
        if query.forecast_factor is not None:
            factor = bindparam("factor", query.forecast_factor, type_=Float)
            conditions.append(
                and_(_S.c.cap_cents > 0, cast(spent, Float) * factor > _S.c.cap_cents)
            )
        if query.idle_since is not None:
            conditions.append(last_active <= query.idle_since)
        if not conditions:
            if not query.group_totals:
                return Standings(members=[])
            return Standings(
                members=[], groups=self.groups(month_start=query.month_start, today=query.today)
            )
        candidates = (
            select(
                literal(_MEMBER).label("part"),
                _M.c.email,
                _M.c.name,
                _GM.c.group_name,
                _S.c.cap_cents,
                spent.label("spent"),
                estimated.label("estimated"),
                last_active.label("last_active"),
            )
            .select_from(_M)
            .join(_S, _S.c.member_id == _M.c.id)
            .outerjoin(_GM, _GM.c.member_id == _M.c.id)
            .outerjoin(usage, usage.c.member_id == _M.c.id)
            .where(_M.c.active, or_(*conditions))
        )
        if not query.group_totals:
            rows = self._s.execute(candidates.order_by(_M.c.email)).all()
            return Standings(members=[_standing(r, last_active=r.last_active) for r in rows])
        # Every budgeted group's month-to-date spend, summed from the same per-member pass over
        # the same members `groups()` sums (all of the group's, active or not). Its rows share
        # the candidates' columns: the group's name in `email`, its budget in `cap_cents`.
        totals = (
            select(
                literal(_GROUP).label("part"),
                _G.c.name.label("email"),
                _G.c.name.label("name"),
                _G.c.name.label("group_name"),
                _G.c.budget_cents.label("cap_cents"),
                cast(
                    func.coalesce(func.sum(usage.c.spent), 0)
                    + _unmatched_spend(query.month_start, query.today),
                    BigInteger,
                ).label("spent"),
                cast(literal(0), BigInteger).label("estimated"),
                type_coerce(null(), Date).label("last_active"),
            )
            .select_from(_G)
            .outerjoin(_GM, _GM.c.group_name == _G.c.name)
            .outerjoin(usage, usage.c.member_id == _GM.c.member_id)
            .where(_G.c.budget_cents.is_not(None))
            .group_by(_G.c.name, _G.c.budget_cents)
        )
        both = union_all(candidates, totals).subquery("standing")
        rows = self._s.execute(select(both).order_by(both.c.part, both.c.email)).all()
        members: list[MemberStanding] = []
        groups: list[GroupStanding] = []
        for r in rows:
            if r.part == _MEMBER:
                members.append(_standing(r, last_active=r.last_active))
            else:
                groups.append(
                    GroupStanding(name=r.email, budget_cents=r.cap_cents, spent_cents=int(r.spent))
                )
        return Standings(members=members, groups=groups)

    def groups(self, *, month_start: date, today: date) -> Sequence[GroupStanding]:
        daily = daily_figures(month_start, today)
        total = func.coalesce(func.sum(daily.c.spend_cents), 0) + _unmatched_spend(
            month_start, today
        )
        rows = self._s.execute(
            select(_G.c.name, _G.c.budget_cents, total)
            .select_from(_G)
            .outerjoin(_GM, _GM.c.group_name == _G.c.name)
            .outerjoin(daily, daily.c.member_id == _GM.c.member_id)
            .where(_G.c.budget_cents.is_not(None))
            .group_by(_G.c.name, _G.c.budget_cents)
            .order_by(_G.c.name)
        )
        return [
            GroupStanding(name=name, budget_cents=budget, spent_cents=int(total))
            for name, budget, total in rows
        ]

    def hourly_spikes(
        self, hours: Sequence[datetime], *, min_commands: int | None, min_spend_cents: int | None
    ) -> Sequence[HourSpike]:
        limits: list[tuple[str, int]] = []
        if min_commands is not None:
            limits.append(("commands", min_commands))
        if min_spend_cents is not None:
            limits.append(("spend_cents", min_spend_cents))
        if not hours or not limits:
            return []
        hourly = hourly_figures(hours, self._one_of)
        rows = self._s.execute(
            select(
                _M.c.email,
                _M.c.name,
                _GM.c.group_name,
                hourly.c.hour,
                hourly.c.commands,
                hourly.c.spend_cents,
                hourly.c.estimated,
            )
            .select_from(hourly)
            .join(_M, _M.c.id == hourly.c.member_id)
            .outerjoin(_GM, _GM.c.member_id == _M.c.id)
            .where(_M.c.active, or_(*(hourly.c[column] >= limit for column, limit in limits)))
            .order_by(_M.c.email, hourly.c.hour)
        )
        return [
            HourSpike(
                email=r.email,
                name=r.name,
                group=r.group_name,
                hour=r.hour,
                commands=int(r.commands),
                spend_cents=int(r.spend_cents),
                estimated=bool(r.estimated),
            )
            for r in rows
        ]

    def top_spenders(
        self, *, month_start: date, today: date, limit: int, group: str | None = None
    ) -> Sequence[MemberStanding]:
        daily = daily_figures(month_start, today)
        spent = func.sum(daily.c.spend_cents)
        statement = (
            select(
                _M.c.email,
                _M.c.name,
                _GM.c.group_name,
                _S.c.cap_cents,
                spent.label("spent"),
                func.sum(daily.c.estimated_cents).label("estimated"),
            )
            .select_from(daily)
            .join(_M, _M.c.id == daily.c.member_id)
            .join(_S, _S.c.member_id == _M.c.id)
            .outerjoin(_GM, _GM.c.member_id == _M.c.id)
            .group_by(_M.c.email, _M.c.name, _GM.c.group_name, _S.c.cap_cents)
            .order_by(spent.desc(), _M.c.email)
            .limit(limit)
        )
        if group is not None:
            statement = statement.where(_GM.c.group_name == group)
        return [_standing(r, last_active=None) for r in self._s.execute(statement)]

    def claim(
        self, firings: Sequence[NewFiring], *, now: datetime, again_after: timedelta | None
    ) -> Sequence[tuple[str, str, str]]:
        # One row per key, in key order: PostgreSQL refuses a statement that touches a row twice,
        # and two replicas locking the same keys in the same order cannot deadlock.
        unique = {f.key: f for f in firings}
        # Most candidates are held, evaluation after evaluation: found by one indexed read, they
        # are left out of the INSERT, which would only have found them again (and locked them).
        # A key seen held stays held (`fired_at` only moves forward), and a key not seen still
        # goes through ON CONFLICT, so a replica claiming it at the same time is still decided
        # there.
        held = self._held(unique, since=None if again_after is None else now - again_after)
        rows = [_row(unique[key], now) for key in sorted(unique) if key not in held]
        insert = postgresql.insert if self._postgresql else sqlite.insert
        if not rows:
            return []
        statement = insert(_F)
        if again_after is None:
            statement = statement.on_conflict_do_nothing(index_elements=_KEY)
        else:
            excluded = statement.excluded
            statement = statement.on_conflict_do_update(
                index_elements=_KEY,
                set_={
                    column: excluded[column]
                    for column in (
                        "fired_at",
                        "details",
                        "group_name",
                        "admins_waiting_since",
                        "owners_waiting_since",
                    )
                },
                where=_F.c.fired_at <= now - again_after,
            )
        # Many parameter sets, one compiled statement: SQLAlchemy batches them into multi-row
        # INSERTs itself ("insertmanyvalues"), with RETURNING, on both dialects.
        returned = self._s.execute(
            statement.returning(_F.c.rule_id, _F.c.subject, _F.c.period), rows
        )
        claimed = [(r.rule_id, r.subject, r.period) for r in returned]
        return sorted(claimed)

    def _held(
        self, keys: Collection[tuple[str, str, str]], *, since: datetime | None
    ) -> set[tuple[str, str, str]]:
        """The keys already fired (after `since`, if given): they cannot fire now."""
        subjects: dict[str, set[str]] = {}
        for rule_id, subject, _period in keys:
            subjects.setdefault(rule_id, set()).add(subject)
        held: set[tuple[str, str, str]] = set()
        for rule_id, wanted in sorted(subjects.items()):
            for batch in self._batches(sorted(wanted)):
                statement = select(_F.c.rule_id, _F.c.subject, _F.c.period).where(
                    _F.c.rule_id == rule_id, self._one_of(_F.c.subject, batch)
                )
                if since is not None:
                    statement = statement.where(_F.c.fired_at > since)
                held.update(tuple(r) for r in self._s.execute(statement).all())
        return held & set(keys)

    def fired(self, rule_id: str, subjects: Collection[str]) -> Sequence[FiringRecord]:
        wanted = sorted(set(subjects))
        found: list[FiringRecord] = []
        for batch in self._batches(wanted):
            rows = self._s.execute(
                select(_F)
                .where(_F.c.rule_id == rule_id, self._one_of(_F.c.subject, batch))
                .order_by(_F.c.subject, _F.c.period)
            )
            found += [_record(row) for row in rows.mappings().all()]
        return found

    def take_digest(
        self, audience: Audience, *, now: datetime, group: str | None = None
    ) -> Sequence[FiringRecord]:
        waiting = _F.c.admins_waiting_since if audience == "admins" else _F.c.owners_waiting_since
        statement = (
            update(_F)
            .where(waiting.is_not(None), waiting <= now)
            .values({waiting.name: None})
            .returning(*_F.c)
        )
        if group is not None:
            statement = statement.where(_F.c.group_name == group)
        records = [_record(row) for row in self._s.execute(statement).mappings()]
        return sorted(records, key=lambda r: (r.fired_at, r.key))

    def latest_usage_day(self) -> date | None:
        day: date | None = self._s.execute(select(func.max(_D.c.day))).scalar()
        return day


def _unmatched_spend(month_start: date, today: date) -> ColumnElement[Any]:
    """The month's telemetry spend from e-mails no member has that a resource attribute puts in
    the group (`telemetry.groups`), for the group of the enclosing query."""
    return (
        select(func.coalesce(cents(func.sum(_U.c.cost_micros)), 0))
        .where(_U.c.group_name == _G.c.name, _U.c.day >= month_start, _U.c.day <= today)
        .scalar_subquery()
    )


def _row(firing: NewFiring, now: datetime) -> dict[str, Any]:
    return {
        "rule_id": firing.rule_id,
        "subject": firing.subject,
        "period": firing.period,
        "fired_at": now,
        "details": firing.details,
        "group_name": firing.group,
        "admins_waiting_since": now if firing.admins else None,
        "owners_waiting_since": now if firing.owners else None,
    }


def _record(row: Any) -> FiringRecord:
    return FiringRecord(
        rule_id=row["rule_id"],
        subject=row["subject"],
        period=row["period"],
        group=row["group_name"],
        fired_at=row["fired_at"],
        details=dict(row["details"]),
    )


def _standing(row: Any, *, last_active: date | None) -> MemberStanding:
    return MemberStanding(
        email=row.email,
        name=row.name,
        group=row.group_name,
        cap_cents=row.cap_cents,
        spent_cents=int(row.spent),
        last_active=last_active,
        estimated_cents=int(row.estimated or 0),
    )
