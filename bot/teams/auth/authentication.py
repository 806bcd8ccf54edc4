"""capdesk's `BotFrameworkAuthentication`: botbuilder's public-cloud one with the inbound check
and the outgoing credentials replaced.

Give it to `CloudAdapter(...)`; `adapter.process_activity(auth_header, activity, logic)` then
authenticates through `authenticate_request` here before anything else runs, so a refused
request raises `Unauthorized` out of `process_activity` and the bot never sees the activity.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
    ConnectorFactory,
)

from bot.settings import Settings
from bot.teams.auth.inbound import ChannelTokenValidator, Unauthorized
from bot.teams.auth.keys import SigningKeys
from bot.teams.auth.outbound import (
    BOT_FRAMEWORK_AUDIENCE,
    AccessTokens,
    BotCredentialsFactory,
)
from workflows.clock import Clock

USER_AGENT = "capdesk (botbuilder-python 4.17.1)"


class CapdeskAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Authenticates inbound activities with `validator` (none: the dev mode, everyone is
    anonymous) and signs outgoing calls with `credentials`."""

    def __init__(
        self, *, validator: ChannelTokenValidator | None, credentials: BotCredentialsFactory
    ) -> None:
        self.validator = validator
        self.credentials = credentials
        # botbuilder's own public-cloud authentication, for the parts capdesk does not replace.
        self._public_cloud = BotFrameworkAuthenticationFactory.create(
            credential_factory=credentials
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock) -> CapdeskAuthentication:
        """The authentication the settings describe: with `MICROSOFT_APP_ID`, tokens checked
        against `CAPDESK_TEAMS_OPENID_URL` and the bot's own from `CAPDESK_TEAMS_TOKEN_URL`;
        without it, only in the dev mode (`CAPDESK_TEAMS_DEV_NO_AUTH`)."""
        app_id = settings.microsoft_app_id
        if not app_id:
            if not settings.teams_dev_no_auth:
                raise ValueError("Teams needs MICROSOFT_APP_ID, or CAPDESK_TEAMS_DEV_NO_AUTH=1")
            return cls(validator=None, credentials=BotCredentialsFactory(app_id=None, tokens=None))
        password = settings.microsoft_app_password
        if password is None:
            raise ValueError("MICROSOFT_APP_PASSWORD: must be set when MICROSOFT_APP_ID is set")
        keys = SigningKeys(settings.teams_openid_url, clock=clock)
        tokens = AccessTokens(
            token_url=settings.teams_token_endpoint(),
            app_id=app_id,
            password=password.get_secret_value(),
            clock=clock,
        )
        return cls(
            validator=ChannelTokenValidator(app_id=app_id, keys=keys, clock=clock),
            credentials=BotCredentialsFactory(app_id=app_id, tokens=tokens),
        )

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        """The identity behind an inbound activity, and the connector to answer it with;
        Unauthorized when the token does not hold."""
        if self.validator is None:
            identity = ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
            caller_id = None
        else:
            claims = await self.validator.validate(
                auth_header, channel_id=activity.channel_id, service_url=activity.service_url
            )
            identity = ClaimsIdentity(claims, True)
            caller_id = CallerIdConstants.public_azure_channel
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = BOT_FRAMEWORK_AUDIENCE
        result.caller_id = caller_id
        result.connector_factory = self.create_connector_factory(identity)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        """Refused: capdesk serves the Bot Framework over HTTP only, not Direct Line streaming."""
        raise Unauthorized("streaming connections are not served")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        """Connectors signed as this bot (proactive messages come through here too)."""
        return _Connectors(self.credentials)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> Any:
        """botbuilder's user-token client (for sign-in cards, which capdesk does not send)."""
        return await self._public_cloud.create_user_token_client(claims_identity)

    def get_originating_audience(self) -> str:
        """The audience of the bot's own tokens."""
        return BOT_FRAMEWORK_AUDIENCE


class _Connectors(ConnectorFactory):  # type: ignore[misc]
    def __init__(self, credentials: BotCredentialsFactory) -> None:
        self._credentials = credentials

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        credentials = await self._credentials.create_credentials(
            self._credentials.app_id or "", audience or BOT_FRAMEWORK_AUDIENCE, "", True
        )
        client = ConnectorClient(credentials, base_url=service_url)
        client.config.add_user_agent(USER_AGENT)
        return client
