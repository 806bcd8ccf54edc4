"""Who is who: Slack user ids matched to members by email, remembered in the store."""

from __future__ import annotations

import time
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.background import DomainThreads
from store.uow import SqlUnitOfWork

PLATFORM = "slack"
_RECENT_MAX = 10_000


class SlackDirectory:
    """Looks people up once through the Web API (`users.info`, `users.lookupByEmail`).

    Matches are kept in the store for every replica, and for a few minutes in this process:
    every click starts with this lookup, and a database round trip per click is the largest
    share of the work done before the person gets an answer.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        uow: Callable[[], SqlUnitOfWork],
        *,
        run: DomainThreads,
        remember_for: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._uow = uow
        self._run = run
        self._remember_for = remember_for
        self._clock = clock
        self._recent: dict[str, tuple[float, str]] = {}

    async def email_of(self, user_id: str) -> str | None:
        """The email of a Slack user, or None for a user without one (a bot, a guest)."""
        recent = self._recent.get(user_id)
        if recent is not None and recent[0] > self._clock():
            return recent[1]
        known = await self._run(self._stored_email, user_id)
        if known is not None:
            self._remember(user_id, known)
            return known
        try:
            answer = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return None
            raise
        user = answer.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        if not email:
            return None
        await self._run(self._link, user_id, str(email))
        self._remember(user_id, str(email).lower())
        return str(email).lower()

    def _remember(self, user_id: str, email: str) -> None:
        if len(self._recent) >= _RECENT_MAX:
            self._recent.clear()
        self._recent[user_id] = (self._clock() + self._remember_for, email)

    async def user_id_of(self, email: str) -> str | None:
        """The Slack user with this email, or None when the workspace has none."""
        known = await self._run(self._stored_user, email)
        if known is not None:
            return known
        try:
            answer = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") in {"users_not_found", "user_not_found"}:
                return None
            raise
        user_id = str((answer.get("user") or {})["id"])
        await self._run(self._link, user_id, email)
        return user_id

    def _stored_email(self, user_id: str) -> str | None:
        with self._uow() as uow:
            return uow.identities.email_of(PLATFORM, user_id)

    def _stored_user(self, email: str) -> str | None:
        with self._uow() as uow:
            return uow.identities.external_id_of(PLATFORM, email)

    def _link(self, user_id: str, email: str) -> None:
        # Someone the policy does not know has no member row: nothing to remember then.
        with self._uow() as uow:
            if uow.identities.link(PLATFORM, user_id, email):
                uow.commit()
