"""`capdesk policy init [--backend ...]`: a commented starter policy from the backend (SPEC 3)."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

import click

from bot.bootstrap import connector_without_store
from bot.connectors.sandbox import SANDBOX_ZONE
from bot.settings import AdminBackend, load_settings
from bot.startup import clock_for
from workflows.admin import backend_groups
from workflows.policy.starter import starter_policy


@click.command()
@click.option(
    "--backend",
    type=click.Choice(get_args(AdminBackend)),
    help="The admin backend to read (default: CAPDESK_ADMIN_BACKEND).",
)
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%d"]), help="The day to date it.")
def init(backend: str | None, at: datetime | None) -> None:
    """Print a starter policy from the backend's members, groups and caps, for capdesk.yaml.

    Owners and channels cannot be read from any backend: they are placeholders marked TODO.
    """
    # Settings and backend failures reach the CLI's error boundary, which names the setting.
    settings = load_settings(backend=backend)
    # The day it is dated: --at, else CAPDESK_NOW or the real day in the sandbox's zone.
    today = at.date() if at is not None else None
    connector = connector_without_store(settings, today=today)
    members = list(connector.list_members())
    source = backend_groups(connector)
    groups = None if source is None else list(source.list_groups())
    try:
        dated = today or clock_for(settings, SANDBOX_ZONE).now().astimezone(SANDBOX_ZONE).date()
        text = starter_policy(members, groups, backend=connector.name, today=dated)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text, nl=False)
