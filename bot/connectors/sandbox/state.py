"""Where the sandbox keeps the changes applied to it, so they survive a restart.

A port: the store provides the durable implementation; `MemorySandboxState` serves tests and
one-off runs.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SeatOverride:
    """What has changed about one seat since the org was generated; None means unchanged."""

    tier: str | None = None
    cap_cents: int | None = None
    removed: bool = False

    def merged(
        self, *, tier: str | None = None, cap_cents: int | None = None, removed: bool = False
    ) -> SeatOverride:
        """This override with the given changes on top (None and False leave a field as is)."""
        return replace(
            self,
            tier=self.tier if tier is None else tier,
            cap_cents=self.cap_cents if cap_cents is None else cap_cents,
            removed=self.removed or removed,
        )


class SandboxState(Protocol):
    """The sandbox's changes, keyed by idempotency key so each is applied at most once."""

    def overrides(self) -> Mapping[str, SeatOverride]:
        """Email -> the seat's override as it stands now."""
        ...

    def record(
        self,
        *,
        key: str,
        email: str,
        tier: str | None = None,
        cap_cents: int | None = None,
        removed: bool = False,
    ) -> bool:
        """Apply one change at most once.

        Atomically: if `key` was recorded before, change nothing and return False; otherwise
        merge the given fields into the email's override (None leaves a field as is) and
        return True.
        """
        ...


class MemorySandboxState:
    """A `SandboxState` in a dict: it lives as long as the object does."""

    def __init__(self) -> None:
        # The outbox worker and the chat handlers may write from different threads.
        self._lock = threading.Lock()
        self._overrides: dict[str, SeatOverride] = {}
        self._keys: set[str] = set()

    @property
    def applied_keys(self) -> frozenset[str]:
        """Every idempotency key recorded so far."""
        with self._lock:
            return frozenset(self._keys)

    def overrides(self) -> Mapping[str, SeatOverride]:
        with self._lock:
            return dict(self._overrides)

    def record(
        self,
        *,
        key: str,
        email: str,
        tier: str | None = None,
        cap_cents: int | None = None,
        removed: bool = False,
    ) -> bool:
        with self._lock:
            if key in self._keys:
                return False
            self._keys.add(key)
            current = self._overrides.get(email, SeatOverride())
            self._overrides[email] = current.merged(tier=tier, cap_cents=cap_cents, removed=removed)
            return True
