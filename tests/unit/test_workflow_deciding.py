"""Who decides, auto-approval, and the messages a decision produces (SPEC 5)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.fakes import (
    ALICE,
    ANA,
    BOB,
    CARL,
    CLEO,
    DANA,
    OMAR,
    SAM,
    SUE,
    T0,
    FakeNotification,
    World,
    org_policy,
)
from workflows.errors import Refusal
from workflows.messages import Recipient, Verb
from workflows.model import (
    POLICY_ACTOR,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    RequestStatus,
    Verdict,
)

RAISE = "raise 150 for 14d release prep"


@pytest.fixture
def world() -> World:
    return World()


def addresses(items: list[FakeNotification]) -> list[str]:
    return [n.outgoing.recipient.address for n in items]


def verbs(item: FakeNotification) -> list[Verb]:
    return [a.verb for a in item.outgoing.message.actions]


def nothing_changed(world: World, request_id: int, *, commits: int) -> None:
    assert world.uow.committed == commits
    assert world.request(request_id).status is RequestStatus.PENDING
    assert world.uow.all_operations() == []


# --------------------------------------------------------------------------- who decides


def test_an_owner_approves_and_the_change_is_queued(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    world.advance(timedelta(minutes=30))
    approved = world.approve(DANA, request.id)

    assert approved.status is RequestStatus.APPROVED
    assert approved.decided_by == DANA
    assert approved.decided_at == world.now
    assert world.request(request.id) == approved
    [operation] = world.uow.all_operations()
    assert operation.key == f"request-{request.id}-apply"
    assert operation.status is OperationStatus.PENDING
    assert operation.kind is OperationKind.SET_CAP
    assert operation.purpose is OperationPurpose.APPLY
    assert (operation.email, operation.cap_cents, operation.request_id) == (ALICE, 23500, 1)
    assert [(d.actor, d.verdict) for d in world.uow.decisions.of(request.id)] == [
        (DANA, Verdict.APPROVE)
    ]
    entry = world.uow.audit_entries("request:1")[-1]
    assert (entry.action, entry.actor) == ("request.approved", DANA)
    assert entry.before == {"status": RequestStatus.PENDING}
    assert entry.after["status"] == RequestStatus.APPROVED
    assert entry.after["operation"] == "request-1-apply"
    assert world.uow.committed == 2  # the request, then the decision with its operation


def test_an_admin_approves(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    approved = world.approve(ANA, request.id)
    assert approved.status is RequestStatus.APPROVED
    assert approved.decided_by == ANA
    assert world.uow.operation("request-1-apply").status is OperationStatus.PENDING


def test_actor_case_does_not_matter(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    assert world.approve("Dana@Example.COM", request.id).decided_by == DANA


@pytest.mark.parametrize("verdict", [Verdict.APPROVE, Verdict.DENY])
def test_the_requester_cannot_decide_their_own_request(world: World, verdict: Verdict) -> None:
    request = world.ask(ALICE, RAISE)
    decide = world.approve if verdict is Verdict.APPROVE else world.deny
    with pytest.raises(Refusal, match="You can't decide on your own request"):
        decide("ALICE@example.com", request.id)
    # The request is as it was; only a refused self-approval is kept, for the quarterly review.
    refused = verdict is Verdict.APPROVE
    nothing_changed(world, request.id, commits=2 if refused else 1)
    actions = world.uow.audit_actions(f"request:{request.id}")
    assert actions == ["request.created"] + (["request.self_approval_refused"] if refused else [])


def test_an_owners_own_request_goes_to_the_other_owners(world: World) -> None:
    request = world.ask(OMAR, RAISE)
    assert addresses(world.uow.sent(thread="approval:1")) == [DANA]
    with pytest.raises(Refusal, match="your own request"):
        world.approve(OMAR, request.id)
    assert world.approve(DANA, request.id).status is RequestStatus.APPROVED


def test_a_sole_owners_own_request_goes_to_the_admins(world: World) -> None:
    request = world.ask(SAM, RAISE)
    assert addresses(world.uow.sent(thread="approval:1")) == [ANA]
    [sent] = world.uow.sent(SAM, kind="request_sent")
    assert sent.outgoing.message.text.startswith("Ana Admin will decide.")
    with pytest.raises(Refusal, match="your own request"):
        world.approve(SAM, request.id)
    assert world.approve(ANA, request.id).status is RequestStatus.APPROVED


@pytest.mark.parametrize("outsider", [SUE, SAM, BOB, CLEO, "nobody@example.com"])
def test_people_outside_the_groups_owners_and_the_admins_are_refused(
    world: World, outsider: str
) -> None:
    request = world.ask(ALICE, RAISE)
    with pytest.raises(Refusal, match="Only the owners of embedded or an admin can decide on #1"):
        world.approve(outsider, request.id)
    with pytest.raises(Refusal, match="Only the owners of embedded"):
        world.deny(outsider, request.id)
    nothing_changed(world, request.id, commits=1)
    assert world.uow.decisions.of(request.id) == []


def test_no_such_request(world: World) -> None:
    with pytest.raises(Refusal, match=re.escape("There is no request #9.")):
        world.approve(DANA, 9)


def test_a_click_on_a_request_already_decided(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    world.clock.set(T0.replace(hour=13, minute=2))  # 14:02 in Berlin
    world.approve(DANA, request.id)
    world.advance(timedelta(minutes=5))
    commits, sent = world.uow.committed, len(world.uow.sent())
    for verdict_of in (world.approve, world.deny):
        with pytest.raises(Refusal) as info:
            verdict_of(OMAR, request.id)
        assert str(info.value) == "Request #1 was already approved by Dana Okafor at 14:02."
    assert world.uow.committed == commits
    assert len(world.uow.sent()) == sent
    assert len(world.uow.all_operations()) == 1
    assert len(world.uow.decisions.of(request.id)) == 1


def test_a_click_after_the_change_was_applied_still_names_the_approver(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    world.approve(DANA, request.id)
    world.worker.run_once()
    assert world.request(request.id).status is RequestStatus.APPLIED
    with pytest.raises(
        Refusal, match=r"^Request #1 was already approved by Dana Okafor at 10:00\.$"
    ):
        world.approve(OMAR, request.id)


def test_a_double_click_by_the_same_owner_gives_one_decision(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    world.approve(DANA, request.id)
    with pytest.raises(Refusal, match="already approved by Dana Okafor"):
        world.approve(DANA, request.id)
    assert len(world.uow.decisions.of(request.id)) == 1
    assert len(world.uow.all_operations()) == 1
    assert world.uow.audit_actions("request:1") == ["request.created", "request.approved"]


def test_two_approvals_required() -> None:
    world = World(org_policy(embedded={"approvals_required": 2}))
    request = world.ask(ALICE, RAISE)
    assert request.approvals_required == 2

    first = world.approve(DANA, request.id)
    assert first.status is RequestStatus.PENDING
    assert world.request(request.id).status is RequestStatus.PENDING
    assert world.uow.all_operations() == []
    updates = world.uow.sent(thread="approval:1")[2:]
    assert addresses(updates) == [DANA, OMAR]
    for update in updates:
        assert update.outgoing.message.footer == "Approved by Dana Okafor; 1 more needed"
        assert verbs(update) == [Verb.APPROVE, Verb.DENY]  # still open for the others
    assert world.uow.audit_actions("request:1")[-1] == "request.approval_recorded"

    with pytest.raises(
        Refusal, match=re.escape("You already approved #1; it needs another approver too.")
    ):
        world.approve(DANA, request.id)
    assert len(world.uow.decisions.of(request.id)) == 1

    second = world.approve(OMAR, request.id)
    assert second.status is RequestStatus.APPROVED
    assert second.decided_by == OMAR
    assert [d.actor for d in world.uow.decisions.of(request.id)] == [DANA, OMAR]
    assert world.uow.operation("request-1-apply").status is OperationStatus.PENDING


def test_required_approvals_never_exceed_the_people_entitled() -> None:
    world = World(org_policy(embedded={"approvals_required": 5}))
    assert world.ask(ALICE, RAISE).approvals_required == 3  # Dana, Omar and Ana
    assert world.ask(OMAR, RAISE).approvals_required == 2  # Dana and Ana


def test_deny_records_the_note_and_tells_the_requester(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    denied = world.deny(DANA, request.id, note="  not this   month,\n sorry ")
    assert denied.status is RequestStatus.DENIED
    assert denied.decided_by == DANA
    assert denied.decision_note == "not this month, sorry"
    assert world.uow.all_operations() == []
    [decision] = world.uow.decisions.of(request.id)
    assert (decision.verdict, decision.note) == (Verdict.DENY, "not this month, sorry")
    [outcome] = world.uow.sent(ALICE, kind="request_denied")
    message = outcome.outgoing.message
    assert message.title == "Request #1 denied by Dana Okafor"
    assert ("Note", "not this month, sorry") in [(f.label, f.value) for f in message.facts]
    for update in world.uow.sent(thread="approval:1")[2:]:
        assert (
            update.outgoing.message.footer
            == "Denied by Dana Okafor at 10:00: not this month, sorry"
        )
        assert update.outgoing.message.actions == ()
    entry = world.uow.audit_entries("request:1")[-1]
    assert (entry.action, entry.after["note"]) == ("request.denied", "not this month, sorry")


def test_the_requester_cancels(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    cancelled = world.cancel("alice@EXAMPLE.com", request.id)
    assert cancelled.status is RequestStatus.CANCELLED
    assert world.uow.audit_actions("request:1")[-1] == "request.cancelled"
    updates = world.uow.sent(thread="approval:1")[2:]
    assert addresses(updates) == [DANA, OMAR]
    assert all(u.outgoing.message.actions == () for u in updates)
    assert all(u.outgoing.message.footer.startswith("Cancelled by Alice Wong") for u in updates)
    # the slot is free again
    assert world.ask(ALICE, "raise 100 release prep").status is RequestStatus.PENDING


@pytest.mark.parametrize("someone", [DANA, ANA, BOB])
def test_nobody_else_can_cancel(world: World, someone: str) -> None:
    request = world.ask(ALICE, RAISE)
    with pytest.raises(Refusal, match=re.escape("Only the person who made #1 can cancel it.")):
        world.cancel(someone, request.id)
    nothing_changed(world, request.id, commits=1)


def test_a_decided_request_cannot_be_cancelled(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    world.approve(DANA, request.id)
    with pytest.raises(
        Refusal, match=re.escape("Request #1 is approved; only pending ones can be cancelled.")
    ):
        world.cancel(ALICE, request.id)
    assert world.request(request.id).status is RequestStatus.APPROVED


# --------------------------------------------------------------------------- auto-approval


@pytest.mark.parametrize("text", ["raise 25 short test", "raise 0.01 tiny", "raise to 110 x y"])
def test_small_increases_are_approved_by_the_policy(world: World, text: str) -> None:
    request = world.ask(ALICE, text)
    assert request.status is RequestStatus.APPROVED
    assert request.decided_by == POLICY_ACTOR == "policy"
    assert world.uow.sent(thread="approval:1") == []
    assert world.uow.sent(DANA) == []
    assert world.uow.operation("request-1-apply").status is OperationStatus.PENDING
    [decision] = world.uow.decisions.of(request.id)
    assert (decision.actor, decision.verdict) == ("policy", Verdict.APPROVE)
    [outcome] = world.uow.sent(ALICE)
    assert outcome.outgoing.message.title == "Request #1 approved by the policy"
    assert world.uow.audit_entries("request:1")[-1].actor == "policy"
    assert world.uow.committed == 1  # asked and approved in one transaction


def test_an_increase_above_the_limit_goes_to_the_owners(world: World) -> None:
    request = world.ask(ALICE, "raise 25.01 short test")
    assert request.status is RequestStatus.PENDING
    assert addresses(world.uow.sent(thread="approval:1")) == [DANA, OMAR]
    assert world.uow.all_operations() == []


def test_seat_upgrades_are_never_auto_approved() -> None:
    world = World(org_policy(embedded={"auto_approve_under_usd": 400}))
    request = world.ask(ALICE, "upgrade premium for 10d profiling")
    assert request.status is RequestStatus.PENDING
    assert request.decided_by is None
    assert world.uow.all_operations() == []
    assert addresses(world.uow.sent(thread="approval:1")) == [DANA, OMAR]


def test_no_auto_approval_where_the_policy_has_none(world: World) -> None:
    assert world.ask(SUE, "raise 1 tiny bit").status is RequestStatus.PENDING


# --------------------------------------------------------------------------- messages


def test_the_approval_card_and_the_requesters_receipt(world: World) -> None:
    world.ask(ALICE, RAISE)
    cards = world.uow.sent(thread="approval:1")
    assert addresses(cards) == [DANA, OMAR]
    card = cards[0].outgoing.message
    assert card.kind == "approval"
    assert card.title == "Alice Wong asks for +$150 a month"
    assert [(a.verb, a.value) for a in card.actions] == [(Verb.APPROVE, "1"), (Verb.DENY, "1")]
    facts = {f.label: f.value for f in card.facts}
    assert facts["What"] == "+$150 a month ($85 → $235)"
    assert facts["Reason"] == "release prep"
    assert card.footer == ""
    [receipt] = world.uow.sent(ALICE)
    assert receipt.outgoing.message.kind == "request_sent"
    assert "Dana Okafor" in receipt.outgoing.message.text
    assert "Omar Haddad" in receipt.outgoing.message.text
    assert verbs(receipt) == [Verb.CANCEL]


def test_after_a_decision_every_card_is_updated_in_the_org_timezone(world: World) -> None:
    world.ask(ALICE, RAISE)
    world.clock.set(T0.replace(hour=13, minute=2))  # 13:02 UTC is 14:02 in Berlin
    world.approve(DANA, 1)
    cards = world.uow.sent(thread="approval:1")
    originals, updates = cards[:2], cards[2:]
    assert addresses(updates) == addresses(originals) == [DANA, OMAR]
    for update in updates:
        message = update.outgoing.message
        assert message.actions == ()
        assert message.footer == "Approved by Dana Okafor at 14:02"
        assert message.title == originals[0].outgoing.message.title
    [outcome] = world.uow.sent(ALICE, kind="request_approved")
    assert outcome.outgoing.message.title == "Request #1 approved by Dana Okafor"
    assert outcome.outgoing.message.footer == "Fri 20 Nov 14:02"


def test_summer_time_is_respected() -> None:
    world = World(start=T0.replace(month=7, day=1))  # CEST: UTC+2
    world.ask(ALICE, RAISE)
    world.clock.set(T0.replace(month=7, day=1, hour=12, minute=2))
    world.approve(DANA, 1)
    assert world.uow.sent(thread="approval:1")[-1].outgoing.message.footer.endswith("at 14:02")


def test_a_group_with_a_channel_gets_the_card_there(world: World) -> None:
    request = world.ask(CLEO, RAISE)
    channel = Recipient.channel("group:hardware")
    [card] = world.uow.sent(thread="approval:1")
    assert card.outgoing.recipient == channel
    assert world.uow.sent(CARL) == []
    world.approve(CARL, request.id)
    [_, update] = world.uow.sent(channel)
    assert update.outgoing.message.footer == "Approved by Carl Nagy at 10:00"
    assert update.outgoing.message.actions == ()
    assert world.uow.sent(CARL) == []
    # The "Request #1 sent" message is updated with the decision, then the outcome is told.
    assert [n.outgoing.message.kind for n in world.uow.sent(CLEO)] == [
        "request_sent",
        "request_sent",
        "request_approved",
    ]


def test_an_owners_own_request_needing_two_approvals_also_asks_the_admins() -> None:
    world = World(org_policy(embedded={"approvals_required": 2}))
    request = world.ask(OMAR, RAISE)
    assert request.approvals_required == 2
    cards = world.uow.sent(kind="approval")
    assert [n.outgoing.recipient for n in cards] == [
        Recipient.member(DANA),
        Recipient.member(ANA),
    ]
    world.approve(DANA, request.id)
    assert world.approve(ANA, request.id).status is RequestStatus.APPROVED
