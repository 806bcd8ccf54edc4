"""The bot's own token for calling the Bot Connector, and the credentials msrest signs with.

The token comes from the OAuth 2.0 client-credentials grant (v2 form: `grant_type`,
`client_id`, `client_secret`, `scope=https://api.botframework.com/.default`) posted to
`CAPDESK_TEAMS_TOKEN_URL`, by capdesk itself rather than through MSAL, which refuses an
authority that is not https (the emulator's) and blocks the event loop while it fetches. The
token is cached until five minutes before it expires.

`BotCredentials` signs both kinds of client botbuilder makes: the asynchronous
`ConnectorClient` takes it as a pipeline policy, fetching the token in a worker thread;
botbuilder's synchronous `TeamsConnectorClient` calls `signed_session`, which uses the cached
token and fetches (blocking, bounded by the timeout) only when there is none.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botframework.connector.auth import ServiceClientCredentialsFactory
from msrest.authentication import Authentication
from msrest.pipeline.async_abc import AsyncHTTPPolicy

from bot.teams.auth.fetch import FetchError, SharedCall, fetch_json
from workflows.clock import Clock

BOT_FRAMEWORK_AUDIENCE = "https://api.botframework.com"
BOT_FRAMEWORK_SCOPE = f"{BOT_FRAMEWORK_AUDIENCE}/.default"
REFRESH_MARGIN = timedelta(minutes=5)
CREDENTIAL_SETTINGS = "MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"


class TokenUnavailable(Exception):
    """The bot could not get its token; `str()` is one line naming the cause and the settings."""


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    refresh_at: datetime


class AccessTokens:
    """The bot's access token for the Bot Connector, fetched when missing or about to expire."""

    def __init__(
        self, *, token_url: str, app_id: str, password: str, clock: Clock, timeout: float = 10.0
    ) -> None:
        self.token_url = token_url
        self.app_id = app_id
        self._password = password
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self._fetch_shared = SharedCall(self.get_blocking)

    def cached(self) -> str | None:
        """The current token if it is not about to expire."""
        token = self._token
        if token is None or self._clock.now() >= token.refresh_at:
            return None
        return token.value

    async def get(self) -> str:
        """A valid token, fetched in a worker thread if needed; TokenUnavailable otherwise."""
        value = self.cached()
        if value is None:
            value = await self._fetch_shared()
        return value

    def get_blocking(self) -> str:
        """A valid token, fetched on this thread if needed; TokenUnavailable otherwise."""
        with self._lock:
            value = self.cached()
            if value is None:
                self._token = self._fetch()
                value = self._token.value
            return value

    def _fetch(self) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self._password,
            "scope": BOT_FRAMEWORK_SCOPE,
        }
        requested_at = self._clock.now()
        try:
            answer = fetch_json("POST", self.token_url, timeout=self._timeout, form=form)
        except FetchError as error:
            raise TokenUnavailable(
                f"no Bot Framework token: {error} (CAPDESK_TEAMS_TOKEN_URL)"
            ) from None
        document = answer.document
        if answer.status != 200:
            raise TokenUnavailable(
                f"the token endpoint refused the bot's credentials (HTTP {answer.status},"
                f" {_aad_error(document)}); check {CREDENTIAL_SETTINGS}"
            )
        value, lifetime = document.get("access_token"), _seconds(document.get("expires_in"))
        if not isinstance(value, str) or not value or lifetime is None:
            raise TokenUnavailable(
                f"{self.token_url} answered without an access_token and expires_in"
                " (CAPDESK_TEAMS_TOKEN_URL)"
            )
        expires_in = timedelta(seconds=lifetime)
        # A token shorter-lived than twice the margin is used for its first half.
        margin = min(REFRESH_MARGIN, expires_in / 2)
        return _Token(value, requested_at + expires_in - margin)


def _seconds(value: Any) -> float | None:
    """`expires_in` as a positive number of seconds (sent as a number or a numeric string)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def _aad_error(document: dict[str, Any]) -> str:
    code = str(document.get("error") or "no error code")
    description = str(document.get("error_description") or "").strip().splitlines()
    return f"{code}: {description[0]}" if description else code


class BotCredentials(Authentication, AsyncHTTPPolicy[Any, Any]):
    """Signs the bot's Bot Connector calls with its token; signs nothing when auth is off."""

    def __init__(self, tokens: AccessTokens | None) -> None:
        AsyncHTTPPolicy.__init__(self)
        self.tokens = tokens

    async def send(self, request: Any, **kwargs: Any) -> Any:
        """Adds the token to one request of an asynchronous client's pipeline."""
        if self.tokens is not None:
            request.http_request.headers["Authorization"] = f"Bearer {await self.tokens.get()}"
        if self.next is None:
            raise RuntimeError("BotCredentials is used outside an msrest pipeline")
        return await self.next.send(request, **kwargs)

    def signed_session(self, session: Any = None) -> Any:
        """The `requests` session of a synchronous client, with the token."""
        session = Authentication.signed_session(self, session)
        if self.tokens is not None:
            session.headers["Authorization"] = f"Bearer {self.tokens.get_blocking()}"
        return session


class BotCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """botbuilder's source of credentials: `BotCredentials` for this bot's app id only.

    Without `tokens` authentication is off (the Bot Framework Emulator's dev mode).
    """

    def __init__(self, *, app_id: str | None, tokens: AccessTokens | None) -> None:
        self.app_id = app_id
        self.tokens = tokens

    async def is_valid_app_id(self, app_id: str) -> bool:
        """Whether `app_id` is this bot's."""
        return bool(self.app_id) and app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        """True in the dev mode without an app id."""
        return self.tokens is None

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> BotCredentials:
        """Credentials for calling the Bot Connector as this bot; the login endpoint comes from
        `CAPDESK_TEAMS_TOKEN_URL`, not from botbuilder's arguments."""
        if self.tokens is None:
            return BotCredentials(None)
        if not await self.is_valid_app_id(app_id):
            raise TokenUnavailable(f"no credentials for app id {app_id!r}, only for this bot's")
        if (oauth_scope or BOT_FRAMEWORK_AUDIENCE).removesuffix(
            "/.default"
        ) != BOT_FRAMEWORK_AUDIENCE:
            raise TokenUnavailable(f"capdesk calls only the Bot Connector, not {oauth_scope!r}")
        return BotCredentials(self.tokens)
