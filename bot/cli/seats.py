"""`capdesk seats`: the seat pool of each tier."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.table import Table

from bot.cli.context import CliContext
from bot.cli.instants import at_option
from bot.cli.output import Output
from workflows.money import format_usd
from workflows.pool.standing import TierPool, idle_after_days, pools

IDLE_SHOWN = 5


def _json(pool: TierPool) -> dict[str, Any]:
    return {
        "tier": pool.tier,
        "seats": pool.seats,
        "in_use": pool.in_use,
        "free": pool.free,
        "held_temporarily": pool.held_temporarily,
        "monthly_usd": None if pool.monthly_cents is None else pool.monthly_cents / 100,
        "idle_count": pool.idle_count,
        "idle_holders": [
            {
                "email": h.email,
                "name": h.name,
                "last_active": h.last_active.isoformat(),
                "idle_days": pool.idle_days(h),
                "temporary": h.temporary,
            }
            for h in pool.idle
        ],
    }


def _idle(pool: TierPool) -> str:
    shown = ", ".join(f"{h.name} ({pool.idle_days(h)}d)" for h in pool.idle)
    more = pool.idle_count - len(pool.idle)
    return shown + (f", and {more} more" if more > 0 else "")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@at_option
@click.pass_obj
def seats(ctx: CliContext, as_json: bool) -> None:
    """The seat pool of each tier: seats, in use, free, held temporarily, idle holders."""
    app = ctx.app
    app.ensure_synced()
    idle_after = idle_after_days(app.policy)
    with app.uow() as uow:
        found = pools(uow, app.policy, now=app.clock.now(), idle_limit=IDLE_SHOWN)
    if as_json:
        document = {"idle_after_days": idle_after, "tiers": [_json(p) for p in found]}
        click.echo(json.dumps(document, indent=2))
        return
    table = Table(title=f"Seat pool (idle: not used for {idle_after} days or more)")
    for header in ("Tier", "Seats", "In use", "Free", "Held temporarily", "Price", "Idle holders"):
        table.add_column(header, overflow="fold")
    for pool in found:
        table.add_row(
            pool.tier,
            "no pool" if pool.seats is None else str(pool.seats),
            str(pool.in_use),
            "" if pool.free is None else str(pool.free),
            str(pool.held_temporarily),
            "" if pool.monthly_cents is None else f"{format_usd(pool.monthly_cents)}/month",
            _idle(pool),
        )
    Output().print(table)
