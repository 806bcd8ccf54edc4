"""The deny form: an approver says why, and the request is denied with that reason."""

from __future__ import annotations

from collections.abc import Callable

from workflows.clicks import Click, press
from workflows.errors import Refusal
from workflows.forms.model import (
    FieldKind,
    FieldName,
    Form,
    FormField,
    FormId,
    Submission,
    Submitted,
)
from workflows.messages import Verb
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import name_of
from workflows.requests.deciding import decidable
from workflows.requests.texts import what
from workflows.requests.validation import REASON_MAX, REASON_MIN

SAY_WHY = "Say why, in a few words: the requester will read it."


def deny_form(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, *, actor: str, request_id: int
) -> Form:
    """The form asking why; Refusal, as Approve gives it, when `actor` may not decide on the
    request (or it is decided already, or gone), so nobody writes a reason only to be refused."""
    request = decidable(uow_factory(), policy, request_id=request_id, actor=actor)
    with uow_factory() as uow:
        name = name_of(uow, request.requester)
    return Form(
        form_id=FormId.DENY,
        title="Deny request",
        submit="Deny",
        close="Back",
        intro=f"{request.ref}: {name} asks for {what(request)} · {request.reason}",
        fields=(
            FormField(
                name=FieldName.REASON,
                kind=FieldKind.LONG_TEXT,
                label="Why? The requester reads this.",
                min_length=REASON_MIN,
                max_length=REASON_MAX,
            ),
        ),
        context=str(request_id),
    )


def submit_deny_form(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, submission: Submission
) -> Submitted:
    """Deny the request with the reason given; a request decided meanwhile is a Refusal."""
    note = submission.value(FieldName.REASON)
    if len(note.strip()) < REASON_MIN:
        raise Refusal(SAY_WHY, field=FieldName.REASON)
    click = Click(
        actor=submission.actor,
        verb=Verb.DENY,
        value=submission.context,
        now=submission.now,
        note=note,
    )
    # Every copy of the approval card says who denied it.
    return Submitted(message=press(uow_factory, policy, click), elsewhere=True)
