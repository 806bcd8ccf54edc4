"""Events API: the App Home, handled once per event id however often Slack redelivers it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack.home import publish_home
from bot.slack.payloads import EventCallback
from bot.slack.surface import Surface, read

HOME_OPENED = "app_home_opened"
EVENTS = (HOME_OPENED,)
"""Every event this app subscribes to (the manifest lists the same)."""


def register(bolt: AsyncApp, surface: Surface) -> None:
    """Listen for the events the manifest subscribes to."""

    @bolt.event(HOME_OPENED)
    async def home_opened(body: dict[str, Any]) -> None:
        """Publish a fresh home each time the tab is opened."""
        envelope = read(EventCallback, body, "an event_callback")
        if envelope is None or envelope.event.tab != "home" or envelope.event.user is None:
            return
        surface.background.spawn(_home(surface, envelope, envelope.event.user), name="app home")


async def _home(surface: Surface, envelope: EventCallback, user_id: str) -> None:
    # Slack redelivers an event it thinks was lost (X-Slack-Retry-Num); any replica may get it.
    if envelope.event_id is not None and not await surface.desk.first_time(envelope.event_id):
        return
    email = await surface.directory.email_of(user_id)
    await publish_home(surface, user_id=user_id, email=email)
