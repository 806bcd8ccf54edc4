"""Applying in parallel on a real database: a hanging backend call holds up only its person,
one person's changes stay in order across two workers (two replicas), and a lease is renewed
only by the worker that holds it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.bootstrap import bootstrap
from bot.settings import load_settings
from tests.integration import world
from tests.integration.connectors import APPLIED
from tests.integration.race import eventually, finished, start
from tests.integration.world import EVE, T0, Org, firmware, uows
from workflows.applying.backoff import RetryPolicy
from workflows.clock import ManualClock
from workflows.model import Operation, OperationStatus

LEASE = RetryPolicy().lease


def approved(org: Org, requester: str, text: str = "raise 150 release prep") -> Operation:
    asked = world.ask(org.engine, text, requester=requester)
    world.approve(org.engine, asked.id)
    return world.operations_of(org.engine, asked.id)[-1]


def status(org: Org, operation: Operation) -> OperationStatus:
    with uows(org.engine)() as uow:
        found = uow.operations.get(operation.id)
    assert found is not None
    return found.status


def test_a_hanging_call_does_not_hold_up_other_peoples_changes(org: Org) -> None:
    hung = org.backend.hold(EVE)
    eve = approved(org, EVE)
    others = [approved(org, firmware(n)) for n in range(4)]

    (running,) = start(world.worker(org.engine, org.backend, org.clock).drain)
    eventually(
        lambda: all(status(org, o) is OperationStatus.DONE for o in others),
        "the others' changes are applied while Eve's call hangs",
    )
    assert status(org, eve) is OperationStatus.IN_PROGRESS
    hung.set()

    assert finished(running).applied == [eve.id, *(o.id for o in others)]
    assert sorted(w.key for w in org.backend.writes()) == sorted(o.key for o in [eve, *others])
    assert {w.outcome for w in org.backend.writes()} == {APPLIED}


def test_one_persons_changes_stay_in_order_across_two_workers(org: Org) -> None:
    hung = org.backend.hold(EVE)
    first = approved(org, EVE)
    second = approved(org, EVE, "raise 50 more test runs")

    (holder,) = start(world.worker(org.engine, org.backend, org.clock).run_once)
    eventually(lambda: status(org, first) is OperationStatus.IN_PROGRESS, "Eve's first is taken")
    other = approved(org, firmware(0))
    replica = world.worker(org.engine, org.backend, org.clock)
    assert replica.run_once().applied == [other.id]  # not Eve's second: her first is unfinished
    assert status(org, second) is OperationStatus.PENDING
    hung.set()
    assert finished(holder).applied == [first.id]

    assert replica.run_once().applied == [second.id]
    assert [w.value for w in org.backend.writes() if w.email == EVE] == [
        str(world.CAP + 15000),
        str(world.CAP + 20000),
    ]


def test_a_lease_is_renewed_only_by_the_worker_that_holds_it(org: Org) -> None:
    operation = approved(org, EVE)
    with uows(org.engine)() as uow:
        (taken,) = uow.operations.claim_due(T0, lease_until=T0 + LEASE, limit=5)
        uow.commit()
    with uows(org.engine)() as uow:
        assert uow.operations.renew({taken.id: 1}, lease_until=T0 + 2 * LEASE) == {taken.id}
        uow.commit()
    assert world.operations_of(org.engine)[0].lease_until == T0 + 2 * LEASE

    # The holder stalls past its lease; another worker takes the operation over.
    later = T0 + 2 * LEASE + timedelta(seconds=1)
    with uows(org.engine)() as uow:
        (again,) = uow.operations.claim_due(later, lease_until=later + LEASE, limit=5)
        uow.commit()
    assert (again.id, again.attempts) == (operation.id, 2)
    with uows(org.engine)() as uow:
        assert uow.operations.renew({taken.id: 1}, lease_until=later + 5 * LEASE) == set()
        assert uow.operations.renew({}, lease_until=later + 5 * LEASE) == []
        uow.commit()
    assert world.operations_of(org.engine)[0].lease_until == later + LEASE


def test_capdesk_builds_one_worker_with_the_configured_threads(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
            "CAPDESK_APPLY_CONCURRENCY": "3",
        }
    )
    app = bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True)
    try:
        assert app.worker() is app.worker()  # the pump and the sweep share its bound
        assert app.worker().concurrency == 3
    finally:
        app.engine.dispose()
