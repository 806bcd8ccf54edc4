"""A chat platform that exists only in the tests: a renderer to plain data and a transport
that records. It plugs into capdesk's seam as Slack does, and imports no Slack code."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.background import Background, OnLoop
from bot.chat.addresses import Addresses
from bot.chat.desk import Core, Desk
from bot.chat.directory import Directory
from bot.settings import Settings
from workflows.alerts.digest import DigestBudget
from workflows.errors import Refusal
from workflows.forms.model import Form, FormId
from workflows.messages import Message, Outgoing, Recipient, Verb, written_for

Plain = dict[str, Any]
BUDGET = DigestBudget(sections=12, text=200)
"""Less than Slack holds, so the digest visibly follows the platform's own budget."""


def render(reply: Message | Form, prefix: str) -> Plain:
    """The renderer: a message or a form as plain data, commands written with `prefix`."""
    if isinstance(reply, Form):
        fields = {f.name.value: {"kind": f.kind.value, "initial": f.initial} for f in reply.fields}
        return {
            "form": reply.form_id,
            "title": reply.title,
            "fields": fields,
            "context": reply.context,
        }
    message = reply.written_for(prefix)
    return {
        "title": message.title,
        "text": message.text,
        "facts": {f.label: f.value for f in message.facts},
        "sections": [s.text for s in message.sections],
        "buttons": [(a.verb.value, a.value) for a in message.actions],
        "footer": message.footer,
    }


class People:
    """Accounts on the platform are `<key>:<email>`, for the people it has."""

    def __init__(self, key: str, emails: set[str]) -> None:
        self._key, self._emails = key, emails

    async def email_of(self, account_id: str) -> str | None:
        email = account_id.removeprefix(f"{self._key}:")
        return email if email in self._emails else None

    async def account_of(self, email: str) -> str | None:
        return f"{self._key}:{email}" if email in self._emails else None


@dataclass
class Transport:
    """The platform's notifier: every post and update, recorded by conversation."""

    platform: str
    name: str
    addresses: Addresses
    on_loop: OnLoop
    prefix: str
    messages: dict[str, list[Plain]] = field(default_factory=dict)
    """Each message's versions, by reference."""
    inbox: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    """The references posted to each account or channel, in order."""

    def deliver(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        shown = render(outgoing.message, self.prefix)
        if replaces is not None:
            self.messages[replaces].append(shown)
            return replaces
        address = self.on_loop(self.addresses.of(outgoing.recipient))
        ref = f"{self.platform}-{len(self.messages) + 1}"
        self.messages[ref] = [shown]
        self.inbox[address.id].append(ref)
        return ref

    def reaches(self, recipient: Recipient) -> bool:
        return self.on_loop(self.addresses.reaches(recipient))


@dataclass
class Adapter:
    """The platform's adapter; people act on it by calling it, as its requests would."""

    notifier: Transport
    desk: Desk
    directory: Directory
    digest_budget: DigestBudget

    def add_routes(self, web_application: web.Application) -> None:
        """It is called directly, not over HTTP."""

    async def start(self, base_url: str) -> None: ...
    async def stop(self) -> None: ...
    async def close(self) -> None: ...

    async def types(self, account: str, text: str) -> Plain:
        reply = await self.desk.command(await self.directory.email_of(account), text)
        return render(reply, self.notifier.prefix)

    async def clicks(self, account: str, button: tuple[str, str]) -> Plain:
        verb, value = button
        clicked = await self.desk.click(await self.directory.email_of(account), Verb(verb), value)
        return render(clicked.reply, self.notifier.prefix)

    async def submits(self, account: str, form: Plain, values: Mapping[str, str]) -> Plain:
        email = await self.directory.email_of(account)
        try:
            done = await self.desk.submit(email, FormId(form["form"]), form["context"], values)
        except Refusal as refusal:
            return {"errors": {str(refusal.field): written_for(str(refusal), self.notifier.prefix)}}
        return render(done.message, self.notifier.prefix)


@dataclass
class PlainPlatform:
    """The platform as the composition root builds it; `emails` are the people on it."""

    key: str
    name: str
    emails: set[str]
    prefix: str = "!capdesk "
    digest_budget: DigestBudget = BUDGET
    built: list[Adapter] = field(default_factory=list)

    def configured(self, settings: Settings) -> bool:
        return True

    def check(self, settings: Settings) -> None: ...

    def adapter(self, settings: Settings, core: Core, *, background: Background) -> Adapter:
        directory = Directory(
            self.key, People(self.key, self.emails), core.uow, clock=core.clock, run=core.run
        )
        transport = Transport(
            self.key,
            self.name,
            Addresses(directory, core.policy, name=self.name),
            OnLoop(asyncio.get_running_loop()),
            self.prefix,
        )
        desk = Desk(core, platform=self.key, name=self.name)
        self.built.append(Adapter(transport, desk, directory, self.digest_budget))
        return self.built[-1]

    def outbound(self, settings: Settings, core: Core) -> AbstractAsyncContextManager[Transport]:
        @asynccontextmanager
        async def notifier() -> AsyncIterator[Transport]:
            yield self.adapter(settings, core, background=Background()).notifier

        return notifier()
