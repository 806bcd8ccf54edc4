"""The `capdesk` command (SPEC section 3)."""

from __future__ import annotations

import logging

import click

from bot.cli.alerts import alerts, digest
from bot.cli.context import CliContext
from bot.cli.db import db
from bot.cli.demo import demo
from bot.cli.lists import members, requests
from bot.cli.policy import policy
from bot.cli.serve import serve
from bot.cli.sync import sync
from bot.cli.teams import teams


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what capdesk does.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """capdesk: AI-assistant seats and spend, governed in chat."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    ctx.obj = CliContext()


for command in (alerts, db, demo, digest, members, policy, requests, serve, sync, teams):
    cli.add_command(command)
