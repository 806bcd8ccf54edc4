"""The "Raise cap" form of an alert: an owner or admin sets a member's new cap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from workflows.alerts.forecast import NOT_YET
from workflows.alerts.forms import CapForm, raise_cap, raise_cap_form
from workflows.forms.model import (
    FieldKind,
    FieldName,
    Form,
    FormField,
    FormId,
    Submission,
    Submitted,
)
from workflows.forms.request import dollars
from workflows.money import format_usd
from workflows.policy import Policy
from workflows.ports import UnitOfWork


def cap_form(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, *, actor: str, member: str, now: datetime
) -> Form:
    """The form for a member named in an alert; Refusal when `actor` may not raise their cap."""
    return form_of(raise_cap_form(uow_factory(), policy, actor=actor, email=member, now=now))


def form_of(standing: CapForm) -> Form:
    """The member's standing over the one field: the new cap, starting at the suggested one."""
    outlook = (
        NOT_YET
        if standing.projected_cents is None
        else f"on track for {format_usd(standing.projected_cents)}"
    )
    facts = (
        f"*{standing.name}* · cap {format_usd(standing.cap_cents)} · spent "
        f"{format_usd(standing.spent_cents)} this month · {outlook}"
    )
    if standing.max_cap_cents is not None:
        facts += f" · group maximum {format_usd(standing.max_cap_cents)}"
    return Form(
        form_id=FormId.RAISE_CAP,
        title="Raise a cap",
        submit="Raise",
        close="Cancel",
        intro=facts,
        fields=(
            FormField(
                name=FieldName.AMOUNT,
                kind=FieldKind.MONEY,
                label="New monthly cap, in USD",
                min_value=Decimal("0.01"),
                initial=dollars(standing.suggested_cap_cents),
            ),
        ),
        context=standing.email,
    )


def submit_cap_form(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, submission: Submission
) -> Submitted:
    """Queue the new cap; the form shows that it is on its way (nothing else tells the actor)."""
    done = raise_cap(
        uow_factory(),
        policy,
        actor=submission.actor,
        email=submission.context,
        new_cap=submission.value(FieldName.AMOUNT),
        now=submission.now,
    )
    return Submitted(message=done)
