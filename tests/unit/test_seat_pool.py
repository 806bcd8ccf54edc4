"""The seat pool: the line on an upgrade's card, a full pool, Reclaim, and seats that come back."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes import ALICE, ANA, BOB, DANA, OMAR, SUE, T0, World, org_members, org_policy
from workflows.admin import DailyUsage
from workflows.applying.grants import expire_grants
from workflows.clicks import Click, press
from workflows.errors import Refusal
from workflows.messages import Fact, Message, Verb
from workflows.model import GrantStatus, Member, OperationKind, RequestStatus
from workflows.pool.standing import pools

TODAY = T0.date()


def world(seats: int | None, *, premium: tuple[str, ...] = (DANA, SUE)) -> World:
    tiers = {"standard": {"monthly_usd": 25}, "premium": {"monthly_usd": 125}}
    if seats is not None:
        tiers["premium"]["seats"] = seats
    members = [
        Member(
            m.email, m.name, "premium" if m.email in premium else "standard", m.cap_cents, m.active
        )
        for m in org_members()
    ]
    w = World(org_policy(seat_tiers=tiers), members=members)
    # Dana used her seat yesterday; Sue last 40 days ago; Alice 20 days ago.
    usage = [
        DailyUsage(DANA, TODAY - timedelta(days=1), 500, 3),
        DailyUsage(SUE, TODAY - timedelta(days=40), 500, 3),
        DailyUsage(ALICE, TODAY - timedelta(days=20), 500, 3),
    ]
    with w.uow:
        w.uow.usage.replace_daily(usage)
        w.uow.commit()
    return w


def pool_fact(w: World, request_id: int) -> Fact | None:
    card = w.uow.sent(thread=f"approval:{request_id}")[-1].outgoing.message
    return next((f for f in card.facts if f.label == "Premium seats"), None)


def premium(w: World) -> tuple[int, int, int | None]:
    with w.uow:
        found = pools(w.uow, w.policy, now=w.now, tiers=["premium"])[0]
    return found.in_use, found.held_temporarily, found.free


def test_an_upgrades_card_says_how_many_seats_of_the_tier_are_free() -> None:
    w = world(3)
    request = w.ask(BOB, "upgrade premium for 7d sprint")
    assert pool_fact(w, request.id) == Fact(label="Premium seats", value="1 of 3 free")
    assert w.uow.sent(kind="pool_full") == []


def test_a_full_pool_names_the_holders_idle_longest_and_gives_the_admins_reclaim() -> None:
    w = world(2)
    request = w.ask(BOB, "upgrade premium for 7d sprint")
    assert pool_fact(w, request.id) == Fact(
        label="Premium seats", value="none free, all 2 in use; idle longest: Sue Park (40 days)"
    )
    [told] = w.uow.sent(ANA, kind="pool_full")
    message = told.outgoing.message
    assert message.title == "No premium seat free for Bob Stone (request #1)"
    assert message.text.startswith("All 2 premium seats are in use.")
    [section] = message.sections
    assert section.text.startswith("Sue Park · last used ")
    assert section.text.endswith("(40 days ago)")
    assert section.action is not None
    assert (section.action.verb, section.action.value) == (Verb.RECLAIM_TIER, SUE)
    # The owners' card has no Reclaim: only the admins may take a seat back.
    card = w.uow.sent(thread="approval:1")[-1].outgoing.message
    assert [a.verb for a in card.actions] == [Verb.APPROVE, Verb.DENY]


def test_a_full_pool_with_nobody_idle_says_so() -> None:
    w = world(1, premium=(DANA,))
    w.ask(BOB, "upgrade premium for 7d sprint")
    assert pool_fact(w, 1) == Fact(
        label="Premium seats", value="none free, all 1 in use; nobody has left theirs idle 14 days"
    )
    [told] = w.uow.sent(ANA, kind="pool_full")
    assert told.outgoing.message.sections == ()
    assert "nobody has left theirs idle 14 days" in told.outgoing.message.text


def test_a_decided_card_has_no_pool_line() -> None:
    w = world(3)
    request = w.ask(BOB, "upgrade premium for 7d sprint")
    w.approve(OMAR, request.id)
    assert pool_fact(w, request.id) is None


def test_a_tier_without_seats_has_no_pool() -> None:
    w = world(None)
    request = w.ask(BOB, "upgrade premium for 7d sprint")
    assert pool_fact(w, request.id) is None
    assert w.uow.sent(kind="pool_full") == []
    assert premium(w) == (2, 0, None)


def test_an_approved_upgrade_takes_its_seat_and_a_revert_gives_it_back() -> None:
    w = world(2, premium=(DANA,))
    request = w.ask(BOB, "upgrade premium for 7d sprint")
    assert premium(w) == (1, 0, 1)
    w.approve(OMAR, request.id)
    assert premium(w) == (2, 0, 0)  # on its way: nobody else can be given that seat
    w.worker.drain()
    assert w.member(BOB).tier == "premium"
    assert premium(w) == (2, 1, 0)  # held temporarily
    other = w.ask(ALICE, "upgrade premium for 3d demo")
    assert pool_fact(w, other.id) is not None
    assert pool_fact(w, other.id).value.startswith("none free")  # type: ignore[union-attr]

    w.advance(timedelta(days=7, minutes=5))
    expire_grants(w.uow, now=w.now)
    assert premium(w) == (2, 1, 0)  # the seat is Bob's until the revert is applied
    w.worker.drain()
    assert w.member(BOB).tier == "standard"
    assert premium(w) == (1, 0, 1)


def reclaim(w: World, actor: str, email: str) -> Message:
    return press(
        w.uow.factory, w.policy, Click(actor=actor, verb=Verb.RECLAIM_TIER, value=email, now=w.now)
    )


def test_reclaim_moves_an_idle_holder_a_tier_down_through_the_outbox() -> None:
    w = world(2)
    reply = reclaim(w, ANA, SUE)
    assert reply.title == "Reclaiming the premium seat of Sue Park"
    assert reply.text == "It is free once the change is applied: they move to standard."
    [operation] = w.uow.all_operations()
    assert (operation.kind, operation.email, operation.tier) == (
        OperationKind.SET_TIER,
        SUE,
        "standard",
    )
    assert w.uow.audit_actions(f"member:{SUE}") == ["seat.tier_reclaimed"]
    [told] = w.uow.sent(SUE, kind="tier_reclaimed")
    assert told.outgoing.message.actions[0].verb is Verb.REQUEST_MORE
    w.worker.drain()
    assert w.member(SUE).tier == "standard"
    assert premium(w) == (1, 0, 1)
    with pytest.raises(Refusal, match="lowest tier"):
        reclaim(w, ANA, SUE)


def test_reclaim_ends_a_temporary_upgrade_now_like_its_end() -> None:
    w = world(3, premium=(DANA,))
    request = w.ask(BOB, "upgrade premium for 30d sprint")
    w.approve(OMAR, request.id)
    w.worker.drain()
    w.advance(timedelta(days=2))
    reply = reclaim(w, ANA, BOB)
    assert reply.text == (
        "It is free once the change is applied: their temporary upgrade ends now; they go back"
        " to standard."
    )
    [grant] = w.uow.all_grants()
    assert grant.status is GrantStatus.REVERTING
    revert = w.uow.operation(f"grant-{grant.id}-revert")
    assert revert.tier == "standard"
    [ended] = w.uow.audit_entries(f"grant:{grant.id}")
    assert (ended.actor, ended.after["why"]) == (ANA, "reclaimed for the pool")
    w.worker.drain()
    assert w.member(BOB).tier == "standard"
    assert w.request(request.id).status is RequestStatus.REVERTED
    with pytest.raises(Refusal, match="lowest tier"):
        reclaim(w, ANA, BOB)


def test_a_second_reclaim_of_the_same_seat_is_refused_and_changes_nothing() -> None:
    w = world(2)
    reclaim(w, ANA, SUE)
    before = (w.uow.all_operations(), w.uow.sent())
    with pytest.raises(Refusal, match="going back already"):
        reclaim(w, ANA, SUE)
    assert (w.uow.all_operations(), w.uow.sent()) == before


@pytest.mark.parametrize(
    ("actor", "email", "said"),
    [
        (DANA, SUE, "Only an admin can reclaim a seat."),
        (ANA, BOB, "Bob Stone is on the lowest tier (standard) already."),
        (ANA, "nobody@example.com", "nobody@example.com has no seat that capdesk knows of."),
        (ANA, "rita@example.com", "rita@example.com has no seat that capdesk knows of."),
    ],
)
def test_reclaim_is_refused_to_anyone_else_and_below_the_lowest_tier(
    actor: str, email: str, said: str
) -> None:
    w = world(2)
    with pytest.raises(Refusal) as refused:
        reclaim(w, actor, email)
    assert str(refused.value) == said
    assert w.uow.all_operations() == []
    assert w.uow.sent() == []
