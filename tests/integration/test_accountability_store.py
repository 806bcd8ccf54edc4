"""The stores of use-case questions, delegations and the seat pool answer alike in SQL (SQLite,
PostgreSQL) and in the fakes the domain's unit tests use."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from store.engine import make_engine
from store.migrate import upgrade
from store.uow import SqlUnitOfWork, uow_factory
from tests.fakes import FakeUnitOfWork
from tests.postgres import fresh_schema
from workflows.admin import DailyUsage
from workflows.model import (
    Member,
    NewOperation,
    NewRequest,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    RequestKind,
)
from workflows.pool.records import IdleHolder, TierUse
from workflows.ports import UnitOfWork

T = datetime(2026, 11, 20, 9, tzinfo=UTC)
TODAY = date(2026, 11, 20)
HOUR = timedelta(hours=1)
EVE, TOM, SAM, LEA, MAX, ANA = (
    f"{n}@example.com" for n in ("eve", "tom", "sam", "lea", "max", "ana")
)
MEMBERS = [
    Member(EVE, "Eve", "standard", 8500),
    Member(TOM, "Tom", "premium", 8500),
    Member(SAM, "Sam", "premium", 8500),
    Member(LEA, "Lea", "premium", 8500),
    Member(MAX, "Max", "premium", 8500, active=False),
    Member(ANA, "Ana", "standard", 8500),
]


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], UnitOfWork]]:
    """A unit of work factory on the fake store or a fresh database, with the members in."""
    if request.param == "fake":
        fake = FakeUnitOfWork(members=MEMBERS)
        yield fake.factory
        return
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('store') / 'capdesk.db'}")
        yield _seeded(engine)
        engine.dispose()
        return
    server: Engine = request.getfixturevalue("postgres_server")
    with fresh_schema(server, "capdesk_acc") as (_, url):
        engine = make_engine(url)
        yield _seeded(engine)
        engine.dispose()


def _seeded(engine: Engine) -> Callable[[], UnitOfWork]:
    upgrade(engine)
    factory = uow_factory(engine)
    with SqlUnitOfWork(factory) as uow:
        for member in MEMBERS:
            uow.members.upsert(member)
        uow.commit()
    return lambda: SqlUnitOfWork(factory)


def _request(uow: UnitOfWork, who: str, kind: RequestKind = RequestKind.CAP_INCREASE) -> int:
    upgrade_ = kind is RequestKind.SEAT_UPGRADE
    return uow.requests.add(
        NewRequest(
            requester=who,
            group="embedded",
            kind=kind,
            reason="sprint",
            created_at=T,
            approvals_required=1,
            cap_before_cents=8500,
            tier_before="standard",
            amount_cents=None if upgrade_ else 5000,
            target_tier="premium" if upgrade_ else None,
            ends_at=T + 10 * 24 * HOUR,
        )
    ).id


def test_a_use_case_question_is_asked_once_and_answered_or_skipped_once(
    store: Callable[[], UnitOfWork],
) -> None:
    with store() as uow:
        first, second = _request(uow, EVE), _request(uow, EVE, RequestKind.SEAT_UPGRADE)
        asked = uow.use_cases.ask(request_id=first, email="Eve@Example.com", asked_at=T)
        assert asked is not None
        assert (asked.email, asked.open, asked.skipped, asked.grant_id) == (EVE, True, False, None)
        assert uow.use_cases.ask(request_id=first, email=EVE, asked_at=T + HOUR) is None
        later = uow.use_cases.ask(request_id=second, email=EVE, asked_at=T + HOUR)
        assert later is not None
        uow.commit()
    with store() as uow:
        assert uow.use_cases.of_request(first) == asked
        assert uow.use_cases.get(asked.id) == asked
        assert uow.use_cases.latest_of(EVE) == later
        assert uow.use_cases.latest_of(TOM) is None
        assert uow.use_cases.to_remind(T + HOUR) == [asked]
        assert uow.use_cases.to_remind(T + 2 * HOUR) == [asked, later]
        uow.use_cases.mark_reminded(asked.id, T + 24 * HOUR)
        assert uow.use_cases.to_remind(T + 48 * HOUR) == [later]
        answered = uow.use_cases.answer(
            asked.id, at=T + 25 * HOUR, use_case="release prep", note="flashing"
        )
        assert answered is not None
        assert (answered.use_case, answered.note, answered.open) == (
            "release prep",
            "flashing",
            False,
        )
        assert answered.reminded_at == T + 24 * HOUR
        assert uow.use_cases.answer(asked.id, at=T + 26 * HOUR, use_case="other") is None
        assert uow.use_cases.skip(asked.id, at=T + 26 * HOUR) is None
        skipped = uow.use_cases.skip(later.id, at=T + 26 * HOUR)
        assert skipped is not None
        assert (skipped.skipped, skipped.use_case, skipped.answered_at) == (
            True,
            None,
            T + 26 * HOUR,
        )
        assert uow.use_cases.to_remind(T + 48 * HOUR) == []
        uow.commit()


def test_a_delegation_is_in_force_from_its_start_until_its_end_or_the_way_back(
    store: Callable[[], UnitOfWork],
) -> None:
    with store() as uow:
        away = uow.delegations.add(
            delegator="Sam@Example.com",
            delegate=LEA,
            starts_at=T,
            ends_at=T + 72 * HOUR,
            created_at=T - HOUR,
        )
        alone = uow.delegations.add(
            delegator=TOM, delegate=None, starts_at=T + HOUR, ends_at=T + 2 * HOUR, created_at=T
        )
        uow.commit()
    assert (away.delegator, away.delegate, away.ended_at) == (SAM, LEA, None)
    with store() as uow:
        assert uow.delegations.get(away.id) == away
        assert uow.delegations.in_force(T - timedelta(seconds=1)) == []
        assert uow.delegations.in_force(T + 90 * timedelta(minutes=1)) == [away, alone]
        assert uow.delegations.in_force(
            T + 90 * timedelta(minutes=1), delegators=["SAM@example.com"]
        ) == [away]
        assert uow.delegations.in_force(T + 2 * HOUR) == [away]
        assert uow.delegations.of(SAM) == [away]
        back = uow.delegations.end(away.id, at=T + 24 * HOUR)
        assert back is not None
        assert (back.ended_at, back.until) == (T + 24 * HOUR, T + 24 * HOUR)
        assert uow.delegations.end(away.id, at=T + 25 * HOUR) is None
        assert uow.delegations.end(alone.id, at=T + 3 * HOUR) is None  # over by itself already
        assert uow.delegations.in_force(T + 24 * HOUR) == []
        assert uow.delegations.in_force(T + 23 * HOUR) == [back]
        uow.commit()


def test_the_pool_counts_holders_upgrades_on_their_way_and_idle_seats(
    store: Callable[[], UnitOfWork],
) -> None:
    with store() as uow:
        # Tom uses his premium seat; Sam last did 20 days ago, Lea 40; Max is gone.
        uow.usage.replace_daily(
            [
                DailyUsage(TOM, TODAY, 100, 1),
                DailyUsage(SAM, TODAY - timedelta(days=20), 100, 1),
                DailyUsage(LEA, TODAY - timedelta(days=40), 100, 1),
                DailyUsage(LEA, TODAY - timedelta(days=3), 0, 0),  # a day with no use
                DailyUsage(MAX, TODAY - timedelta(days=90), 100, 1),
            ]
        )
        # Sam holds premium through a temporary grant; Eve's upgrade is approved, not applied.
        granted = _request(uow, SAM, RequestKind.SEAT_UPGRADE)
        uow.grants.add(
            request_id=granted,
            email=SAM,
            kind=RequestKind.SEAT_UPGRADE,
            ends_at=T + 24 * HOUR,
            tier_before="standard",
            tier_after="premium",
        )
        coming = _request(uow, EVE, RequestKind.SEAT_UPGRADE)
        uow.operations.add(
            NewOperation(
                key=f"request-{coming}-apply",
                kind=OperationKind.SET_TIER,
                purpose=OperationPurpose.APPLY,
                email=EVE,
                created_at=T,
                request_id=coming,
                tier="premium",
            )
        )
        # A finished upgrade of Ana's counts no more than her seat does.
        done = uow.operations.add(
            NewOperation(
                key="done",
                kind=OperationKind.SET_TIER,
                purpose=OperationPurpose.APPLY,
                email=ANA,
                created_at=T,
                tier="premium",
            )
        )
        uow.operations.transition(
            done.id, expected=OperationStatus.PENDING, new=OperationStatus.DONE
        )
        uow.commit()
    with store() as uow:
        standard, premium = uow.pool.tiers(
            ["standard", "premium"], idle_since=TODAY - timedelta(days=14), idle_limit=5
        )
        limited = uow.pool.tiers(["premium"], idle_since=TODAY - timedelta(days=14), idle_limit=1)
    assert standard == TierUse("standard", in_use=2, held_temporarily=0, idle_count=0, idle=())
    assert premium == TierUse(
        "premium",
        in_use=4,
        held_temporarily=1,
        idle_count=2,
        idle=(
            IdleHolder(LEA, "Lea", TODAY - timedelta(days=40), temporary=False),
            IdleHolder(SAM, "Sam", TODAY - timedelta(days=20), temporary=True),
        ),
    )
    assert limited[0].idle_count == 2
    assert [h.email for h in limited[0].idle] == [LEA]
