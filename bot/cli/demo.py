"""`capdesk demo`: a scripted walk through the sandbox org in the terminal."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console

from bot.cli.instants import Instant
from bot.connectors.sandbox import SANDBOX_ZONE
from bot.demo import run_demo
from bot.settings import SettingsError, load_now_setting
from bot.startup import StartupError, start_of_clock
from workflows.clock import INSTANT_FORMAT, SystemClock


@click.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the synthetic org.")
@click.option(
    "--at",
    "at",
    type=Instant(),
    metavar=INSTANT_FORMAT,
    help=(
        "Start the story at this time instead of now (or CAPDESK_NOW), read in the sandbox"
        f" org's timezone ({SANDBOX_ZONE}) unless an offset follows; the same --at tells the"
        " same story."
    ),
)
@click.option("--width", type=int, help="Terminal width (default: your terminal's).")
def demo(seed: int, at: datetime | None, width: int | None) -> None:
    """Walk through a request, its approval, the applied change and its revert."""
    try:
        # The demo keeps its own database and policy: of your settings it reads only this one.
        start = start_of_clock(load_now_setting(), SANDBOX_ZONE, at=at) or SystemClock().now()
    except (SettingsError, StartupError) as exc:
        raise click.ClickException(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="capdesk-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        run_demo(Console(width=width), database_url=url, seed=seed, start=start)
