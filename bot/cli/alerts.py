"""`capdesk alerts run [--dry-run]` and `capdesk digest [--channel admin]` (SPEC section 3)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.bootstrap import Capdesk, configured_platforms, deliver_through_chat
from bot.cli.context import CliContext
from bot.cli.instants import at_option
from bot.cli.output import Output
from bot.console.notifier import CONSOLE, ConsoleNotifier
from bot.presence import delivering_server
from workflows.alerts.digest import channels, send_digests
from workflows.alerts.rules import Firing
from workflows.alerts.running import AlertRun, run_alerts
from workflows.alerts.texts import HEADINGS
from workflows.delivery import OnePlatform, deliver_pending
from workflows.messages import ADMIN_CHANNEL, group_channel


@contextmanager
def _working(what: str) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr while a long step runs; yields a function that renames the step."""
    stderr = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,  # elsewhere it leaves a blank line above an error
    ) as bar:
        task = bar.add_task(what, total=None)
        yield lambda text: bar.update(task, description=text)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of the messages a command queued."""

    said: str
    """`delivered 3 message(s)`, or that a running `capdesk serve` will deliver them."""
    delivered: int | None
    """Messages this command delivered; None when it left them to the server."""


def _deliver(app: Capdesk, out: Output) -> Delivery:
    """Post to the chat platforms configured (Slack); else leave the messages to a running
    `capdesk serve` that delivers them (the playground, say), or print each as it would
    read."""
    if configured_platforms(app.settings):
        report = deliver_through_chat(app)
    else:
        server = delivering_server(app)
        if server is not None:
            with app.uow() as uow:
                waiting = uow.notifications.depth()
            return Delivery(
                f"left the messages to the running capdesk serve, which delivers to {server}"
                f" ({waiting} waiting)",
                None,
            )
        report = deliver_pending(app.uow, _console(app, out), app.clock)
    return Delivery(f"delivered {len(report.delivered)} message(s)", len(report.delivered))


def _console(app: Capdesk, out: Output) -> OnePlatform:
    # The terminal stands in for the chat platforms when the CLI delivers.
    def name_of(email: str) -> str:
        with app.uow() as uow:
            member = uow.members.get(email)
        return member.name if member is not None else email

    return OnePlatform(ConsoleNotifier(out, name_of=name_of), name=CONSOLE)


def _table(run: AlertRun, app: Capdesk) -> Table:
    verb = "would fire" if run.dry_run else "fired"
    table = Table(title=f"Alerts that {verb} ({len(run.fired)})")
    for header in ("Rule", "Kind", "Subject", "What", "Period", "Goes to"):
        table.add_column(header, overflow="fold")
    for f in run.fired:
        rule = f.rule
        goes = ", ".join(rule.notify) + (" now" if rule.mode == "immediate" else "")
        table.add_row(
            rule.id,
            HEADINGS.get(f.kind, f.kind) + (f" ({f.stage})" if f.stage else ""),
            f.subject,
            f.summary,
            f.period,
            goes,
        )
    return table


@click.group()
def alerts() -> None:
    """Alert rules: near cap, after-hours spikes, idle seats, budgets, forecasts."""


def _firing_json(firing: Firing) -> dict[str, Any]:
    rule = firing.rule
    return {
        "rule": rule.id,
        "kind": firing.kind,
        "stage": firing.stage or None,
        "subject": firing.subject,
        "member": firing.member,
        "group": firing.group,
        "period": firing.period,
        "summary": firing.summary,
        "urgency": round(firing.urgency, 4),
        "notify": list(rule.notify),
        "mode": rule.mode,
        "action": None
        if firing.action is None
        else {"verb": firing.action.verb.value, "value": firing.action.value},
        "figures": firing.figures,
    }


def run_json(run: AlertRun, delivery: Delivery | None) -> dict[str, Any]:
    """`capdesk alerts run --json`: the document docs/json-output.md describes."""
    return {
        "at": run.at.isoformat(),
        "dry_run": run.dry_run,
        "fired": [_firing_json(f) for f in run.fired],
        "held_back": run.held_back,
        "delivered": None if delivery is None else delivery.delivered,
    }


@alerts.command("run")
@click.option("--dry-run", is_flag=True, help="Show what would fire; record and send nothing.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the run as JSON for scripts (keys in docs/json-output.md); the messages a "
    "run prints instead of sending go to stderr.",
)
@at_option
@click.pass_obj
def run_command(ctx: CliContext, dry_run: bool, as_json: bool) -> None:
    """Evaluate every rule once and print what fires; without --dry-run, deliver it too."""
    app = ctx.app
    out = Output(stderr=as_json)
    with _working("Syncing usage first") as say:
        app.ensure_synced(lambda stage, done: say(f"Syncing {stage}: {done:,}"))
        say(f"Evaluating {len(app.policy.rules)} rules")
        run = run_alerts(app.uow, app.policy, now=app.clock.now(), dry_run=dry_run)
    if as_json:
        delivery = None if dry_run else _deliver(app, out)
        click.echo(json.dumps(run_json(run, delivery), indent=2, default=str))
        return
    if run.fired:
        out.print(_table(run, app))
    else:
        click.echo("Nothing fires.")
    held = f" {run.held_back} held back by their key or cooldown." if run.held_back else ""
    if dry_run:
        click.echo(f"Dry run: nothing was recorded or sent.{held}")
        return
    delivery = _deliver(app, out)
    click.echo(
        f"Recorded {len(run.fired)} firing(s) and {delivery.said};"
        f" digest items wait for `capdesk digest`.{held}"
    )


@click.command()
@click.option(
    "--channel",
    "channel",
    help="Only this channel's digest: `admin`, or a group's name. Default: every digest.",
)
@at_option
@click.pass_obj
def digest(ctx: CliContext, channel: str | None) -> None:
    """Post the digests now: what fired since the last one, with buttons and a chart."""
    app = ctx.app
    only = None
    if channel is not None:
        wanted = (
            channel
            if channel in (ADMIN_CHANNEL,)
            else group_channel(channel.removeprefix("group:"))
        )
        if wanted not in channels(app.policy):
            names = ", ".join(["admin", *(g.name for g in app.policy.groups)])
            raise click.BadParameter(
                f"no channel {channel!r}; choose from {names}", param_hint="--channel"
            )
        only = {wanted}
    with _working("Composing the digests"):
        sent = send_digests(
            app.uow, app.policy, now=app.clock.now(), budget=app.digest_budget, only=only
        )
        delivery = _deliver(app, Output())
    posted = [d for d in sent if d.sent]
    if not posted:
        click.echo("Nothing to report: no digest sent.")
        return
    summary = ", ".join(
        f"{d.channel} ({d.items} item{'s' if d.items != 1 else ''})" for d in posted
    )
    click.echo(f"Posted {len(posted)} digest(s): {summary}; {delivery.said}.")
