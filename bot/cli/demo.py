"""`capdesk demo`: a scripted walk through the sandbox org in the terminal."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from bot.demo import run_demo


@click.command()
@click.option("--seed", default=7, show_default=True, help="Seed of the synthetic org.")
@click.option(
    "--at",
    "start",
    type=click.DateTime(["%Y-%m-%dT%H:%M"]),
    help="Start the story at this UTC time instead of now (for a reproducible transcript).",
)
@click.option("--width", type=int, help="Terminal width (default: your terminal's).")
def demo(seed: int, start: datetime | None, width: int | None) -> None:
    """Walk through a request, its approval, the applied change and its revert."""
    begin = start.replace(tzinfo=UTC) if start else datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="capdesk-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        run_demo(Console(width=width), database_url=url, seed=seed, start=begin)
