"""What every chat platform shares (`bot/chat`): the directory around a platform's lookup,
the routing of the outbox between platforms, and the desk its listeners call."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from bot.background import DomainThreads
from bot.chat.desk import Core, Desk
from bot.chat.directory import Directory
from bot.chat.routing import RoutingNotifier
from bot.metrics import Metrics
from tests.fakes import ALICE, BOB, CARL, DANA, FakeNotifier, World
from workflows.delivery import DeliveryError, deliver_pending
from workflows.errors import Refusal
from workflows.forms.model import FieldName, Form, FormId
from workflows.messages import Message, Outgoing, Recipient, Verb

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Lookup:
    """A platform's people: account `a-<name>` is `<name>@example.com`; counts its calls."""

    def __init__(self, *emails: str) -> None:
        self.emails = set(emails)
        self.calls: list[str] = []

    async def email_of(self, account_id: str) -> str | None:
        self.calls.append(account_id)
        email = f"{account_id.removeprefix('a-')}@example.com"
        return email.upper() if email in self.emails else None

    async def account_of(self, email: str) -> str | None:
        self.calls.append(email)
        return f"a-{email.split('@', maxsplit=1)[0]}" if email in self.emails else None


class Seconds:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def directory(world: World, lookup: Lookup, seconds: Seconds | None = None) -> Directory:
    return Directory(
        "chat",
        lookup,
        world.uow.factory,
        clock=world.clock,
        run=DomainThreads(),
        monotonic=seconds or Seconds(),
    )


# --------------------------------------------------------------------------- the directory


async def test_a_person_is_looked_up_once_then_remembered() -> None:
    world, lookup, seconds = World(), Lookup(ALICE), Seconds()
    people = directory(world, lookup, seconds)

    assert await people.email_of("a-alice") == ALICE
    assert await people.email_of("a-alice") == ALICE
    assert lookup.calls == ["a-alice"]
    assert world.uow.identities.email_of("chat", "a-alice") == ALICE
    assert world.uow.identities.platforms_of(ALICE) == ["chat"]

    seconds.now = 301.0  # past the few minutes kept in memory: the store answers, not the platform
    again = directory(world, lookup, seconds)
    assert await again.email_of("a-alice") == ALICE
    assert lookup.calls == ["a-alice"]


async def test_someone_the_platform_or_the_policy_does_not_know_is_none() -> None:
    world, lookup = World(), Lookup(ALICE, "stranger@example.com")
    people = directory(world, lookup)

    assert await people.email_of("a-nobody") is None
    assert await people.email_of("a-stranger") == "stranger@example.com"  # no member: not kept
    assert world.uow.identities.email_of("chat", "a-stranger") is None
    assert await people.account_of("nobody@example.com") is None


async def test_an_account_is_found_by_email_and_a_conversation_kept() -> None:
    world, lookup = World(), Lookup(BOB)
    people = directory(world, lookup)

    assert await people.account_of(BOB) == "a-bob"
    assert await people.account_of(BOB) == "a-bob"
    assert lookup.calls == [BOB]
    assert await people.conversation_of(BOB) is None
    assert await people.remember("a-bob", BOB, conversation='{"conversation": "c1"}')
    assert await people.conversation_of(BOB) == '{"conversation": "c1"}'
    assert not await people.remember("a-x", "x@example.com", conversation="{}")


# --------------------------------------------------------------------------- routing


class Platform(FakeNotifier):
    """A platform's notifier that reaches the members it lists and the channels given."""

    def __init__(self, platform: str, *members: str, channels: Collection[str] = ()) -> None:
        super().__init__()
        self.platform, self.name = platform, platform.capitalize()
        self.members, self.channels = set(members), set(channels)

    def reaches(self, recipient: Recipient) -> bool:
        if recipient.kind == "member":
            return recipient.address in self.members
        return recipient.address in self.channels


def routing(world: World) -> RoutingNotifier:
    slack = Platform("slack", ALICE, BOB, channels={"admin"})
    teams = Platform("teams", BOB, CARL, channels={"admin", "group:hardware"})
    return RoutingNotifier([slack, teams], world.uow.factory)


def test_a_member_gets_it_on_the_platform_they_used_last_else_the_first_that_finds_them() -> None:
    world = World()
    route = routing(world)
    bob, carl = Recipient.member(BOB), Recipient.member(CARL)

    assert route.platforms_for(bob, holding=()) == ["slack"]
    assert route.platforms_for(carl, holding=()) == ["teams"]
    with world.uow:
        world.uow.identities.link("slack", "U0BOB", BOB, seen_at=world.now)
        world.uow.identities.link("teams", "29:bob", BOB, seen_at=world.now.replace(year=2027))
        world.uow.commit()
    assert route.platforms_for(bob, holding=()) == ["teams"]
    # An update goes where the earlier version is.
    assert route.platforms_for(bob, holding={"slack"}) == ["slack"]


def test_a_channel_gets_it_on_every_platform_the_policy_names_it_on() -> None:
    route = routing(World())
    assert route.platforms_for(Recipient.channel("admin"), holding=()) == ["slack", "teams"]
    assert route.platforms_for(Recipient.channel("group:hardware"), holding=()) == ["teams"]


def test_nobody_reached_is_a_permanent_failure_naming_the_platforms() -> None:
    route = routing(World())
    with pytest.raises(DeliveryError, match="no Slack or Teams user has the email dana") as lost:
        route.platforms_for(Recipient.member(DANA), holding=())
    assert not lost.value.transient
    with pytest.raises(DeliveryError, match="names no Slack or Teams channel for group:x"):
        route.platforms_for(Recipient.channel("group:x"), holding=())
    with pytest.raises(DeliveryError) as elsewhere:
        route.notifier("matrix")
    assert elsewhere.value.transient


def test_the_outbox_goes_to_each_persons_platform() -> None:
    world = World()
    route = routing(world)
    with world.uow:
        for email in (ALICE, CARL):
            out = Outgoing(recipient=Recipient.member(email), message=Message(kind="k", title="t"))
            world.uow.notifications.add(out, at=world.now)
        world.uow.commit()
    report = deliver_pending(world.uow.factory, route, world.clock)
    assert len(report.delivered) == 2
    assert [n.platform for n in world.uow.sent()] == ["slack", "teams"]


# --------------------------------------------------------------------------- the desk


def desk(world: World, woken: list[str]) -> Desk:
    core = Core(
        uow=world.uow.factory,
        policy=world.policy,
        clock=world.clock,
        run=DomainThreads(),
        metrics=Metrics(),
        wake_outbox=lambda: woken.append("wake"),
    )
    return Desk(core, platform="chat", name="Chat")


async def test_the_desk_answers_a_stranger_without_touching_the_domain() -> None:
    world, woken = World(), []
    front = desk(world, woken)
    assert await front.command(None, "status") == front.unknown
    assert (await front.click(None, Verb.APPROVE, "1")).acted is False
    assert await front.home(None) == (front.unknown,)
    with pytest.raises(Refusal) as refused:
        await front.submit(None, FormId.RAISE_CAP, ALICE, {})
    assert refused.value.field is FieldName.AMOUNT
    assert "your Chat account's email" in str(refused.value)
    assert woken == []


async def test_the_desk_wakes_the_outbox_only_for_what_was_done() -> None:
    world, woken = World(), []
    front = desk(world, woken)
    refused = await front.command(ALICE, "raise lots for 7d x")
    assert isinstance(refused, Message)
    assert refused.kind == "refusal"
    assert woken == []
    assert isinstance(await front.command(ALICE, "raise"), Form)
    assert woken == []
    await front.command(ALICE, "raise 150 for 14d release prep")
    assert woken == ["wake"]
    clicked = await front.click(BOB, Verb.APPROVE, "1")
    assert (clicked.acted, woken) == (False, ["wake"])
    clicked = await front.click(DANA, Verb.APPROVE, "1")
    assert (clicked.acted, woken) == (True, ["wake", "wake"])


async def test_a_failed_submission_is_told_at_a_field_of_the_form() -> None:
    placed = Desk.failed(FormId.REQUEST, '{"kind": "seat_upgrade"}')
    assert placed.field is FieldName.REASON
    assert str(placed).startswith("Something went wrong on our side")


def test_the_policy_names_a_channel_per_platform() -> None:
    policy = World().policy
    assert policy.channel_ref("group:hardware", "slack") == "C0HARDWARE"
    assert policy.channel_ref("group:hardware", "teams") is None
    assert policy.channel_ref("group:embedded", "slack") is None
    assert policy.channel_ref("group:unknown", "slack") is None
    assert policy.channel_ref("admin", "slack") is None


def test_with_one_platform_everything_goes_to_it_and_it_says_why_it_cannot() -> None:
    world = World()
    only = RoutingNotifier([Platform("slack", ALICE)], world.uow.factory)
    assert only.platforms_for(Recipient.member(DANA), holding=()) == ["slack"]
    assert only.platforms_for(Recipient.channel("group:x"), holding=()) == ["slack"]
