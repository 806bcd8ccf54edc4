"""The operations outbox and its worker: apply, retry, fail, manual tasks, crashed workers."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest

from tests.fakes import (
    ALICE,
    ANA,
    BOB,
    DANA,
    FakeConnector,
    SimulatedCrash,
    World,
    org_policy,
)
from workflows.admin import (
    Capability,
    PermanentConnectorError,
    TransientConnectorError,
    UnsupportedOperation,
)
from workflows.applying.admin_actions import confirm_manual, retry_operation
from workflows.applying.backoff import RetryPolicy
from workflows.errors import Refusal
from workflows.messages import Recipient, Verb
from workflows.model import GrantStatus, OperationStatus, RequestKind, RequestStatus

RAISE = "raise 150 for 14d release prep"
KEY = "request-1-apply"


def approved(world: World, text: str = RAISE) -> int:
    request = world.ask(ALICE, text)
    world.approve(DANA, request.id)
    return request.id


@pytest.fixture
def world() -> World:
    return World()


def test_the_worker_applies_an_approved_request(world: World) -> None:
    approved(world, "raise 150 release prep")
    report = world.worker.run_once()
    operation = world.uow.operation(KEY)
    assert report.applied == [operation.id]
    assert world.connector.keys_called() == [KEY]
    assert world.connector.caps == {ALICE: 23500}
    assert operation.status is OperationStatus.DONE
    assert operation.attempts == 1
    assert [(a.number, a.outcome) for a in world.uow.operations.attempts(operation.id)] == [
        (1, "applied")
    ]
    assert world.request(1).status is RequestStatus.APPLIED
    assert world.member(ALICE).cap_cents == 23500
    assert world.uow.all_grants() == []  # permanent
    [told] = world.uow.sent(ALICE, kind="request_applied")
    assert told.outgoing.message.text == "Your monthly cap is now $235, permanent."
    assert world.uow.audit_actions("request:1") == [
        "request.created",
        "request.approved",
        "request.applying",
        "request.applied",
    ]
    assert world.uow.audit_actions(f"operation:{operation.id}") == ["operation.done"]
    assert world.worker.run_once().handled == 0


def test_a_temporary_request_creates_a_grant(world: World) -> None:
    approved(world)
    world.worker.run_once()
    [grant] = world.uow.all_grants()
    assert (grant.request_id, grant.email, grant.kind) == (1, ALICE, RequestKind.CAP_INCREASE)
    assert grant.delta_cents == 15000
    assert grant.ends_at == world.request(1).ends_at
    assert grant.status is GrantStatus.ACTIVE


def test_the_cap_is_computed_on_the_seat_as_it_is_at_approval(world: World) -> None:
    world.ask(ALICE, RAISE)
    with world.uow:
        world.uow.members.set_seat(ALICE, cap_cents=10000)  # a sync saw a new cap meanwhile
        world.uow.commit()
    world.approve(DANA, 1)
    assert world.uow.operation(KEY).cap_cents == 25000


def test_transient_errors_are_retried_with_growing_backoff_honouring_retry_after(
    world: World,
) -> None:
    world.connector.fail_next(
        *(TransientConnectorError("503 Service Unavailable", retry_after=5) for _ in range(5))
    )
    approved(world)
    waits = []
    for attempt in range(1, 6):
        failed_at = world.now
        report = world.worker.run_once()
        operation = world.uow.operation(KEY)
        assert report.retrying == [operation.id]
        assert operation.status is OperationStatus.PENDING
        assert operation.attempts == attempt
        assert operation.last_error == "503 Service Unavailable"
        assert world.request(1).status is RequestStatus.APPLYING
        waits.append(operation.next_attempt_at - failed_at)
        world.clock.set(operation.next_attempt_at - timedelta(microseconds=1))
        assert world.worker.run_once().handled == 0  # not due yet
        world.clock.set(operation.next_attempt_at)

    # Retry-After (5s) is a floor; the backoff's ceiling (2s, 4s, 8s, ...) grows past it.
    assert waits == [timedelta(seconds=s) for s in (5, 5, 8, 16, 32)]
    assert world.worker.run_once().applied == [world.uow.operation(KEY).id]

    operation = world.uow.operation(KEY)
    assert operation.status is OperationStatus.DONE
    assert operation.attempts == 6
    attempts = world.uow.operations.attempts(operation.id)
    assert [(a.number, a.outcome) for a in attempts] == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
        (4, "failed"),
        (5, "failed"),
        (6, "applied"),
    ]
    assert world.connector.keys_called() == [KEY] * 6
    assert list(world.connector.applied) == [KEY]
    assert world.request(1).status is RequestStatus.APPLIED
    assert world.member(ALICE).cap_cents == 23500
    assert len(world.uow.sent(ALICE, kind="request_applied")) == 1


def test_backoff_stays_under_its_ceiling_and_honours_retry_after() -> None:
    retry = RetryPolicy()
    for attempt in range(1, 12):
        ceiling = min(retry.cap, retry.base * 2 ** (attempt - 1))
        for seed in range(20):
            rng = random.Random(seed)
            assert timedelta(0) <= retry.delay(attempt, retry_after=None, rng=rng) <= ceiling
            assert retry.delay(attempt, retry_after=600, rng=rng) >= timedelta(seconds=600)


def test_too_many_transient_errors_fail_the_operation(world: World) -> None:
    world.connector.fail_next(*(TransientConnectorError("timeout") for _ in range(8)))
    approved(world)
    for _ in range(8):
        world.worker.run_once()
        world.clock.set(world.uow.operation(KEY).next_attempt_at)
    operation = world.uow.operation(KEY)
    assert operation.status is OperationStatus.FAILED
    assert operation.attempts == 8
    assert world.request(1).status is RequestStatus.FAILED
    assert world.connector.applied == {}


def test_an_unexpected_connector_bug_is_retried_not_lost(world: World) -> None:
    world.connector.fail_next(RuntimeError("boom"))
    approved(world)
    assert world.worker.run_once().retrying == [1]
    assert "boom" in (world.uow.operation(KEY).last_error or "")
    world.clock.set(world.uow.operation(KEY).next_attempt_at)
    assert world.worker.run_once().applied == [1]


def test_a_permanent_error_fails_and_the_admins_can_retry(world: World) -> None:
    world.connector.fail_next(PermanentConnectorError("403: the admin key was revoked"))
    approved(world)
    report = world.worker.run_once()
    operation = world.uow.operation(KEY)
    assert report.failed == [operation.id]
    assert operation.status is OperationStatus.FAILED
    assert operation.last_error == "403: the admin key was revoked"
    assert world.request(1).status is RequestStatus.FAILED
    [alert] = world.uow.sent(ANA)
    assert alert.outgoing.thread_key == f"operation:{operation.id}"
    message = alert.outgoing.message
    assert message.kind == "operation_failed"
    assert message.text == "403: the admin key was revoked"
    assert [(a.verb, a.value) for a in message.actions] == [
        (Verb.RETRY_OPERATION, str(operation.id))
    ]
    [told] = world.uow.sent(ALICE, kind="request_failed")
    assert "could not be applied yet" in told.outgoing.message.title
    assert world.worker.run_once().handled == 0  # not retried by itself

    with pytest.raises(Refusal, match=re.escape("Only an admin can do this.")):
        retry_operation(
            world.uow, world.policy, operation_id=operation.id, actor=DANA, now=world.now
        )
    assert world.uow.operation(KEY).status is OperationStatus.FAILED

    world.advance(timedelta(hours=1))
    again = retry_operation(
        world.uow, world.policy, operation_id=operation.id, actor="Ana@example.com", now=world.now
    )
    assert again.status is OperationStatus.PENDING
    assert again.attempts == 0
    assert again.next_attempt_at == world.now
    assert world.request(1).status is RequestStatus.APPLYING
    [_, retried] = world.uow.sent(ANA)
    assert retried.outgoing.message.actions == ()
    assert retried.outgoing.message.footer == "Retried by Ana Admin"

    with pytest.raises(Refusal, match=re.escape("This change is pending, not failed.")):
        retry_operation(
            world.uow, world.policy, operation_id=operation.id, actor=ANA, now=world.now
        )

    assert world.worker.run_once().applied == [operation.id]
    assert world.request(1).status is RequestStatus.APPLIED
    assert world.member(ALICE).cap_cents == 23500
    assert world.uow.operation(KEY).attempts == 1


def test_failures_go_to_the_admin_channel_when_there_is_one() -> None:
    world = World(org_policy(admin_channel={"teams": "19:abc@thread.tacv2"}))
    world.connector.fail_next(PermanentConnectorError("400"))
    approved(world)
    world.worker.run_once()
    [alert] = world.uow.sent(Recipient.channel("admin"))
    assert alert.outgoing.message.kind == "operation_failed"
    assert world.uow.sent(ANA) == []


def manual_world() -> World:
    world = World(
        connector=FakeConnector(capabilities=frozenset(Capability) - {Capability.SET_TIER})
    )
    approved(world, "upgrade premium for 30d profiling work")
    return world


def test_a_change_the_backend_cannot_make_becomes_a_manual_task() -> None:
    world = manual_world()
    report = world.worker.run_once()
    operation = world.uow.operation(KEY)
    assert report.manual == [operation.id]
    assert operation.status is OperationStatus.MANUAL
    assert world.connector.calls == []
    assert world.request(1).status is RequestStatus.APPLYING
    [task] = world.uow.sent(ANA)
    assert task.outgoing.thread_key == f"operation:{operation.id}"
    assert task.outgoing.message.kind == "manual_task"
    assert [(a.verb, a.label, a.value) for a in task.outgoing.message.actions] == [
        (Verb.CONFIRM_MANUAL, "Done", str(operation.id))
    ]
    facts = {f.label: f.value for f in task.outgoing.message.facts}
    assert facts["Change"] == f"move {ALICE} to the premium seat tier"
    assert world.worker.run_once().handled == 0


def test_a_connector_that_says_unsupported_also_makes_a_manual_task(world: World) -> None:
    world.connector.fail_next(UnsupportedOperation("no API for this"))
    approved(world)
    assert world.worker.run_once().manual == [1]
    assert world.uow.operation(KEY).status is OperationStatus.MANUAL


def test_an_admin_confirms_the_manual_task() -> None:
    world = manual_world()
    world.worker.run_once()
    operation = world.uow.operation(KEY)

    with pytest.raises(Refusal, match=re.escape("Only an admin can do this.")):
        confirm_manual(world.uow, world.policy, operation_id=operation.id, actor=BOB, now=world.now)
    with pytest.raises(Refusal, match=re.escape("Only an admin can do this.")):
        confirm_manual(
            world.uow, world.policy, operation_id=operation.id, actor=DANA, now=world.now
        )
    assert world.uow.operation(KEY).status is OperationStatus.MANUAL
    assert world.request(1).status is RequestStatus.APPLYING

    world.clock.set(world.now.replace(hour=13, minute=2))
    done = confirm_manual(
        world.uow, world.policy, operation_id=operation.id, actor="ANA@example.com", now=world.now
    )
    assert done.status is OperationStatus.DONE
    assert done.done_by == ANA
    assert world.request(1).status is RequestStatus.APPLIED
    assert world.member(ALICE).tier == "premium"
    [grant] = world.uow.all_grants()
    assert (grant.tier_before, grant.tier_after) == ("standard", "premium")
    [_, done_card] = world.uow.sent(ANA)
    assert done_card.outgoing.message.footer == "Done by Ana Admin at 14:02"
    assert done_card.outgoing.message.actions == ()
    [told] = world.uow.sent(ALICE, kind="request_applied")
    assert told.outgoing.message.text.startswith("You now have a premium seat")
    assert world.uow.audit_entries(f"operation:{operation.id}")[-1].actor == ANA

    commits = world.uow.committed
    with pytest.raises(Refusal, match=re.escape("This task is already done by Ana Admin.")):
        confirm_manual(world.uow, world.policy, operation_id=operation.id, actor=ANA, now=world.now)
    assert world.uow.committed == commits
    assert len(world.uow.sent(ALICE, kind="request_applied")) == 1


def test_confirming_an_unknown_operation(world: World) -> None:
    with pytest.raises(Refusal, match=re.escape("There is no operation 7.")):
        confirm_manual(world.uow, world.policy, operation_id=7, actor=ANA, now=world.now)


def test_a_worker_that_dies_after_the_call_leaves_it_to_the_next_one(world: World) -> None:
    approved(world)
    world.connector.crash_after_apply = 1
    with pytest.raises(SimulatedCrash):
        world.worker.run_once()
    operation = world.uow.operation(KEY)
    assert operation.status is OperationStatus.IN_PROGRESS
    assert operation.lease_until == world.now + RetryPolicy().lease
    assert world.request(1).status is RequestStatus.APPLYING

    world.clock.set(operation.lease_until - timedelta(seconds=1))
    assert world.worker.run_once().handled == 0  # the lease still holds

    world.clock.set(operation.lease_until)
    assert world.worker.run_once().applied == [operation.id]
    assert world.connector.keys_called() == [KEY, KEY]
    assert list(world.connector.applied) == [KEY]
    assert world.connector.caps == {ALICE: 23500}
    assert world.uow.operation(KEY).attempts == 2
    assert world.request(1).status is RequestStatus.APPLIED
    assert world.member(ALICE).cap_cents == 23500
    assert len(world.uow.all_grants()) == 1
    assert len(world.uow.sent(ALICE, kind="request_applied")) == 1


def test_several_operations_in_one_pass(world: World) -> None:
    approved(world)
    world.ask(BOB, "raise 10 small one")  # auto-approved
    report = world.worker.run_once()
    assert report.applied == [1, 2]
    assert world.connector.caps == {ALICE: 23500, BOB: 9500}
