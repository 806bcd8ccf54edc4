"""Slack-shaped identifiers and timestamps, derived deterministically so runs are repeatable."""

from __future__ import annotations

import base64
import hashlib
import secrets


def slack_id(prefix: str, seed: str) -> str:
    """A Slack-looking id: `prefix` and 10 upper-case base32 characters derived from `seed`."""
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:10]


class Stamps:
    """Issues message timestamps, trigger ids and object ids.

    A message `ts` is Slack's "seconds.micros" string; the micro part steps by 100 within
    one second of the injected clock, so timestamps stay unique and ordered even when the
    clock stands still. Trigger ids also carry a salt of each workspace's own: the bot keeps
    them to spot replays, so a workspace started again on the same database (the playground
    after a restart, on a clock pinned to one instant) must not hand out the same ones.
    """

    def __init__(self) -> None:
        self._second = 0
        self._micro = 0
        self._counter = 0
        self._salt = secrets.token_hex(8)

    def ts(self, now: float) -> str:
        """A fresh message timestamp, later than every one issued before."""
        second = max(int(now), self._second)
        self._micro = self._micro + 100 if second == self._second else 100
        self._second = second
        return f"{second}.{self._micro:06d}"

    def next_id(self, prefix: str) -> str:
        """A fresh object id (`V...` views, `F...` files)."""
        self._counter += 1
        return slack_id(prefix, f"{prefix}{self._counter}")

    def trigger_id(self, now: float) -> str:
        """A trigger id in Slack's `seconds.number.hex` shape."""
        self._counter += 1
        secret = hashlib.sha256(f"trigger{self._salt}{self._counter}".encode()).hexdigest()[:32]
        return f"{int(now)}.{self._counter}.{secret}"

    def token(self, kind: str) -> str:
        """An unguessable-looking path token for response and upload URLs."""
        self._counter += 1
        return hashlib.sha256(f"{kind}{self._counter}".encode()).hexdigest()[:24]
