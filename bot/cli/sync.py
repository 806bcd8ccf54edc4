"""`capdesk sync`: pull seats and usage from the admin backend once."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from bot.cli.context import CliContext


@click.command()
@click.pass_obj
def sync(ctx: CliContext) -> None:
    """Pull members, seats and usage from the admin backend into the store."""
    app = ctx.app
    progress_line = Console(stderr=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=progress_line,
        transient=True,
        disable=not progress_line.is_terminal,  # elsewhere it leaves a blank line above an error
    ) as bar:
        task = bar.add_task(f"Syncing from {app.connector.name}", total=None)

        def progress(stage: str, done: int) -> None:
            bar.update(task, description=f"Syncing {stage} from {app.connector.name}: {done:,}")

        report = app.sync(progress)
    click.echo(
        f"Synced {report.members} members ({report.deactivated} deactivated), "
        f"{report.daily_rows:,} daily and {report.hourly_rows:,} hourly usage rows."
    )
