"""Bolt listeners, one module per kind of Slack request."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, shortcuts, submissions
from bot.slack.surface import Surface


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Attach every listener to the Bolt app."""
    for module in (commands, actions, submissions, shortcuts, events):
        module.register(bolt, surface)
