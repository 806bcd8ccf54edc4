"""Checks the Bot Framework token on each request to `POST /api/messages`.

A request comes from the Bot Framework when its `Authorization: Bearer` token is a JWT that
(Bot Connector authentication, "Connector to Bot"): is signed with RS256 by a key listed in the
OpenID metadata's JWKS; names that key (`kid`); is issued by `https://api.botframework.com` to
this bot (`aud` = the app id); is within `nbf`/`exp`, with five minutes of clock skew as
botbuilder allows; carries the activity's `serviceUrl` in its `serviceurl` claim; and is signed
by a key that the activity's channel endorses. Every failure is an `Unauthorized`, whatever
library call it came from.

Only channel tokens are accepted: botbuilder would also route tokens that look like the Bot
Framework Emulator's or a skill's to other validators keyed on Microsoft's own login, which
capdesk does not serve (the Emulator runs against `CAPDESK_TEAMS_DEV_NO_AUTH`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt

from bot.teams.auth.keys import SigningKeys
from workflows.clock import Clock

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
CLOCK_SKEW = timedelta(minutes=5)
ALGORITHM = "RS256"


class Unauthorized(PermissionError):
    """The request does not carry a valid Bot Framework token; `str()` says which check failed
    (for the log, never for the caller)."""


class ChannelTokenValidator:
    """Validates channel tokens for one bot."""

    def __init__(self, *, app_id: str, keys: SigningKeys, clock: Clock) -> None:
        if not app_id:
            raise ValueError("a channel token names the bot's app id; none was given")
        self.app_id = app_id
        self.keys = keys
        self._clock = clock

    async def validate(
        self, auth_header: str | None, *, channel_id: str | None, service_url: str | None
    ) -> dict[str, Any]:
        """The token's claims when `auth_header` proves that the Bot Framework sent the activity
        of `channel_id` and `service_url`; Unauthorized otherwise."""
        token = _bearer_token(auth_header)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"not a JWT: {error}") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"signed with {header.get('alg')!r}, not {ALGORITHM}")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no signing key (kid)")
        key = await self.keys.find(kid)
        if key is None:
            raise Unauthorized(f"unknown signing key {kid!r}")
        if not channel_id or channel_id not in key.endorsements:
            raise Unauthorized(f"key {kid!r} is not endorsed for channel {channel_id!r}")
        claims = self._verified_claims(token, key.public_key)
        if not service_url or claims.get("serviceurl") != service_url:
            raise Unauthorized(
                f"serviceurl claim {claims.get('serviceurl')!r} is not the activity's"
                f" serviceUrl {service_url!r}"
            )
        return claims

    def _verified_claims(self, token: str, public_key: Any) -> dict[str, Any]:
        try:
            # Times are checked below against the injected clock rather than PyJWT's own.
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                audience=self.app_id,
                issuer=BOT_FRAMEWORK_ISSUER,
                options={
                    "require": ["exp", "iss", "aud"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"rejected: {error}") from None
        now = self._clock.now().timestamp()
        skew = CLOCK_SKEW.total_seconds()
        if _number(claims, "exp") + skew < now:
            raise Unauthorized("the token has expired")
        if "nbf" in claims and _number(claims, "nbf") - skew > now:
            raise Unauthorized("the token is not valid yet")
        return claims


def _bearer_token(auth_header: str | None) -> str:
    if not auth_header:
        raise Unauthorized("no Authorization header")
    scheme, _, token = auth_header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise Unauthorized("the Authorization header is not 'Bearer <token>'")
    return token.strip()


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Unauthorized(f"the {name} claim is not a number")
    return float(value)
