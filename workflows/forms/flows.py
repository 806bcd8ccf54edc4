"""Which clicks open a form, and what each form's submission does, for every chat surface.

An adapter passes who clicked which verb on which value and gets back a `Reply`: a message
for that person, or a form to show them. It passes a submitted form back by its id, its
context and what was typed, by field name, and gets back what the submission did, or a
Refusal whose `field` is one of that form's fields.
"""

from __future__ import annotations

from collections.abc import Callable

from workflows.alerts.forms import suggested_request
from workflows.clicks import Click, button_value, id_of, press
from workflows.errors import Refusal
from workflows.forms.cap import cap_form, submit_cap_form
from workflows.forms.deny import deny_form, submit_deny_form
from workflows.forms.model import (
    FieldName,
    FormId,
    Reply,
    Submission,
    Submitted,
    field_at_fault,
)
from workflows.forms.request import (
    extension_form,
    fields_of,
    request_form,
    submit_request_form,
)
from workflows.messages import Verb
from workflows.model import RequestKind
from workflows.policy import Policy
from workflows.ports import UnitOfWork

FORM_VERBS = frozenset({Verb.DENY, Verb.REQUEST_MORE, Verb.EXTEND, Verb.RAISE_CAP})
"""The buttons that open a form rather than act at once."""


def answer_click(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Reply:
    """The answer to a click: a form for the verbs that need one, else `press`'s message.

    Raises Refusal (a sentence for the person) when it cannot be done; a form is only opened
    for someone who may submit it.
    """
    value = button_value(click.value)
    if click.verb is Verb.DENY:
        return deny_form(uow_factory, policy, actor=click.actor, request_id=id_of(value))
    if click.verb is Verb.RAISE_CAP:
        return cap_form(uow_factory, policy, actor=click.actor, member=value, now=click.now)
    if click.verb is Verb.EXTEND:
        return extension_form(uow_factory, policy, actor=click.actor, request_id=id_of(value))
    if click.verb is Verb.REQUEST_MORE:
        return _request_more(uow_factory, policy, click)
    return press(uow_factory, policy, click)


def _request_more(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Reply:
    kind = RequestKind(click.value) if click.value in set(RequestKind) else RequestKind.CAP_INCREASE
    with uow_factory() as uow:
        member = uow.members.get(click.actor)
    values = None
    if kind is RequestKind.CAP_INCREASE:
        # What the alerts suggest asking for (enough for the month-end forecast), if anything.
        try:
            values = suggested_request(uow_factory(), policy, email=click.actor, now=click.now)
        except Refusal:
            values = None
    return request_form(kind, policy, member=member, values=values)


_SUBMITS: dict[FormId, Callable[[Callable[[], UnitOfWork], Policy, Submission], Submitted]] = {
    FormId.REQUEST: submit_request_form,
    FormId.DENY: submit_deny_form,
    FormId.RAISE_CAP: submit_cap_form,
}
_FIELDS = {FormId.DENY: (FieldName.REASON,), FormId.RAISE_CAP: (FieldName.AMOUNT,)}


def submit_form(
    uow_factory: Callable[[], UnitOfWork], policy: Policy, submission: Submission
) -> Submitted:
    """Do what the submitted form asks; raises Refusal naming one of the form's fields."""
    try:
        return _SUBMITS[submission.form_id](uow_factory, policy, submission)
    except Refusal as exc:
        raise on_form(exc, submission.form_id, submission.context) from exc


def on_form(refusal: Refusal, form_id: FormId, context: str) -> Refusal:
    """The refusal, naming a field the submitted form has (see `field_at_fault`)."""
    names = fields_of(context) if form_id is FormId.REQUEST else _FIELDS[form_id]
    field = field_at_fault(refusal.field, names)
    return refusal if field == refusal.field else Refusal(str(refusal), field=field)
