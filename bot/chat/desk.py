"""The façade a chat adapter's listeners call: capdesk's domain, as one platform's people use
it, run off the event loop on capdesk's one clock.

Listeners pass who (a member's email, or None for someone the platform's directory could not
match) and what they did; they get back what to show. Refusals come back as messages (or, for
a form, as a Refusal naming one of its fields); what the action queued is delivered by the
outbox, which the desk wakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.background import DomainThreads
from bot.chat.inbound import Inbound
from bot.chat.replies import FAILED, refusal, unknown_person
from bot.metrics import Metrics
from workflows.clicks import Click
from workflows.clock import Clock
from workflows.commands import answer_command
from workflows.errors import Refusal
from workflows.forms.flows import answer_click, on_form, submit_form
from workflows.forms.model import FormId, Reply, Submission, Submitted
from workflows.forms.request import request_form
from workflows.home import home_of
from workflows.messages import Message, Verb
from workflows.model import Member, RequestKind
from workflows.policy import Policy
from workflows.ports import UnitOfWork


@dataclass(frozen=True)
class Core:
    """What every platform's desk shares: the store, the policy, the clock, the thread that
    runs the domain, the metrics, and a way to wake the outbox."""

    uow: Callable[[], UnitOfWork]
    policy: Policy
    clock: Clock
    run: DomainThreads
    metrics: Metrics
    wake_outbox: Callable[[], None]


@dataclass(frozen=True)
class Clicked:
    """What a click answers (`reply`), and whether it did anything (`acted`): False when it
    was refused or the person is unknown, so the surface it came from has not changed."""

    reply: Reply
    acted: bool


class Desk:
    """capdesk for the people of one platform (`platform` is its key, `name` how people
    call it: `slack`, `Slack`)."""

    def __init__(self, core: Core, *, platform: str, name: str) -> None:
        self._core = core
        self.platform = platform
        self.unknown = unknown_person(name)
        """What someone the directory could not match is told."""
        self._inbound = Inbound(core.uow, clock=core.clock, run=core.run)

    async def first_time(self, key: str) -> bool:
        """Record an id the platform gives once; False when it came before (a redelivery, a
        replay), to this replica or another."""
        return await self._inbound.first_time(self.platform, key)

    async def command(self, email: str | None, text: str) -> Reply:
        """What a typed command answers: a message, or a form to fill in."""
        if email is None:
            return self.unknown
        core = self._core
        try:
            reply = await core.run(
                answer_command, core.uow, core.policy, email=email, text=text, now=core.clock.now()
            )
        except Refusal as exc:
            return refusal(str(exc))
        if isinstance(reply, Message):
            core.wake_outbox()
        return reply

    async def click(self, email: str | None, verb: Verb, value: str) -> Clicked:
        """What a click answers: a message, or the form the button opens."""
        if email is None:
            return Clicked(self.unknown, acted=False)
        core = self._core
        click = Click(actor=email, verb=verb, value=value, now=core.clock.now())
        try:
            reply = await core.run(answer_click, core.uow, core.policy, click)
        except Refusal as exc:
            return Clicked(refusal(str(exc)), acted=False)
        if isinstance(reply, Message):
            if verb is Verb.APPROVE:
                core.metrics.decision("approve")
            core.wake_outbox()
        return Clicked(reply, acted=True)

    async def submit(
        self, email: str | None, form_id: FormId, context: str, values: Mapping[str, str]
    ) -> Submitted:
        """Do what a submitted form asks; a Refusal naming one of the form's fields when it
        cannot be done (for someone unknown too)."""
        core = self._core
        try:
            if email is None:
                raise Refusal(self.unknown.text)
            submission = Submission(
                actor=email, form_id=form_id, context=context, values=values, now=core.clock.now()
            )
            done = await core.run(submit_form, core.uow, core.policy, submission)
        except Refusal as exc:
            raise on_form(exc, form_id, context) from exc
        if form_id is FormId.DENY:
            core.metrics.decision("deny")
        core.wake_outbox()
        return done

    @staticmethod
    def failed(form_id: FormId, context: str) -> Refusal:
        """What a form shows when its submission failed unexpectedly (logged by the caller):
        the platform would otherwise show only its own connection error."""
        return on_form(Refusal(f"{FAILED.title}: {FAILED.text}"), form_id, context)

    async def request_form(self, email: str | None) -> Reply:
        """The empty request form, as a shortcut opens it from anywhere."""
        if email is None:
            return self.unknown
        core = self._core
        member = await core.run(self._member, email)
        return request_form(RequestKind.CAP_INCREASE, core.policy, member=member)

    async def home(self, email: str | None) -> tuple[Message, ...]:
        """The person's home: their usage and cap, their requests, what waits for them."""
        if email is None:
            return (self.unknown,)
        core = self._core
        return await core.run(home_of, core.uow(), core.policy, email=email, now=core.clock.now())

    def _member(self, email: str) -> Member | None:
        with self._core.uow() as uow:
            return uow.members.get(email)
