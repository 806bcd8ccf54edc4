"""Who is who: Slack user ids matched to members by email, remembered in the store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from store.uow import SqlUnitOfWork

PLATFORM = "slack"


class SlackDirectory:
    """Looks people up once through the Web API (`users.info`, `users.lookupByEmail`)."""

    def __init__(self, client: AsyncWebClient, uow: Callable[[], SqlUnitOfWork]) -> None:
        self._client = client
        self._uow = uow

    async def email_of(self, user_id: str) -> str | None:
        """The email of a Slack user, or None for a user without one (a bot, a guest)."""
        known = await asyncio.to_thread(self._stored_email, user_id)
        if known is not None:
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
        await asyncio.to_thread(self._link, user_id, str(email))
        return str(email).lower()

    async def user_id_of(self, email: str) -> str | None:
        """The Slack user with this email, or None when the workspace has none."""
        known = await asyncio.to_thread(self._stored_user, email)
        if known is not None:
            return known
        try:
            answer = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") in {"users_not_found", "user_not_found"}:
                return None
            raise
        user_id = str((answer.get("user") or {})["id"])
        await asyncio.to_thread(self._link, user_id, email)
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
