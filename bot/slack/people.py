"""Slack's way of finding people, for the shared directory: `users.info` and
`users.lookupByEmail` (scopes `users:read`, `users:read.email`)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

PLATFORM = "slack"
NAME = "Slack"


class SlackPeople:
    """A `PeopleLookup` over the Web API."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def email_of(self, account_id: str) -> str | None:
        """The email of a Slack user, or None for a user without one (a bot, a guest)."""
        try:
            answer = await self._client.users_info(user=account_id)
        except SlackApiError as exc:
            if exc.response.get("error") == "user_not_found":
                return None
            raise
        user = answer.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        return str(email) if email else None

    async def account_of(self, email: str) -> str | None:
        """The Slack user with this email, or None when the workspace has none."""
        try:
            answer = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") in {"users_not_found", "user_not_found"}:
                return None
            raise
        return str((answer.get("user") or {})["id"])
