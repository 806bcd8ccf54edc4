"""A backend that fails before it succeeds: backoff, Retry-After, giving up, an admin's Retry."""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import pairwise

import pytest

from tests.integration import world
from tests.integration.connectors import APPLIED, FAILED
from tests.integration.world import ADMIN, DANA, EVE, Org, uows
from workflows.applying.admin_actions import retry_operation
from workflows.applying.backoff import RetryPolicy
from workflows.applying.worker import manual_thread
from workflows.errors import Refusal
from workflows.messages import Recipient
from workflows.model import Operation, OperationStatus, RequestStatus

RAISED = world.CAP + 15000
TICK = timedelta(milliseconds=1)


class NoJitter(random.Random):
    """Backoff at its ceiling every time, so that the delays can be checked exactly."""

    def uniform(self, a: float, b: float) -> float:
        return b


def _approved_operation(org: Org) -> Operation:
    asked = world.ask(org.engine, "raise 150 release prep")
    world.approve(org.engine, asked.id)
    (operation,) = world.operations_of(org.engine, asked.id)
    return operation


def _get(org: Org, operation_id: int) -> Operation:
    with uows(org.engine)() as uow:
        found = uow.operations.get(operation_id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("retry_afters", "delays"),
    [
        pytest.param([None] * 5, [2, 4, 8, 16, 32], id="backoff"),
        pytest.param([None, 30.0, None, 3.0, 90.0], [2, 30, 8, 16, 90], id="retry-after"),
    ],
)
def test_five_transient_failures_then_applied_once(
    org: Org, retry_afters: list[float | None], delays: list[int]
) -> None:
    operation = _approved_operation(org)
    org.backend.fail_next(retry_afters)
    worker = world.worker(org.engine, org.backend, org.clock, rng=NoJitter())

    for failure in range(1, 6):
        assert worker.run_once().retrying == [operation.id]
        operation = _get(org, operation.id)
        assert (operation.status, operation.attempts) == (OperationStatus.PENDING, failure)
        assert "503" in (operation.last_error or "")
        assert world.request(org.engine, operation.request_id or 0).status is (
            RequestStatus.APPLYING
        )
        org.clock.set(operation.next_attempt_at - TICK)
        assert worker.run_once().handled == 0, "taken before its backoff was over"
        org.clock.set(operation.next_attempt_at)

    assert worker.run_once().applied == [operation.id]
    assert worker.run_once().handled == 0

    with uows(org.engine)() as uow:
        attempts = uow.operations.attempts(operation.id)
    assert [(a.number, a.outcome) for a in attempts] == [
        *((n, "failed") for n in range(1, 6)),
        (6, "applied"),
    ]
    assert all("503" in (a.error or "") for a in attempts[:5])
    assert [b.at - a.at for a, b in pairwise(attempts)] == [timedelta(seconds=d) for d in delays]

    assert [w.outcome for w in org.backend.writes()] == [FAILED] * 5 + [APPLIED]
    assert [w.key for w in org.backend.effective()] == [operation.key]
    assert org.backend.seat(EVE).monthly_cap_cents == RAISED
    assert world.member(org.engine, EVE).cap_cents == RAISED
    assert world.request(org.engine, operation.request_id or 0).status is RequestStatus.APPLIED


def test_jittered_backoff_stays_between_retry_after_and_its_ceiling(org: Org) -> None:
    retry_afters = [None, 30.0, None, 3.0, None]
    operation = _approved_operation(org)
    org.backend.fail_next(retry_afters)
    policy = RetryPolicy()
    worker = world.worker(org.engine, org.backend, org.clock, rng=random.Random(7))

    waits = []
    for _ in retry_afters:
        before = org.clock.now()
        assert worker.run_once().retrying == [operation.id]
        operation = _get(org, operation.id)
        waits.append(operation.next_attempt_at - before)
        org.clock.set(operation.next_attempt_at)
    assert worker.run_once().applied == [operation.id]

    for attempt, (wait, after) in enumerate(zip(waits, retry_afters, strict=True), start=1):
        ceiling = min(policy.cap, policy.base * 2 ** (attempt - 1))
        floor = timedelta(seconds=after or 0)
        assert floor <= wait <= max(ceiling, floor), (attempt, wait)
    assert len(set(waits)) == len(waits), "no jitter at all"


def test_gives_up_after_max_attempts_and_applies_after_an_admins_retry(org: Org) -> None:
    operation = _approved_operation(org)
    request_id = operation.request_id or 0
    org.backend.fail_next([None] * 4)
    worker = world.worker(
        org.engine, org.backend, org.clock, retry=RetryPolicy(max_attempts=3), rng=NoJitter()
    )

    assert worker.run_once().retrying == [operation.id]
    org.clock.set(_get(org, operation.id).next_attempt_at)
    assert worker.run_once().retrying == [operation.id]
    org.clock.set(_get(org, operation.id).next_attempt_at)
    assert worker.run_once().failed == [operation.id]

    failed = _get(org, operation.id)
    assert (failed.status, failed.attempts) == (OperationStatus.FAILED, 3)
    assert world.request(org.engine, request_id).status is RequestStatus.FAILED
    org.clock.advance(timedelta(days=1))
    assert worker.run_once().handled == 0, "a failed operation is not retried by itself"
    with uows(org.engine)() as uow:
        assert [e.action for e in uow.audit.of(f"operation:{operation.id}")] == ["operation.failed"]
        assert list(uow.notifications.recipients_of(manual_thread(operation.id))) == [
            Recipient.member(ADMIN)
        ]

    with pytest.raises(Refusal, match="Only an admin"):
        retry_operation(
            uows(org.engine)(),
            world.policy(),
            operation_id=operation.id,
            actor=DANA,
            now=org.clock.now(),
        )
    again = retry_operation(
        uows(org.engine)(),
        world.policy(),
        operation_id=operation.id,
        actor=ADMIN,
        now=org.clock.now(),
    )
    assert (again.status, again.attempts) == (OperationStatus.PENDING, 0)
    assert world.request(org.engine, request_id).status is RequestStatus.APPLYING

    assert worker.run_once().retrying == [operation.id]
    org.clock.set(_get(org, operation.id).next_attempt_at)
    assert worker.run_once().applied == [operation.id]

    with uows(org.engine)() as uow:
        attempts = uow.operations.attempts(operation.id)
    assert [(a.number, a.outcome) for a in attempts] == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
        (1, "failed"),
        (2, "applied"),
    ]
    assert world.request(org.engine, request_id).status is RequestStatus.APPLIED
    assert org.backend.seat(EVE).monthly_cap_cents == RAISED
    assert len(org.backend.effective()) == 1
