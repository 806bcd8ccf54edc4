"""The request, deny and raise-cap forms as modals, reading what people submit, and the App
Home view."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.slack.views import (
    DENY_CALLBACK,
    REQUEST_CALLBACK,
    home_view,
    modal,
    read_values,
    result_modal,
)
from tests.fakes import ALICE, World, org_policy
from tests.unit.slack_checks import check_blocks, no_nones, texts_of
from workflows.forms.model import FieldKind, FieldName, Form, FormField, FormId
from workflows.forms.request import request_form, values_from_draft
from workflows.messages import Action, Fact, Message, Verb
from workflows.model import Member, RequestKind
from workflows.money import parse_usd
from workflows.requests.asking import submit_request
from workflows.requests.form import RequestForm, draft_from_form

POLICY = org_policy(seat_tiers=["basic", "standard", "premium", "max"])


def request_modal(
    *, kind: RequestKind, policy: Any, member_tier: str | None, prefill: RequestForm | None
) -> dict[str, Any]:
    """The request form for a member of `member_tier`, as its modal."""
    member = Member(email=ALICE, name="Alice", tier=member_tier or "", cap_cents=8500)
    return modal(request_form(kind, policy, member=member if member_tier else None, values=prefill))


def deny_modal(*, request_id: int, summary: str) -> dict[str, Any]:
    """A deny form as the domain builds it (see tests/unit/test_forms.py), as its modal."""
    reason = FormField(
        name=FieldName.REASON,
        kind=FieldKind.LONG_TEXT,
        label="Why? The requester reads this.",
        min_length=3,
        max_length=500,
    )
    return modal(
        Form(
            form_id=FormId.DENY,
            title="Deny request",
            submit="Deny",
            close="Back",
            intro=summary,
            fields=(reason,),
            context=str(request_id),
        )
    )


def check_view(view: dict[str, Any]) -> None:
    """A view Slack accepts: valid through slack_sdk's View, within its limits."""
    no_nones(view)
    assert View(**view).to_dict() == view
    check_blocks(view["blocks"], max_blocks=100)
    for key in ("title", "submit", "close"):
        if key in view:
            assert 1 <= len(view[key]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


# --------------------------------------------------------------------------- the request modal


def test_the_cap_modal_asks_for_amount_until_and_reason() -> None:
    view = request_modal(
        kind=RequestKind.CAP_INCREASE, policy=POLICY, member_tier="standard", prefill=None
    )

    check_view(view)
    assert view["type"] == "modal"
    assert view["callback_id"] == REQUEST_CALLBACK == "capdesk_request"
    assert json.loads(view["private_metadata"]) == {"kind": "cap_increase"}
    assert view["title"]["text"] == "Request more usage"
    assert (view["submit"]["text"], view["close"]["text"]) == ("Send request", "Cancel")
    blocks = inputs(view)
    assert list(blocks) == ["amount", "until", "reason"]
    assert {b["element"]["action_id"] for b in blocks.values()} == {"value"}
    assert blocks["amount"]["element"]["type"] == "number_input"
    assert blocks["amount"]["element"]["is_decimal_allowed"] is True
    assert blocks["until"]["optional"] is True
    assert blocks["until"]["element"]["type"] == "datepicker"
    assert "permanent" in blocks["until"]["hint"]["text"]
    assert "90 days" in blocks["until"]["hint"]["text"]
    reason = blocks["reason"]["element"]
    assert (reason["type"], reason["multiline"], reason["max_length"]) == (
        "plain_text_input",
        True,
        500,
    )
    assert "optional" not in blocks["reason"]


def test_the_seat_modal_offers_the_tiers_above_the_members() -> None:
    view = request_modal(
        kind=RequestKind.SEAT_UPGRADE, policy=POLICY, member_tier="standard", prefill=None
    )

    check_view(view)
    assert json.loads(view["private_metadata"]) == {"kind": "seat_upgrade"}
    assert view["title"]["text"] == "Request a seat upgrade"
    assert list(inputs(view)) == ["tier", "until", "reason"]
    select = inputs(view)["tier"]["element"]
    assert (select["type"], select["action_id"]) == ("static_select", "value")
    assert [o["value"] for o in select["options"]] == ["premium", "max"]
    assert select["initial_option"]["value"] == "premium"


def test_the_seat_modal_for_the_top_tier_says_so_and_submits_nothing() -> None:
    view = request_modal(
        kind=RequestKind.SEAT_UPGRADE, policy=POLICY, member_tier="max", prefill=None
    )

    check_view(view)
    assert "submit" not in view
    assert inputs(view) == {}
    assert "top seat tier (max)" in texts_of(view["blocks"])[0]


def test_a_prefill_fills_every_field() -> None:
    prefill = RequestForm(
        kind=RequestKind.CAP_INCREASE,
        amount="150.5",
        tier="max",
        until="2026-12-12",
        reason="tape-out",
    )

    cap = inputs(
        request_modal(
            kind=RequestKind.CAP_INCREASE, policy=POLICY, member_tier="basic", prefill=prefill
        )
    )
    seat = inputs(
        request_modal(
            kind=RequestKind.SEAT_UPGRADE, policy=POLICY, member_tier="basic", prefill=prefill
        )
    )

    assert cap["amount"]["element"]["initial_value"] == "150.5"
    assert cap["until"]["element"]["initial_date"] == "2026-12-12"
    assert cap["reason"]["element"]["initial_value"] == "tape-out"
    assert seat["tier"]["element"]["initial_option"]["value"] == "max"


@pytest.mark.parametrize(
    ("command", "amount", "until"),
    [
        ("raise 150 for 14d", 15000, date(2026, 12, 4)),
        ("raise to 300 until 2026-12-12", 21500, date(2026, 12, 12)),
        ("raise 50 for 90d", 5000, date(2027, 2, 18)),
        ("raise 50", 5000, None),
    ],
)
def test_a_prefill_from_a_command_survives_the_round_trip(
    command: str, amount: int, until: date | None
) -> None:
    world = World()
    draft = world.draft(command)

    prefill = values_from_draft(draft, cap_cents=8500, zone=world.policy.org.zone)

    assert (parse_usd(prefill.amount), prefill.until) == (
        amount,
        until.isoformat() if until else "",
    )
    # What the modal shows, submitted unchanged, is a request the domain accepts.
    form = RequestForm(
        kind=RequestKind.CAP_INCREASE,
        amount=str(amount / 100),
        until=until.isoformat() if until else "",
        reason="release prep",
    )
    request = submit_request(
        world.uow,
        world.policy,
        requester=ALICE,
        draft=draft_from_form(form, zone=world.policy.org.zone),
        now=world.now,
    )
    assert request.amount_cents == amount
    if draft.ends_at is not None and request.ends_at is not None:
        assert timedelta(0) <= request.ends_at - draft.ends_at < timedelta(days=1)


def test_a_long_reason_in_a_prefill_is_cut_to_the_inputs_maximum() -> None:
    view = request_modal(
        kind=RequestKind.CAP_INCREASE,
        policy=POLICY,
        member_tier="basic",
        prefill=RequestForm(kind=RequestKind.CAP_INCREASE, reason="x" * 10_000),
    )

    check_view(view)
    assert len(inputs(view)["reason"]["element"]["initial_value"]) == 500


# --------------------------------------------------------------------------- reading a submission


def test_a_submitted_request_form_is_read_as_typed() -> None:
    values = {
        "amount": {"value": {"type": "number_input", "value": " 150.5 "}},
        "tier": {
            "value": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "max"}, "value": "max"},
            }
        },
        "until": {"value": {"type": "datepicker", "selected_date": "2026-12-12"}},
        "reason": {"value": {"type": "plain_text_input", "value": "  tape-out  "}},
    }

    form = read_values(values)

    assert form == {
        "amount": "150.5",
        "tier": "max",
        "until": "2026-12-12",
        "reason": "tape-out",
    }


def test_fields_left_empty_or_missing_read_as_none() -> None:
    values: dict[str, Any] = {
        "amount": {"value": {"type": "number_input", "value": None}},
        "tier": {"value": {"type": "static_select", "selected_option": None}},
        "until": {"value": {"type": "datepicker", "selected_date": None}},
        "reason": {"value": {"type": "plain_text_input", "value": "   "}},
    }

    assert read_values(values) == {}
    assert read_values({}) == {}
    assert read_values({"amount": "junk", "until": {"value": 3}}) == {}


# --------------------------------------------------------------------------- the deny modal


def test_the_deny_modal_carries_the_request_id_and_requires_a_reason() -> None:
    view = deny_modal(request_id=42, summary="#42: Alice <Wong> asks for +$150 · release prep")

    check_view(view)
    assert view["callback_id"] == DENY_CALLBACK == "capdesk_deny"
    assert view["private_metadata"] == "42"
    assert texts_of(view["blocks"])[0] == "#42: Alice &lt;Wong&gt; asks for +$150 · release prep"
    reason = inputs(view)["reason"]
    assert "optional" not in reason
    assert reason["element"]["action_id"] == "value"
    assert reason["element"]["multiline"] is True


def test_a_huge_summary_is_cut() -> None:
    check_view(deny_modal(request_id=1, summary="<" * 5000))


def test_the_deny_reason_is_read_as_typed() -> None:
    values = {"reason": {"value": {"type": "plain_text_input", "value": " over budget "}}}

    assert read_values(values) == {"reason": "over budget"}
    assert read_values({}) == {}


# --------------------------------------------------------------------------- other views


def test_a_result_modal_only_tells() -> None:
    view = result_modal("You approved request #12 and more words", "+$150 a month <ok>")

    check_view(view)
    assert view["title"]["text"] == "You approved request #1…"
    assert "submit" not in view
    assert texts_of(view["blocks"]) == ["+$150 a month &lt;ok&gt;"]


def test_the_home_view_is_a_home_tab_of_the_messages() -> None:
    messages = [
        Message(
            kind="status", title="Alice: standard seat", facts=(Fact(label="Cap", value="$85"),)
        ),
        Message(
            kind="approval",
            title="Bob asks for +$50",
            actions=(Action(verb=Verb.APPROVE, label="Approve", value="3", style="primary"),),
        ),
    ]

    view = home_view(messages)

    check_view(view)
    assert view["type"] == "home"
    assert "title" not in view
    assert [b["type"] for b in view["blocks"]] == [
        "header",
        "section",
        "divider",
        "header",
        "actions",
    ]


def test_an_empty_home_still_has_a_block() -> None:
    view = home_view([])

    check_view(view)
    assert texts_of(view["blocks"]) == ["Nothing here yet."]


def test_a_home_of_two_hundred_cards_stays_within_a_hundred_blocks() -> None:
    card = Message(
        kind="approval",
        title="Bob asks for +$50",
        text="Request #3 · embedded",
        facts=(Fact(label="Reason", value="r" * 400), Fact(label="For", value="permanent")),
        actions=(
            Action(verb=Verb.APPROVE, label="Approve", value="3", style="primary"),
            Action(verb=Verb.DENY, label="Deny", value="3", style="danger"),
        ),
    )

    view = home_view([card] * 200)

    check_view(view)
    headers = sum(b["type"] == "header" for b in view["blocks"])
    assert texts_of(view["blocks"])[-1] == f"…and {200 - headers} more"
