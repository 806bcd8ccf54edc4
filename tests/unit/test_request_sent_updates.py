"""The requester's "Request #N sent" message follows the request: its Cancel button goes once
the request is no longer pending, and the outcome takes its place (as on the owners' cards)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import ALICE, DANA, T0, World
from workflows.admin import PermanentConnectorError
from workflows.applying.grants import expire_grants
from workflows.messages import Message, Verb
from workflows.requests.sweeping import sweep_pending

RAISE = "raise 150 for 14d release prep"
THREAD = "request-sent:1"


@pytest.fixture
def world() -> World:
    world = World()
    world.ask(ALICE, RAISE)
    world.clock.set(T0.replace(hour=13, minute=2))  # 14:02 in Berlin
    return world


def latest(world: World) -> Message:
    return world.uow.sent(ALICE, thread=THREAD)[-1].outgoing.message


def test_the_sent_message_has_a_cancel_button_while_pending(world: World) -> None:
    [sent] = world.uow.sent(ALICE, thread=THREAD)
    assert sent.outgoing.message.title == "Request #1 sent"
    assert [a.verb for a in sent.outgoing.message.actions] == [Verb.CANCEL]


def test_approved_then_in_force(world: World) -> None:
    world.approve(DANA, 1)
    assert latest(world).actions == ()
    assert latest(world).text == "Approved by Dana Okafor at 14:02"
    assert latest(world).title == "Request #1 sent"
    world.clock.set(T0.replace(hour=13, minute=3))
    world.worker.drain()
    assert (
        latest(world).text == "Approved by Dana Okafor at 14:02 · in force since Fri 20 Nov 14:03"
    )
    assert {f.label: f.value for f in latest(world).facts}["For"] == "until Fri 4 Dec"


def test_denied_with_the_reason(world: World) -> None:
    world.deny(DANA, 1, note="not this month")
    assert latest(world).actions == ()
    assert latest(world).text == "Denied by Dana Okafor at 14:02: not this month"


def test_cancelled(world: World) -> None:
    world.cancel(ALICE, 1)
    assert latest(world).actions == ()
    assert latest(world).text == "Cancelled by Alice Wong at 14:02"


def test_expired(world: World) -> None:
    world.clock.set(T0 + timedelta(hours=73))
    assert sweep_pending(world.uow, world.policy, now=world.now).expired == [1]
    assert latest(world).actions == ()
    assert latest(world).text == "Expired at 11:00: nobody decided in time"


def test_approved_but_not_applied(world: World) -> None:
    world.connector.fail_next(PermanentConnectorError("403: the admin key was revoked"))
    world.approve(DANA, 1)
    world.worker.run_once()
    assert latest(world).text == (
        "Approved by Dana Okafor at 14:02 · not applied yet; the admins are on it"
    )


def test_a_grant_that_ended(world: World) -> None:
    world.approve(DANA, 1)
    world.worker.drain()
    world.clock.set(T0 + timedelta(days=15))
    assert expire_grants(world.uow, now=world.now) == [1]
    world.worker.drain()
    assert latest(world).text == "Approved by Dana Okafor at 14:02 · ended Sat 5 Dec 10:00"


def test_the_update_replaces_the_message_in_place(world: World) -> None:
    world.deliver()
    world.approve(DANA, 1)
    world.deliver()
    to_alice = [d for d in world.notifier.delivered if d.outgoing.thread_key == THREAD]
    assert [d.replaces for d in to_alice] == [None, to_alice[0].ref]


def test_a_request_approved_by_the_policy_never_had_one() -> None:
    world = World()
    world.ask(ALICE, "raise 20 for 7d a little more")
    world.worker.drain()
    assert world.uow.sent(ALICE, kind="request_sent") == []
