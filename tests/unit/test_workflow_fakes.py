"""The fakes answer like the SQL store, or the domain tests would prove nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import (
    ALICE,
    BOB,
    DANA,
    T0,
    FakeConnector,
    FakeNotifier,
    FakeUnitOfWork,
    SimulatedCrash,
    org_members,
)
from workflows.admin import Capability, TransientConnectorError, UnsupportedOperation
from workflows.delivery import DeliveryError
from workflows.messages import Message, Outgoing, Recipient
from workflows.model import (
    Decision,
    IllegalTransition,
    NewOperation,
    NewRequest,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    RequestKind,
    RequestStatus,
    Verdict,
)
from workflows.ports import Conflict

MINUTE = timedelta(minutes=1)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(members=org_members())


def new_request(requester: str = ALICE, kind: RequestKind = RequestKind.CAP_INCREASE) -> NewRequest:
    return NewRequest(
        requester=requester,
        group="embedded",
        kind=kind,
        reason="release prep",
        created_at=T0,
        approvals_required=1,
        cap_before_cents=8500,
        tier_before="standard",
        amount_cents=5000,
    )


def new_operation(key: str) -> NewOperation:
    return NewOperation(
        key=key,
        kind=OperationKind.SET_CAP,
        purpose=OperationPurpose.APPLY,
        email=ALICE,
        created_at=T0,
        cap_cents=9000,
    )


def test_a_commit_keeps_the_changes(uow: FakeUnitOfWork) -> None:
    with uow:
        uow.requests.add(new_request())
        uow.commit()
    assert uow.committed == 1
    assert len(uow.all_requests()) == 1


def test_leaving_without_commit_drops_the_changes(uow: FakeUnitOfWork) -> None:
    with uow:
        uow.requests.add(new_request())
        uow.members.set_seat(ALICE, cap_cents=1)
        assert len(uow.all_requests()) == 1  # visible inside the transaction
    assert uow.all_requests() == []
    assert uow.members.get(ALICE) is not None
    assert uow.members.get(ALICE).cap_cents == 8500  # type: ignore[union-attr]
    assert uow.committed == 0


def test_an_exception_drops_the_changes(uow: FakeUnitOfWork) -> None:
    def fail() -> None:
        with uow:
            uow.requests.add(new_request())
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fail()
    assert uow.all_requests() == []


def test_rollback_drops_what_came_after_the_last_commit(uow: FakeUnitOfWork) -> None:
    with uow:
        uow.requests.add(new_request(ALICE))
        uow.commit()
        uow.requests.add(new_request(BOB))
        uow.rollback()
        assert [r.requester for r in uow.all_requests()] == [ALICE]
        uow.requests.add(new_request(DANA))
    assert [r.requester for r in uow.all_requests()] == [ALICE]


def test_writes_outside_a_transaction_and_nesting_are_bugs(uow: FakeUnitOfWork) -> None:
    with pytest.raises(RuntimeError, match="outside a transaction"):
        uow.requests.add(new_request())
    with uow, pytest.raises(RuntimeError, match="do not nest"):
        uow.__enter__()


def test_request_compare_and_set(uow: FakeUnitOfWork) -> None:
    with uow:
        request = uow.requests.add(new_request())
        later = T0 + MINUTE
        assert (
            uow.requests.transition(
                request.id, expected=RequestStatus.APPROVED, new=RequestStatus.APPLYING, at=later
            )
            is None
        )
        won = uow.requests.transition(
            request.id,
            expected=RequestStatus.PENDING,
            new=RequestStatus.APPROVED,
            at=later,
            decided_by=DANA,
        )
        assert won is not None
        assert (won.status, won.decided_by, won.decided_at, won.updated_at) == (
            RequestStatus.APPROVED,
            DANA,
            later,
            later,
        )
        with pytest.raises(IllegalTransition):
            uow.requests.transition(
                request.id, expected=RequestStatus.APPROVED, new=RequestStatus.DENIED, at=later
            )


def test_one_pending_request_per_requester_and_kind(uow: FakeUnitOfWork) -> None:
    with uow:
        first = uow.requests.add(new_request())
        with pytest.raises(Conflict):
            uow.requests.add(new_request())
        uow.requests.add(new_request(kind=RequestKind.SEAT_UPGRADE))
        uow.requests.transition(
            first.id, expected=RequestStatus.PENDING, new=RequestStatus.CANCELLED, at=T0
        )
        assert uow.requests.add(new_request()).id == 3
        assert [r.id for r in uow.requests.list()] == [3, 2, 1]
        assert uow.requests.count_of("ALICE@example.com") == 3


def test_one_verdict_per_actor(uow: FakeUnitOfWork) -> None:
    with uow:
        assert uow.decisions.add(Decision(1, DANA, Verdict.APPROVE, T0))
        assert not uow.decisions.add(Decision(1, DANA, Verdict.DENY, T0))
        assert uow.decisions.add(Decision(2, DANA, Verdict.DENY, T0))
        assert [d.verdict for d in uow.decisions.of(1)] == [Verdict.APPROVE]


def test_an_operation_key_is_queued_once(uow: FakeUnitOfWork) -> None:
    with uow:
        first = uow.operations.add(new_operation("k"))
        again = uow.operations.add(new_operation("k"))
        assert again == first
        assert uow.operations.count(OperationStatus.PENDING) == 1


def test_claim_due(uow: FakeUnitOfWork) -> None:
    with uow:
        due = uow.operations.add(new_operation("due"))
        later = uow.operations.add(new_operation("later"))
        uow.operations.transition(
            later.id,
            expected=OperationStatus.PENDING,
            new=OperationStatus.PENDING,
            next_attempt_at=T0 + 10 * MINUTE,
        )
        lease = T0 + 5 * MINUTE
        [claimed] = uow.operations.claim_due(T0, lease_until=lease, limit=10)
        assert claimed.id == due.id
        assert (claimed.status, claimed.attempts, claimed.lease_until) == (
            OperationStatus.IN_PROGRESS,
            1,
            lease,
        )
        assert uow.operations.claim_due(T0 + 4 * MINUTE, lease_until=lease, limit=10) == []
        # the lease lapsed: taken again, one more attempt
        [again] = uow.operations.claim_due(lease, lease_until=lease + 5 * MINUTE, limit=1)
        assert (again.id, again.attempts) == (due.id, 2)
        done = uow.operations.transition(
            due.id, expected=OperationStatus.IN_PROGRESS, new=OperationStatus.DONE
        )
        assert done is not None
        assert done.lease_until is None
        assert uow.operations.claim_due(T0 + 10 * MINUTE - MINUTE, lease_until=T0, limit=5) == []
        [late] = uow.operations.claim_due(T0 + 10 * MINUTE, lease_until=T0 + 15 * MINUTE, limit=5)
        assert (late.id, late.attempts) == (later.id, 1)
        assert uow.operations.claim_due(T0 + 60 * MINUTE, lease_until=T0, limit=5) == [
            uow.operations.get(later.id)
        ]


def test_notification_threads_and_refs(uow: FakeUnitOfWork) -> None:
    dana, alice = Recipient.member(DANA), Recipient.member(ALICE)
    card = Message(kind="approval", title="card")
    with uow:
        for who in (dana, alice, dana):
            uow.notifications.add(Outgoing(recipient=who, message=card, thread_key="t"), at=T0)
        assert uow.notifications.recipients_of("t") == [dana, alice]
        assert uow.notifications.refs_of(dana, "t") == {}
        batch = uow.notifications.claim_due(T0, lease_until=T0 + MINUTE, limit=2)
        assert [(b.id, b.attempts) for b in batch] == [(1, 1), (2, 1)]
        uow.notifications.route(1, ["chat"], lease_until=T0 + MINUTE)
        uow.notifications.delivered(1, ref="r1", at=T0)
        assert uow.notifications.refs_of(dana, "t") == {"chat": "r1"}
        assert uow.notifications.refs_of(alice, "t") == {}


def test_the_connector_applies_each_key_once_and_fails_as_told() -> None:
    connector = FakeConnector(
        capabilities={Capability.SET_CAP},
        errors=[TransientConnectorError("503", retry_after=1)],
    )
    with pytest.raises(TransientConnectorError):
        connector.set_cap(ALICE, 100, idempotency_key="k")
    connector.set_cap(ALICE, 100, idempotency_key="k")
    connector.set_cap(ALICE, 999, idempotency_key="k")
    assert connector.caps == {ALICE: 100}
    assert len(connector.calls) == 3
    assert list(connector.applied) == ["k"]
    with pytest.raises(UnsupportedOperation):
        connector.set_tier(ALICE, "premium", idempotency_key="t")
    connector.crash_after_apply = 1
    with pytest.raises(SimulatedCrash):
        connector.set_cap(BOB, 5, idempotency_key="b")
    assert connector.caps[BOB] == 5


def test_the_notifier_posts_updates_and_fails_as_told() -> None:
    notifier = FakeNotifier()
    out = Outgoing(recipient=Recipient.member(ALICE), message=Message(kind="x", title="x"))
    notifier.fail_next(1, transient=True)
    with pytest.raises(DeliveryError):
        notifier.deliver(out, replaces=None)
    assert notifier.deliver(out, replaces=None) == "msg-1"
    assert notifier.deliver(out, replaces="msg-1") == "msg-1"
    assert notifier.deliver(out, replaces=None) == "msg-2"
    assert len(notifier.tries) == 4
