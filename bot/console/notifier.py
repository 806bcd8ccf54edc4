"""The terminal as a chat platform: each delivery is printed as the recipient would see it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rich.console import RenderableType

from bot.console.render import render_delivery
from workflows.messages import ADMIN_CHANNEL, Outgoing, group_of_channel

CONSOLE = "console"
"""The outbox's name for the terminal, as a platform messages are delivered to."""


class Printer(Protocol):
    """Where the messages are printed: a rich `Console`, or the CLI's `Output`."""

    def print(self, renderable: RenderableType, /) -> None: ...


class ConsoleNotifier:
    """A `Notifier` that prints; an update in place is printed again, marked as updated."""

    def __init__(self, console: Printer, *, name_of: Callable[[str], str]) -> None:
        self._console = console
        self._name_of = name_of
        self._sent = 0

    def label(self, outgoing: Outgoing) -> str:
        """`DM to Dana Okafor`, `#admin`, `#embedded`."""
        recipient = outgoing.recipient
        if recipient.kind == "member":
            return f"DM to {self._name_of(recipient.address)}"
        if recipient.address == ADMIN_CHANNEL:
            return "#admin channel"
        return f"#{group_of_channel(recipient.address)} channel"

    def deliver(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        label = self.label(outgoing) + (" · message updated" if replaces else "")
        self._console.print(render_delivery(outgoing, recipient_label=label))
        if replaces is not None:
            return replaces
        self._sent += 1
        return f"console-{self._sent}"
