"""`capdesk db upgrade`: apply the schema migrations."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from bot.bootstrap import one_line
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
    try:
        before = current(engine)
        upgrade(engine)
        after = current(engine)
    except SQLAlchemyError as exc:
        # One line naming the setting (SPEC 2), not a traceback, when the database is unreachable.
        raise click.ClickException(f"CAPDESK_DATABASE_URL: {one_line(exc)}") from None
    if before == after:
        click.echo(f"The database is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database from {before or 'empty'} to {after} (head {head()}).")
