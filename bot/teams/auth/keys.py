"""The keys the Bot Framework signs its requests with, read from its OpenID metadata document.

The document (`CAPDESK_TEAMS_OPENID_URL`) names a JWKS (`jwks_uri`) whose RSA keys list the
channels that endorse them. Keys are kept for a day, as the documents change rarely. A token
naming an unknown key triggers one early refresh, at most every five minutes, so a stream of
forged key ids cannot make capdesk hammer Microsoft; a failed refresh is retried after 30
seconds at the earliest and keeps the keys already held. Only with no key at all is a request
unanswerable (`KeysUnavailable`).

Fetching runs in a worker thread with a timeout (botbuilder's `_OpenIdMetadata._refresh` calls
`requests.get` without one, on the event loop); requests that need the keys meanwhile wait for
that one fetch.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from bot.teams.auth.fetch import FetchError, JsonAnswer, SharedCall, fetch_json
from workflows.clock import Clock

log = logging.getLogger(__name__)

MAX_AGE = timedelta(days=1)
EARLY_REFRESH = timedelta(minutes=5)
RETRY_AFTER_FAILURE = timedelta(seconds=30)


class KeysUnavailable(Exception):
    """No signing key could be read yet; `str()` says why in one line."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One public key from the JWKS, and the channels (`msteams`, ...) that endorse it."""

    kid: str
    public_key: RSAPublicKey
    endorsements: frozenset[str]


class SigningKeys:
    """The Bot Framework's current signing keys, by key id."""

    def __init__(self, openid_url: str, *, clock: Clock, timeout: float = 10.0) -> None:
        self.openid_url = openid_url
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: datetime | None = None
        self._attempted_at: datetime | None = None
        self._failure: str | None = None
        self._refresh = SharedCall(self._refresh_once)

    async def find(self, kid: str) -> SigningKey | None:
        """The key `kid`, or None when the documents do not list it.

        Raises KeysUnavailable when no key could be read at all.
        """
        if self._refresh_due():
            await self._refresh()
        key = self._keys.get(kid)
        if key is None and self._early_refresh_allowed():
            await self._refresh()
            key = self._keys.get(kid)
        if not self._keys:
            raise KeysUnavailable(self._failure or "no signing keys were read yet")
        return key

    def _since_attempt(self) -> timedelta | None:
        if self._attempted_at is None:
            return None
        return self._clock.now() - self._attempted_at

    def _refresh_due(self) -> bool:
        since = self._since_attempt()
        if since is None:
            return True
        if self._failure is not None:
            return since >= RETRY_AFTER_FAILURE
        return self._fetched_at is None or self._clock.now() - self._fetched_at >= MAX_AGE

    def _early_refresh_allowed(self) -> bool:
        since = self._since_attempt()
        limit = RETRY_AFTER_FAILURE if self._failure is not None else EARLY_REFRESH
        return since is None or since >= limit

    def _refresh_once(self) -> None:
        with self._lock:
            self._attempted_at = self._clock.now()
            try:
                keys = self._download()
            except FetchError as error:
                self._failure = f"the Bot Framework signing keys are unavailable: {error}"
                log.warning("%s (CAPDESK_TEAMS_OPENID_URL)", self._failure)
                return
            self._keys, self._fetched_at, self._failure = keys, self._attempted_at, None

    def _download(self) -> dict[str, SigningKey]:
        metadata = _ok(fetch_json("GET", self.openid_url, timeout=self._timeout), self.openid_url)
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("http://", "https://")):
            raise FetchError(f"{self.openid_url} names no jwks_uri")
        keys = _parse_jwks(_ok(fetch_json("GET", jwks_uri, timeout=self._timeout), jwks_uri))
        if not keys:
            raise FetchError(f"{jwks_uri} lists no RSA signing key")
        return keys


def _ok(answer: JsonAnswer, url: str) -> dict[str, Any]:
    if answer.status != 200:
        raise FetchError(f"{url} answered HTTP {answer.status}")
    return answer.document


def _parse_jwks(document: dict[str, Any]) -> dict[str, SigningKey]:
    keys: dict[str, SigningKey] = {}
    for entry in document.get("keys") or []:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid, endorsements = entry.get("kid"), entry.get("endorsements") or []
        try:
            public_key = jwt.PyJWK(entry, algorithm="RS256").key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            log.warning("skipping an unreadable key %r in the Bot Framework JWKS", kid)
            continue
        if isinstance(kid, str) and kid and isinstance(public_key, RSAPublicKey):
            keys[kid] = SigningKey(
                kid, public_key, frozenset(e for e in endorsements if isinstance(e, str))
            )
    return keys
