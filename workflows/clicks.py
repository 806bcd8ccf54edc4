"""Button clicks, dispatched the same way for every chat surface.

`press` acts on a click and gives back the short reply meant for that person only. Verbs that
first need input from the person (a deny reason, the request form) open a form instead
(`workflows.forms.flows.answer_click`, which adapters call), whose submission does it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from workflows.alerts import clicks as alert_clicks
from workflows.applying.admin_actions import confirm_manual, retry_operation
from workflows.errors import INVALID_BUTTON, Refusal
from workflows.messages import Message, Verb
from workflows.model import Verdict
from workflows.policy import Policy
from workflows.pool.reclaim import reclaim_tier
from workflows.ports import UnitOfWork
from workflows.requests.deciding import cancel, decide
from workflows.requests.texts import what


@dataclass(frozen=True, slots=True)
class Click:
    """One press of a button by a known member."""

    actor: str
    verb: Verb
    value: str
    now: datetime
    note: str | None = None


class ClickHandler(Protocol):
    def __call__(
        self, uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click
    ) -> Message: ...


MAX_VALUE = 2000
"""The longest value a button may carry (Slack's limit; capdesk's own are far shorter)."""
_MAX_ID_DIGITS = 18
"""Ids are 64-bit integers in the store."""


def button_value(value: str) -> str:
    """A button's value as capdesk wrote it; Refusal for one it cannot have written."""
    if len(value) > MAX_VALUE or not value.isprintable():
        raise Refusal(INVALID_BUTTON)
    return value


def id_of(value: str) -> int:
    """The id a button carries (a request's, an operation's); Refusal for anything else."""
    if not (value.isascii() and value.isdecimal() and len(value) <= _MAX_ID_DIGITS):
        raise Refusal(INVALID_BUTTON)
    return int(value)


def _decide(verdict: Verdict) -> ClickHandler:
    def handler(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
        request = decide(
            uow_factory(),
            policy,
            request_id=id_of(click.value),
            actor=click.actor,
            verdict=verdict,
            now=click.now,
            note=click.note,
        )
        done = "approved" if verdict is Verdict.APPROVE else "denied"
        return Message(kind="decided", title=f"You {done} {request.ref}", text=what(request))

    return handler


def _cancel(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    request = cancel(
        uow_factory(), policy, request_id=id_of(click.value), actor=click.actor, now=click.now
    )
    return Message(kind="cancelled", title=f"Request {request.ref} cancelled", text=what(request))


def _confirm(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    operation = confirm_manual(
        uow_factory(), policy, operation_id=id_of(click.value), actor=click.actor, now=click.now
    )
    return Message(kind="manual_done", title=f"Marked task #{operation.id} as done")


def _retry(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    operation = retry_operation(
        uow_factory(), policy, operation_id=id_of(click.value), actor=click.actor, now=click.now
    )
    return Message(kind="retrying", title=f"Trying change #{operation.id} again")


def _reclaim_tier(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    return reclaim_tier(uow_factory(), policy, actor=click.actor, email=click.value, now=click.now)


HANDLERS: dict[Verb, ClickHandler] = {
    Verb.APPROVE: _decide(Verdict.APPROVE),
    Verb.DENY: _decide(Verdict.DENY),
    Verb.CANCEL: _cancel,
    Verb.CONFIRM_MANUAL: _confirm,
    Verb.RETRY_OPERATION: _retry,
    Verb.NUDGE: alert_clicks.nudge,
    Verb.RECLAIM_SEAT: alert_clicks.reclaim,
    Verb.KEEP_SEAT: alert_clicks.keep,
    Verb.RELEASE_SEAT: alert_clicks.release,
    Verb.OPEN_REQUESTS: alert_clicks.open_requests,
    Verb.RECLAIM_TIER: _reclaim_tier,
}


def press(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    """Act on a click; raises Refusal (a sentence for the person) when it cannot be done."""
    button_value(click.value)
    handler = HANDLERS.get(click.verb)
    if handler is None:
        raise Refusal("That button opens a form; there is nothing to do with a plain click.")
    return handler(uow_factory, policy, click)
