"""Turning what a person asked for into a request, or a refusal that says why."""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.errors import Refusal
from workflows.forms.model import FieldName
from workflows.messages import command
from workflows.model import Member, NewRequest, RequestKind
from workflows.money import format_usd
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.approvers import eligible_deciders, required_approvals
from workflows.requests.grammar import RequestDraft, too_long
from workflows.timefmt import last_day

REASON_MIN, REASON_MAX = 3, 500


def _check_reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if len(cleaned) < REASON_MIN:
        raise Refusal(
            "Please give a reason of at least 3 characters, so your owner can decide.",
            field=FieldName.REASON,
        )
    if len(cleaned) > REASON_MAX:
        raise Refusal(
            f"The reason is {len(cleaned)} characters; keep it to {REASON_MAX}.",
            field=FieldName.REASON,
        )
    return cleaned


def _check_end(ends_at: datetime | None, *, now: datetime, policy: Policy) -> None:
    if ends_at is None:
        return
    zone = policy.org.zone
    if ends_at <= now:
        last = (ends_at - timedelta(microseconds=1)).astimezone(zone).date()
        raise Refusal(
            f"{last.isoformat()} is in the past; pick a date to come.", field=FieldName.UNTIL
        )
    longest = policy.requests.max_duration_days
    # `until` the last allowed day (through its end, in the org's zone) is as good as `for Nd`.
    last = (ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    days = (last - now.astimezone(zone).date()).days
    if ends_at - now > timedelta(days=longest, hours=1) and days > longest:
        raise Refusal(
            too_long(longest, f"{last_day(ends_at, zone, now=now)} is further away"),
            field=FieldName.UNTIL,
        )


def validate(
    uow: UnitOfWork, policy: Policy, *, requester: str, draft: RequestDraft, now: datetime
) -> NewRequest:
    """Check a draft against the member, their group and the policy; raise Refusal if it fails."""
    member = uow.members.get(requester)
    if member is None:
        raise Refusal("You don't have a seat that capdesk knows of; ask an admin to add you.")
    if not member.active:
        raise Refusal("Your seat has been removed, so you can't make requests; ask an admin.")
    group = policy.group_of_member(member)
    if group is None:
        raise Refusal("You're not in any group of the policy yet; ask an admin to add you.")
    if not eligible_deciders(policy, member.email, group):
        raise Refusal("Nobody but you could approve this; the policy needs another owner or admin.")
    reason = _check_reason(draft.reason)
    _check_end(draft.ends_at, now=now, policy=policy)
    pending = uow.requests.pending_of(member.email, draft.kind)
    if pending is not None:
        raise Refusal(
            f"You already have request {pending.ref} pending; cancel it first "
            f"({command(f'cancel {pending.id}')}) or wait for the decision."
        )
    add = new_cap = tier = None
    current = member.cap_cents if draft.current_cents is None else draft.current_cents
    if draft.kind is RequestKind.CAP_INCREASE:
        ceiling = draft.period.from_monthly(group.max_cap_cents)
        add, new_cap = _cap_change(current, draft, max_cents=ceiling)
    else:
        tier = _target_tier(member, draft.tier, policy)
    return NewRequest(
        requester=member.email,
        group=group.name,
        kind=draft.kind,
        reason=reason,
        created_at=now,
        approvals_required=required_approvals(policy, member.email, group),
        cap_before_cents=current,
        tier_before=member.tier,
        amount_cents=add,
        new_cap_cents=new_cap,
        target_tier=tier,
        ends_at=draft.ends_at,
        period=draft.period,
    )


def _cap_change(current: int, draft: RequestDraft, *, max_cents: int) -> tuple[int, int]:
    if draft.new_cap_cents is not None:
        new_cap = draft.new_cap_cents
        if new_cap <= current:
            raise Refusal(
                f"Your cap is already {format_usd(current)}; ask for more than that.",
                field=FieldName.AMOUNT,
            )
        add = new_cap - current
    else:
        add = draft.add_cents or 0
        if add <= 0:
            raise Refusal("The amount must be more than $0.", field=FieldName.AMOUNT)
        new_cap = current + add
    if new_cap > max_cents:
        room = max(0, max_cents - current)
        raise Refusal(
            f"That would make your cap {format_usd(new_cap)}, above your group's maximum of "
            f"{format_usd(max_cents)}; you can ask for up to {format_usd(room)} more.",
            field=FieldName.AMOUNT,
        )
    return add, new_cap


def _target_tier(member: Member, wanted: str | None, policy: Policy) -> str:
    tiers = policy.tier_names
    if wanted is None:
        above = tiers[tiers.index(member.tier) + 1 :] if member.tier in tiers else []
        if not above:
            raise Refusal(
                f"You already have the top seat tier ({member.tier}).", field=FieldName.TIER
            )
        return above[0]
    if wanted not in tiers:
        raise Refusal(
            f"{wanted!r} is not a seat tier; the tiers are {', '.join(tiers)}.",
            field=FieldName.TIER,
        )
    if wanted == member.tier:
        raise Refusal(f"You already have a {wanted} seat.", field=FieldName.TIER)
    return wanted
