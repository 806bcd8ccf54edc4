"""The App Home tab: my usage and cap, my requests, and the approvals waiting for me."""

from __future__ import annotations

from bot.slack.surface import Surface
from bot.slack.views import home_view


async def publish_home(surface: Surface, *, user_id: str, email: str | None) -> None:
    """Build the person's home and publish it (`views.publish`)."""
    messages = await surface.desk.home(email)
    await surface.client.views_publish(user_id=user_id, view=home_view(messages))
