"""`capdesk db upgrade`: apply the schema migrations."""

from __future__ import annotations

import click

from bot.settings import SettingsError, load_settings
from store.engine import make_engine
from store.migrate import current, head, upgrade


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def upgrade_command() -> None:
    """Apply every migration the database does not have yet."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    engine = make_engine(settings.database_url)
    before = current(engine)
    upgrade(engine)
    after = current(engine)
    if before == after:
        click.echo(f"The database is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database from {before or 'empty'} to {after} (head {head()}).")
