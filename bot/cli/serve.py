"""`capdesk serve`: the bot, until interrupted."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from bot.cli.context import CliContext
from bot.server.runtime import Runtime

log = logging.getLogger(__name__)


@click.command()
@click.pass_obj
def serve(ctx: CliContext) -> None:
    """Run the bot: Slack (HTTP or Socket Mode), health, readiness, metrics."""
    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    # Their start-up chatter (each migration, each job added) buries capdesk's own lines.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    asyncio.run(_serve(Runtime(ctx.app)))


async def _serve(runtime: Runtime) -> None:
    settings = runtime.app.settings
    port = await runtime.start(host=settings.http_host, port=settings.http_port)
    base = f"http://{settings.http_host}:{port}"
    mode = "no chat platform configured"
    if runtime.playground is not None:
        mode = f"the playground: open {base}/playground"
    elif runtime.slack is not None:
        mode = (
            "Slack over Socket Mode" if settings.slack_app_token else "Slack at POST /slack/events"
        )
    click.echo(f"capdesk serving on {base} ({mode})")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    click.echo("capdesk stopping: finishing the work in hand")
    await runtime.stop()
