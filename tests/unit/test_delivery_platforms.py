"""Delivering one outbox to several chat platforms: each message goes where its recipient is,
a channel on two platforms gets it on both, and an update goes where the earlier version is."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta

from tests.fakes import ALICE, DANA, FakeNotifier, MaxRandom, World
from workflows.delivery import DeliveryError, DeliveryReport, Notifier, deliver_pending
from workflows.messages import Message, Outgoing, Recipient

CHANNEL = Recipient.channel("admin")


class TwoPlatforms:
    """Slack-like `left` and Teams-like `right`: channels are on both, Dana is on the right."""

    def __init__(self) -> None:
        self.notifiers = {"left": FakeNotifier(), "right": FakeNotifier()}
        self.asked: list[tuple[Recipient, set[str]]] = []

    def platforms_for(self, recipient: Recipient, *, holding: Collection[str]) -> Sequence[str]:
        self.asked.append((recipient, set(holding)))
        if recipient.kind == "channel":
            return ["left", "right"]
        if holding:
            return sorted(holding)
        if recipient.address == DANA:
            return ["right"]
        return [] if recipient.address == "nobody@example.com" else ["left"]

    def notifier(self, platform: str) -> Notifier:
        if platform not in self.notifiers:
            raise DeliveryError(f"{platform} is not served here", transient=True)
        return self.notifiers[platform]


def queue(world: World, to: Recipient, title: str, *, thread: str | None = None) -> int:
    with world.uow:
        world.uow.notifications.add(
            Outgoing(recipient=to, message=Message(kind="t", title=title), thread_key=thread),
            at=world.now,
        )
        world.uow.commit()
    return world.uow.sent()[-1].id


def deliver(world: World, platforms: TwoPlatforms) -> DeliveryReport:
    return deliver_pending(world.uow.factory, platforms, world.clock, rng=MaxRandom())


def posted(platforms: TwoPlatforms, name: str) -> list[tuple[str, str | None]]:
    return [(d.outgoing.message.title, d.replaces) for d in platforms.notifiers[name].delivered]


def test_each_person_gets_it_on_their_platform_and_a_channel_on_both() -> None:
    world, platforms = World(), TwoPlatforms()
    alice = queue(world, Recipient.member(ALICE), "to alice")
    dana = queue(world, Recipient.member(DANA), "to dana")
    channel = queue(world, CHANNEL, "to the admins")

    report = deliver(world, platforms)

    copy = channel + 1
    assert report == DeliveryReport(delivered=[alice, dana, channel, copy])
    assert posted(platforms, "left") == [("to alice", None), ("to the admins", None)]
    assert posted(platforms, "right") == [("to dana", None), ("to the admins", None)]
    rows = {n.id: (n.platform, n.origin_id, n.status) for n in world.uow.sent()}
    assert rows == {
        alice: ("left", None, "delivered"),
        dana: ("right", None, "delivered"),
        channel: ("left", None, "delivered"),
        copy: ("right", channel, "delivered"),
    }


def test_an_update_replaces_every_copy_on_its_own_platform() -> None:
    world, platforms = World(), TwoPlatforms()
    queue(world, CHANNEL, "open card", thread="approval:1")
    deliver(world, platforms)
    queue(world, CHANNEL, "approved card", thread="approval:1")

    deliver(world, platforms)

    assert posted(platforms, "left") == [("open card", None), ("approved card", "msg-1")]
    assert posted(platforms, "right") == [("open card", None), ("approved card", "msg-1")]
    assert platforms.asked[-1] == (CHANNEL, {"left", "right"})


def test_a_failure_on_one_platform_is_retried_there_alone() -> None:
    world, platforms = World(), TwoPlatforms()
    platforms.notifiers["right"].fail_next(1, transient=True, retry_after=30)
    channel = queue(world, CHANNEL, "to the admins")

    assert deliver(world, platforms) == DeliveryReport(delivered=[channel], retrying=[channel + 1])
    world.advance(timedelta(seconds=30))
    assert deliver(world, platforms) == DeliveryReport(delivered=[channel + 1])
    assert len(platforms.notifiers["left"].delivered) == 1
    assert posted(platforms, "right") == [("to the admins", None)]


def test_a_copy_is_not_superseded_by_its_own_origin_but_by_a_newer_version() -> None:
    world, platforms = World(), TwoPlatforms()
    platforms.notifiers["left"].fail_next(1, transient=True, retry_after=30)
    first = queue(world, CHANNEL, "v1", thread="approval:1")
    deliver(world, platforms)  # right has v1, left retries it
    world.advance(timedelta(seconds=30))
    assert deliver(world, platforms).delivered == [first]

    platforms.notifiers["right"].fail_next(1, transient=True, retry_after=30)
    second = queue(world, CHANNEL, "v2", thread="approval:1")
    deliver(world, platforms)  # left updates to v2, right retries v2
    third = queue(world, CHANNEL, "v3", thread="approval:1")
    world.advance(timedelta(seconds=30))
    report = deliver(world, platforms)
    assert report.dropped == [second + 1]  # right's copy of v2, superseded by v3
    assert [t for t, _ in posted(platforms, "right")] == ["v1", "v3"]
    assert [t for t, _ in posted(platforms, "left")] == ["v1", "v2", "v3"]
    assert third in report.delivered


def test_a_recipient_no_platform_reaches_is_dropped_with_the_reason() -> None:
    world, platforms = World(), TwoPlatforms()
    lost = queue(world, Recipient.member("nobody@example.com"), "hello")

    assert deliver(world, platforms) == DeliveryReport(dropped=[lost])
    [row] = world.uow.sent()
    assert row.last_error == "no chat platform reaches nobody@example.com"


def test_a_platform_this_process_does_not_serve_is_tried_again_later() -> None:
    world, platforms = World(), TwoPlatforms()
    message = queue(world, Recipient.member(ALICE), "hello")
    with world.uow:
        world.uow.notifications.claim_due(world.now, lease_until=world.now, limit=1)
        world.uow.notifications.route(message, ["elsewhere"], lease_until=world.now)
        world.uow.commit()

    assert deliver(world, platforms) == DeliveryReport(retrying=[message])
