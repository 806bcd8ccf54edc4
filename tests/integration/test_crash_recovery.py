"""Processes killed (SIGKILL) at the worst moments; the next process finishes the job once.

The doomed steps run in child processes (`tests/integration/crash_child.py`), on the same
database (the URL carries the PostgreSQL schema) and the same file-backed admin backend.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.scheduling.scheduler import Intervals
from tests.integration import world
from tests.integration.connectors import APPLIED, HUNG, REPLAYED
from tests.integration.world import EVE, T0, Org, uows
from workflows.applying.backoff import RetryPolicy
from workflows.model import GrantStatus, OperationStatus, RequestStatus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = os.environ.get("PYTHONPATH", "")
RAISED = world.CAP + 15000
LEASE = RetryPolicy().lease


def _command(mode: str, org: Org, *args: str, now: datetime) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.integration.crash_child",
        mode,
        org.url,
        str(org.backend.path),
        now.isoformat(),
        *args,
    ]


ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), PYTHONPATH]))}


def child(
    mode: str, org: Org, *args: str, now: datetime = T0, killed: bool
) -> list[dict[str, Any]]:
    """Run one step in a new Python process; what it said, one dict per JSON line."""
    done = subprocess.run(
        _command(mode, org, *args, now=now),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    expected = -signal.SIGKILL if killed else 0
    assert done.returncode == expected, (
        f"{mode}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_killed_after_the_decision_the_next_worker_applies_it_once(org: Org) -> None:
    (said,) = child("approve-then-die", org, killed=True)
    request_id = said["request_id"]

    # The decision and its operation were committed together, before the process died.
    assert world.request(org.engine, request_id).status is RequestStatus.APPROVED
    (operation,) = world.operations_of(org.engine, request_id)
    assert (operation.status, operation.attempts) == (OperationStatus.PENDING, 0)
    with uows(org.engine)() as uow:
        assert [e.action for e in uow.audit.of(f"request:{request_id}")] == [
            "request.created",
            "request.approved",
        ]
    assert org.backend.writes() == []

    worker = world.worker(org.engine, org.backend, org.clock)
    assert worker.run_once().applied == [operation.id]
    assert worker.run_once().handled == 0

    assert [(w.key, w.outcome) for w in org.backend.writes()] == [(operation.key, APPLIED)]
    assert org.backend.seat(EVE).monthly_cap_cents == RAISED
    assert world.member(org.engine, EVE).cap_cents == RAISED
    assert world.request(org.engine, request_id).status is RequestStatus.APPLIED


def test_killed_inside_the_decision_commit_leaves_nothing_behind(org: Org) -> None:
    asked = world.ask(org.engine, "raise 150 for 14d release prep")

    assert child("die-in-commit", org, str(asked.id), killed=True) == [{"dying": "in commit"}]

    assert world.request(org.engine, asked.id).status is RequestStatus.PENDING
    assert world.operations_of(org.engine, asked.id) == []
    with uows(org.engine)() as uow:
        assert uow.decisions.of(asked.id) == []
        assert [e.action for e in uow.audit.of(f"request:{asked.id}")] == ["request.created"]

    # Nothing is left locked: the owner clicks again and the change goes through.
    assert world.approve(org.engine, asked.id).status is RequestStatus.APPROVED
    assert len(world.worker(org.engine, org.backend, org.clock).run_once().applied) == 1
    assert world.request(org.engine, asked.id).status is RequestStatus.APPLIED
    assert org.backend.seat(EVE).monthly_cap_cents == RAISED


def test_worker_killed_after_the_backend_write_reapplies_with_the_same_key(org: Org) -> None:
    asked = world.ask(org.engine, "raise 150 for 14d release prep")
    world.approve(org.engine, asked.id)
    (operation,) = world.operations_of(org.engine, asked.id)

    child("apply-then-die", org, killed=True)

    # The backend has the change; capdesk does not know, and the lease is still held.
    (write,) = org.backend.writes()
    assert (write.key, write.outcome, write.value) == (operation.key, APPLIED, str(RAISED))
    assert write.pid != os.getpid()
    taken = world.operations_of(org.engine, asked.id)[0]
    assert (taken.status, taken.attempts) == (OperationStatus.IN_PROGRESS, 1)
    assert taken.lease_until == T0 + LEASE
    assert world.request(org.engine, asked.id).status is RequestStatus.APPLYING
    assert world.member(org.engine, EVE).cap_cents == world.CAP
    org.clock.set(T0 + LEASE - timedelta(seconds=1))
    assert world.worker(org.engine, org.backend, org.clock).run_once().handled == 0

    (report,) = child("apply", org, now=T0 + LEASE + timedelta(seconds=1), killed=False)

    assert report["applied"] == [operation.id]
    assert [(w.key, w.outcome) for w in org.backend.writes()] == [
        (operation.key, APPLIED),
        (operation.key, REPLAYED),
    ]
    assert len(org.backend.effective()) == 1
    assert org.backend.seat(EVE).monthly_cap_cents == RAISED
    assert world.member(org.engine, EVE).cap_cents == RAISED
    assert world.request(org.engine, asked.id).status is RequestStatus.APPLIED
    done = world.operations_of(org.engine, asked.id)[0]
    assert (done.status, done.attempts) == (OperationStatus.DONE, 2)
    with uows(org.engine)() as uow:
        assert [(a.number, a.outcome) for a in uow.operations.attempts(operation.id)] == [
            (2, "applied")
        ]
        grant = uow.grants.of_request(asked.id)
        assert [e.action for e in uow.audit.of(f"request:{asked.id}")].count("request.applied") == 1
    assert grant is not None
    assert (grant.status, grant.delta_cents) == (GrantStatus.ACTIVE, 15000)


def test_a_killed_worker_leaves_everything_it_held_to_the_next_one_within_seconds(
    org: Org,
) -> None:
    """Six operations claimed at once by a worker with two threads: two calls hang, four wait
    their turn under the same claim. After a SIGKILL all six are free once the short lease
    lapses, and a live worker's sweep takes them within 30 s of the death."""
    people = [world.firmware(n) for n in range(6)]
    for person in people:
        asked = world.ask(org.engine, "raise 150 release prep", requester=person)
        world.approve(org.engine, asked.id)
    queued = [op.id for op in world.operations_of(org.engine)]

    process = subprocess.Popen(
        _command("apply-and-hang", org, "2", now=T0), cwd=ROOT, env=ENV, stdout=subprocess.PIPE
    )
    try:
        for _ in range(1200):
            if len([w for w in org.backend.writes() if w.outcome == HUNG]) == 2:
                break
            assert process.poll() is None, "the worker ended by itself"
            time.sleep(0.05)
        else:
            raise AssertionError("the worker's two calls never started")
    finally:
        process.kill()
        process.wait(60)

    held = world.operations_of(org.engine)
    assert [(op.status, op.attempts, op.lease_until) for op in held] == [
        (OperationStatus.IN_PROGRESS, 1, T0 + LEASE)
    ] * 6
    org.clock.set(T0 + LEASE - timedelta(seconds=1))
    assert world.worker(org.engine, org.backend, org.clock).run_once().handled == 0

    org.clock.set(T0 + LEASE)
    assert world.worker(org.engine, org.backend, org.clock).drain().applied == queued
    assert sorted(w.key for w in org.backend.effective()) == sorted(op.key for op in held)
    assert [world.request(org.engine, op.request_id or 0).status for op in held] == [
        RequestStatus.APPLIED
    ] * 6
    assert LEASE + Intervals().operations <= timedelta(seconds=30)
