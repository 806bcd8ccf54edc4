"""Chat-neutral messages: what the domain says, with no notion of Block Kit or Adaptive Cards.

`bot/slack` renders these as Block Kit, `bot/teams` as Adaptive Cards and the console as text.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from workflows.money import percent_of

ADMIN_CHANNEL = "admin"
_GROUP = "group:"

COMMAND = "{command}"
"""Where a text names one of capdesk's commands, the platform's way of typing one goes: a
renderer writes `/capdesk ` there in Slack and nothing in a Teams chat."""


def command(words: str) -> str:
    """A command as the person types it, as code: `command("cancel 42")` reads
    `` `/capdesk cancel 42` `` in Slack once rendered (`written_for`)."""
    return f"`{COMMAND}{words}`"


def written_for(text: str, prefix: str) -> str:
    """`text` with its commands written the way a platform types them (`prefix`)."""
    return text.replace(COMMAND, prefix)


def group_channel(group: str) -> str:
    """The channel address of a group, resolved by the adapters through the policy."""
    return f"{_GROUP}{group}"


def group_of_channel(address: str) -> str | None:
    """The group a channel address names (`group:<name>`), None for the admins' channel."""
    return address.removeprefix(_GROUP) if address.startswith(_GROUP) else None


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
    RAISE_CAP = "raise_cap"
    """An admin or owner sets a member's cap (a form first); the value is the member's email."""
    NUDGE = "nudge"
    """Send the member a note on their usage; the value is their email."""
    RECLAIM_SEAT = "reclaim_seat"
    """An admin takes an idle seat back; the value is the member's email."""
    KEEP_SEAT = "keep_seat"
    """The holder of an idle seat keeps it; the value is their email."""
    RELEASE_SEAT = "release_seat"
    """The holder of an idle seat gives it up; the value is their email."""
    OPEN_REQUESTS = "open_requests"
    """List a group's open requests; the value is the group's name."""
    RECLAIM_TIER = "reclaim_tier"
    """An admin gives an idle holder's seat of a pooled tier back to the pool (the holder
    moves a tier down); the value is the holder's email."""


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

    def percent(self) -> int:
        """The share of the limit used, in whole percent, past 100 when over; for a positive
        limit only."""
        return percent_of(self.used_cents, self.limit_cents)

    def cells(self, width: int) -> int:
        """How many of a bar's `width` cells are full: none below zero, all from the limit on;
        for a positive limit only."""
        return max(0, min(width, self.used_cents * width // self.limit_cents))


class Section(_Frozen):
    """A paragraph with at most one button beside it: one item of a digest, or a heading."""

    text: str
    action: Action | None = None
    heading: bool = False


class Bar(_Frozen):
    """One bar of a chart: an amount, and the limit it is measured against, if any."""

    label: str
    value_cents: int
    limit_cents: int | None = None


class BarPanel(_Frozen):
    """A titled set of bars, such as spend by group against budget."""

    title: str
    bars: tuple[Bar, ...]


class Chart(_Frozen):
    """A picture that goes with a message; platforms render it (PNG for Slack, text here)."""

    title: str
    panels: tuple[BarPanel, ...]


class Message(_Frozen):
    """What one person or channel reads: a title, some text, facts, a bar, buttons, a chart."""

    kind: str
    title: str
    text: str = ""
    facts: tuple[Fact, ...] = ()
    progress: Progress | None = None
    actions: tuple[Action, ...] = ()
    footer: str = ""
    sections: tuple[Section, ...] = ()
    chart: Chart | None = None

    def written_for(self, prefix: str) -> Message:
        """The message with its commands written the way a platform types them (`prefix`)."""
        dumped = self.model_dump_json()
        if COMMAND not in dumped:
            return self
        return Message.model_validate_json(dumped.replace(COMMAND, json.dumps(prefix)[1:-1]))


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
