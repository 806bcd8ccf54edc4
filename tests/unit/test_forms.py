"""Forms in the domain: which clicks and commands open one, what it holds, and what its
submission does, with refusals named by the field at fault."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.fakes import ALICE, ANA, BOB, DANA, SAM, World
from workflows.clicks import Click
from workflows.commands import answer_command, run_command
from workflows.errors import Refusal
from workflows.forms.flows import FORM_VERBS, answer_click, on_form, submit_form
from workflows.forms.model import (
    FieldKind,
    FieldName,
    Form,
    FormId,
    Submission,
    field_at_fault,
    told,
)
from workflows.messages import Message, Verb
from workflows.model import RequestStatus
from workflows.requests.validation import REASON_MAX, REASON_MIN

RAISE = "raise 150 for 14d release prep"


@pytest.fixture
def world() -> World:
    return World()


def clicked(world: World, actor: str, verb: Verb, value: str) -> Form | Message:
    return answer_click(
        world.uow.factory, world.policy, Click(actor=actor, verb=verb, value=value, now=world.now)
    )


def form_of(reply: Form | Message) -> Form:
    assert isinstance(reply, Form), reply
    return reply


def typed(world: World, actor: str, text: str) -> Form | Message:
    return answer_command(world.uow.factory, world.policy, email=actor, text=text, now=world.now)


def submitted(world: World, actor: str, form: Form, **values: str) -> Message:
    assert form.form_id is not None
    submission = Submission(
        actor=actor, form_id=form.form_id, context=form.context, values=values, now=world.now
    )
    done = submit_form(world.uow.factory, world.policy, submission)
    return done.message


# --------------------------------------------------------------------------- opening


def test_the_verbs_that_open_a_form() -> None:
    assert {Verb.DENY, Verb.REQUEST_MORE, Verb.EXTEND, Verb.RAISE_CAP} == FORM_VERBS


def test_a_bare_raise_opens_the_empty_request_form(world: World) -> None:
    form = form_of(typed(world, ALICE, "raise"))

    assert form.form_id is FormId.REQUEST
    assert json.loads(form.context) == {"kind": "cap_increase"}
    assert [(f.name, f.kind) for f in form.fields] == [
        (FieldName.AMOUNT, FieldKind.MONEY),
        (FieldName.UNTIL, FieldKind.DATE),
        (FieldName.REASON, FieldKind.LONG_TEXT),
    ]
    assert all(f.initial is None for f in form.fields)
    until, reason = form.fields[1], form.fields[2]
    assert until.optional
    assert "at most 90 days" in until.hint
    assert (reason.min_length, reason.max_length) == (REASON_MIN, REASON_MAX)


def test_a_request_without_a_reason_opens_the_form_with_what_was_typed(world: World) -> None:
    form = form_of(typed(world, ALICE, "raise to 300 until 2026-12-12"))

    initial = {f.name: f.initial for f in form.fields}
    assert initial == {
        FieldName.AMOUNT: "215",  # $300 less the $85 cap
        FieldName.UNTIL: "2026-12-12",
        FieldName.REASON: None,
    }
    assert world.uow.all_requests() == []


def test_without_forms_a_request_without_a_reason_is_refused(world: World) -> None:
    with pytest.raises(Refusal, match="give a reason"):
        run_command(
            world.uow.factory, world.policy, email=ALICE, text="raise 40 for 7d", now=world.now
        )


def test_an_upgrade_offers_the_tiers_above_and_the_top_tier_only_tells(world: World) -> None:
    form = form_of(typed(world, ALICE, "upgrade"))
    (tier, *_) = form.fields
    assert (tier.name, tier.kind) == (FieldName.TIER, FieldKind.CHOICE)
    assert [o.value for o in tier.options] == ["premium"]
    assert tier.initial == "premium"

    top = form_of(typed(world, DANA, "upgrade"))
    assert top == told("Request a seat upgrade", "You already have the top seat tier (premium).")
    assert top.fields == ()


def test_deny_is_authorised_before_its_form_opens(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    with pytest.raises(Refusal, match="Only the owners of embedded"):
        clicked(world, SAM, Verb.DENY, str(request.id))

    form = form_of(clicked(world, DANA, Verb.DENY, str(request.id)))
    assert form.form_id is FormId.DENY
    assert form.context == str(request.id)
    assert (
        form.intro
        == f"{request.ref}: Alice Wong asks for +$150 a month ($85 → $235) · release prep"
    )
    (reason,) = form.fields
    assert (reason.name, reason.min_length, reason.max_length) == (
        FieldName.REASON,
        REASON_MIN,
        REASON_MAX,
    )


def test_only_the_requester_may_extend_and_the_form_asks_again(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    with pytest.raises(Refusal, match="only extend your own grants"):
        clicked(world, BOB, Verb.EXTEND, str(request.id))

    form = form_of(clicked(world, ALICE, Verb.EXTEND, str(request.id)))
    initial = {f.name: f.initial for f in form.fields}
    assert initial == {
        FieldName.AMOUNT: "150",
        FieldName.UNTIL: None,
        FieldName.REASON: f"Extending {request.ref}",
    }


def test_request_more_suggests_an_amount(world: World) -> None:
    form = form_of(clicked(world, ALICE, Verb.REQUEST_MORE, "cap_increase"))
    amount = form.fields[0]
    assert amount.name is FieldName.AMOUNT
    assert amount.initial is not None
    assert int(amount.initial) >= 10
    assert "cap spent so far" in (form.fields[-1].initial or "")


def test_raise_cap_opens_its_form_for_an_owner_only(world: World) -> None:
    with pytest.raises(Refusal):
        clicked(world, BOB, Verb.RAISE_CAP, ALICE)
    form = form_of(clicked(world, DANA, Verb.RAISE_CAP, ALICE))
    assert (form.form_id, form.context) == (FormId.RAISE_CAP, ALICE)
    (amount,) = form.fields
    assert amount.kind is FieldKind.MONEY
    assert "*Alice Wong* · cap $85" in form.intro


def test_other_clicks_act_at_once(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    reply = clicked(world, DANA, Verb.APPROVE, str(request.id))
    assert isinstance(reply, Message)
    assert world.request(request.id).status is RequestStatus.APPROVED


# --------------------------------------------------------------------------- submitting


def test_a_request_form_is_submitted_as_a_request(world: World) -> None:
    form = form_of(typed(world, ALICE, "raise"))

    with pytest.raises(Refusal) as refused:
        submitted(world, ALICE, form, amount="lots", reason="release prep")
    assert refused.value.field is FieldName.AMOUNT
    assert world.uow.all_requests() == []

    message = submitted(world, ALICE, form, amount="150", reason="release prep")
    assert message.title.startswith("Request #1: +$150 a month")
    [request] = world.uow.all_requests()
    assert (request.amount_cents, request.reason) == (15_000, "release prep")


def test_a_refusal_shows_next_to_a_field_the_form_has(world: World) -> None:
    seat = form_of(typed(world, ALICE, "upgrade"))
    names = [f.name for f in seat.fields]
    assert field_at_fault(FieldName.AMOUNT, names) is FieldName.REASON
    assert field_at_fault(None, names) is FieldName.REASON
    assert field_at_fault(FieldName.TIER, names) is FieldName.TIER
    assert field_at_fault(FieldName.TIER, [FieldName.AMOUNT]) is FieldName.AMOUNT
    assert field_at_fault(FieldName.TIER, []) is None
    with pytest.raises(Refusal) as refused:
        submitted(world, ALICE, seat, tier="premium", until="someday", reason="profiling")
    assert refused.value.field is FieldName.UNTIL

    placed = on_form(Refusal("no seat"), FormId.RAISE_CAP, ALICE)
    assert (placed.field, str(placed)) == (FieldName.AMOUNT, "no seat")
    assert on_form(Refusal("x"), FormId.REQUEST, "{broken").field is FieldName.REASON


def test_a_form_capdesk_did_not_write_is_refused_at_its_reason(world: World) -> None:
    values = {"amount": "150", "reason": "release prep"}
    for context in ("{broken", '{"kind": "platinum"}', "[1]", "null"):
        submission = Submission(
            actor=ALICE, form_id=FormId.REQUEST, context=context, values=values, now=world.now
        )
        with pytest.raises(Refusal, match="not one capdesk made") as refused:
            submit_form(world.uow.factory, world.policy, submission)
        assert refused.value.field is FieldName.REASON
    assert world.uow.all_requests() == []


def test_deny_needs_a_reason_then_denies(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    form = form_of(clicked(world, DANA, Verb.DENY, str(request.id)))

    with pytest.raises(Refusal, match="Say why") as refused:
        submitted(world, DANA, form, reason=" no ")
    assert refused.value.field is FieldName.REASON
    assert world.request(request.id).status is RequestStatus.PENDING

    message = submitted(world, DANA, form, reason="over budget")
    assert message.title == f"You denied {request.ref}"
    assert world.request(request.id).decision_note == "over budget"


def test_raise_cap_refuses_at_the_amount_and_queues_the_cap(world: World) -> None:
    form = form_of(clicked(world, ANA, Verb.RAISE_CAP, ALICE))
    with pytest.raises(Refusal, match="caps stop at") as refused:
        submitted(world, ANA, form, amount="5000")
    assert refused.value.field is FieldName.AMOUNT

    world.advance(timedelta(seconds=1))
    message = submitted(world, ANA, form, amount="120")
    assert message.title == "Raising Alice Wong's cap to $120"
