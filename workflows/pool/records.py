"""What the store tells of the seats of a tier: who holds them, and who has left theirs idle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class IdleHolder:
    """A member holding a seat of the tier who has not used it since `last_active` (the day
    capdesk first saw the seat, when it was never used)."""

    email: str
    name: str
    last_active: date
    temporary: bool
    """They hold it through a temporary grant, which hands it back when it ends."""


@dataclass(frozen=True, slots=True)
class TierUse:
    """One tier's seats as the store counts them.

    `in_use`: active members on the tier, and upgrades to it approved but not applied yet (each
    takes a seat as soon as it is). `held_temporarily`: of those on the tier, how many hold it
    through a temporary grant. `idle`: holders idle the longest, longest first, at most as many
    as asked for; `idle_count`: all of them.
    """

    tier: str
    in_use: int
    held_temporarily: int
    idle_count: int
    idle: Sequence[IdleHolder]
