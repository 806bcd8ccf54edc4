"""Telling the admins when an upgrade asks for a seat of a tier whose pool is full."""

from __future__ import annotations

from datetime import datetime

from workflows.model import Request, RequestKind
from workflows.policy import Policy
from workflows.pool.standing import idle_after_days, pool_of
from workflows.pool.texts import pool_full
from workflows.ports import UnitOfWork
from workflows.requests.announce import name_of, tell_admins

IDLE_LISTED = 5
"""Idle holders the admins are offered to reclaim from, longest idle first."""


def pool_thread(request_id: int) -> str:
    """The thread key of the admins' "no seat free" message about a request."""
    return f"pool-full:{request_id}"


def tell_admins_if_full(uow: UnitOfWork, policy: Policy, request: Request, now: datetime) -> bool:
    """When `request` upgrades to a tier with no seat free, give the admins a Reclaim button
    for each holder idle longest; whether it did."""
    if request.kind is not RequestKind.SEAT_UPGRADE or request.target_tier is None:
        return False
    pool = pool_of(uow, policy, request.target_tier, now=now, idle_limit=IDLE_LISTED)
    if pool is None or not pool.full:
        return False
    message = pool_full(
        request, name_of(uow, request.requester), pool, idle_after=idle_after_days(policy)
    )
    tell_admins(uow, policy, message, now, thread_key=pool_thread(request.id))
    return True
