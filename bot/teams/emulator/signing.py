"""The Bot Framework's signing keys and the channel tokens it signs with them.

The Bot Framework signs each request to a bot with an RS256 JWT (Bot Connector
authentication, "Connector to Bot"): header `alg`, `kid` and `x5t` naming a key of its JWKS,
claims `iss` = `https://api.botframework.com`, `aud` = the bot's app id, `serviceurl` = the
activity's `serviceUrl`, and `nbf`/`exp`. Its JWKS entries carry `endorsements`, the channels
(`msteams`, ...) each key may sign for.

RSA key generation is slow, so keys are made once per process and kid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
TOKEN_LIFETIME = timedelta(hours=1)


@functools.cache
def _private_key(kid: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class SigningKey:
    """A key pair the emulated Bot Framework signs with (or a forger's: see `unlisted`)."""

    kid: str
    endorsements: tuple[str, ...] = ("msteams",)
    # Another key under the same kid: what a forger who knows the kid but not the key has.
    impostor: bool = False

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        """The private half (the same for the same kid within a process)."""
        return _private_key(f"{self.kid}#impostor" if self.impostor else self.kid)

    def jwk(self) -> dict[str, Any]:
        """The public half as the Bot Framework's JWKS lists it."""
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {
            **public,
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "endorsements": list(self.endorsements),
        }

    def sign(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        """`claims` as an RS256 JWT with this key's kid; `headers` override its header fields
        (None removes one)."""
        header = {"kid": self.kid, "x5t": self.kid, "typ": "JWT", **(headers or {})}
        present = {name: value for name, value in header.items() if value is not None}
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=present)


def channel_claims(*, app_id: str, service_url: str, now: datetime) -> dict[str, Any]:
    """The claims of a channel token issued `now` for a request to bot `app_id`."""
    issued = int(now.timestamp())
    return {
        "serviceurl": service_url,
        "nbf": issued,
        "exp": issued + int(TOKEN_LIFETIME.total_seconds()),
        "iss": ISSUER,
        "aud": app_id,
    }
