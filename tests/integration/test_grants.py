"""Temporary grants on the real store: applied, warned about, reverted at their end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from store.tables import NotificationRow, table
from tests.integration import world
from tests.integration.race import race
from tests.integration.world import EVE, T0, Org, uows
from workflows.applying.grants import expire_grants, warn_ending_grants
from workflows.model import GrantStatus, OperationPurpose, OperationStatus, Request, RequestStatus

FORTNIGHT = timedelta(days=14)


def _applied(org: Org, text: str, *, requester: str = EVE) -> Request:
    asked = world.ask(org.engine, text, requester=requester, now=org.clock.now())
    world.approve(org.engine, asked.id, now=org.clock.now())
    assert len(world.worker(org.engine, org.backend, org.clock).run_once().applied) == 1
    applied = world.request(org.engine, asked.id)
    assert applied.status is RequestStatus.APPLIED
    return applied


def _seat(org: Org) -> tuple[tuple[int, str], tuple[int | None, str]]:
    """Eve's (cap, tier) in capdesk's store and in the backend."""
    stored, remote = world.member(org.engine, EVE), org.backend.seat(EVE)
    return (stored.cap_cents, stored.tier), (remote.monthly_cap_cents, remote.tier)


@pytest.mark.parametrize(
    ("text", "during"),
    [
        pytest.param("raise 150 for 14d release prep", (world.CAP + 15000, "standard"), id="cap"),
        pytest.param("upgrade premium for 14d profiling", (world.CAP, "premium"), id="tier"),
    ],
)
def test_a_temporary_grant_reverts_at_its_end(org: Org, text: str, during: tuple[int, str]) -> None:
    before = (world.CAP, "standard")
    request = _applied(org, text)
    with uows(org.engine)() as uow:
        grant = uow.grants.of_request(request.id)
    assert grant is not None
    assert (grant.status, grant.ends_at) == (GrantStatus.ACTIVE, T0 + FORTNIGHT)
    assert _seat(org) == (during, during)

    # A day before the end the holder is told, once.
    org.clock.set(T0 + FORTNIGHT - timedelta(hours=23))
    assert warn_ending_grants(uows(org.engine)(), world.policy(), now=org.clock.now()) == [grant.id]
    assert warn_ending_grants(uows(org.engine)(), world.policy(), now=org.clock.now()) == []

    # Not a moment early.
    org.clock.set(grant.ends_at - timedelta(microseconds=1))
    assert expire_grants(uows(org.engine)(), now=org.clock.now()) == []

    org.clock.set(grant.ends_at + timedelta(minutes=1))
    assert expire_grants(uows(org.engine)(), now=org.clock.now()) == [grant.id]
    assert expire_grants(uows(org.engine)(), now=org.clock.now()) == []
    assert _seat(org) == (during, during), "nothing changes before the worker runs"

    report = world.worker(org.engine, org.backend, org.clock).run_once()

    (apply, revert) = world.operations_of(org.engine, request.id)
    assert report.applied == [revert.id]
    assert (revert.purpose, revert.status, revert.grant_id) == (
        OperationPurpose.REVERT,
        OperationStatus.DONE,
        grant.id,
    )
    assert _seat(org) == (before, before)
    assert world.request(org.engine, request.id).status is RequestStatus.REVERTED
    with uows(org.engine)() as uow:
        ended = uow.grants.get(grant.id)
        request_log = [e.action for e in uow.audit.of(f"request:{request.id}")]
        grant_log = [e.action for e in uow.audit.of(f"grant:{grant.id}")]
    assert ended is not None
    assert ended.status is GrantStatus.REVERTED
    assert request_log == [
        "request.created",
        "request.approved",
        "request.applying",
        "request.applied",
        "request.reverted",
    ]
    assert grant_log == ["grant.ended"]
    assert [w.key for w in org.backend.effective()] == [apply.key, revert.key]
    assert world.worker(org.engine, org.backend, org.clock).run_once().handled == 0


def test_the_revert_takes_back_the_grant_and_keeps_later_raises(org: Org) -> None:
    temporary = _applied(org, "raise 150 for 14d release prep")
    org.clock.advance(timedelta(days=1))
    _applied(org, "raise 50 new role")  # permanent, on top
    assert _seat(org)[0] == (world.CAP + 20000, "standard")

    org.clock.set(T0 + FORTNIGHT)
    assert len(expire_grants(uows(org.engine)(), now=org.clock.now())) == 1
    assert len(world.worker(org.engine, org.backend, org.clock).run_once().applied) == 1

    assert world.request(org.engine, temporary.id).status is RequestStatus.REVERTED
    assert _seat(org) == ((world.CAP + 5000, "standard"), (world.CAP + 5000, "standard"))


def test_concurrent_expiry_queues_one_revert(org: Org) -> None:
    request = _applied(org, "raise 150 for 14d release prep")
    org.clock.set(T0 + FORTNIGHT)
    now = org.clock.now()

    outcomes = race(*(lambda: expire_grants(uows(org.engine)(), now=now) for _ in range(3)))

    assert all(isinstance(o, list) for o in outcomes), outcomes
    assert sorted(map(len, outcomes)) == [0, 0, 1]
    (grant_id,) = (g for o in outcomes for g in o)
    operations = world.operations_of(org.engine, request.id)
    assert [op.purpose for op in operations] == [OperationPurpose.APPLY, OperationPurpose.REVERT]
    with uows(org.engine)() as uow:
        assert [e.action for e in uow.audit.of(f"grant:{grant_id}")] == ["grant.ended"]


def test_concurrent_warnings_tell_each_holder_once(org: Org) -> None:
    """Two schedulers (two replicas) at once: every holder gets one notice of the end."""
    requests = [
        _applied(org, "raise 150 for 14d release prep", requester=world.firmware(n))
        for n in range(4)
    ]
    now = T0 + FORTNIGHT - timedelta(hours=12)

    warned = race(
        *(lambda: warn_ending_grants(uows(org.engine)(), world.policy(), now=now) for _ in "ab")
    )

    with uows(org.engine)() as uow:
        grants = [uow.grants.of_request(r.id) for r in requests]
    assert sorted(g for w in warned for g in w) == sorted(g.id for g in grants if g is not None)
    notices = table(NotificationRow)
    with org.engine.connect() as connection:
        kinds = [m["kind"] for m in connection.execute(select(notices.c.message)).scalars()]
    assert kinds.count("grant_ending") == len(requests)
