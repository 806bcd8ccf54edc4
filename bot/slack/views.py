"""Forms as modals, the App Home tab, and reading what people type into the modals.

A form's modal has `callback_id` `capdesk_<form id>` (`capdesk_request`, `capdesk_deny`,
`capdesk_raise_cap`), the form's context as `private_metadata`, and one input block per field
whose `block_id` is the field's name (each element's `action_id` is `value`). Inline errors
(`response_action: errors`) are keyed by those block ids, so a refusal naming a field shows
next to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    DatePickerElement,
    InputBlock,
    InputInteractiveElement,
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
from workflows.forms.model import FieldKind, Form, FormField, FormId
from workflows.messages import Message

CALLBACKS = {form_id: f"capdesk_{form_id.value}" for form_id in FormId}
"""The `callback_id` of each form's modal."""
REQUEST_CALLBACK = CALLBACKS[FormId.REQUEST]
DENY_CALLBACK = CALLBACKS[FormId.DENY]
RAISE_CAP_CALLBACK = CALLBACKS[FormId.RAISE_CAP]
VALUE_ACTION = "value"
"""The `action_id` of every input element."""


def modal(form: Form) -> dict[str, Any]:
    """The form as a modal: its intro, then an input per field. A form without fields is a
    modal that only tells, with a Close button."""
    if not form.fields or form.form_id is None:
        return result_modal(form.title, form.intro)
    blocks: list[Block] = []
    if form.intro.strip():
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(form.intro, SECTION_TEXT)))
        )
    blocks += [_input(field) for field in form.fields]
    return View(
        type="modal",
        callback_id=CALLBACKS[form.form_id],
        private_metadata=form.context,
        title=_plain(form.title),
        submit=_plain(form.submit),
        close=_plain(form.close),
        blocks=blocks,
    ).to_dict()


def read_values(view_state_values: Mapping[str, Any]) -> dict[str, str]:
    """What was typed into a modal (`view.state.values`), by block id: the text, the chosen
    option's value or the picked date, stripped; an input left empty or of another shape is
    left out. The domain checks every value after."""
    typed: dict[str, str] = {}
    for block_id, block in view_state_values.items():
        element = block.get(VALUE_ACTION) if isinstance(block, Mapping) else None
        value = _typed(element) if isinstance(element, Mapping) else None
        if value:
            typed[str(block_id)] = value
    return typed


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


def _input(field: FormField) -> InputBlock:
    return InputBlock(
        block_id=field.name.value,
        label=PlainTextObject(text=field.label),
        hint=PlainTextObject(text=field.hint) if field.hint else None,
        optional=True if field.optional else None,
        element=_element(field),
    )


def _element(field: FormField) -> InputInteractiveElement:
    placeholder = PlainTextObject(text=field.placeholder) if field.placeholder else None
    if field.kind is FieldKind.MONEY:
        return NumberInputElement(
            action_id=VALUE_ACTION,
            is_decimal_allowed=True,
            min_value=None if field.min_value is None else str(field.min_value),
            initial_value=field.initial,
            placeholder=placeholder,
        )
    if field.kind is FieldKind.CHOICE:
        options = _options(field)
        return StaticSelectElement(
            action_id=VALUE_ACTION,
            placeholder=placeholder,
            options=options,
            initial_option=next((o for o in options if o.value == field.initial), options[0]),
        )
    if field.kind is FieldKind.DATE:
        return DatePickerElement(
            action_id=VALUE_ACTION, placeholder=placeholder, initial_date=field.initial
        )
    return PlainTextInputElement(
        action_id=VALUE_ACTION,
        multiline=field.kind is FieldKind.LONG_TEXT,
        min_length=field.min_length,
        max_length=field.max_length,
        initial_value=field.initial,
        placeholder=placeholder,
    )


def _options(field: FormField) -> list[Option]:
    return [Option(value=c.value, text=cut(c.label, OPTION_TEXT)) for c in field.options]


def _typed(element: Mapping[str, Any]) -> str | None:
    option = element.get("selected_option")
    if isinstance(option, Mapping):
        raw = option.get("value")
    elif "selected_date" in element:
        raw = element.get("selected_date")
    else:
        raw = element.get("value")
    return raw.strip() or None if isinstance(raw, str) else None
