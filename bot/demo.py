"""`capdesk demo`: the sandbox story told in the terminal, through the real domain and store.

The story: a request, its approval, the applied change, refusals, an automatic approval, the
admins' alert digest, and a temporary grant warned about and reverted.

Every message is delivered through the notifications outbox to a console "platform" and
printed as its recipient would read it; every change goes through the outbox worker to the
sandbox backend, whose state is read back to show the effect.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule

from bot.bootstrap import Capdesk, bootstrap
from bot.console.notifier import CONSOLE, ConsoleNotifier
from bot.console.render import render_delivery
from bot.settings import load_settings
from workflows.alerts.digest import send_digests
from workflows.alerts.running import run_alerts
from workflows.alerts.texts import HEADINGS
from workflows.applying.grants import expire_grants, warn_ending_grants
from workflows.clock import ManualClock
from workflows.commands import run_command
from workflows.delivery import OnePlatform, deliver_pending
from workflows.errors import Refusal
from workflows.messages import ADMIN_CHANNEL, Message, Outgoing, Recipient
from workflows.model import Request, Verdict
from workflows.money import format_usd
from workflows.requests.deciding import decide

EVE, DANA = "eve.novak@example.com", "dana.okafor@example.com"
TOM, SAM = "tom.becker@example.com", "sam.ortiz@example.com"
RAVI = "ravi.menon@example.com"


class Demo:
    """One run of the story on a fresh database."""

    def __init__(self, app: Capdesk, clock: ManualClock, console: Console) -> None:
        self.app, self.clock, self.console = app, clock, console
        self.notifier = ConsoleNotifier(console, name_of=self.name)

    def name(self, email: str) -> str:
        with self.app.uow() as uow:
            member = uow.members.get(email)
        return member.name if member is not None else email

    def step(self, title: str) -> None:
        self.console.print()
        self.console.print(Rule(f"[bold]{title}"))

    def narrate(self, text: str) -> None:
        self.console.print(f"[dim]{text}[/dim]")

    def deliver(self) -> None:
        deliver_pending(self.app.uow, OnePlatform(self.notifier, name=CONSOLE), self.clock)

    def only_you(self, email: str, message: Message) -> None:
        """A reply only the person who typed sees (ephemeral)."""
        outgoing = Outgoing(recipient=Recipient.member(email), message=message)
        label = f"only visible to {self.name(email)}"
        self.console.print(render_delivery(outgoing, recipient_label=label))

    def types(self, email: str, text: str) -> None:
        self.console.print(f"[bold]{self.name(email)}[/bold] types [cyan]/capdesk {text}[/cyan]")
        try:
            reply = run_command(
                self.app.uow, self.app.policy, email=email, text=text, now=self.clock.now()
            )
        except Refusal as refusal:
            reply = Message(kind="refusal", title="That didn't work", text=str(refusal))
        self.only_you(email, reply)
        self.deliver()

    def clicks(
        self, email: str, label: str, request: Request, verdict: Verdict, note: str | None = None
    ) -> None:
        said = f" and writes [italic]{note}[/italic]" if note else ""
        self.console.print(
            f"[bold]{self.name(email)}[/bold] clicks [bold][ {label} ][/bold]"
            f" on request {request.ref}{said}"
        )
        try:
            decide(
                self.app.uow(),
                self.app.policy,
                request_id=request.id,
                actor=email,
                verdict=verdict,
                now=self.clock.now(),
                note=note,
            )
        except Refusal as refusal:
            self.only_you(
                email, Message(kind="refusal", title="That didn't work", text=str(refusal))
            )
        self.deliver()

    def apply(self) -> None:
        report = self.app.worker().drain()
        self.narrate(
            f"The outbox worker applied {len(report.applied)} change(s)"
            f" through the {self.app.connector.name} connector."
        )
        self.deliver()

    def alerts(self) -> None:
        """One evaluation of the rules and the admins' digest; members' DMs are only counted."""
        now = self.clock.now()
        run = run_alerts(self.app.uow, self.app.policy, now=now)
        kinds = Counter(HEADINGS[f.kind].lower() for f in run.fired)
        self.narrate(
            f"{len(run.fired)} alert(s) fired: "
            + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
            + "."
        )
        send_digests(
            self.app.uow,
            self.app.policy,
            now=now,
            budget=self.app.digest_budget,
            only={ADMIN_CHANNEL},
        )
        view = _ChannelsOnly(self.notifier)
        deliver_pending(self.app.uow, OnePlatform(view, name=CONSOLE), self.clock)
        self.narrate(
            f"Also sent {sum(view.direct.values())} direct message(s) to members: "
            + ", ".join(f"{count} {kind}" for kind, count in sorted(view.direct.items()))
            + "."
        )

    def backend_says(self, email: str) -> None:
        remote = next(m for m in self.app.connector.list_members() if m.email == email)
        cap = (
            format_usd(remote.monthly_cap_cents) if remote.monthly_cap_cents is not None else "none"
        )
        self.console.print(
            Panel(
                f"{remote.name}: {remote.tier} seat, monthly cap {cap}",
                title="The sandbox admin backend now says",
                expand=False,
            )
        )

    def latest(self, email: str) -> Request:
        with self.app.uow() as uow:
            return uow.requests.list(requester=email)[0]

    def run(self) -> None:
        org = self.app.sandbox
        assert org is not None
        local = self.clock.now().astimezone(self.app.policy.org.zone)
        self.console.print(
            Panel.fit(
                f"capdesk demo · sandbox org (seed {self.app.settings.sandbox_seed}):"
                f" {len(org.people)} people in {len(self.app.policy.groups)} groups"
                f" · {local:%a %d %b %Y %H:%M %Z}",
                style="bold",
            )
        )
        self.app.sync()

        self.step("1. Eve checks where she stands")
        self.types(EVE, "status")

        self.step("2. Eve asks for $150 more for the release")
        self.types(EVE, "raise 150 for 14d release prep: flashing and HIL test runs")
        request = self.latest(EVE)

        self.step("3. Her owner Dana approves with one click")
        self.clicks(DANA, "Approve", request, Verdict.APPROVE)
        self.clicks(DANA, "Approve", request, Verdict.APPROVE)

        self.step("4. The change is applied through the admin API")
        self.apply()
        self.backend_says(EVE)

        self.step("5. Tom asks for a premium seat; Sam denies it with a reason")
        self.types(TOM, "upgrade premium for 30d profiling the build cache")
        tom = self.latest(TOM)
        self.clicks(TOM, "Approve", tom, Verdict.APPROVE)
        self.clicks(
            SAM, "Deny", tom, Verdict.DENY, note="Use the shared profiling seat this sprint"
        )

        self.step("6. Requests capdesk refuses, changing nothing")
        self.types(EVE, "raise 5000 for 14d everything")
        self.types(TOM, "raise 40 until 2020-01-01 old date")
        self.types(TOM, "raise 40 for 7d")

        self.step("7. A small increase is approved by the policy itself")
        self.types(RAVI, "raise 20 for 7d board bring-up")
        self.apply()

        self.step("8. capdesk checks its alert rules and posts the admins' digest")
        self.alerts()

        self.step("9. Thirteen days later Eve is told her grant ends tomorrow")
        self.clock.advance(timedelta(days=13))
        warn_ending_grants(self.app.uow(), self.app.policy, now=self.clock.now())
        self.deliver()

        self.step("10. At the end of the grant it reverts by itself")
        self.clock.advance(timedelta(days=1, hours=1))
        expire_grants(self.app.uow(), now=self.clock.now())
        self.apply()
        self.backend_says(EVE)


class _ChannelsOnly:
    """Prints what goes to channels; direct messages are counted by kind, to keep it short."""

    def __init__(self, shown: ConsoleNotifier) -> None:
        self._shown = shown
        self.direct: Counter[str] = Counter()

    def deliver(self, outgoing: Outgoing, *, replaces: str | None) -> str:
        if outgoing.recipient.kind == "member":
            self.direct[_DM_KINDS.get(outgoing.message.kind, outgoing.message.kind)] += 1
            return f"counted-{sum(self.direct.values())}"
        return self._shown.deliver(outgoing, replaces=replaces)


_DM_KINDS = {
    "alert_cap_near": "near-cap nudges",
    "alert_forecast": "forecast nudges",
    "alert_idle_seat": "idle-seat questions",
    "alert_after_hours": "after-hours notes",
    "digest": "owners' digests",
}


def run_demo(console: Console, *, database_url: str, seed: int, start: datetime) -> None:
    """Tell the story on the given (fresh) database."""
    clock = ManualClock(start)
    settings = load_settings(
        {
            "CAPDESK_DATABASE_URL": database_url,
            "CAPDESK_SANDBOX_SEED": str(seed),
            # One change at a time, so that the story's messages come in the same order always.
            "CAPDESK_APPLY_CONCURRENCY": "1",
        }
    )
    app = bootstrap(settings, clock=clock, builtin_policy_only=True)
    Demo(app, clock, console).run()
