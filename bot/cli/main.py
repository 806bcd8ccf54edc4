"""The `capdesk` command (SPEC section 3) and its one error boundary.

Every command runs inside `CapdeskGroup.invoke`: an expected failure (settings, policy,
start-up, the admin backend, the database) ends the command with `Error: <cause> (<SETTING>=
<value>)` and exit status 1; a bug ends it with one line that says so. `-v` prints the
traceback first, in both cases.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import click

from bot.cli.alerts import alerts, digest
from bot.cli.context import CliContext
from bot.cli.db import db
from bot.cli.demo import demo
from bot.cli.lists import members, requests
from bot.cli.policy import policy
from bot.cli.policy_init import init
from bot.cli.report import report
from bot.cli.seats import seats
from bot.cli.serve import serve
from bot.cli.sync import sync
from bot.cli.teams import teams
from bot.failures import explain

_CLICK_OWN = (click.ClickException, click.exceptions.Exit, click.exceptions.Abort)


class CapdeskGroup(click.Group):
    """The command group whose `invoke` turns what a command raises into one line."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except _CLICK_OWN:
            raise
        except Exception as exc:
            raise _one_line(ctx, exc) from None


def _one_line(ctx: click.Context, exc: Exception) -> click.ClickException:
    if ctx.params.get("verbose"):
        click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
    settings = ctx.obj.loaded_settings if isinstance(ctx.obj, CliContext) else None
    line = explain(exc, settings)
    if line is None:
        said = (str(exc).strip().splitlines() or [""])[0]
        what = f"{type(exc).__name__}: {said}" if said else type(exc).__name__
        hint = "" if ctx.params.get("verbose") else "; run it again with -v to see the traceback"
        line = f"capdesk failed unexpectedly ({what}), a bug{hint}"
    return click.ClickException(line)


@click.group(cls=CapdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-v", "--verbose", is_flag=True, help="Log what capdesk does; show the traceback of a failure."
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """capdesk: AI-assistant seats and spend, governed in chat."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    ctx.obj = CliContext()


for command in (alerts, db, demo, digest, members, policy, requests, serve, sync, teams):
    cli.add_command(command)
cli.add_command(report)
cli.add_command(seats)
policy.add_command(init)
