"""`capdesk policy init [--backend ...]`: a commented starter policy from the backend (SPEC 3)."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

import click

from bot.bootstrap import reading_connector
from bot.settings import AdminBackend, SettingsError, load_settings
from workflows.admin import ConnectorError, backend_groups
from workflows.clock import SystemClock
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
    try:
        settings = load_settings(backend=backend)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    today = (at or SystemClock().now()).date()
    connector = reading_connector(settings, today=today)
    try:
        members = list(connector.list_members())
        source = backend_groups(connector)
        groups = None if source is None else list(source.list_groups())
        text = starter_policy(members, groups, backend=connector.name, today=today)
    except (ConnectorError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(text, nl=False)
