"""The request form: a cap increase or a seat upgrade, opened empty, prefilled from what the
person typed or what an alert suggests, and submitted as a request."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from workflows.errors import Refusal
from workflows.forms.model import (
    Choice,
    FieldKind,
    FieldName,
    Form,
    FormField,
    FormId,
    Submission,
    Submitted,
    told,
)
from workflows.model import Member, Request, RequestKind
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.asking import submit_request
from workflows.requests.form import RequestForm, draft_from_form
from workflows.requests.grammar import RequestDraft
from workflows.requests.texts import request_ack
from workflows.requests.validation import REASON_MAX, REASON_MIN

TITLES = {
    RequestKind.CAP_INCREASE: "Request more usage",
    RequestKind.SEAT_UPGRADE: "Request a seat upgrade",
}
INTRO = (
    "Your approvers get this request and decide with a click; you'll hear back in a direct message."
)
NOT_OURS = "This form is not one capdesk made; open it again."


def request_form(
    kind: RequestKind, policy: Policy, *, member: Member | None, values: RequestForm | None = None
) -> Form:
    """The request form for a cap increase or a seat upgrade, starting with `values`.

    A member who already has the top tier gets a form that says so, with nothing to submit.
    """
    values = values or RequestForm(kind=kind)
    first: FormField
    if kind is RequestKind.CAP_INCREASE:
        first = _amount_field(values.amount)
    else:
        tier = member.tier if member else None
        tiers = tiers_above(policy.tier_names, tier)
        if not tiers:
            return told(TITLES[kind], f"You already have the top seat tier ({tier}).")
        first = _tier_field(tiers, values.tier)
    return Form(
        form_id=FormId.REQUEST,
        title=TITLES[kind],
        submit="Send request",
        close="Cancel",
        intro=INTRO,
        fields=(first, _until_field(policy, values.until), _reason_field(values.reason)),
        context=json.dumps({"kind": kind.value}),
    )


def values_from_draft(draft: RequestDraft, *, cap_cents: int, zone: ZoneInfo) -> RequestForm:
    """What the form starts with for a parsed command: `raise to 300` becomes the amount
    above `cap_cents`, and an end time becomes the last local day it covers."""
    cents = draft.add_cents
    if draft.new_cap_cents is not None:
        cents = max(draft.new_cap_cents - cap_cents, 0) or None
    until = ""
    if draft.ends_at is not None:
        until = (draft.ends_at - timedelta(microseconds=1)).astimezone(zone).date().isoformat()
    return RequestForm(
        kind=draft.kind,
        amount="" if cents is None else dollars(cents),
        tier=draft.tier or "",
        until=until,
        reason=draft.reason,
    )


def extension_of(request: Request) -> RequestDraft:
    """A new request for what an ending grant gave."""
    return RequestDraft(
        request.kind,
        f"Extending {request.ref}",
        add_cents=request.amount_cents,
        tier=request.target_tier,
    )


def extension_form(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, *, actor: str, request_id: int
) -> Form:
    """The request form asking again for what an ending grant gave; Refusal for a grant that
    is not the actor's."""
    with uow_factory() as uow:
        request = uow.requests.get(request_id)
        member = uow.members.get(actor)
    if request is None or request.requester != actor.lower():
        raise Refusal("You can only extend your own grants.")
    values = values_from_draft(
        extension_of(request), cap_cents=member.cap_cents if member else 0, zone=policy.org.zone
    )
    return request_form(request.kind, policy, member=member, values=values)


def kind_of(context: str) -> RequestKind:
    """The kind of request a form asks for, from the context capdesk gave it."""
    try:
        kind = json.loads(context or "{}").get("kind")
        return RequestKind(kind)
    except (ValueError, AttributeError) as exc:
        raise Refusal(NOT_OURS) from exc


def fields_of(context: str) -> tuple[FieldName, ...]:
    """The fields of the request form with this context (the reason alone for a context
    capdesk did not write, where its refusal shows)."""
    try:
        kind = kind_of(context)
    except Refusal:
        return (FieldName.REASON,)
    first = FieldName.AMOUNT if kind is RequestKind.CAP_INCREASE else FieldName.TIER
    return (first, FieldName.UNTIL, FieldName.REASON)


def submit_request_form(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, submission: Submission
) -> Submitted:
    """Send the request the form describes; Refusal naming the field at fault."""
    form = RequestForm(
        kind=kind_of(submission.context),
        amount=submission.value(FieldName.AMOUNT),
        tier=submission.value(FieldName.TIER),
        until=submission.value(FieldName.UNTIL),
        reason=submission.value(FieldName.REASON),
    )
    draft = draft_from_form(form, zone=policy.org.zone)
    now = submission.now
    request = submit_request(
        uow_factory(), policy, requester=submission.actor, draft=draft, now=now
    )
    # The requester hears where it stands in a direct message of its own.
    return Submitted(message=request_ack(request, policy.org.zone, now=now), elsewhere=True)


def dollars(cents: int) -> str:
    """An amount as a form shows it: `150`, `150.5`."""
    return str(Decimal(cents) / 100)


def tiers_above(tiers: Sequence[str], current: str | None) -> list[str]:
    """The seat tiers above `current`, all of them for a tier the policy does not list."""
    if current not in tiers:
        return list(tiers)
    return list(tiers[tiers.index(current) + 1 :])


def _amount_field(amount: str) -> FormField:
    return FormField(
        name=FieldName.AMOUNT,
        kind=FieldKind.MONEY,
        label="How much more a month, in USD?",
        placeholder="150",
        min_value=Decimal("0.01"),
        initial=amount.strip() or None,
    )


def _tier_field(tiers: Sequence[str], wanted: str) -> FormField:
    return FormField(
        name=FieldName.TIER,
        kind=FieldKind.CHOICE,
        label="Which seat?",
        placeholder="Pick a tier",
        options=tuple(Choice(value=tier, label=tier) for tier in tiers),
        initial=wanted if wanted in tiers else tiers[0],
    )


def _until_field(policy: Policy, until: str) -> FormField:
    longest = policy.requests.max_duration_days
    return FormField(
        name=FieldName.UNTIL,
        kind=FieldKind.DATE,
        label="Until (the last day included)",
        hint=f"Leave empty for a permanent change; at most {longest} days from today.",
        placeholder="Permanent",
        optional=True,
        initial=until.strip() or None,
    )


def _reason_field(reason: str) -> FormField:
    return FormField(
        name=FieldName.REASON,
        kind=FieldKind.LONG_TEXT,
        label="Why do you need it?",
        hint="Your owner reads this when deciding.",
        placeholder="e.g. release prep until the tape-out",
        min_length=REASON_MIN,
        max_length=REASON_MAX,
        initial=reason.strip()[:REASON_MAX] or None,
    )
