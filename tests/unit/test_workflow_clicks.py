"""Button clicks dispatched by verb, and the request form turned into a draft."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tests.fakes import ALICE, ANA, DANA, World
from workflows.admin import PermanentConnectorError
from workflows.clicks import Click, press
from workflows.errors import Refusal
from workflows.messages import Verb
from workflows.model import OperationStatus, RequestKind, RequestStatus
from workflows.requests.asking import submit_request
from workflows.requests.deciding import decidable
from workflows.requests.form import RequestForm, draft_from_form

RAISE = "raise 150 for 14d release prep"


@pytest.fixture
def world() -> World:
    return World()


def click(world: World, actor: str, verb: Verb, value: str, note: str | None = None) -> str:
    message = press(
        world.uow.factory,
        world.policy,
        Click(actor=actor, verb=verb, value=value, now=world.now, note=note),
    )
    return message.title


def test_approve_and_deny_reach_the_decision(world: World) -> None:
    first = world.ask(ALICE, RAISE)
    assert click(world, DANA, Verb.APPROVE, str(first.id)) == f"You approved {first.ref}"
    assert world.request(first.id).status is RequestStatus.APPROVED

    world.worker.drain()
    second = world.ask(ALICE, "raise 50 a bit more")
    title = click(world, DANA, Verb.DENY, str(second.id), note="not this month")
    assert title == f"You denied {second.ref}"
    assert world.request(second.id).status is RequestStatus.DENIED


def test_cancel_by_the_requester(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    assert click(world, ALICE, Verb.CANCEL, str(request.id)).endswith("cancelled")
    assert world.request(request.id).status is RequestStatus.CANCELLED


def test_a_forged_value_is_refused_and_writes_nothing(world: World) -> None:
    before = world.uow.committed
    for value in ("", "abc", "-1", "1e3", "99999"):
        with pytest.raises(Refusal):
            click(world, DANA, Verb.APPROVE, value)
    assert world.uow.committed == before


@pytest.mark.parametrize(
    ("verb", "value"),
    [
        (Verb.APPROVE, "1" * 100_000),
        (Verb.DENY, "1" * 19),
        (Verb.CANCEL, "\uff11\uff12"),  # full-width digits
        (Verb.RETRY_OPERATION, "²"),
        (Verb.NUDGE, "a" * 2001),
        (Verb.KEEP_SEAT, "alice@example.com\n"),
    ],
)
def test_a_value_capdesk_never_writes_is_an_invalid_button(
    world: World, verb: Verb, value: str
) -> None:
    world.ask(ALICE, RAISE)
    before = world.uow.committed
    with pytest.raises(Refusal, match="This button is not valid"):
        click(world, DANA, verb, value)
    assert world.uow.committed == before


def test_the_deny_form_is_refused_to_whoever_may_not_decide(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    assert decidable(world.uow.factory(), world.policy, request_id=request.id, actor=DANA) == (
        world.request(request.id)
    )
    with pytest.raises(Refusal, match="can't decide on your own request"):
        decidable(world.uow.factory(), world.policy, request_id=request.id, actor=ALICE)
    with pytest.raises(Refusal, match="There is no request #99"):
        decidable(world.uow.factory(), world.policy, request_id=99, actor=DANA)
    click(world, DANA, Verb.APPROVE, str(request.id))
    with pytest.raises(Refusal, match="already approved"):
        decidable(world.uow.factory(), world.policy, request_id=request.id, actor=ANA)


def test_a_form_verb_is_not_a_plain_click(world: World) -> None:
    with pytest.raises(Refusal, match="opens a form"):
        click(world, ALICE, Verb.REQUEST_MORE, "cap_increase")


def test_retry_of_a_failed_operation_is_for_admins(world: World) -> None:
    request = world.ask(ALICE, RAISE)
    world.approve(DANA, request.id)
    world.connector.fail_next(PermanentConnectorError("the key lacks write:spend_limits"))
    world.worker.drain()
    [operation] = world.uow.all_operations()
    assert operation.status is OperationStatus.FAILED
    with pytest.raises(Refusal):
        click(world, DANA, Verb.RETRY_OPERATION, str(operation.id))
    assert click(world, ANA, Verb.RETRY_OPERATION, str(operation.id)).startswith("Trying")


# --------------------------------------------------------------------------- the form


def zone(world: World) -> ZoneInfo:
    return world.policy.org.zone


def test_form_amount_and_date_become_a_draft(world: World) -> None:
    form = RequestForm(
        kind=RequestKind.CAP_INCREASE, amount="$150", until="2026-12-12", reason="release"
    )
    draft = draft_from_form(form, zone=zone(world))
    assert draft.add_cents == 15_000
    assert draft.ends_at is not None
    assert draft.ends_at.astimezone(zone(world)).date().isoformat() == "2026-12-13"


@pytest.mark.parametrize(
    ("amount", "until", "field"),
    [
        ("", "", "amount"),
        ("-5", "", "amount"),
        ("lots", "", "amount"),
        ("10", "12/12/2026", "until"),
        ("10", "9999-12-31", "until"),
    ],
)
def test_form_errors_name_their_field(world: World, amount: str, until: str, field: str) -> None:
    form = RequestForm(kind=RequestKind.CAP_INCREASE, amount=amount, until=until, reason="x y z")
    with pytest.raises(Refusal) as caught:
        draft_from_form(form, zone=zone(world))
    assert caught.value.field == field


def test_validation_refusals_name_their_field(world: World) -> None:
    cases = {
        "raise 0 zero": "amount",
        "raise 100000 huge": "amount",
        "raise 10 until 2026-01-01 past": "until",
        "raise 10 for 400d long": "until",
    }
    for text, field in cases.items():
        with pytest.raises(Refusal) as caught:
            world.ask(ALICE, text)
        assert caught.value.field == field, text
    form = RequestForm(kind=RequestKind.SEAT_UPGRADE, tier="platinum", reason="need it")
    with pytest.raises(Refusal) as caught:
        submit_request(
            world.uow,
            world.policy,
            requester=ALICE,
            draft=draft_from_form(form, zone=zone(world)),
            now=world.now,
        )
    assert caught.value.field == "tier"
