"""The request form (a Slack modal, a Teams card): typed fields in, a draft out.

A form sends strings; each is checked here so the refusal can be shown next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from workflows.errors import Refusal
from workflows.forms.model import FieldName
from workflows.model import RequestKind
from workflows.money import parse_usd
from workflows.requests.grammar import CommandError, RequestDraft, end_of_day


@dataclass(frozen=True, slots=True)
class RequestForm:
    """What a person filled in; empty strings are fields left blank."""

    kind: RequestKind
    amount: str = ""
    tier: str = ""
    until: str = ""
    reason: str = ""


def draft_from_form(form: RequestForm, *, zone: ZoneInfo) -> RequestDraft:
    """The draft a form describes; raises Refusal naming the field at fault."""
    ends_at = _until(form.until, zone) if form.until.strip() else None
    if form.kind is RequestKind.SEAT_UPGRADE:
        tier = form.tier.strip().lower() or None
        return RequestDraft(form.kind, form.reason, tier=tier, ends_at=ends_at)
    if not form.amount.strip():
        raise Refusal("Say how many dollars to add to your monthly cap.", field=FieldName.AMOUNT)
    try:
        cents = parse_usd(form.amount)
    except ValueError as exc:
        raise Refusal(str(exc), field=FieldName.AMOUNT) from exc
    return RequestDraft(form.kind, form.reason, add_cents=cents, ends_at=ends_at)


def _until(text: str, zone: ZoneInfo) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise Refusal(f"{text.strip()[:40]!r} is not a date.", field=FieldName.UNTIL) from exc
    try:
        return end_of_day(day, zone)
    except CommandError as exc:
        raise Refusal(str(exc), field=FieldName.UNTIL) from exc
