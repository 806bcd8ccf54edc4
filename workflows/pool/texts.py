"""What people read about the pool: the line on an upgrade's approval card, and the admins'
message when the pool is full."""

from __future__ import annotations

from workflows.messages import Action, Fact, Message, Section, Verb
from workflows.model import Request
from workflows.pool.records import IdleHolder
from workflows.pool.standing import TierPool
from workflows.timefmt import day_label


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _holder(pool: TierPool, holder: IdleHolder) -> str:
    until = " (until their grant ends)" if holder.temporary else ""
    return f"{holder.name} ({_days(pool.idle_days(holder))}){until}"


def card_fact(pool: TierPool, *, idle_after: int) -> Fact:
    """`3 of 10 free`, or that none is and who has left theirs idle longest."""
    label = f"{pool.tier.capitalize()} seats"
    if not pool.full:
        return Fact(label=label, value=f"{pool.free} of {pool.seats} free")
    taken = f"none free, all {pool.seats} in use"
    if not pool.idle:
        return Fact(label=label, value=f"{taken}; nobody has left theirs idle {_days(idle_after)}")
    idle = ", ".join(_holder(pool, h) for h in pool.idle)
    return Fact(label=label, value=f"{taken}; idle longest: {idle}")


def pool_full(request: Request, requester: str, pool: TierPool, *, idle_after: int) -> Message:
    """To the admins: a request waits for a seat of a full tier; Reclaim frees one from a
    holder who has not used theirs."""
    held = f", {pool.held_temporarily} of them temporarily" if pool.held_temporarily else ""
    sections = tuple(
        Section(
            text=f"{h.name} · last used {day_label(h.last_active, today=pool.today)}"
            f" ({_days(pool.idle_days(h))} ago)"
            + (" · a temporary upgrade" if h.temporary else ""),
            action=Action(verb=Verb.RECLAIM_TIER, label="Reclaim", value=h.email, style="danger"),
        )
        for h in pool.idle
    )
    more = pool.idle_count - len(pool.idle)
    if more > 0:
        sections += (Section(text=f"… and {more} more idle for {_days(idle_after)} or longer"),)
    if sections:
        text = (
            f"All {pool.seats} {pool.tier} seats are in use{held}. Reclaiming one moves its"
            " holder a tier down and frees it for this request."
        )
    else:
        text = (
            f"All {pool.seats} {pool.tier} seats are in use{held}, and nobody has left theirs"
            f" idle {_days(idle_after)}."
        )
    return Message(
        kind="pool_full",
        title=f"No {pool.tier} seat free for {requester} (request {request.ref})",
        text=text,
        sections=sections,
    )
