"""What the domain takes for granted from the store, checked on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, StatementError
from sqlmodel import SQLModel

import store.tables
from store import migrate
from store.engine import make_engine
from store.migrate import SchemaOutOfDate, current, ensure_schema, head, upgrade
from store.tables import AuditRow, table
from tests.integration import world
from tests.integration.race import race
from tests.integration.world import DANA, EVE, T0, Org, uows
from workflows.model import (
    Attempt,
    AuditEntry,
    Decision,
    GrantStatus,
    NewOperation,
    NewRequest,
    OperationKind,
    OperationPurpose,
    Period,
    RequestKind,
    RequestStatus,
    Verdict,
)
from workflows.ports import Conflict

BERLIN = ZoneInfo("Europe/Berlin")


def _new_request(kind: RequestKind = RequestKind.CAP_INCREASE, requester: str = EVE) -> NewRequest:
    return NewRequest(
        requester=requester,
        group="embedded",
        kind=kind,
        reason="test",
        created_at=T0,
        approvals_required=1,
        cap_before_cents=world.CAP,
        tier_before="standard",
        amount_cents=5000 if kind is RequestKind.CAP_INCREASE else None,
        target_tier="premium" if kind is RequestKind.SEAT_UPGRADE else None,
    )


# -- one pending request per person and kind ------------------------------------------------


def test_the_partial_unique_index_allows_one_pending_request_per_kind(org: Org) -> None:
    with uows(org.engine)() as uow:
        first = uow.requests.add(_new_request())
        uow.commit()

    with uows(org.engine)() as uow:
        with pytest.raises(Conflict):
            uow.requests.add(_new_request())
        # The refusal did not spoil the transaction: another kind still goes in.
        upgrade_request = uow.requests.add(_new_request(RequestKind.SEAT_UPGRADE))
        other_person = uow.requests.add(_new_request(requester=world.firmware(0)))
        uow.commit()

    with uows(org.engine)() as uow:
        denied = uow.requests.transition(
            first.id, expected=RequestStatus.PENDING, new=RequestStatus.DENIED, at=T0
        )
        assert denied is not None
        again = uow.requests.add(_new_request())  # no longer pending: a new one may come
        uow.commit()

    with uows(org.engine)() as uow:
        pending = {r.id for r in uow.requests.list(status=RequestStatus.PENDING)}
    assert pending == {upgrade_request.id, other_person.id, again.id}


# -- the audit log ---------------------------------------------------------------------------


def test_the_audit_log_refuses_update_and_delete(org: Org) -> None:
    entry = AuditEntry(at=T0, actor=DANA, action="request.approved", subject="request:1")
    with uows(org.engine)() as uow:
        uow.audit.append(entry)
        uow.commit()

    audit = table(AuditRow)
    for statement in (
        text("UPDATE audit_log SET actor = 'mallory@example.com'"),
        text("DELETE FROM audit_log"),
        update(audit).where(audit.c.subject == "request:1").values(after={"forged": True}),
        audit.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"), org.engine.begin() as connection:
            connection.execute(statement)

    if org.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), org.engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_log"))

    with uows(org.engine)() as uow:
        assert list(uow.audit.of("request:1")) == [entry]


def test_periods_inheritance_and_backend_groups_are_kept(org: Org) -> None:
    weekly = NewOperation(
        key="weekly",
        kind=OperationKind.SET_CAP,
        purpose=OperationPurpose.APPLY,
        email=EVE,
        created_at=T0,
        cap_cents=4000,
        period=Period.WEEKLY,
    )
    with uows(org.engine)() as uow:
        added = uow.operations.add(weekly)
        request = uow.requests.add(replace(_new_request(), period=Period.WEEKLY))
        uow.grants.add(
            request_id=request.id,
            email=EVE,
            kind=RequestKind.CAP_INCREASE,
            ends_at=T0,
            delta_cents=2000,
            period=Period.WEEKLY,
            cap_before_cents=2000,
            inherited_before=True,
        )
        member = uow.members.get(EVE)
        assert member is not None
        uow.members.upsert(replace(member, backend_groups=("rbac_group_01", "Embedded")))
        uow.commit()
    with uows(org.engine)() as uow:
        uow.operations.note_inherited(added.id, True)
        uow.operations.note_inherited(added.id, False)  # seen once: the first answer stays
        uow.commit()

    with uows(org.engine)() as uow:
        operation = uow.operations.get(added.id)
        grant = uow.grants.of_request(request.id)
        stored = uow.requests.get(request.id)
        member = uow.members.get(EVE)
        assert (uow.operations.queued_cap(EVE), uow.operations.queued_cap(EVE, Period.WEEKLY)) == (
            None,
            4000,
        )
    assert operation is not None
    assert (operation.period, operation.inherit, operation.inherited_before) == (
        Period.WEEKLY,
        False,
        True,
    )
    assert grant is not None
    assert (grant.period, grant.cap_before_cents, grant.inherited_before) == (
        Period.WEEKLY,
        2000,
        True,
    )
    assert stored is not None
    assert stored.period is Period.WEEKLY
    assert member is not None
    assert member.backend_groups == ("rbac_group_01", "Embedded")


# -- time ------------------------------------------------------------------------------------


@pytest.fixture
def other_zone_engine(org: Org) -> Iterator[Engine]:
    """On PostgreSQL, a second engine whose sessions run in another time zone."""
    if org.dialect != "postgresql":
        yield org.engine
        return
    url = make_url(org.url)
    options = f"{url.query['options']} -ctimezone=America/Los_Angeles"
    engine = make_engine(url.update_query_dict({"options": options}).render_as_string(False))
    yield engine
    engine.dispose()


def test_datetimes_come_back_timezone_aware_in_utc(org: Org, other_zone_engine: Engine) -> None:
    at = datetime(2026, 3, 29, 3, 30, 15, 123456, tzinfo=BERLIN)  # just after the clocks sprang
    ends = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN).replace(fold=1)  # the hour repeated
    with uows(org.engine)() as uow:
        request = uow.requests.add(replace(_new_request(), created_at=at))
        uow.requests.transition(
            request.id,
            expected=RequestStatus.PENDING,
            new=RequestStatus.APPROVED,
            at=at,
            decided_by=DANA,
        )
        uow.decisions.add(Decision(request.id, DANA, Verdict.APPROVE, at))
        grant = uow.grants.add(
            request_id=request.id, email=EVE, kind=RequestKind.CAP_INCREASE, ends_at=ends
        )
        operation = uow.operations.add(
            NewOperation(
                key="k",
                kind=OperationKind.SET_CAP,
                purpose=OperationPurpose.APPLY,
                email=EVE,
                created_at=at,
                cap_cents=1,
            )
        )
        uow.operations.record_attempt(Attempt(operation.id, 1, at, "failed", "503"))
        uow.audit.append(AuditEntry(at=at, actor=DANA, action="x", subject="s"))
        uow.commit()

    for engine in {org.engine, other_zone_engine}:
        with uows(engine)() as uow:
            stored = uow.requests.get(request.id)
            assert stored is not None
            seen = {
                "created_at": (stored.created_at, at),
                "updated_at": (stored.updated_at, at),
                "decided_at": (stored.decided_at, at),
                "decision": (uow.decisions.of(request.id)[0].at, at),
                "grant": (getattr(uow.grants.get(grant.id), "ends_at", None), ends),
                "operation": (getattr(uow.operations.get(operation.id), "created_at", None), at),
                "attempt": (uow.operations.attempts(operation.id)[0].at, at),
                "audit": (uow.audit.of("s")[0].at, at),
            }
        for name, (value, expected) in seen.items():
            assert isinstance(value, datetime), name
            assert value.tzinfo is UTC, f"{name} came back as {value!r}"
            # (astimezone: PEP 495 makes a repeated hour unequal to every other zone's time)
            assert value == expected.astimezone(UTC), name
            assert value.utcoffset() == timedelta(0)
        assert seen["grant"][0] == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(org: Org) -> None:
    with uows(org.engine)() as uow, pytest.raises(StatementError, match="naive"):
        uow.audit.append(
            AuditEntry(at=datetime(2026, 11, 20, 12), actor="a", action="b", subject="c")
        )


def test_times_compare_as_instants_whatever_their_zone(org: Org) -> None:
    with uows(org.engine)() as uow:
        uow.grants.add(
            request_id=uow.requests.add(_new_request()).id,
            email=EVE,
            kind=RequestKind.CAP_INCREASE,
            ends_at=T0,
        )
        uow.commit()
    in_tokyo = ZoneInfo("Asia/Tokyo")  # T0 is 21:00 there
    with uows(org.engine)() as uow:
        assert uow.grants.due(T0.astimezone(in_tokyo) - timedelta(microseconds=1)) == []
        (due,) = uow.grants.due(T0.astimezone(in_tokyo))
        assert (due.status, due.ends_at) == (GrantStatus.ACTIVE, T0)


def test_timestamps_are_stored_as_utc(org: Org) -> None:
    at = datetime(2026, 7, 1, 9, 0, tzinfo=BERLIN)
    with uows(org.engine)() as uow:
        uow.audit.append(AuditEntry(at=at, actor="a", action="b", subject="c"))
        uow.commit()
    with org.engine.connect() as connection:
        if org.dialect == "sqlite":
            raw = connection.execute(text("SELECT at FROM audit_log")).scalar_one()
            assert raw.startswith("2026-07-01 07:00:00")
        else:
            kind = connection.execute(
                text(
                    "SELECT data_type FROM information_schema.columns WHERE table_name = "
                    "'audit_log' AND column_name = 'at' AND table_schema = current_schema()"
                )
            ).scalar_one()
            assert kind == "timestamp with time zone"


# -- migrations ------------------------------------------------------------------------------


def test_ensure_schema_upgrades_sqlite_and_refuses_an_empty_postgresql(
    dialect: str, blank_engine: Engine
) -> None:
    assert current(blank_engine) is None
    if dialect == "sqlite":
        ensure_schema(blank_engine)
        assert current(blank_engine) == head()
    else:
        with pytest.raises(SchemaOutOfDate, match="capdesk db upgrade") as refused:
            ensure_schema(blank_engine)
        assert "empty" in str(refused.value)
        assert inspect(blank_engine).get_table_names() == []  # refused, and touched nothing
        upgrade(blank_engine)  # what `capdesk db upgrade` does
    ensure_schema(blank_engine)  # up to date: nothing to do, on both
    assert current(blank_engine) == head()
    assert "request" in inspect(blank_engine).get_table_names()


def test_replicas_starting_at_once_agree_on_the_schema(dialect: str, database_url: str) -> None:
    """Three processes' first start on a fresh database: SQLite is upgraded once, by whichever
    comes first, and the others wait for it; PostgreSQL is refused by all of them."""
    engines = [make_engine(database_url) for _ in range(3)]
    try:
        outcomes = race(*(partial(ensure_schema, engine) for engine in engines))
        if dialect == "sqlite":
            assert outcomes == [None, None, None]
            assert current(engines[0]) == head()
        else:
            assert all(isinstance(o, SchemaOutOfDate) for o in outcomes), outcomes
            assert current(engines[0]) is None
    finally:
        for engine in engines:
            engine.dispose()


def test_the_migrations_build_exactly_the_tables_of_the_code(engine: Engine) -> None:
    assert store.tables.MemberRow.__tablename__ in SQLModel.metadata.tables
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_the_migrations_go_down_and_up_again(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(migrate.__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current(engine) is None
    assert inspect(engine).get_table_names() == ["alembic_version"]

    upgrade(engine)

    assert current(engine) == head()
    world.seed(engine)
    with uows(engine)() as uow:
        uow.audit.append(AuditEntry(at=T0, actor="a", action="b", subject="c"))
        uow.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
