"""Temporary grants: a warning a day before, then a revert through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.fakes import ALICE, ANA, DANA, T0, FakeConnector, World
from workflows.admin import Capability, TransientConnectorError
from workflows.applying.admin_actions import confirm_manual
from workflows.applying.grants import expire_grants, warn_ending_grants
from workflows.messages import Verb
from workflows.model import (
    GrantStatus,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    RequestStatus,
)

END = T0 + timedelta(days=14)


def applied(world: World, text: str) -> int:
    request = world.ask(ALICE, text)
    world.approve(DANA, request.id)
    world.worker.run_once()
    assert world.request(request.id).status is RequestStatus.APPLIED
    return request.id


@pytest.fixture
def world() -> World:
    world = World()
    applied(world, "raise 150 for 14d release prep")
    return world


def warn(world: World) -> list[int]:
    return warn_ending_grants(world.uow, world.policy, now=world.now)


def expire(world: World) -> list[int]:
    return expire_grants(world.uow, now=world.now)


def test_the_holder_is_warned_once_a_day_before_the_end(world: World) -> None:
    world.clock.set(END - timedelta(days=2))
    assert warn(world) == []
    world.clock.set(END - timedelta(days=1, seconds=1))
    assert warn(world) == []
    world.clock.set(END - timedelta(hours=23))
    assert warn(world) == [1]
    [notice] = world.uow.sent(ALICE, kind="grant_ending")
    message = notice.outgoing.message
    assert message.title == "Your +$150 a month ends Fri 4 Dec 10:00"
    assert [(a.verb, a.value) for a in message.actions] == [(Verb.EXTEND, "1")]
    assert world.uow.all_grants()[0].warned_at == world.now

    for hours in (1, 12, 22):
        world.clock.set(END - timedelta(hours=23) + timedelta(hours=hours))
        assert warn(world) == []
    assert len(world.uow.sent(ALICE, kind="grant_ending")) == 1


def test_the_end_queues_a_revert_that_takes_the_grant_back(world: World) -> None:
    world.clock.set(END - timedelta(seconds=1))
    assert expire(world) == []
    world.clock.set(END)
    assert expire(world) == [1]
    assert expire(world) == []  # idempotent

    [grant] = world.uow.all_grants()
    assert grant.status is GrantStatus.REVERTING
    revert = world.uow.operation("grant-1-revert")
    assert (revert.kind, revert.purpose) == (OperationKind.SET_CAP, OperationPurpose.REVERT)
    assert (revert.email, revert.cap_cents, revert.request_id, revert.grant_id) == (
        ALICE,
        8500,
        1,
        1,
    )
    assert world.uow.audit_actions("grant:1") == ["grant.ended"]

    assert world.worker.run_once().applied == [revert.id]
    assert world.connector.applied["grant-1-revert"].value == 8500
    assert world.member(ALICE).cap_cents == 8500
    assert world.request(1).status is RequestStatus.REVERTED
    assert world.uow.all_grants()[0].status is GrantStatus.REVERTED
    assert world.uow.operation("grant-1-revert").status is OperationStatus.DONE
    [told] = world.uow.sent(ALICE, kind="grant_reverted")
    assert told.outgoing.message.text == "As agreed, your monthly cap is back to $85."
    assert [a.verb for a in told.outgoing.message.actions] == [Verb.REQUEST_MORE]
    assert world.uow.audit_actions("request:1")[-1] == "request.reverted"


def test_a_permanent_raise_in_between_survives_the_revert(world: World) -> None:
    world.advance(timedelta(days=2))
    applied(world, "raise 100 new project")  # permanent, on top: 235 → 335
    assert world.member(ALICE).cap_cents == 33500
    world.clock.set(END)
    expire(world)
    assert world.uow.operation("grant-1-revert").cap_cents == 18500  # 335 - 150
    world.worker.run_once()
    assert world.member(ALICE).cap_cents == 18500
    assert world.request(1).status is RequestStatus.REVERTED
    assert world.request(2).status is RequestStatus.APPLIED


def test_a_revert_is_retried_like_any_operation(world: World) -> None:
    world.clock.set(END)
    expire(world)
    world.connector.fail_next(TransientConnectorError("429", retry_after=60))
    assert world.worker.run_once().retrying == [2]
    assert world.request(1).status is RequestStatus.APPLIED
    world.clock.set(world.uow.operation("grant-1-revert").next_attempt_at)
    assert world.worker.run_once().applied == [2]
    assert world.request(1).status is RequestStatus.REVERTED


def test_a_seat_upgrade_grant_reverts_to_the_old_tier() -> None:
    world = World()
    applied(world, "upgrade premium for 30d profiling work")
    assert world.member(ALICE).tier == "premium"
    [grant] = world.uow.all_grants()
    assert (grant.tier_before, grant.tier_after) == ("standard", "premium")

    world.clock.set(grant.ends_at)
    assert expire(world) == [grant.id]
    revert = world.uow.operation(f"grant-{grant.id}-revert")
    assert (revert.kind, revert.tier, revert.cap_cents) == (
        OperationKind.SET_TIER,
        "standard",
        None,
    )
    world.worker.run_once()
    assert world.connector.tiers == {ALICE: "standard"}
    assert world.member(ALICE).tier == "standard"
    assert world.request(1).status is RequestStatus.REVERTED
    assert world.uow.all_grants()[0].status is GrantStatus.REVERTED
    [told] = world.uow.sent(ALICE, kind="grant_reverted")
    assert told.outgoing.message.text == "As agreed, your seat is back to standard."


def test_a_seat_revert_the_backend_cannot_make_is_confirmed_by_an_admin() -> None:
    world = World(
        connector=FakeConnector(capabilities=frozenset(Capability) - {Capability.SET_TIER})
    )
    world.ask(ALICE, "upgrade premium for 30d profiling work")
    world.approve(DANA, 1)
    world.worker.run_once()
    confirm_manual(world.uow, world.policy, operation_id=1, actor=ANA, now=world.now)
    [grant] = world.uow.all_grants()

    world.clock.set(grant.ends_at)
    expire(world)
    assert world.worker.run_once().manual == [2]
    assert world.request(1).status is RequestStatus.APPLIED
    confirm_manual(world.uow, world.policy, operation_id=2, actor=ANA, now=world.now)
    assert world.member(ALICE).tier == "standard"
    assert world.request(1).status is RequestStatus.REVERTED
    assert world.uow.all_grants()[0].status is GrantStatus.REVERTED


def test_grants_ending_at_different_times(world: World) -> None:
    world.advance(timedelta(hours=1))
    world.ask(ALICE, "upgrade premium until 2026-11-27 profiling")
    world.approve(DANA, 2)
    world.worker.run_once()
    upgrade_end = datetime.fromisoformat("2026-11-28T00:00+01:00")
    assert world.uow.all_grants()[1].ends_at == upgrade_end

    world.clock.set(upgrade_end - timedelta(hours=12))
    assert warn(world) == [2]
    world.clock.set(upgrade_end)
    assert expire(world) == [2]
    world.clock.set(END)
    assert warn(world) == []  # the cap grant is over already; its revert tells her
    assert expire(world) == [1]
