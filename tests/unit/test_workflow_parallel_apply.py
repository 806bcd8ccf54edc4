"""The outbox worker applies different people's changes in parallel: a hanging call holds up
only that person, at most `concurrency` calls run at once, leases are renewed while calls run,
and one person's changes still go in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import (
    ALICE,
    BOB,
    CARL,
    CLEO,
    DANA,
    OMAR,
    SAM,
    SUE,
    FakeConnector,
    MaxRandom,
    World,
)
from tests.integration.race import eventually, finished, start
from workflows.applying.backoff import RetryPolicy
from workflows.applying.worker import OperationWorker
from workflows.model import OperationStatus, RequestStatus

WAIT = 30.0
"""Seconds a test waits for something another thread does, at most (it happens in far less)."""

APPROVER = {ALICE: DANA, BOB: DANA, SUE: SAM, CLEO: CARL, DANA: OMAR, OMAR: DANA}
"""Who approves each requester's raise when the policy does not (small ones it does)."""


def queue_raise(world: World, who: str, text: str = "raise 10 small one") -> int:
    """An approved cap raise for `who`; the id of its operation."""
    request = world.ask(who, text)
    if request.status is RequestStatus.PENDING:
        world.approve(APPROVER[who], request.id)
    (operation,) = [o for o in world.uow.all_operations() if o.request_id == request.id]
    return operation.id


def worker(world: World, *, concurrency: int = 8) -> OperationWorker:
    return OperationWorker(
        uow_factory=world.uow.factory,
        connector=world.connector,
        policy=world.policy,
        clock=world.clock,
        rng=MaxRandom(),
        concurrency=concurrency,
    )


def started(connector: FakeConnector, calls: int) -> None:
    for n in range(calls):
        assert connector.started.acquire(timeout=WAIT), f"only {n} of {calls} calls started"


def status(world: World, operation_id: int) -> OperationStatus:
    operation = world.uow.operations.get(operation_id)
    assert operation is not None
    return operation.status


@pytest.fixture
def world() -> World:
    return World()


def test_a_hanging_call_holds_up_only_the_change_of_its_person(world: World) -> None:
    hung = world.connector.hold(ALICE)
    alice = queue_raise(world, ALICE)
    others = [queue_raise(world, who) for who in (BOB, SUE, CLEO)]

    (running,) = start(worker(world).drain)
    eventually(
        lambda: all(status(world, o) is OperationStatus.DONE for o in others),
        "the other people's changes are applied while Alice's call hangs",
    )
    assert status(world, alice) is OperationStatus.IN_PROGRESS
    hung.set()

    assert finished(running).applied == sorted([alice, *others])
    assert world.connector.caps == {ALICE: 9500, BOB: 9500, SUE: 9500, CLEO: 9500}


def test_one_persons_changes_wait_for_the_earlier_one_however_many_threads(world: World) -> None:
    hung = world.connector.hold(SUE)
    first = queue_raise(world, SUE, "raise 150 release prep")
    second = queue_raise(world, SUE, "raise 50 more tests")
    bob = queue_raise(world, BOB)

    (running,) = start(worker(world).drain)
    started(world.connector, 1)  # Sue's first call hangs
    eventually(lambda: status(world, bob) is OperationStatus.DONE, "Bob's change is applied")
    assert status(world, second) is OperationStatus.PENDING
    assert [w.idempotency_key for w in world.connector.calls if w.email == SUE] == [
        "request-1-apply"
    ]
    hung.set()

    assert finished(running).applied == [first, second, bob]
    assert [w.value for w in world.connector.calls if w.email == SUE] == [23500, 28500]
    assert world.connector.caps[SUE] == 28500


def test_no_more_calls_run_at_once_than_the_worker_has_threads(world: World) -> None:
    people = (ALICE, BOB, SUE, CLEO, DANA, OMAR)
    holds = [world.connector.hold(who) for who in people]
    queued = [queue_raise(world, who) for who in people]

    (running,) = start(worker(world, concurrency=3).drain)
    started(world.connector, 3)
    # Only what runs is claimed: nothing waits under a lease the worker is not working on.
    assert not world.connector.started.acquire(timeout=1.0), "a fourth call started"
    assert world.uow.operations.count(OperationStatus.IN_PROGRESS) == 3
    assert world.uow.operations.count(OperationStatus.PENDING) == 3
    for hold in holds:
        hold.set()

    assert finished(running).applied == queued
    assert world.connector.most_in_flight == 3


def test_a_live_worker_renews_its_leases_so_nobody_takes_them_over(world: World) -> None:
    hung = world.connector.hold(ALICE)
    alice = queue_raise(world, ALICE)
    lease = RetryPolicy().lease

    (running,) = start(worker(world).drain)
    started(world.connector, 1)
    world.advance(lease + timedelta(seconds=1))  # the first lease has lapsed by now

    def renewed() -> bool:
        operation = world.uow.operations.get(alice)
        assert operation is not None
        assert operation.lease_until is not None
        return operation.lease_until > world.now

    eventually(renewed, "the running worker renews Alice's lease")
    assert worker(world).run_once().handled == 0
    hung.set()

    assert finished(running).applied == [alice]
    assert [w.idempotency_key for w in world.connector.calls] == ["request-1-apply"]


def test_a_drain_asked_for_while_one_runs_leaves_the_work_to_it(world: World) -> None:
    hung = world.connector.hold(ALICE)
    alice = queue_raise(world, ALICE)
    shared = worker(world)

    (running,) = start(shared.drain)
    started(world.connector, 1)
    bob = queue_raise(world, BOB)
    assert shared.drain().handled == 0  # returns at once: the running pass takes Bob's change
    eventually(lambda: status(world, bob) is OperationStatus.DONE, "Bob's change is applied")
    hung.set()

    assert finished(running).applied == [alice, bob]


def test_a_worker_needs_at_least_one_thread(world: World) -> None:
    with pytest.raises(ValueError, match="at least one operation at a time"):
        worker(world, concurrency=0)
