"""Caps with a period and caps that are inherited: native weekly requests, and grants whose
revert lets the member inherit again."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes import ALICE, DANA, LimitsConnector, World, org_policy
from workflows.admin import NativeIncreaseRequest, TransientConnectorError
from workflows.applying.grants import expire_grants
from workflows.model import (
    NewOperation,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    Period,
    RequestStatus,
)
from workflows.requests import texts
from workflows.requests.native import poll_native_requests

FORTNIGHT = timedelta(days=14)


def world_on(connector: LimitsConnector) -> World:
    # No auto-approval, so every request waits for Dana.
    return World(org_policy(embedded={"auto_approve_under_usd": 0}), connector=connector)


def weekly(limit: int | None) -> NativeIncreaseRequest:
    return NativeIncreaseRequest(
        "slir_1", ALICE, World().now - timedelta(hours=1), limit, period=Period.WEEKLY
    )


def test_a_weekly_native_request_is_proposed_shown_and_approved_as_weekly() -> None:
    world = world_on(LimitsConnector([weekly(2000)]))

    (request_id,) = poll_native_requests(
        world.uow.factory, world.connector, world.policy, world.now
    ).created
    request = world.request(request_id)
    # One more default allowance of the group, spread over a week: $85 a month is $20 a week.
    assert (request.period, request.cap_before_cents, request.new_cap_cents) == (
        Period.WEEKLY,
        2000,
        4000,
    )
    assert texts.what(request) == "+$20 a week ($20 → $40)"
    assert "the weekly limit ($20)" in request.reason
    (card,) = world.uow.sent(DANA, kind="approval")
    assert card.outgoing.message.title == "Alice Wong asks for +$20 a week"

    world.approve(DANA, request_id)
    world.worker.run_once()

    connector = world.connector
    assert isinstance(connector, LimitsConnector)
    assert connector.native_writes == [("approve", "slir_1", 4000, Period.WEEKLY)]
    assert world.request(request_id).status is RequestStatus.APPLIED
    assert world.member(ALICE).cap_cents == 8500  # the monthly cap is untouched
    (told,) = world.uow.sent(ALICE, kind="request_applied")
    assert told.outgoing.message.text == "Your weekly cap is now $40, permanent."


def test_the_auto_approval_limit_is_spread_over_the_period_too() -> None:
    # $25 a month approves itself; a week's share of it is $5.76, under the $20 asked for.
    world = World(connector=LimitsConnector([weekly(2000)]))
    assert world.policy.groups[0].auto_approve_cents == 2500

    (request_id,) = poll_native_requests(
        world.uow.factory, world.connector, world.policy, world.now
    ).created

    assert world.request(request_id).status is RequestStatus.PENDING


def test_a_weekly_request_stays_within_the_groups_maximum_spread_over_a_week() -> None:
    # $400 a month is $92 a week: one at $90 can get only $2 more.
    world = world_on(LimitsConnector([weekly(9000)]))

    (request_id,) = poll_native_requests(
        world.uow.factory, world.connector, world.policy, world.now
    ).created

    assert world.request(request_id).new_cap_cents == 9200


def applied_grant(world: World, text: str = "raise 100 for 14d release prep") -> int:
    request = world.ask(ALICE, text)
    world.approve(DANA, request.id)
    world.worker.run_once()
    assert world.request(request.id).status is RequestStatus.APPLIED
    return request.id


def revert(world: World) -> None:
    world.advance(FORTNIGHT)
    assert expire_grants(world.uow, now=world.now)
    world.worker.run_once()


def test_a_grant_on_an_inherited_cap_reverts_to_inheriting() -> None:
    connector = LimitsConnector()
    world = world_on(connector)

    request_id = applied_grant(world)
    (grant,) = world.uow.all_grants()
    assert (grant.inherited_before, grant.cap_before_cents, grant.delta_cents) == (
        True,
        8500,
        10000,
    )
    assert connector.own == {(ALICE, Period.MONTHLY): 18500}

    revert(world)

    assert connector.own == {}
    assert connector.native_writes == [("inherit", ALICE, None, Period.MONTHLY)]
    assert world.request(request_id).status is RequestStatus.REVERTED
    assert world.member(ALICE).cap_cents == 8500
    ended = world.uow.audit.of(f"grant:{grant.id}")[-1]
    assert (ended.action, ended.after["revert"], ended.after["cap_cents"]) == (
        "grant.ended",
        "inherit",
        8500,
    )
    (told,) = world.uow.sent(ALICE, kind="grant_reverted")
    assert told.outgoing.message.text == (
        "As agreed, your monthly cap is the one your seat and groups give you again ($85)."
    )


def test_a_grant_on_an_own_cap_sets_the_number_back() -> None:
    connector = LimitsConnector()
    connector.own[ALICE, Period.MONTHLY] = 8500
    world = world_on(connector)

    applied_grant(world)
    revert(world)

    assert connector.own == {(ALICE, Period.MONTHLY): 8500}
    assert all(action != "inherit" for action, *_ in connector.native_writes)
    (grant,) = world.uow.all_grants()
    assert world.uow.audit.of(f"grant:{grant.id}")[-1].after["revert"] == "set"


def test_a_change_made_since_the_grant_keeps_the_revert_a_number() -> None:
    connector = LimitsConnector()
    world = world_on(connector)
    applied_grant(world)
    applied_grant(world, "raise 50 more budget")  # permanent, on top

    revert(world)

    # Inheriting would take the permanent $50 away too.
    assert connector.own == {(ALICE, Period.MONTHLY): 13500}


def test_whether_the_cap_was_inherited_is_seen_once_before_the_write() -> None:
    connector = LimitsConnector()
    world = world_on(connector)
    request = world.ask(ALICE, "raise 100 for 14d release prep")
    world.approve(DANA, request.id)
    connector.fail_next(TransientConnectorError("503"))

    world.worker.run_once()  # seen, then the write fails
    world.advance(timedelta(hours=1))
    world.worker.run_once()

    assert connector.looked == [(ALICE, Period.MONTHLY)]
    (grant,) = world.uow.all_grants()
    assert grant.inherited_before is True


def test_a_permanent_change_does_not_ask_where_the_cap_comes_from() -> None:
    connector = LimitsConnector()
    world = world_on(connector)

    applied_grant(world, "raise 50 more budget")

    assert connector.looked == []


def test_a_weekly_cap_on_a_backend_without_periods_is_a_manual_task() -> None:
    world = World()  # a backend with monthly caps only
    with world.uow as uow:
        uow.operations.add(
            NewOperation(
                key="weekly",
                kind=OperationKind.SET_CAP,
                purpose=OperationPurpose.APPLY,
                email=ALICE,
                created_at=world.now,
                cap_cents=4000,
                period=Period.WEEKLY,
            )
        )
        uow.commit()

    report = world.worker.run_once()

    assert len(report.manual) == 1
    assert world.uow.operation("weekly").status is OperationStatus.MANUAL
    assert world.connector.calls == []
