"""Bad requests get one clear sentence and change nothing (SPEC 5 and 8)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.fakes import (
    ALICE,
    ANA,
    BOB,
    DANA,
    NINA,
    RITA,
    SAM,
    T0,
    FakeUnitOfWork,
    World,
    org_policy,
)
from workflows.errors import Refusal
from workflows.messages import written_for
from workflows.model import RequestKind, RequestStatus
from workflows.requests.asking import submit_request
from workflows.requests.grammar import SHORTEST, CommandError, RequestDraft, parse_command


@pytest.fixture
def world() -> World:
    return World()


@dataclass(frozen=True)
class Counts:
    commits: int
    requests: int
    notifications: int
    audit: int
    operations: int


def counts(uow: FakeUnitOfWork) -> Counts:
    return Counts(
        uow.committed,
        len(uow.all_requests()),
        len(uow.sent()),
        len(uow.audit_entries()),
        len(uow.all_operations()),
    )


def refused(world: World, requester: str, what: str | RequestDraft) -> str:
    """Submit and expect a refusal that wrote nothing; return its sentence."""
    before = counts(world.uow)
    draft = world.draft(what) if isinstance(what, str) else what
    with pytest.raises(Refusal) as info:
        submit_request(world.uow, world.policy, requester=requester, draft=draft, now=world.now)
    assert counts(world.uow) == before, "a refusal must write nothing"
    assert not world.uow.in_transaction
    message = str(info.value)
    assert message.endswith("."), message  # one sentence for the person
    return message


def cap(amount: int, reason: str = "release prep") -> RequestDraft:
    return RequestDraft(RequestKind.CAP_INCREASE, reason, add_cents=amount)


def test_a_valid_request_is_stored_and_audited(world: World) -> None:
    request = world.ask("Alice@Example.com", "raise 150 for 14d release prep")
    assert request.id == 1
    assert request.status is RequestStatus.PENDING
    assert request.requester == ALICE
    assert request.group == "embedded"
    assert (request.cap_before_cents, request.amount_cents, request.new_cap_cents) == (
        8500,
        15000,
        23500,
    )
    assert request.tier_before == "standard"
    assert request.approvals_required == 1
    assert request.ends_at == T0 + timedelta(days=14)
    assert world.uow.committed == 1
    assert world.uow.audit_actions("request:1") == ["request.created"]
    assert world.uow.audit_entries("request:1")[0].actor == ALICE


def test_unknown_member(world: World) -> None:
    assert "don't have a seat" in refused(world, "ghost@example.com", cap(5000))


def test_removed_member(world: World) -> None:
    assert "seat has been removed" in refused(world, RITA, cap(5000))


def test_member_in_no_group(world: World) -> None:
    assert "not in any group" in refused(world, NINA, cap(5000))


@pytest.mark.parametrize("reason", ["", "   ", "ab", " a  ", "a\n"])
def test_reason_missing_or_too_short(world: World, reason: str) -> None:
    message = refused(world, ALICE, cap(5000, reason))
    assert message == "Please give a reason of at least 3 characters, so your owner can decide."


def test_reason_too_long(world: World) -> None:
    message = refused(world, ALICE, cap(5000, "x" * 501))
    assert message == "The reason is 501 characters; keep it to 500."


@pytest.mark.parametrize("reason", ["abc", "x" * 500, "  spaced   out   reason  "])
def test_reasons_at_the_limits_are_accepted(world: World, reason: str) -> None:
    request = submit_request(
        world.uow, world.policy, requester=ALICE, draft=cap(5000, reason), now=world.now
    )
    assert request.reason == " ".join(reason.split())


def test_amount_zero(world: World) -> None:
    assert refused(world, ALICE, "raise 0 because") == "The amount must be more than $0."


def test_amount_negative_in_a_draft(world: World) -> None:
    assert refused(world, ALICE, cap(-500)) == "The amount must be more than $0."


def test_amount_negative_through_the_grammar(world: World) -> None:
    with pytest.raises(CommandError, match=re.escape("The amount must be positive, not -5.")):
        world.draft("raise -5 because")
    assert counts(world.uow) == Counts(0, 0, 0, 0, 0)


def test_new_cap_above_the_group_maximum(world: World) -> None:
    message = refused(world, ALICE, "raise 316 for 14d big run")
    assert message == (
        "That would make your cap $401, above your group's maximum of $400; "
        "you can ask for up to $315 more."
    )


def test_raise_to_above_the_group_maximum(world: World) -> None:
    assert "above your group's maximum of $400" in refused(world, ALICE, "raise to 400.01 run")


def test_up_to_the_group_maximum_is_accepted(world: World) -> None:
    assert world.ask(ALICE, "raise 315 big run").new_cap_cents == 40000


@pytest.mark.parametrize("target", ["85", "50"])
def test_raise_to_a_cap_not_above_the_current_one(world: World, target: str) -> None:
    message = refused(world, ALICE, f"raise to {target} more please")
    assert message == "Your cap is already $85; ask for more than that."


def test_raise_to_records_the_difference(world: World) -> None:
    request = world.ask(ALICE, "raise to 300 tape-out")
    assert (request.amount_cents, request.new_cap_cents) == (21500, 30000)


def test_unknown_tier(world: World) -> None:
    message = refused(world, ALICE, "upgrade platinum for 10d profiling")
    assert message == "'platinum' is not a seat tier; the tiers are standard, premium."


def test_same_tier(world: World) -> None:
    assert refused(world, ALICE, "upgrade standard for 10d x y z") == (
        "You already have a standard seat."
    )


def test_upgrade_without_a_tier_at_the_top_tier(world: World) -> None:
    draft = RequestDraft(RequestKind.SEAT_UPGRADE, "profiling work")
    assert refused(world, DANA, draft) == "You already have the top seat tier (premium)."


def test_upgrade_without_a_tier_takes_the_next_one(world: World) -> None:
    request = world.ask(ALICE, "upgrade for 10d profiling work")
    assert request.target_tier == "premium"


def test_end_date_in_the_past(world: World) -> None:
    message = refused(world, ALICE, "raise 50 until 2026-11-19 release prep")
    assert "2026-11-19" in message
    assert "in the past" in message


def test_until_today_lasts_through_today(world: World) -> None:
    assert world.ask(ALICE, "raise 50 until 2026-11-20 release prep").status == "pending"


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("for 91d", "A temporary grant may last at most 90 days; 91 days is longer."),
        ("for 99999d", "A temporary grant may last at most 90 days; 99999 days is longer."),
        ("for 13w", "A temporary grant may last at most 90 days; 13 weeks is longer."),
        ("for " + "9" * 5000 + "d", "A temporary grant may last at most 90 days; that is longer."),
        ("for 0d", SHORTEST),
        ("for 0w", SHORTEST),
    ],
    ids=["91d", "99999d", "13w", "5000 digits", "0d", "0w"],
)
def test_a_duration_outside_the_policy_is_refused_naming_the_limit(
    world: World, duration: str, message: str
) -> None:
    # "for 0d" was told "2026-11-20 is in the past"; "for 99999d" that it is not a duration.
    before = counts(world.uow)
    with pytest.raises(Refusal) as info:
        world.draft(f"raise 50 {duration} release prep")
    assert str(info.value) == message
    assert info.value.field == "until"
    assert counts(world.uow) == before


def test_the_longest_grant_is_the_policys(world: World) -> None:
    policy = world.policy.model_copy(
        update={"requests": world.policy.requests.model_copy(update={"max_duration_days": 30})}
    )
    with pytest.raises(Refusal, match="at most 30 days; 31 days is longer"):
        parse_command("raise 50 for 31d x", now=world.now, zone=policy.org.zone, longest_days=30)
    with pytest.raises(Refusal, match="at most 30 days; Mon 21 Dec is further away"):
        submit_request(
            world.uow,
            policy,
            requester=ALICE,
            draft=world.draft("raise 50 until 2026-12-21 release prep"),
            now=world.now,
        )


def test_duration_at_the_maximum_is_accepted(world: World) -> None:
    assert world.ask(ALICE, "raise 50 for 90d release prep").ends_at == T0 + timedelta(days=90)


def test_until_the_last_allowed_day_is_accepted(world: World) -> None:
    # 18 Feb is 90 days after 20 Nov: `until` it is as good as `for 90d`, the day after is not.
    assert world.ask(ALICE, "raise 50 until 2027-02-18 release prep").status == "pending"
    message = refused(world, BOB, "raise 50 until 2027-02-19 release prep")
    # Next year's day shows its year.
    assert message == (
        "A temporary grant may last at most 90 days; Fri 19 Feb 2027 is further away."
    )


def test_second_pending_request_of_the_same_kind(world: World) -> None:
    first = world.ask(ALICE, "raise 50 release prep")
    message = refused(world, ALICE, "raise 60 for 2d more prep")
    assert written_for(message, "/capdesk ") == (
        f"You already have request #{first.id} pending; cancel it first "
        f"(`/capdesk cancel {first.id}`) or wait for the decision."
    )


def test_a_pending_request_of_another_kind_does_not_block(world: World) -> None:
    world.ask(ALICE, "raise 50 release prep")
    upgrade = world.ask(ALICE, "upgrade premium for 10d profiling")
    assert upgrade.kind is RequestKind.SEAT_UPGRADE
    assert upgrade.status is RequestStatus.PENDING


def test_another_persons_pending_request_does_not_block(world: World) -> None:
    world.ask(ALICE, "raise 50 release prep")
    assert world.ask(BOB, "raise 50 release prep").requester == BOB


class RacingRequests(FakeUnitOfWork):
    """A store where a concurrent request landed between the check and the insert."""

    def __init__(self) -> None:
        super().__init__(members=World().uow.members.list())
        self.requests.pending_of = lambda requester, kind: None  # type: ignore[method-assign]


def test_a_concurrent_second_request_hits_the_uniqueness_rule() -> None:
    world = World()
    world.uow = RacingRequests()
    world.ask(ALICE, "raise 50 release prep")
    message = refused(world, ALICE, "raise 60 more prep")
    assert message == "You already have a request of this kind pending; wait for it or cancel it."


def test_the_only_possible_approver_is_the_requester() -> None:
    policy = org_policy(admins=[SAM])  # Sam owns software alone and is the only admin
    world = World(policy)
    message = refused(world, SAM, "raise 50 release prep")
    assert message == "Nobody but you could approve this; the policy needs another owner or admin."


def test_a_sole_owner_with_an_admin_can_ask(world: World) -> None:
    request = world.ask(SAM, "raise 50 release prep")
    assert request.status is RequestStatus.PENDING
    assert [n.outgoing.recipient.address for n in world.uow.sent(thread="approval:1")] == [ANA]
