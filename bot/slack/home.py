"""The App Home tab: my usage and cap, my requests, and the approvals waiting for me."""

from __future__ import annotations

from bot.slack.surface import UNKNOWN_PERSON, Surface
from bot.slack.views import home_view
from workflows.home import home_of
from workflows.messages import Message


async def publish_home(surface: Surface, *, user_id: str, email: str | None) -> None:
    """Build the person's home from the store and publish it (`views.publish`)."""
    app = surface.app
    if email is None:
        messages: tuple[Message, ...] = (UNKNOWN_PERSON,)
    else:
        messages = await surface.run(
            home_of, app.uow(), app.policy, email=email, now=app.clock.now()
        )
    await surface.client.views_publish(user_id=user_id, view=home_view(messages))
