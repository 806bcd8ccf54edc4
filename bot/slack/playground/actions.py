"""What a person can do in the playground, checked, then sent to the bot through the emulator.

Each action becomes the signed request Slack would send (a slash command, a `block_actions`
click, a `view_submission`, a shortcut, an `app_home_opened` event). A payload that names
something the person cannot see or that does not exist raises `BadAction` before anything is
sent, so a bad request changes nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.slack.emulator import Ephemeral, Message, Reply, SlackEmulator, SlackUser, View
from bot.slack.limits import COMMAND
from bot.slack.listeners.shortcuts import SHORTCUT
from bot.slack.playground.snapshot import visible_channels
from workflows.policy import Policy

Target = Literal["message", "ephemeral", "home", "modal"]


class BadAction(Exception):
    """The action cannot be done as asked; `str()` says why, for the page to show."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommandPayload(_Payload):
    """`/capdesk ...` as typed, in a conversation the person sees (their DM by default)."""

    text: str = Field(min_length=1, max_length=4000)
    channel: str | None = None


class ClickPayload(_Payload):
    """A click on an element of a message, an ephemeral, the Home tab or the open modal.

    `channel` and `ts` name the message or ephemeral; `value` picks among buttons sharing an
    action_id, or is the option chosen in a select.
    """

    on: Target
    action_id: str = Field(min_length=1)
    value: str | None = None
    channel: str | None = None
    ts: str | None = None


class SubmitPayload(_Payload):
    """The open modal's inputs, keyed by block_id (or action_id); lists for multi-selects."""

    values: dict[str, str | list[str] | None] = Field(default_factory=dict)


class Actions:
    """The actions of the playground's API over one emulator and policy."""

    def __init__(self, emulator: SlackEmulator, policy: Policy) -> None:
        self._emulator = emulator
        self._policy = policy

    async def command(self, user: SlackUser, payload: CommandPayload) -> Reply:
        """The person types a slash command."""
        name, _, text = payload.text.strip().partition(" ")
        if name != COMMAND:
            raise BadAction(f"{name} is not a command of this app; try {COMMAND} help")
        channel = payload.channel
        if channel == self._emulator.dm_of(user.id):
            channel = None  # the emulator opens the DM when it is where the command is typed
        if channel is not None and channel not in visible_channels(self._policy, user.email):
            raise BadAction(f"{user.real_name} is not in channel {channel}")
        return await self._emulator.slash_command(
            user.id, text.strip(), command=name, channel=channel
        )

    async def click(self, user: SlackUser, payload: ClickPayload) -> Reply:
        """The person clicks a button (or picks an option) on what they see."""
        target = self._target(user, payload)
        try:
            return await self._emulator.click(user.id, target, payload.action_id, payload.value)
        except LookupError as exc:
            raise BadAction(_reason(exc)) from None

    async def submit(self, user: SlackUser, payload: SubmitPayload) -> Reply:
        """The person submits their open modal."""
        if self._emulator.open_view_of(user.id) is None:
            raise BadAction(f"{user.real_name} has no open modal")
        try:
            return await self._emulator.submit_view(user.id, payload.values)
        except LookupError as exc:
            raise BadAction(_reason(exc)) from None

    def close(self, user: SlackUser) -> None:
        """The person closes their open modal (the bot asks for no `view_closed`)."""
        if self._emulator.open_view_of(user.id) is None:
            raise BadAction(f"{user.real_name} has no open modal")
        self._emulator.state.close_modal(user.id)

    async def home(self, user: SlackUser) -> Reply:
        """The person opens the app's Home tab."""
        return await self._emulator.app_home_opened(user.id)

    async def shortcut(self, user: SlackUser) -> Reply:
        """The person runs the app's global shortcut."""
        return await self._emulator.shortcut(user.id, SHORTCUT)

    def _target(self, user: SlackUser, payload: ClickPayload) -> Message | Ephemeral | View:
        emulator = self._emulator
        found: Message | Ephemeral | View | None
        if payload.on == "home":
            found = emulator.home_of(user.id)
        elif payload.on == "modal":
            found = emulator.open_view_of(user.id)
        elif payload.channel is None or payload.ts is None:
            raise BadAction(f"a click on a {payload.on} needs its channel and ts")
        elif payload.on == "ephemeral":
            found = emulator.state.ephemeral(payload.channel, payload.ts)
            found = found if found is not None and found.user == user.id else None
        else:
            readable = [emulator.dm_of(user.id), *visible_channels(self._policy, user.email)]
            found = emulator.state.message(payload.channel, payload.ts)
            found = found if payload.channel in readable else None
        if found is None:
            raise BadAction(f"{user.real_name} has no such {payload.on} to click on")
        return found


def _reason(exc: LookupError) -> str:
    # A KeyError's str() is its repr, quotes and all; the message is its first argument.
    return str(exc.args[0]) if exc.args else str(exc)
