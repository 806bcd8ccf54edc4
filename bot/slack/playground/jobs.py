"""The scheduled jobs an admin can start from the playground instead of waiting for them.

They are the domain calls `capdesk alerts run` and `capdesk digest` make, on the capdesk the
playground serves; what they queue reaches the workspace through its Slack outbox, like the
scheduler's runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.slack.limits import DIGEST
from workflows.alerts.digest import send_digests
from workflows.alerts.running import run_alerts
from workflows.clock import Clock
from workflows.messages import ADMIN_CHANNEL, group_of_channel
from workflows.policy import Policy
from workflows.ports import UnitOfWork

Json = dict[str, Any]


@dataclass(frozen=True)
class AdminJobs:
    """The alert rules and the digests, run now."""

    uow: Callable[[], UnitOfWork]
    policy: Policy
    clock: Clock

    async def alerts(self) -> Json:
        """Evaluate every rule once, as `capdesk alerts run` does; says what fired."""
        run = await asyncio.to_thread(run_alerts, self.uow, self.policy, now=self.clock.now())
        fired = len(run.fired)
        text = f"The alert rules ran: {fired} alert{'s' if fired != 1 else ''} fired"
        if run.held_back:
            text += f", {run.held_back} held back by their key or cooldown"
        text += "; digest items wait for Send digests now."
        return {"fired": fired, "held_back": run.held_back, "text": text}

    async def digests(self) -> Json:
        """Post every digest now, as `capdesk digest` does; says which went out."""
        sent = await asyncio.to_thread(
            send_digests, self.uow, self.policy, now=self.clock.now(), budget=DIGEST
        )
        posted = [d for d in sent if d.sent]
        text = "Nothing to report: no digest sent."
        if posted:
            summary = ", ".join(f"{_audience(d.channel)} ({d.items})" for d in posted)
            text = f"Digests posted, with their number of items: {summary}."
        return {"posted": [{"channel": d.channel, "items": d.items} for d in posted], "text": text}


def _audience(channel: str) -> str:
    return "the admins" if channel == ADMIN_CHANNEL else f"owners of {group_of_channel(channel)}"
