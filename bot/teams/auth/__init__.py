"""How capdesk authenticates on Teams, around botbuilder 4.17.1's defects.

Inbound, every `POST /api/messages` must carry a Bot Framework channel token, checked here
with PyJWT rather than by botbuilder's `JwtTokenValidation`, for three reasons:

- botbuilder turns only `PermissionError` into 401; an expired token
  (`jwt.ExpiredSignatureError`), a bad signature, a garbage token (`DecodeError`), an unknown
  `kid` (`IndexError`), an endorsement mismatch (a bare `Exception`) and a missing header all
  surface as 500. Here each is an `Unauthorized` (a `PermissionError`), answered 401.
- its key fetch (`_OpenIdMetadata._refresh`) calls `requests.get` with no timeout from inside a
  coroutine, stalling the event loop; and it caches keys by the wall clock. `SigningKeys`
  fetches in a worker thread with a timeout, times the cache by the injected clock, and
  rate-limits refreshes for unknown keys.
- it routes tokens that merely look like an emulator's or a skill's to validators keyed on
  Microsoft's login; capdesk accepts channel tokens only.

The checks are botbuilder's (issuer, audience, RS256 signature by a listed key, five minutes of
clock skew on `exp`/`nbf`, `serviceurl` = the activity's `serviceUrl`, the channel endorsing
the key) made strict: a key without endorsements, a token without `exp`, an activity without
a channel or service URL do not pass.

The wiring keeps the call the issue asks for, `adapter.process_activity(auth_header, activity,
bot.on_turn)` (CloudAdapter.process crashes on invoke responses): `CapdeskAuthentication` is the
adapter's `BotFrameworkAuthentication`, so `process_activity` authenticates through it before
the bot runs, and botbuilder's class-level key cache (`JwtTokenExtractor.metadataCache`) is
never touched.

Outbound, the bot's token comes from the client-credentials grant posted by `AccessTokens` to
`CAPDESK_TEAMS_TOKEN_URL` (MSAL refuses the emulator's http authority), cached until shortly
before it expires; `BotCredentials` signs botbuilder's clients with it.

`CapdeskAuthentication.from_settings` builds it all from the settings.
"""

from bot.teams.auth.authentication import CapdeskAuthentication
from bot.teams.auth.inbound import CLOCK_SKEW, ChannelTokenValidator, Unauthorized
from bot.teams.auth.keys import KeysUnavailable, SigningKey, SigningKeys
from bot.teams.auth.outbound import (
    BOT_FRAMEWORK_SCOPE,
    AccessTokens,
    BotCredentials,
    BotCredentialsFactory,
    TokenUnavailable,
)

__all__ = [
    "BOT_FRAMEWORK_SCOPE",
    "CLOCK_SKEW",
    "AccessTokens",
    "BotCredentials",
    "BotCredentialsFactory",
    "CapdeskAuthentication",
    "ChannelTokenValidator",
    "KeysUnavailable",
    "SigningKey",
    "SigningKeys",
    "TokenUnavailable",
    "Unauthorized",
]
