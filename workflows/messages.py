"""Chat-neutral messages: what the domain says, with no notion of Block Kit or Adaptive Cards.

`bot/slack` renders these as Block Kit, `bot/teams` as Adaptive Cards and the console as text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

ADMIN_CHANNEL = "admin"


def group_channel(group: str) -> str:
    """The channel address of a group, resolved by the adapters through the policy."""
    return f"group:{group}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Fact(_Frozen):
    """One labelled line, such as `Cap: $235`."""

    label: str
    value: str


class Verb(StrEnum):
    """What a button asks the bot to do; the value names the subject (usually a request id)."""

    APPROVE = "approve"
    DENY = "deny"
    CANCEL = "cancel"
    RETRY_OPERATION = "retry_operation"
    CONFIRM_MANUAL = "confirm_manual"
    EXTEND = "extend"
    REQUEST_MORE = "request_more"


class Action(_Frozen):
    """A button: a verb with the value it acts on."""

    verb: Verb
    label: str
    value: str
    style: Literal["primary", "danger"] | None = None


class Progress(_Frozen):
    """A bar, such as month-to-date spend against the cap."""

    label: str
    used_cents: int
    limit_cents: int


class Message(_Frozen):
    """What one person or channel reads: a title, some text, facts, a bar and buttons."""

    kind: str
    title: str
    text: str = ""
    facts: tuple[Fact, ...] = ()
    progress: Progress | None = None
    actions: tuple[Action, ...] = ()
    footer: str = ""


class Recipient(_Frozen):
    """Who receives a message: a member (by email, as a direct message) or a named channel.

    Channel addresses are `admin` or `group:<name>`; the adapters map them to platform channels
    through the policy.
    """

    kind: Literal["member", "channel"]
    address: str

    @classmethod
    def member(cls, email: str) -> Recipient:
        return cls(kind="member", address=email.lower())

    @classmethod
    def channel(cls, address: str) -> Recipient:
        return cls(kind="channel", address=address)


class Outgoing(_Frozen):
    """A message on its way to a recipient.

    Messages with the same `thread_key` to the same recipient replace the earlier one in place
    (the approval card that becomes "Approved by dana at 14:02").
    """

    recipient: Recipient
    message: Message
    thread_key: str | None = None
