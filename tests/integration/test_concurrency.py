"""Races on the real store: two clicks, two submissions, two workers, at the same moment.

Every contender has its own unit of work (its own connection). They are started together
behind a barrier and the race is run several rounds, so that the interleavings vary.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.integration import world
from tests.integration.race import race, start
from tests.integration.world import DANA, EVE, OLAF, T0, Org, firmware, uows
from workflows.errors import Refusal
from workflows.messages import Fact, Message, Outgoing, Recipient
from workflows.model import (
    NewOperation,
    NewRequest,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    Request,
    RequestKind,
    RequestStatus,
    Verdict,
)
from workflows.requests.deciding import cancel, decide
from workflows.requests.sweeping import sweep_pending

ROUNDS = 5
VERDICT_OF = {RequestStatus.APPROVED: Verdict.APPROVE, RequestStatus.DENIED: Verdict.DENY}
LEASE = timedelta(minutes=5)

CLICKS = {
    "two-owners-approve": ((DANA, Verdict.APPROVE), (OLAF, Verdict.APPROVE)),
    "owner-double-click": ((DANA, Verdict.APPROVE), (DANA, Verdict.APPROVE)),
    "approve-vs-deny": ((DANA, Verdict.APPROVE), (OLAF, Verdict.DENY)),
}


def _click(engine: Engine, request_id: int, actor: str, verdict: Verdict) -> Callable[[], Any]:
    return lambda: decide(
        uows(engine)(),
        world.policy(),
        request_id=request_id,
        actor=actor,
        verdict=verdict,
        now=T0,
    )


def _split(outcomes: list[Any]) -> tuple[list[Request], list[Refusal]]:
    for outcome in outcomes:
        if not isinstance(outcome, Request | Refusal):
            raise AssertionError(f"a contender failed: {outcome!r}") from outcome
    wins = [o for o in outcomes if isinstance(o, Request)]
    refusals = [o for o in outcomes if isinstance(o, Refusal)]
    return wins, refusals


@pytest.mark.parametrize("clicks", CLICKS.values(), ids=CLICKS.keys())
def test_concurrent_decisions_have_exactly_one_winner(
    org: Org, clicks: tuple[tuple[str, Verdict], ...]
) -> None:
    for round_ in range(ROUNDS):
        asked = world.ask(org.engine, "raise 150 release prep", requester=firmware(round_))
        assert asked.status is RequestStatus.PENDING

        outcomes = race(*(_click(org.engine, asked.id, actor, v) for actor, v in clicks))

        (winner,), (refusal,) = _split(outcomes)
        assert "already" in str(refusal)
        assert winner.status in {RequestStatus.APPROVED, RequestStatus.DENIED}
        stored = world.request(org.engine, asked.id)
        assert (stored.status, stored.decided_by) == (winner.status, winner.decided_by)

        operations = world.operations_of(org.engine, asked.id)
        if winner.status is RequestStatus.APPROVED:
            assert [op.key for op in operations] == [f"request-{asked.id}-apply"]
            assert operations[0].cap_cents == world.CAP + 15000
        else:
            assert operations == []
        with uows(org.engine)() as uow:
            actions = [e.action for e in uow.audit.of(f"request:{asked.id}")]
            decisions = uow.decisions.of(asked.id)
        assert actions == ["request.created", f"request.{winner.status}"]
        assert [(d.actor, d.verdict) for d in decisions] == [
            (winner.decided_by, VERDICT_OF[winner.status])
        ]


def test_two_approvals_given_at_once_both_count_and_approve_once(org: Org) -> None:
    """In a group that needs two approvals, both owners clicking at once approve it, once."""
    for round_ in range(ROUNDS):
        asked = world.ask(org.engine, "raise 150 release prep", requester=world.systems(round_))
        assert asked.approvals_required == 2

        outcomes = race(
            _click(org.engine, asked.id, DANA, Verdict.APPROVE),
            _click(org.engine, asked.id, OLAF, Verdict.APPROVE),
        )

        wins, refusals = _split(outcomes)
        assert refusals == []
        assert {w.status for w in wins} == {RequestStatus.PENDING, RequestStatus.APPROVED}
        assert world.request(org.engine, asked.id).status is RequestStatus.APPROVED
        assert len(world.operations_of(org.engine, asked.id)) == 1
        with uows(org.engine)() as uow:
            actions = [e.action for e in uow.audit.of(f"request:{asked.id}")]
            deciders = sorted(d.actor for d in uow.decisions.of(asked.id))
        assert actions == ["request.created", "request.approval_recorded", "request.approved"]
        assert deciders == [DANA, OLAF]


def test_a_double_click_counts_once_where_two_approvals_are_needed(org: Org) -> None:
    asked = world.ask(org.engine, "raise 150 release prep", requester=world.systems(0))

    outcomes = race(*(_click(org.engine, asked.id, DANA, Verdict.APPROVE) for _ in range(2)))

    (recorded,), (refusal,) = _split(outcomes)
    assert recorded.status is RequestStatus.PENDING
    assert "You already approved" in str(refusal)
    assert world.operations_of(org.engine, asked.id) == []
    with uows(org.engine)() as uow:
        assert [d.actor for d in uow.decisions.of(asked.id)] == [DANA]


def _rival(org: Org, asked: Request, rival: str) -> tuple[datetime, Callable[[], Any]]:
    """When the approval is clicked, and what races it: the requester's cancel or the sweep."""
    if rival == "cancel":
        return T0, partial(
            cancel,
            uows(org.engine)(),
            world.policy(),
            request_id=asked.id,
            actor=asked.requester,
            now=T0,
        )
    deadline = asked.created_at + world.policy().requests.expire_after
    return deadline, partial(sweep_pending, uows(org.engine)(), world.policy(), now=deadline)


RIVAL_WINS = {"cancel": RequestStatus.CANCELLED, "expiry": RequestStatus.EXPIRED}


@pytest.mark.parametrize("rival", RIVAL_WINS)
def test_an_approval_racing_a_cancel_or_the_expiry_has_one_outcome(org: Org, rival: str) -> None:
    for round_ in range(ROUNDS):
        asked = world.ask(org.engine, "raise 150 release prep", requester=firmware(round_))
        at, other = _rival(org, asked, rival)
        approve = partial(
            decide,
            uows(org.engine)(),
            world.policy(),
            request_id=asked.id,
            actor=DANA,
            verdict=Verdict.APPROVE,
            now=at,
        )

        approval, outcome = race(approve, other)

        stored = world.request(org.engine, asked.id)
        if stored.status is RequestStatus.APPROVED:
            assert isinstance(approval, Request), approval
            lost = isinstance(outcome, Refusal) if rival == "cancel" else outcome.expired == []
            assert lost, outcome
        else:
            assert stored.status is RIVAL_WINS[rival]
            assert isinstance(approval, Refusal), approval
        with uows(org.engine)() as uow:
            actions = [e.action for e in uow.audit.of(f"request:{asked.id}")]
        assert actions == ["request.created", f"request.{stored.status}"]
        expected_operations = 1 if stored.status is RequestStatus.APPROVED else 0
        assert len(world.operations_of(org.engine, asked.id)) == expected_operations


def _notifications(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM notification")).scalar_one())


def test_concurrent_sweeps_remind_escalate_and_expire_once(org: Org) -> None:
    """Two schedulers (two replicas) sweeping at the same moment act once per request."""
    asked = [
        world.ask(org.engine, "raise 150 release prep", requester=firmware(n)).id for n in range(4)
    ]
    timing = world.policy().requests
    stages = [
        (timing.reminder_after, "reminded", "request.reminded"),
        (timing.escalate_after, "escalated", "request.escalated"),
        (timing.expire_after, "expired", "request.expired"),
    ]
    for after, field, action in stages:
        now = T0 + after
        before = _notifications(org.engine)

        reports = race(
            *(partial(sweep_pending, uows(org.engine)(), world.policy(), now=now) for _ in "ab")
        )

        swept = sorted(i for report in reports for i in getattr(report, field))
        assert swept == asked, reports
        assert _notifications(org.engine) > before
        with uows(org.engine)() as uow:
            for request_id in asked:
                assert [e.action for e in uow.audit.of(f"request:{request_id}")][-1] == action
    sent = _notifications(org.engine)
    race(*(partial(sweep_pending, uows(org.engine)(), world.policy(), now=now) for _ in "ab"))
    assert _notifications(org.engine) == sent
    with uows(org.engine)() as uow:
        for request_id in asked:
            assert [e.action for e in uow.audit.of(f"request:{request_id}")] == [
                "request.created",
                "request.reminded",
                "request.escalated",
                "request.expired",
            ]


def test_concurrent_submissions_leave_one_pending_request(org: Org) -> None:
    for round_ in range(ROUNDS):
        requester = firmware(round_)
        outcomes = race(
            partial(world.ask, org.engine, "raise 100 for 7d sprint", requester=requester),
            partial(world.ask, org.engine, "raise to 300 tape-out", requester=requester),
        )

        (winner,), (refusal,) = _split(outcomes)
        assert "pending" in str(refusal)
        with uows(org.engine)() as uow:
            assert [r.id for r in uow.requests.list(requester=requester)] == [winner.id]
            assert uow.operations.count(OperationStatus.PENDING) == 0


def _blocked_by(server: Engine, pid: int) -> bool:
    with server.connect() as connection:
        waiting = connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
            {"pid": pid},
        ).scalar()
    return bool(waiting)


def _wait_until_blocked_by(server: Engine, pid: int) -> None:
    deadline = time.monotonic() + 30
    while not _blocked_by(server, pid):
        assert time.monotonic() < deadline, "the second submission never reached the index"
        time.sleep(0.01)


def test_the_pending_index_refuses_a_submission_racing_an_uncommitted_one(
    org: Org, request: pytest.FixtureRequest
) -> None:
    """The second submission passes validation (the first is not committed yet) and is stopped
    by the partial unique index itself on PostgreSQL; SQLite makes it wait its turn instead."""
    first = uows(org.engine)()
    with first:
        new = NewRequest(
            requester=EVE,
            group="embedded",
            kind=RequestKind.CAP_INCREASE,
            reason="first",
            created_at=T0,
            approvals_required=1,
            cap_before_cents=world.CAP,
            tier_before="standard",
            amount_cents=5000,
            new_cap_cents=world.CAP + 5000,
        )
        held = first.requests.add(new)
        (second,) = start(lambda: world.ask(org.engine, "raise 100 for 7d sprint"))
        if org.dialect == "postgresql":
            pid = first.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            _wait_until_blocked_by(request.getfixturevalue("postgres_server"), pid)
        first.commit()
    outcome = second.result()

    assert isinstance(outcome, Refusal), outcome
    if org.dialect == "postgresql":
        assert str(outcome) == (
            "You already have a request of this kind pending; wait for it or cancel it."
        )
    with uows(org.engine)() as uow:
        assert [r.id for r in uow.requests.list(requester=EVE)] == [held.id]
        assert [e.action for e in uow.audit.of(f"request:{held.id}")] == []


def _queue(engine: Engine, count: int) -> list[int]:
    with uows(engine)() as uow:
        ids = [
            uow.operations.add(
                NewOperation(
                    key=f"op-{n}",
                    kind=OperationKind.SET_CAP,
                    purpose=OperationPurpose.APPLY,
                    email=firmware(n),  # one person each: one seat's changes go in order
                    created_at=T0,
                    cap_cents=10_000 + n,
                )
            ).id
            for n in range(count)
        ]
        uow.commit()
    return ids


def _claim(engine: Engine, *, limit: int) -> list[int]:
    with uows(engine)() as uow:
        claimed = uow.operations.claim_due(T0, lease_until=T0 + LEASE, limit=limit)
        uow.commit()
    assert all(op.attempts == 1 for op in claimed)
    return [op.id for op in claimed]


def _drain(engine: Engine) -> list[int]:
    taken: list[int] = []
    while batch := _claim(engine, limit=3):
        taken += batch
    return taken


def _requeue(engine: Engine, ids: list[int]) -> None:
    with uows(engine)() as uow:
        for op_id in ids:
            again = uow.operations.transition(
                op_id,
                expected=OperationStatus.IN_PROGRESS,
                new=OperationStatus.PENDING,
                next_attempt_at=T0,
                reset_attempts=True,
            )
            assert again is not None
        uow.commit()


def test_concurrent_workers_never_claim_the_same_operation(org: Org) -> None:
    queued = _queue(org.engine, 30)
    for _ in range(3):
        shares = race(*(lambda: _drain(org.engine) for _ in range(3)))

        claimed = [op for share in shares for op in share]
        assert len(set(claimed)) == len(claimed), f"an operation was claimed twice: {shares}"
        assert sorted(claimed) == queued
        _requeue(org.engine, queued)


def _drain_notifications(engine: Engine) -> list[int]:
    taken: list[int] = []
    while True:
        with uows(engine)() as uow:
            batch = uow.notifications.claim_due(T0, lease_until=T0 + LEASE, limit=3)
            uow.commit()
        if not batch:
            return taken
        taken += [item.id for item in batch]


def test_concurrent_delivery_workers_never_take_the_same_message(org: Org) -> None:
    sent = [
        Outgoing(
            recipient=Recipient.member(firmware(n % 12)),
            message=Message(
                kind="note", title=f"Message {n}", facts=(Fact(label="n", value=f"{n}"),)
            ),
            thread_key=f"thread-{n % 4}",
        )
        for n in range(30)
    ]
    with uows(org.engine)() as uow:
        for outgoing in sent:
            uow.notifications.add(outgoing, at=T0)
        uow.commit()

    shares = race(*(lambda: _drain_notifications(org.engine) for _ in range(3)))

    taken = [item for share in shares for item in share]
    assert len(set(taken)) == len(taken) == len(sent), shares
    with uows(org.engine)() as uow:
        assert uow.notifications.claim_due(T0 + LEASE / 2, lease_until=T0, limit=100) == []
        again = uow.notifications.claim_due(T0 + LEASE, lease_until=T0, limit=100)
        assert [item.outgoing for item in again] == sent  # intact through JSON, in order
        assert {item.attempts for item in again} == {2}
        assert uow.notifications.recipients_of("thread-1") == [
            Recipient.member(firmware(n)) for n in (1, 5, 9)
        ]


def test_an_operation_being_claimed_is_skipped_not_handed_out_twice(org: Org) -> None:
    """PostgreSQL skips the rows another worker has locked (and does not wait for them);
    SQLite lets the second worker in only after the first has committed its claim."""
    queued = _queue(org.engine, 6)
    holder = uows(org.engine)()
    with holder:
        held = [op.id for op in holder.operations.claim_due(T0, lease_until=T0 + LEASE, limit=3)]
        (other,) = start(lambda: _claim(org.engine, limit=10))
        if org.dialect == "postgresql":
            other.join(30)
            assert not other.is_alive(), "the second worker waited for the first one's rows"
        holder.commit()
    assert held == queued[:3]
    assert other.result() == queued[3:]


def test_an_operation_is_claimed_again_only_once_its_lease_lapsed(org: Org) -> None:
    (queued,) = _queue(org.engine, 1)
    assert _claim(org.engine, limit=5) == [queued]
    with uows(org.engine)() as uow:
        assert uow.operations.claim_due(T0 + LEASE / 2, lease_until=T0 + LEASE, limit=5) == []
        (again,) = uow.operations.claim_due(T0 + LEASE, lease_until=T0 + 2 * LEASE, limit=5)
        uow.commit()
    assert (again.id, again.attempts, again.lease_until) == (queued, 2, T0 + 2 * LEASE)


def test_one_persons_changes_are_claimed_one_at_a_time_in_order(org: Org) -> None:
    with uows(org.engine)() as uow:
        ids = [
            uow.operations.add(
                NewOperation(
                    key=f"same-seat-{n}",
                    kind=OperationKind.SET_CAP,
                    purpose=OperationPurpose.APPLY,
                    email=firmware(0),
                    created_at=T0,
                    cap_cents=10_000 + n,
                )
            ).id
            for n in range(3)
        ]
        uow.commit()
    assert _claim(org.engine, limit=10) == ids[:1]
    assert _claim(org.engine, limit=10) == []  # the second waits for the first
    with uows(org.engine)() as uow:
        uow.operations.transition(
            ids[0], expected=OperationStatus.IN_PROGRESS, new=OperationStatus.DONE
        )
        uow.commit()
    assert _claim(org.engine, limit=10) == ids[1:2]
