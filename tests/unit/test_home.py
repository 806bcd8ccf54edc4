"""The App Home content: my status, my requests, and the approvals waiting for me."""

from __future__ import annotations

from bot.slack.views import home_view
from tests.fakes import ALICE, ANA, BOB, CARL, CLEO, DANA, OMAR, SUE, World, org_members, org_policy
from tests.unit.slack_checks import check_blocks
from workflows.home import home_of
from workflows.messages import Message, Verb, written_for
from workflows.model import Member

RAISE = "raise 150 for 14d release prep"


def home(world: World, email: str, *, limit: int = 10) -> tuple[Message, ...]:
    return home_of(world.uow, world.policy, email=email, now=world.now, limit=limit)


def kinds(messages: tuple[Message, ...]) -> list[str]:
    return [m.kind for m in messages]


def verbs(message: Message) -> list[tuple[Verb, str]]:
    return [(a.verb, a.value) for a in message.actions]


def test_a_member_sees_their_status_and_requests_with_cancel_on_pending_ones() -> None:
    world = World()
    first = world.ask(ALICE, RAISE)
    world.cancel(ALICE, first.id)
    pending = world.ask(ALICE, "upgrade premium for 30d profiling")

    status, mine = home(world, ALICE)

    assert status.kind == "status"
    assert status.progress is not None
    assert (Verb.REQUEST_MORE, "cap_increase") in verbs(status)
    assert mine.kind == "home_requests"
    assert [f.label.split(" · ")[0] for f in mine.facts] == [
        f"{pending.ref} pending",
        f"{first.ref} cancelled",
    ]
    assert "release prep" in mine.facts[1].value
    assert verbs(mine) == [(Verb.CANCEL, str(pending.id))]
    # The pending request is listed once, under the requests, not again in the status card.
    assert not any(pending.ref in f.label for f in status.facts)


def test_a_member_without_requests_is_told_how_to_ask() -> None:
    world = World()

    _, mine = home(world, BOB)

    assert mine.facts == ()
    assert "/capdesk help" in written_for(mine.text, "/capdesk ")


def test_only_the_latest_requests_are_listed() -> None:
    world = World()
    for _ in range(4):
        world.cancel(ALICE, world.ask(ALICE, RAISE).id)

    _, mine = home(world, ALICE, limit=3)

    assert len(mine.facts) == 3
    assert mine.footer == "…and 1 older"


def test_an_owner_sees_a_card_with_buttons_for_each_request_of_their_group() -> None:
    world = World()
    alice = world.ask(ALICE, RAISE)
    bob = world.ask(BOB, "upgrade premium profiling work")
    world.ask(SUE, RAISE)  # another group's

    messages = home(world, DANA)

    assert kinds(messages) == ["status", "home_requests", "home_waiting", "approval", "approval"]
    assert messages[2].title == "Waiting for your decision (2)"
    # Oldest first: the longest wait comes first.
    assert [verbs(m) for m in messages[3:]] == [
        [(Verb.APPROVE, str(alice.id)), (Verb.DENY, str(alice.id))],
        [(Verb.APPROVE, str(bob.id)), (Verb.DENY, str(bob.id))],
    ]
    assert messages[3].title == "Alice Wong asks for +$150 a month"


def test_an_owner_does_not_decide_their_own_request_but_the_other_owner_does() -> None:
    world = World()
    own = world.ask(DANA, RAISE)

    dana = home(world, DANA)
    omar = home(world, OMAR)

    assert dana[-1].kind == "home_waiting"
    assert dana[-1].text == "Nothing is waiting for you."
    assert verbs(omar[-1]) == [(Verb.APPROVE, str(own.id)), (Verb.DENY, str(own.id))]


def test_an_admin_sees_every_groups_pending_requests() -> None:
    world = World()
    world.ask(ALICE, RAISE)
    world.ask(SUE, RAISE)
    world.ask(CLEO, RAISE)

    messages = home(world, ANA)

    assert sum(m.kind == "approval" for m in messages) == 3


def test_a_member_who_is_no_owner_sees_no_approvals() -> None:
    world = World()
    world.ask(ALICE, RAISE)

    assert "home_waiting" not in kinds(home(world, BOB))


def test_decided_requests_are_no_longer_waiting() -> None:
    world = World()
    request = world.ask(CLEO, RAISE)
    world.approve(CARL, request.id)

    assert home(world, CARL)[-1].text == "Nothing is waiting for you."


def test_after_my_approval_a_request_needing_two_has_no_buttons_for_me() -> None:
    world = World(org_policy(embedded={"approvals_required": 2}))
    request = world.ask(ALICE, RAISE)
    world.approve(DANA, request.id)

    [dana_card] = [m for m in home(world, DANA) if m.kind == "approval"]
    [omar_card] = [m for m in home(world, OMAR) if m.kind == "approval"]

    assert dana_card.actions == ()
    assert dana_card.footer == "You approved; waiting for others"
    assert [a.verb for a in omar_card.actions] == [Verb.APPROVE, Verb.DENY]


def test_someone_capdesk_does_not_know_gets_a_polite_sentence() -> None:
    world = World()

    [message] = home(world, "stranger@example.com")

    assert message.kind == "home_unknown"
    assert "ask an admin" in message.text
    assert message.actions == ()


def test_an_admin_without_a_seat_still_sees_the_approvals() -> None:
    world = World(members=[m for m in org_members() if m.email != ANA])
    world.ask(ALICE, RAISE)

    messages = home(world, ANA)

    assert kinds(messages) == ["home_unknown", "home_waiting", "approval"]


def test_an_owner_with_120_pending_requests_gets_ten_cards_and_a_count() -> None:
    crowd = [f"p{i:03d}@crowd.example" for i in range(60)]
    members = org_members() + [
        Member(email=e, name=f"Person {e[1:4]}", tier="standard", cap_cents=8500) for e in crowd
    ]
    policy = org_policy(embedded={"members": [ALICE, BOB, DANA, OMAR, "*@crowd.example"]})
    world = World(policy, members=members)
    for email in crowd:
        world.ask(email, "raise 100 for 7d crunch")
        world.ask(email, "upgrade premium for 7d crunch")

    messages = home(world, DANA)

    assert messages[2].title == "Waiting for your decision (120)"
    assert sum(m.kind == "approval" for m in messages) == 10
    assert messages[-1].kind == "home_more"
    assert messages[-1].title == "…and 110 more waiting for you"
    view = home_view(messages)
    check_blocks(view["blocks"], max_blocks=100)
    # Every card made it onto the tab whole, with its buttons.
    assert sum(b["type"] == "actions" for b in view["blocks"]) >= 10

    everything = home_view(home(world, DANA, limit=500))
    check_blocks(everything["blocks"], max_blocks=100)
    assert everything["blocks"][-1]["elements"][0]["text"].startswith("…and ")
