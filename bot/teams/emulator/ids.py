"""Teams-shaped identifiers, derived deterministically so runs are repeatable.

Teams user ids are `29:` and an opaque string, the bot's is `28:<app id>`, 1:1 conversations
`a:...`, channels `19:...@thread.tacv2`, Azure AD object ids GUIDs; message ids are the
epoch milliseconds of the message (what Teams uses), kept unique and increasing here.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

_NAMESPACE = uuid.UUID("5f1c2a7e-3b4d-4e6f-8a9b-0c1d2e3f4a5b")


def opaque(seed: str, length: int) -> str:
    """`length` url-safe characters derived from `seed`."""
    digest = hashlib.sha256(seed.encode()).digest() + hashlib.sha256(seed[::-1].encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def guid(seed: str) -> str:
    """A GUID derived from `seed` (Azure AD object ids, team group ids)."""
    return str(uuid.uuid5(_NAMESPACE, seed))


def user_id(email: str) -> str:
    """The Teams user id of the person with `email`."""
    return f"29:1{opaque('user:' + email, 60)}"


def personal_conversation_id(user: str) -> str:
    """The id of the 1:1 conversation between the bot and the user with Teams id `user`."""
    return f"a:1{opaque('personal:' + user, 60)}"


def channel_id(name: str) -> str:
    """A channel id for a channel called `name`."""
    return f"19:{hashlib.sha256(('channel:' + name).encode()).hexdigest()[:32]}@thread.tacv2"


class MessageIds:
    """Message ids: epoch milliseconds, strictly increasing even when the clock stands still."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, now_ms: int) -> str:
        """A fresh id, later than every id issued before."""
        self._last = max(now_ms, self._last + 1)
        return str(self._last)
