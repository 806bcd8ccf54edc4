"""`capdesk db upgrade`: apply the schema migrations."""

from __future__ import annotations

import click
from sqlalchemy.exc import SQLAlchemyError

from bot.bootstrap import open_engine
from bot.cli.context import CliContext
from bot.failures import database_failure
from bot.startup import StartupError
from store.migrate import current, head, upgrade


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.pass_obj
def upgrade_command(ctx: CliContext) -> None:
    """Apply every migration the database does not have yet."""
    settings = ctx.settings
    engine = open_engine(settings)
    try:
        before = current(engine)
        upgrade(engine)
        after = current(engine)
    except SQLAlchemyError as exc:
        raise StartupError(database_failure(exc, settings)) from exc
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"The database is up to date (revision {after}).")
    else:
        click.echo(f"Upgraded the database from {before or 'empty'} to {after} (head {head()}).")
