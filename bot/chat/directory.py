"""Who is who on a chat platform: its accounts matched to members by email, remembered.

Each platform brings one small `PeopleLookup` (Slack's `users.info` and
`users.lookupByEmail`, Teams' roster); the directory asks it once per person and keeps the
answer in the store for every replica, and for a few minutes in this process: every click
starts with this lookup, and a database round trip per click is the largest share of the
work done before the person gets an answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from bot.background import DomainThreads
from workflows.clock import Clock
from workflows.ports import UnitOfWork

_RECENT_MAX = 10_000


class PeopleLookup(Protocol):
    """How one platform finds people: its own account ids and their email addresses."""

    async def email_of(self, account_id: str) -> str | None:
        """The email of an account, or None for one without (a bot, a guest, a stranger)."""
        ...

    async def account_of(self, email: str) -> str | None:
        """The account with this email, or None when the platform has none."""
        ...


class Directory:
    """A platform's accounts and capdesk's members, each way round."""

    def __init__(
        self,
        platform: str,
        lookup: PeopleLookup,
        uow: Callable[[], UnitOfWork],
        *,
        clock: Clock,
        run: DomainThreads,
        remember_for: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self._lookup = lookup
        self._uow = uow
        self._clock = clock
        self._run = run
        self._remember_for = remember_for
        self._monotonic = monotonic
        self._recent: dict[str, tuple[float, str]] = {}

    async def email_of(self, account_id: str) -> str | None:
        """The member behind an account that is using capdesk now, or None."""
        recent = self._recent.get(account_id)
        if recent is not None and recent[0] > self._monotonic():
            return recent[1]
        known = await self._run(self._seen, account_id)
        if known is None:
            found = await self._lookup.email_of(account_id)
            if not found:
                return None
            known = found.lower()
            await self._run(self._link, account_id, known, None, True)
        self._remember(account_id, known)
        return known

    async def account_of(self, email: str) -> str | None:
        """The account of a member on this platform, or None when it has none."""
        known = await self._run(self._stored_account, email)
        if known is not None:
            return known
        account = await self._lookup.account_of(email)
        if account is not None:
            await self._run(self._link, account, email, None, False)
        return account

    async def remember(self, account_id: str, email: str, *, conversation: str) -> bool:
        """Link an account the platform introduced with its conversation with the bot (a
        Teams installation); False when no member has that email."""
        return await self._run(self._link, account_id, email, conversation, True)

    async def conversation_of(self, email: str) -> str | None:
        """The platform's reference to a member's conversation with the bot, if kept."""
        return await self._run(self._stored_conversation, email)

    def _remember(self, account_id: str, email: str) -> None:
        if len(self._recent) >= _RECENT_MAX:
            self._recent.clear()
        self._recent[account_id] = (self._monotonic() + self._remember_for, email)

    def _seen(self, account_id: str) -> str | None:
        with self._uow() as uow:
            email = uow.identities.seen(self.platform, account_id, at=self._clock.now())
            uow.commit()
            return email

    def _stored_account(self, email: str) -> str | None:
        with self._uow() as uow:
            return uow.identities.external_id_of(self.platform, email)

    def _stored_conversation(self, email: str) -> str | None:
        with self._uow() as uow:
            return uow.identities.conversation_of(self.platform, email)

    def _link(self, account_id: str, email: str, conversation: str | None, seen: bool) -> bool:
        # Someone the policy does not know has no member row: nothing to remember then.
        with self._uow() as uow:
            linked = uow.identities.link(
                self.platform,
                account_id,
                email,
                conversation=conversation,
                seen_at=self._clock.now() if seen else None,
            )
            if linked:
                uow.commit()
            return linked
