"""The pool of each seat tier as the policy sizes it and the store counts it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workflows.policy import Policy
from workflows.policy.model import IdleSeatRule
from workflows.pool.records import IdleHolder
from workflows.ports import UnitOfWork

IDLE_DAYS = 14
"""Days without use after which a holder counts as idle, when no idle_seat rule says."""


@dataclass(frozen=True, slots=True)
class TierPool:
    """One tier: its seats (None: no pool, as many as asked for), price, and use."""

    tier: str
    seats: int | None
    monthly_cents: int | None
    in_use: int
    held_temporarily: int
    idle_count: int
    idle: Sequence[IdleHolder]
    today: date

    @property
    def free(self) -> int | None:
        """Seats left to hand out; None without a pool. Never below 0, even when more are in
        use than the pool has (upgrades approved while it was full)."""
        return None if self.seats is None else max(0, self.seats - self.in_use)

    @property
    def full(self) -> bool:
        return self.free == 0

    def idle_days(self, holder: IdleHolder) -> int:
        return (self.today - holder.last_active).days


def idle_after_days(policy: Policy) -> int:
    """When a holder counts as idle: the first warning of the policy's idle_seat rules."""
    rules = [r.warn_after_days for r in policy.rules if isinstance(r, IdleSeatRule)]
    return min(rules, default=IDLE_DAYS)


def pools(
    uow: UnitOfWork,
    policy: Policy,
    *,
    now: datetime,
    tiers: Sequence[str] | None = None,
    idle_limit: int = 3,
) -> list[TierPool]:
    """Every tier of the policy (or these), lowest first, inside the caller's transaction."""
    wanted = list(policy.tier_names if tiers is None else tiers)
    today = now.astimezone(policy.org.zone).date()
    since = today - timedelta(days=idle_after_days(policy))
    counted = uow.pool.tiers(wanted, idle_since=since, idle_limit=idle_limit)
    found = []
    for use in counted:
        tier = policy.seat_tiers.get(use.tier)
        found.append(
            TierPool(
                tier=use.tier,
                seats=None if tier is None else tier.seats,
                monthly_cents=None if tier is None else tier.monthly_cents,
                in_use=use.in_use,
                held_temporarily=use.held_temporarily,
                idle_count=use.idle_count,
                idle=use.idle,
                today=today,
            )
        )
    return found


def pool_of(
    uow: UnitOfWork, policy: Policy, tier: str, *, now: datetime, idle_limit: int = 3
) -> TierPool | None:
    """The pool of one tier, or None when the policy gives it no number of seats."""
    known = policy.seat_tiers.get(tier)
    if known is None or known.seats is None:
        return None
    return pools(uow, policy, now=now, tiers=[tier], idle_limit=idle_limit)[0]
