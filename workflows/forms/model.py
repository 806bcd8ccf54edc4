"""A chat-neutral description of a form, as `workflows.messages` describes a message.

A platform draws each field by its kind (a number input for money, a select for a choice, a
date picker, a text box) under the field's name, and hands back what was typed keyed by that
name. `Form.context` is opaque to the platforms: it travels with the form (Slack's
`private_metadata`, a Teams card's `data`) and comes back with the submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, model_validator

from workflows.messages import Message


class FieldKind(StrEnum):
    """What a field holds, which decides how a platform draws it."""

    MONEY = "money"
    """An amount in USD, decimals allowed."""
    CHOICE = "choice"
    """One of the field's options."""
    DATE = "date"
    """A day, as `YYYY-MM-DD`."""
    TEXT = "text"
    LONG_TEXT = "long_text"
    """Text on several lines."""


class FieldName(StrEnum):
    """The fields capdesk's forms have; a refusal names the one at fault."""

    AMOUNT = "amount"
    TIER = "tier"
    UNTIL = "until"
    REASON = "reason"


class FormId(StrEnum):
    """Which form it is: what its submission does."""

    REQUEST = "request"
    """A cap increase or a seat upgrade; the context names the kind."""
    DENY = "deny"
    """The reason for denying a request; the context is its id."""
    RAISE_CAP = "raise_cap"
    """A member's new cap, set by an admin or owner; the context is the member's email."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Choice(_Frozen):
    """One option of a choice field."""

    value: str
    label: str


class FormField(_Frozen):
    """One input of a form. Limits are what the platform may check before sending; the
    domain checks the submission again whatever the platform did."""

    name: FieldName
    kind: FieldKind
    label: str
    hint: str = ""
    placeholder: str = ""
    optional: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: Decimal | None = None
    options: tuple[Choice, ...] = ()
    initial: str | None = None
    """What the field starts with: an amount (`150.5`), a choice's value, a `YYYY-MM-DD` day,
    or text."""


class Form(_Frozen):
    """A form to fill in: a title, a line or two about it, the fields, and what comes back
    with the submission. A form without fields only tells something (`intro`) and has
    nothing to submit."""

    form_id: FormId | None
    """None for a form that only tells."""
    title: str
    submit: str = "Submit"
    close: str = "Cancel"
    intro: str = ""
    fields: tuple[FormField, ...] = ()
    context: str = ""

    @model_validator(mode="after")
    def _submittable(self) -> Form:
        if self.fields and self.form_id is None:
            raise ValueError("a form with fields needs a form_id, to know what its submission does")
        return self


def field_at_fault(field: FieldName | None, names: Sequence[FieldName]) -> FieldName | None:
    """The field of a form with fields `names` that a refusal naming `field` is shown next
    to: that one when the form has it, else the form's reason (what a refusal about the
    whole request is about), else its last field; None for a form without fields."""
    if not names:
        return None
    if field in names:
        return field
    return FieldName.REASON if FieldName.REASON in names else names[-1]


def told(title: str, text: str) -> Form:
    """A form that only tells something: what opens instead of a form that has nothing to
    ask (the top seat tier already), or where a platform can only show a form."""
    return Form(form_id=None, title=title, close="Close", intro=text)


@dataclass(frozen=True, slots=True)
class Submission:
    """A filled-in form as a platform hands it back: who sent it, which form, the context it
    carried, and what was typed, by field name."""

    actor: str
    form_id: FormId
    context: str
    values: Mapping[str, str]
    now: datetime

    def value(self, name: FieldName) -> str:
        """What was typed into a field; empty for one left blank or missing."""
        return self.values.get(name.value, "")


class Submitted(_Frozen):
    """What a submitted form did. `message` says so; `elsewhere` when the person sees the
    outcome anyway (the request's direct message, the approval card updated in place), so a
    platform may simply close the form."""

    message: Message
    elsewhere: bool = False


Reply = Message | Form
"""What a command or a click answers with: a message for the person, or a form to fill in."""
