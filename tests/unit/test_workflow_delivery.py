"""Delivering the notifications outbox: order, updates in place, retries, superseded versions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import ALICE, DANA, OMAR, World
from workflows.delivery import DeliveryReport
from workflows.messages import Message, Outgoing, Recipient

SECOND = timedelta(seconds=1)


@pytest.fixture
def world() -> World:
    return World()


def queue(world: World, to: str, title: str, *, thread: str | None = None) -> int:
    with world.uow:
        world.uow.notifications.add(
            Outgoing(
                recipient=Recipient.member(to),
                message=Message(kind="test", title=title),
                thread_key=thread,
            ),
            at=world.now,
        )
        world.uow.commit()
    return world.uow.sent()[-1].id


def titles(world: World) -> list[str]:
    return [d.outgoing.message.title for d in world.notifier.delivered]


def status(world: World, notification_id: int) -> str:
    return next(n.status for n in world.uow.sent() if n.id == notification_id)


def test_messages_are_delivered_oldest_first(world: World) -> None:
    ids = [queue(world, who, title) for who, title in ((DANA, "one"), (ALICE, "two"), (DANA, "3"))]
    assert world.deliver() == DeliveryReport(delivered=ids)
    assert titles(world) == ["one", "two", "3"]
    assert [d.replaces for d in world.notifier.delivered] == [None, None, None]
    assert [status(world, i) for i in ids] == ["delivered"] * 3
    assert [n.ref for n in world.uow.sent()] == ["msg-1", "msg-2", "msg-3"]
    assert world.deliver() == DeliveryReport()
    assert len(world.notifier.tries) == 3


def test_an_update_in_a_thread_replaces_the_earlier_message(world: World) -> None:
    world.ask(ALICE, "raise 150 for 14d release prep")
    world.deliver()
    first = {d.outgoing.recipient.address: d.ref for d in world.notifier.delivered}
    world.approve(DANA, 1)
    world.deliver()
    updates = world.notifier.delivered[3:]
    by_person = {d.outgoing.recipient.address: d for d in updates}
    assert by_person[DANA].replaces == first[DANA]
    assert by_person[OMAR].replaces == first[OMAR]
    assert by_person[DANA].outgoing.message.footer == "Approved by Dana Okafor at 10:00"
    assert by_person[ALICE].replaces is None  # a new direct message, not an update
    assert first[DANA] != first[OMAR]


def test_a_second_update_replaces_the_same_message(world: World) -> None:
    queue(world, DANA, "v1", thread="approval:1")
    world.deliver()
    queue(world, DANA, "v2", thread="approval:1")
    world.deliver()
    queue(world, DANA, "v3", thread="approval:1")
    world.deliver()
    assert [(d.outgoing.message.title, d.replaces) for d in world.notifier.delivered] == [
        ("v1", None),
        ("v2", "msg-1"),
        ("v3", "msg-1"),
    ]


def test_a_transient_failure_is_retried_later_not_lost(world: World) -> None:
    world.notifier.fail_next(1, transient=True, retry_after=30)
    sent = queue(world, DANA, "hello")
    other = queue(world, ALICE, "hi")
    assert world.deliver() == DeliveryReport(delivered=[other], retrying=[sent])
    item = next(n for n in world.uow.sent() if n.id == sent)
    assert item.status == "pending"
    assert item.next_attempt_at == world.now + 30 * SECOND
    assert item.last_error == "failure 1"

    world.advance(29 * SECOND)
    assert world.deliver() == DeliveryReport()
    world.advance(SECOND)
    assert world.deliver() == DeliveryReport(delivered=[sent])
    assert titles(world) == ["hi", "hello"]
    assert next(n for n in world.uow.sent() if n.id == sent).attempts == 2


def test_a_permanent_failure_is_dropped(world: World) -> None:
    world.notifier.fail_next(1, transient=False)
    dropped = queue(world, DANA, "to a user who left")
    kept = queue(world, ALICE, "hi")
    assert world.deliver() == DeliveryReport(delivered=[kept], dropped=[dropped])
    assert status(world, dropped) == "dropped"
    world.advance(timedelta(hours=1))
    assert world.deliver() == DeliveryReport()
    assert len(world.notifier.tries) == 2


def test_transient_failures_give_up_after_the_last_attempt(world: World) -> None:
    world.notifier.fail_next(10, transient=True)
    sent = queue(world, DANA, "hello")
    for _ in range(9):
        assert world.deliver().retrying == [sent]
        world.clock.set(next(n for n in world.uow.sent() if n.id == sent).next_attempt_at)
    assert world.deliver().dropped == [sent]
    assert status(world, sent) == "dropped"


def test_only_the_newest_version_of_a_card_in_one_batch_is_sent(world: World) -> None:
    old = queue(world, DANA, "open card", thread="approval:1")
    omar = queue(world, OMAR, "open card", thread="approval:1")
    new = queue(world, DANA, "approved card", thread="approval:1")
    report = world.deliver()
    assert report.delivered == [omar, new]
    assert report.dropped == [old]
    assert [
        (d.outgoing.recipient.address, d.outgoing.message.title) for d in world.notifier.delivered
    ] == [
        (OMAR, "open card"),
        (DANA, "approved card"),
    ]
    dropped = next(n for n in world.uow.sent() if n.id == old)
    assert dropped.status == "dropped"
    assert dropped.last_error == "superseded by a newer version"


def test_a_retried_old_version_does_not_overwrite_a_newer_card(world: World) -> None:
    world.notifier.fail_next(1, transient=True, retry_after=30)
    queue(world, DANA, "open card", thread="approval:1")
    world.deliver()  # fails; retried in 30s
    world.advance(10 * SECOND)
    queue(world, DANA, "approved card", thread="approval:1")
    world.deliver()  # the newer version goes out
    world.advance(30 * SECOND)
    world.deliver()
    assert titles(world)[-1] == "approved card"
