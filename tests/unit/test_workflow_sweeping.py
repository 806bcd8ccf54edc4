"""Undecided requests: a reminder, then the admins, then expiry, on a clock that never sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import ALICE, ANA, DANA, OMAR, SAM, T0, World, org_policy
from workflows.errors import Refusal
from workflows.messages import Recipient, Verb
from workflows.model import RequestStatus
from workflows.requests.sweeping import SweepReport, sweep_pending

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def sweep(world: World) -> SweepReport:
    return sweep_pending(world.uow, world.policy, now=world.now)


@pytest.fixture
def world() -> World:
    world = World()
    world.ask(ALICE, "raise 150 for 14d release prep")
    return world


def test_nothing_happens_before_the_reminder_is_due(world: World) -> None:
    sent = len(world.uow.sent())
    world.clock.set(T0 + 4 * HOUR - MINUTE)
    assert sweep(world) == SweepReport()
    assert len(world.uow.sent()) == sent
    assert world.request(1).reminded_at is None


def test_one_reminder_after_reminder_after(world: World) -> None:
    world.clock.set(T0 + 4 * HOUR)
    assert sweep(world) == SweepReport(reminded=[1])
    reminders = world.uow.sent(kind="reminder")
    assert [n.outgoing.recipient for n in reminders] == [
        Recipient.member(DANA),
        Recipient.member(OMAR),
    ]
    message = reminders[0].outgoing.message
    assert message.title == "Reminder: Alice Wong has waited 4h for request #1"
    assert [a.verb for a in message.actions] == [Verb.APPROVE, Verb.DENY]
    assert world.request(1).reminded_at == world.now
    assert world.uow.audit_actions("request:1")[-1] == "request.reminded"

    world.advance(MINUTE)
    assert sweep(world) == SweepReport()
    world.advance(10 * HOUR)
    assert sweep(world) == SweepReport()
    assert len(world.uow.sent(kind="reminder")) == 2


def test_escalation_goes_to_the_admins_once(world: World) -> None:
    world.clock.set(T0 + 4 * HOUR)
    sweep(world)
    world.clock.set(T0 + 24 * HOUR - MINUTE)
    assert sweep(world) == SweepReport()
    world.clock.set(T0 + 24 * HOUR)
    assert sweep(world) == SweepReport(escalated=[1])
    [card] = world.uow.sent(ANA)
    assert card.outgoing.thread_key == "approval:1"
    assert card.outgoing.message.footer == "Escalated to the admins: no decision for 24h"
    assert [a.verb for a in card.outgoing.message.actions] == [Verb.APPROVE, Verb.DENY]
    assert world.request(1).escalated_at == world.now
    assert world.uow.audit_actions("request:1")[-1] == "request.escalated"

    for _ in range(3):
        world.advance(2 * HOUR)
        assert sweep(world).escalated == []
    assert len(world.uow.sent(ANA)) == 1


def test_escalation_goes_to_the_admin_channel_when_there_is_one() -> None:
    world = World(org_policy(admin_channel={"slack": "C0ADMINS"}))
    world.ask(ALICE, "raise 150 for 14d release prep")
    world.clock.set(T0 + 24 * HOUR)
    assert sweep(world).escalated == [1]
    [card] = world.uow.sent(Recipient.channel("admin"))
    assert card.outgoing.thread_key == "approval:1"
    assert world.uow.sent(ANA) == []


def test_escalation_of_a_request_the_admins_already_have_adds_nobody() -> None:
    world = World()
    world.ask(SAM, "raise 150 release prep")  # Sam owns software alone: Ana got the card
    world.clock.set(T0 + 24 * HOUR)
    assert sweep(world).escalated == [1]
    assert len(world.uow.sent(ANA)) == 1


def test_an_admin_brought_in_sees_the_outcome_on_their_card(world: World) -> None:
    world.clock.set(T0 + 24 * HOUR)
    sweep(world)
    world.approve(ANA, 1)
    [_, update] = world.uow.sent(ANA)
    assert update.outgoing.message.footer == "Approved by Ana Admin at 10:00"
    assert update.outgoing.message.actions == ()
    assert [n.outgoing.recipient.address for n in world.uow.sent(thread="approval:1")] == [
        DANA,
        OMAR,
        ANA,
        DANA,
        OMAR,
        ANA,
    ]


def test_expiry(world: World) -> None:
    world.clock.set(T0 + 24 * HOUR)
    sweep(world)
    world.clock.set(T0 + 72 * HOUR - MINUTE)
    assert sweep(world).expired == []
    world.clock.set(T0 + 72 * HOUR)
    assert sweep(world) == SweepReport(expired=[1])

    request = world.request(1)
    assert request.status is RequestStatus.EXPIRED
    assert request.updated_at == world.now
    updates = world.uow.sent(thread="approval:1")[3:]
    assert [u.outgoing.recipient.address for u in updates] == [DANA, OMAR, ANA]
    for update in updates:
        assert update.outgoing.message.actions == ()
        assert update.outgoing.message.footer == "Expired at 10:00"
    [told] = world.uow.sent(ALICE, kind="request_expired")
    assert told.outgoing.message.title == "Request #1 expired"
    entry = world.uow.audit_entries("request:1")[-1]
    assert (entry.action, entry.actor, entry.after) == (
        "request.expired",
        "capdesk",
        {"status": RequestStatus.EXPIRED},
    )

    world.advance(HOUR)
    assert sweep(world) == SweepReport()


def test_a_request_left_alone_expires_without_reminder_or_escalation(world: World) -> None:
    world.clock.set(T0 + 100 * HOUR)
    assert sweep(world) == SweepReport(expired=[1])
    assert world.uow.sent(kind="reminder") == []


def test_an_expired_request_cannot_be_approved(world: World) -> None:
    world.clock.set(T0 + 72 * HOUR)
    sweep(world)
    with pytest.raises(Refusal, match="Request #1 is already expired; there is nothing left to"):
        world.approve(DANA, 1)
    assert world.request(1).status is RequestStatus.EXPIRED
    assert world.uow.all_operations() == []


def test_decided_requests_are_left_alone(world: World) -> None:
    world.approve(DANA, 1)
    sent = len(world.uow.sent())
    for hours in (4, 24, 72):
        world.clock.set(T0 + hours * HOUR)
        assert sweep(world) == SweepReport()
    assert len(world.uow.sent()) == sent
    assert world.request(1).status is RequestStatus.APPROVED


def test_each_request_keeps_its_own_clock(world: World) -> None:
    world.clock.set(T0 + 3 * HOUR)
    world.ask(ALICE, "upgrade premium for 10d profiling")
    world.clock.set(T0 + 4 * HOUR)
    assert sweep(world) == SweepReport(reminded=[1])
    world.clock.set(T0 + 7 * HOUR)
    assert sweep(world) == SweepReport(reminded=[2])


def test_a_late_first_sweep_escalates_without_a_reminder_after_it(world: World) -> None:
    world.clock.set(T0 + 30 * HOUR)
    assert sweep(world) == SweepReport(escalated=[1])
    world.advance(MINUTE)
    assert sweep(world) == SweepReport()
    assert world.uow.sent(kind="reminder") == []
