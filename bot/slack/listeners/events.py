"""Events API: the App Home, handled once per event id however often Slack redelivers it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.home import publish_home
from bot.slack.surface import Surface

HOME_OPENED = "app_home_opened"
EVENTS = (HOME_OPENED,)
"""Every event this app subscribes to (the manifest lists the same)."""


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for the events the manifest subscribes to."""

    @bolt.event(HOME_OPENED)
    async def home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        """Publish a fresh home each time the tab is opened."""
        if event.get("tab", "home") == "home":
            surface.background.spawn(_home(surface, body, event["user"]), name="app home")


async def _home(surface: Surface, body: dict[str, Any], user_id: str) -> None:
    if not await _first_time(surface, body):
        return
    email = await surface.directory.email_of(user_id)
    await publish_home(surface, user_id=user_id, email=email)


async def _first_time(surface: Surface, body: dict[str, Any]) -> bool:
    # Slack redelivers an event it thinks was lost (X-Slack-Retry-Num); any replica may get it.
    event_id = str(body.get("event_id") or "")
    return not event_id or await surface.first_time(event_id)
