"""Native increase requests (Anthropic's own "ask for more"), on the in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest

from tests.fakes import ALICE, ANA, BOB, DANA, NINA, OMAR, SUE, FakeConnector, World, org_policy
from workflows.admin import Capability, NativeIncreaseRequest, TransientConnectorError
from workflows.model import OperationKind, OperationStatus, Period, RequestStatus
from workflows.requests.native import poll_native_requests
from workflows.requests.sources import is_native, native_id_of, native_source


class NativeConnector(FakeConnector):
    """The fake backend with increase requests of its own."""

    name = "anthropic"

    def __init__(self, pending: Iterable[NativeIncreaseRequest] = ()) -> None:
        super().__init__()
        self.pending = {r.id: r for r in pending}
        self.approved: list[tuple[str, int, str]] = []
        self.periods: list[Period] = []
        self.denied: list[tuple[str, str]] = []

    def pending_native_requests(self) -> list[NativeIncreaseRequest]:
        return list(self.pending.values())

    def approve_native(
        self, native_id: str, cap_cents: int, *, period: Period, idempotency_key: str
    ) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.pending.pop(native_id, None)
        self.approved.append((native_id, cap_cents, idempotency_key))
        self.periods.append(period)

    def deny_native(self, native_id: str, *, idempotency_key: str) -> None:
        self.pending.pop(native_id, None)
        self.denied.append((native_id, idempotency_key))


def native(native_id: str, email: str, limit: int | None = 8500) -> NativeIncreaseRequest:
    return NativeIncreaseRequest(native_id, email, World().now - timedelta(hours=1), limit)


def world_with(*pending: NativeIncreaseRequest, auto_under: int = 0) -> World:
    policy = org_policy(embedded={"auto_approve_under_usd": auto_under})
    return World(policy, connector=NativeConnector(pending))


def poll(world: World) -> list[int]:
    report = poll_native_requests(world.uow.factory, world.connector, world.policy, world.now)
    return report.created


def test_sources_name_the_backend_and_the_native_id() -> None:
    source = native_source("anthropic", "slir_01")

    assert source == "native:anthropic:slir_01"
    assert native_id_of(source, "anthropic") == "slir_01"
    assert native_id_of(source, "litellm") is None
    assert native_id_of("chat", "anthropic") is None
    assert is_native(source)
    assert not is_native("chat")


def test_a_native_request_becomes_one_request_routed_to_the_owners() -> None:
    world = world_with(native("slir_1", ALICE))

    (request_id,) = poll(world)
    assert poll(world) == []  # polled again: still one request

    request = world.request(request_id)
    assert request.source == "native:anthropic:slir_1"
    assert (request.requester, request.status) == (ALICE, RequestStatus.PENDING)
    # One more default allowance of her group ($85), within its maximum of $400.
    assert (request.amount_cents, request.new_cap_cents) == (8500, 17000)
    world.deliver()
    cards = [d.outgoing for d in world.notifier.delivered if d.outgoing.message.kind == "approval"]
    assert sorted(c.recipient.address for c in cards) == [DANA, OMAR]
    told = [d.outgoing for d in world.notifier.delivered if d.outgoing.recipient.address == ALICE]
    assert [o.message.kind for o in told] == ["request_sent"]


def test_approval_is_written_back_as_the_native_approve_with_the_new_cap() -> None:
    world = world_with(native("slir_1", ALICE))
    (request_id,) = poll(world)

    world.approve(DANA, request_id)
    report = world.worker.run_once()

    assert report.applied
    connector = world.connector
    assert isinstance(connector, NativeConnector)
    assert connector.approved == [("slir_1", 17000, f"request-{request_id}-apply")]
    assert connector.calls == []  # not a plain set_cap
    assert world.request(request_id).status is RequestStatus.APPLIED
    assert world.member(ALICE).cap_cents == 17000


def test_a_denial_is_written_back_through_the_outbox_once() -> None:
    world = world_with(native("slir_1", ALICE))
    (request_id,) = poll(world)

    world.deny(OMAR, request_id, note="use the team budget")
    world.connector.fail_next(TransientConnectorError("503"))  # the first write-back fails
    world.worker.run_once()
    world.advance(timedelta(hours=1))
    world.worker.run_once()
    world.worker.run_once()

    connector = world.connector
    assert isinstance(connector, NativeConnector)
    assert connector.denied == [("slir_1", f"request-{request_id}-deny")]
    assert world.request(request_id).status is RequestStatus.DENIED
    (operation,) = [o for o in world.uow.all_operations() if o.request_id == request_id]
    assert (operation.kind, operation.status) == (OperationKind.DENY_NATIVE, OperationStatus.DONE)
    assert world.member(ALICE).cap_cents == 8500


def test_a_denied_chat_request_writes_nothing_back() -> None:
    world = world_with()
    asked = world.ask(BOB, "raise 100 more tokens please")

    world.deny(DANA, asked.id)

    assert world.uow.all_operations() == []


def test_requests_capdesk_cannot_route_go_to_the_admins_once() -> None:
    world = world_with(native("slir_1", NINA), native("slir_2", SUE, limit=None))
    with world.uow:
        world.uow.members.set_seat(SUE, cap_cents=40000)  # already at her group's maximum
        world.uow.commit()

    report = poll_native_requests(world.uow.factory, world.connector, world.policy, world.now)
    again = poll_native_requests(world.uow.factory, world.connector, world.policy, world.now)

    assert (report.created, report.unroutable) == ([], ["slir_1", "slir_2"])
    assert (again.unroutable, again.already_seen) == ([], 2)
    world.deliver()
    alerts = [d.outgoing for d in world.notifier.delivered]
    assert [o.message.kind for o in alerts] == ["native_request_unroutable"] * 2
    assert {o.recipient.address for o in alerts} == {ANA}
    assert "Your cap is already $400" in alerts[1].message.facts[0].value


def test_auto_approval_applies_to_native_requests_too() -> None:
    world = world_with(native("slir_1", ALICE), auto_under=100)

    (request_id,) = poll(world)

    assert world.request(request_id).status is RequestStatus.APPROVED


def test_connectors_without_native_requests_are_not_polled() -> None:
    world = World()

    assert Capability.NATIVE_REQUESTS in world.connector.capabilities  # declared, not offered
    report = poll_native_requests(world.uow.factory, world.connector, world.policy, world.now)

    assert (report.created, report.unroutable, report.already_seen) == ([], [], 0)


@pytest.mark.parametrize("capable", [False, True])
def test_a_denial_for_a_backend_without_the_api_becomes_a_manual_task(capable: bool) -> None:
    world = world_with(native("slir_1", ALICE))
    (request_id,) = poll(world)
    world.deny(DANA, request_id)
    if not capable:
        world.worker = type(world.worker)(
            uow_factory=world.uow.factory,
            connector=FakeConnector(),
            policy=world.policy,
            clock=world.clock,
        )

    report = world.worker.run_once()

    assert (report.manual != []) is not capable
