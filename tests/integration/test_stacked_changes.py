"""A second change to the same seat while the first is still in the outbox.

Operations carry the absolute cap, computed from capdesk's copy of the seat when the request
is approved (`operation_for`) or the grant ends (`grants._revert`). While an earlier change
still waits in the outbox (a backend retrying with backoff, a failed operation awaiting an
admin's Retry), that copy is stale, and the later operation overwrites the earlier one.
The base of the computation is therefore the seat as the queue will leave it, and the
worker applies one person's changes in order.
"""

from __future__ import annotations

from datetime import timedelta

from tests.integration import world
from tests.integration.world import EVE, T0, Org, uows
from workflows.applying.grants import expire_grants
from workflows.model import RequestStatus


def test_a_raise_approved_while_another_is_queued_adds_to_it(org: Org) -> None:
    first = world.ask(org.engine, "raise 150 release prep")
    world.approve(org.engine, first.id)
    org.backend.fail_next([60.0])  # the backend is busy for a minute
    worker = world.worker(org.engine, org.backend, org.clock)
    assert len(worker.run_once().retrying) == 1

    second = world.ask(org.engine, "raise 20 small top-up")  # auto-approved by the policy
    assert second.status is RequestStatus.APPROVED
    org.clock.advance(timedelta(minutes=2))
    assert len(worker.drain().applied) == 2

    assert world.request(org.engine, first.id).status is RequestStatus.APPLIED
    assert world.request(org.engine, second.id).status is RequestStatus.APPLIED
    assert org.backend.seat(EVE).monthly_cap_cents == world.CAP + 15000 + 2000


def test_a_raise_approved_while_a_revert_is_queued_does_not_undo_the_revert(org: Org) -> None:
    temporary = world.ask(org.engine, "raise 150 for 14d release prep")
    world.approve(org.engine, temporary.id)
    worker = world.worker(org.engine, org.backend, org.clock)
    assert len(worker.run_once().applied) == 1

    org.clock.set(T0 + timedelta(days=14))
    assert len(expire_grants(uows(org.engine)(), now=org.clock.now())) == 1
    world.ask(org.engine, "raise 20 small top-up", now=org.clock.now())  # auto-approved
    assert len(worker.drain().applied) == 2

    assert world.request(org.engine, temporary.id).status is RequestStatus.REVERTED
    assert org.backend.seat(EVE).monthly_cap_cents == world.CAP + 2000
