"""Whether a running `capdesk serve` delivers this database's messages to a chat platform.

While its outbox pump runs, `capdesk serve` records a beat in the database every `BEAT`. A
one-off command without chat credentials of its own (`capdesk alerts run`, `capdesk digest`)
looks for a beat within `SEEN_WITHIN`: when it finds one, it leaves its messages in the outbox
for that server instead of printing them. So with the playground open, alerts run from a
terminal land in its admin channel, and with Slack configured only for the server, they reach
Slack rather than the terminal.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bootstrap import Capdesk


log = logging.getLogger(__name__)

BEAT = timedelta(seconds=15)
SEEN_WITHIN = 3 * BEAT
"""A server missing three beats in a row (stopped, or killed) no longer counts."""


class Presence:
    """This process's beats, as the deliverer of the outbox to `platform`."""

    def __init__(self, app: Capdesk, platform: str) -> None:
        self._app = app
        self._platform = platform
        self._id = uuid.uuid4().hex

    def beat(self) -> None:
        """Record that this process is alive and delivers."""
        with self._app.uow() as uow:
            uow.agents.beat(self._id, self._platform, at=self._app.clock.now())
            uow.commit()

    def leave(self) -> None:
        """Record that this process stops delivering."""
        with self._app.uow() as uow:
            uow.agents.leave(self._id)
            uow.commit()

    async def run(self) -> None:
        """Beat every `BEAT` after the first, until cancelled."""
        while True:
            await asyncio.sleep(BEAT.total_seconds())
            try:
                await asyncio.to_thread(self.beat)
            except Exception:
                log.warning("could not record this server's beat; retrying in %s", BEAT)


def delivering_server(app: Capdesk) -> str | None:
    """The platform a running `capdesk serve` delivers this database's messages to, if any."""
    with app.uow() as uow:
        seen = uow.agents.seen_since(app.clock.now() - SEEN_WITHIN)
    return seen[0] if seen else None
