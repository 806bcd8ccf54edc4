"""Modals and the App Home tab, and reading what people type into the modals.

The ids below are the contract with the submission handlers: a request modal has
`callback_id` `capdesk_request` and inputs in blocks `amount`, `tier`, `until` and `reason`
(each element's `action_id` is `value`); a deny modal has `callback_id` `capdesk_deny`, the
request id as `private_metadata`, and its reason in block `reason`. Inline errors
(`response_action: errors`) are keyed by these block ids.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.blocks import many_messages_blocks
from bot.slack.limits import (
    OPTION_TEXT,
    SECTION_TEXT,
    VIEW_BLOCKS,
    VIEW_TITLE,
    cut,
    fit_mrkdwn,
)
from workflows.alerts.forecast import NOT_YET
from workflows.alerts.forms import CapForm
from workflows.messages import Message
from workflows.model import RequestKind
from workflows.money import format_usd
from workflows.policy import Policy
from workflows.requests.form import RequestForm
from workflows.requests.grammar import RequestDraft
from workflows.requests.validation import REASON_MAX, REASON_MIN

REQUEST_CALLBACK = "capdesk_request"
DENY_CALLBACK = "capdesk_deny"
RAISE_CAP_CALLBACK = "capdesk_raise_cap"
AMOUNT_BLOCK = "amount"
TIER_BLOCK = "tier"
UNTIL_BLOCK = "until"
REASON_BLOCK = "reason"
VALUE_ACTION = "value"
"""The `action_id` of every input element."""

_TITLES = {
    RequestKind.CAP_INCREASE: "Request more usage",
    RequestKind.SEAT_UPGRADE: "Request a seat upgrade",
}


@dataclass(frozen=True, slots=True)
class RequestPrefill:
    """What the request modal starts with, from a command that lacked a reason."""

    amount_cents: int | None = None
    """Added to the monthly cap."""
    tier: str | None = None
    until: date | None = None
    """The last day the grant covers."""
    reason: str = ""

    @classmethod
    def from_draft(cls, draft: RequestDraft, *, cap_cents: int, zone: ZoneInfo) -> RequestPrefill:
        """The modal's view of a parsed command: `raise to 300` becomes the amount above
        `cap_cents`, and an end time becomes the last local day it covers."""
        amount = draft.add_cents
        if draft.new_cap_cents is not None:
            amount = max(draft.new_cap_cents - cap_cents, 0) or None
        until = None
        if draft.ends_at is not None:
            until = (draft.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
        return cls(amount_cents=amount, tier=draft.tier, until=until, reason=draft.reason)


def request_modal(
    *,
    kind: RequestKind,
    policy: Policy,
    member_tier: str | None,
    prefill: RequestPrefill | None,
) -> dict[str, Any]:
    """The request form for a cap increase or a seat upgrade.

    A member who already has the top tier gets a modal that says so, with nothing to submit.
    """
    prefill = prefill or RequestPrefill()
    blocks: list[Block]
    if kind is RequestKind.CAP_INCREASE:
        blocks = [_amount_input(prefill.amount_cents)]
    else:
        tiers = _tiers_above(policy.tier_names, member_tier)
        if not tiers:
            return result_modal(
                _TITLES[kind], f"You already have the top seat tier ({member_tier})."
            )
        blocks = [_tier_input(tiers, prefill.tier)]
    blocks += [_until_input(policy, prefill.until), _reason_input(prefill.reason)]
    intro = SectionBlock(
        text=MarkdownTextObject(
            text="Your approvers get this request and decide with a click; "
            "you'll hear back in a direct message."
        )
    )
    return View(
        type="modal",
        callback_id=REQUEST_CALLBACK,
        private_metadata=json.dumps({"kind": kind.value}),
        title=_plain(_TITLES[kind]),
        submit=_plain("Send request"),
        close=_plain("Cancel"),
        blocks=[intro, *blocks],
    ).to_dict()


def read_request_form(view_state_values: Mapping[str, Any], kind: RequestKind) -> RequestForm:
    """The request modal's `view.state.values` as typed; the domain checks them after."""
    return RequestForm(
        kind=kind,
        amount=_typed(view_state_values, AMOUNT_BLOCK, "value") or "",
        tier=_selected(view_state_values, TIER_BLOCK) or "",
        until=_typed(view_state_values, UNTIL_BLOCK, "selected_date") or "",
        reason=_typed(view_state_values, REASON_BLOCK, "value") or "",
    )


def deny_modal(*, request_id: int, summary: str) -> dict[str, Any]:
    """Asks an approver why they deny a request; the reason is required."""
    return _one_field_modal(
        callback_id=DENY_CALLBACK,
        private_metadata=str(request_id),
        title="Deny request",
        submit="Deny",
        close="Back",
        summary=summary,
        field=InputBlock(
            block_id=REASON_BLOCK,
            label=PlainTextObject(text="Why? The requester reads this."),
            element=PlainTextInputElement(
                action_id=VALUE_ACTION,
                multiline=True,
                min_length=REASON_MIN,
                max_length=REASON_MAX,
            ),
        ),
    )


def read_deny_form(view_state_values: Mapping[str, Any]) -> str:
    """The deny modal's reason as typed (stripped; empty if missing)."""
    return _typed(view_state_values, REASON_BLOCK, "value") or ""


def raise_cap_modal(form: CapForm) -> dict[str, Any]:
    """An owner's or admin's "Raise cap" form: the member's standing and the new cap."""
    outlook = (
        NOT_YET
        if form.projected_cents is None
        else f"on track for {format_usd(form.projected_cents)}"
    )
    facts = (
        f"*{form.name}* · cap {format_usd(form.cap_cents)} · spent "
        f"{format_usd(form.spent_cents)} this month · {outlook}"
    )
    if form.max_cap_cents is not None:
        facts += f" · group maximum {format_usd(form.max_cap_cents)}"
    return _one_field_modal(
        callback_id=RAISE_CAP_CALLBACK,
        private_metadata=form.email,
        title="Raise a cap",
        submit="Raise",
        close="Cancel",
        summary=facts,
        field=InputBlock(
            block_id=AMOUNT_BLOCK,
            label=PlainTextObject(text="New monthly cap, in USD"),
            element=NumberInputElement(
                action_id=VALUE_ACTION,
                is_decimal_allowed=True,
                min_value="0.01",
                initial_value=str(Decimal(form.suggested_cap_cents) / 100),
            ),
        ),
    )


def _one_field_modal(
    *,
    callback_id: str,
    private_metadata: str,
    title: str,
    submit: str,
    close: str,
    summary: str,
    field: InputBlock,
) -> dict[str, Any]:
    """A modal that shows what it is about, then asks for one thing."""
    return View(
        type="modal",
        callback_id=callback_id,
        private_metadata=private_metadata,
        title=_plain(title),
        submit=_plain(submit),
        close=_plain(close),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(summary, SECTION_TEXT))),
            field,
        ],
    ).to_dict()


def read_raise_cap_form(view_state_values: Mapping[str, Any]) -> str:
    """The new cap as typed (stripped; empty if missing)."""
    return _typed(view_state_values, AMOUNT_BLOCK, "value") or ""


def home_view(messages: Sequence[Message]) -> dict[str, Any]:
    """The App Home tab: the messages one after another, within a view's 100 blocks."""
    blocks = many_messages_blocks(messages, max_blocks=VIEW_BLOCKS, max_chars=None)
    if not blocks:
        blocks = [SectionBlock(text=MarkdownTextObject(text="Nothing here yet.")).to_dict()]
    return View(type="home", blocks=blocks).to_dict()


def result_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only tells something, with a Close button (for `response_action: update`)."""
    return View(
        type="modal",
        title=_plain(title),
        close=_plain("Close"),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(text or "Done.", SECTION_TEXT)))
        ],
    ).to_dict()


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=cut(" ".join(text.split()) or "capdesk", VIEW_TITLE))


def _tiers_above(tiers: Sequence[str], current: str | None) -> list[str]:
    if current not in tiers:
        return list(tiers)
    return list(tiers[tiers.index(current) + 1 :])


def _amount_input(cents: int | None) -> InputBlock:
    initial = None if cents is None else str(Decimal(cents) / 100)
    return InputBlock(
        block_id=AMOUNT_BLOCK,
        label=PlainTextObject(text="How much more a month, in USD?"),
        element=NumberInputElement(
            action_id=VALUE_ACTION,
            is_decimal_allowed=True,
            min_value="0.01",
            initial_value=initial,
            placeholder=PlainTextObject(text="150"),
        ),
    )


def _tier_input(tiers: Sequence[str], wanted: str | None) -> InputBlock:
    options = [Option(value=tier, text=cut(tier, OPTION_TEXT)) for tier in tiers]
    initial = next((o for o in options if o.value == wanted), options[0])
    return InputBlock(
        block_id=TIER_BLOCK,
        label=PlainTextObject(text="Which seat?"),
        element=StaticSelectElement(
            action_id=VALUE_ACTION,
            placeholder=PlainTextObject(text="Pick a tier"),
            options=options,
            initial_option=initial,
        ),
    )


def _until_input(policy: Policy, until: date | None) -> InputBlock:
    longest = policy.requests.max_duration_days
    return InputBlock(
        block_id=UNTIL_BLOCK,
        optional=True,
        label=PlainTextObject(text="Until (the last day included)"),
        hint=PlainTextObject(
            text=f"Leave empty for a permanent change; at most {longest} days from today."
        ),
        element=DatePickerElement(
            action_id=VALUE_ACTION,
            placeholder=PlainTextObject(text="Permanent"),
            initial_date=None if until is None else until.isoformat(),
        ),
    )


def _reason_input(reason: str) -> InputBlock:
    return InputBlock(
        block_id=REASON_BLOCK,
        label=PlainTextObject(text="Why do you need it?"),
        hint=PlainTextObject(text="Your owner reads this when deciding."),
        element=PlainTextInputElement(
            action_id=VALUE_ACTION,
            multiline=True,
            min_length=REASON_MIN,
            max_length=REASON_MAX,
            initial_value=reason.strip()[:REASON_MAX] or None,
            placeholder=PlainTextObject(text="e.g. release prep until the tape-out"),
        ),
    )


def _element(values: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    """The state of a block's input element; empty when the block or element is missing."""
    block = values.get(block_id)
    element = block.get(VALUE_ACTION) if isinstance(block, Mapping) else None
    return element if isinstance(element, Mapping) else {}


def _typed(values: Mapping[str, Any], block_id: str, key: str) -> str | None:
    raw = _element(values, block_id).get(key)
    return raw.strip() or None if isinstance(raw, str) else None


def _selected(values: Mapping[str, Any], block_id: str) -> str | None:
    option = _element(values, block_id).get("selected_option")
    raw = option.get("value") if isinstance(option, Mapping) else None
    return raw.strip() or None if isinstance(raw, str) else None
