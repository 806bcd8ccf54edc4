"""`capdesk requests list` and `capdesk members list`: tables for people, JSON for scripts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click
from rich.table import Table

from bot.cli.context import CliContext
from bot.cli.instants import at_option
from bot.cli.output import Output
from workflows.model import Request, RequestKind, RequestStatus
from workflows.money import format_usd, percent_of
from workflows.requests.announce import month_start
from workflows.requests.texts import what
from workflows.timefmt import local_stamp


def _print(
    rows: list[dict[str, Any]], columns: list[tuple[str, str]], *, as_json: bool, title: str
) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo(f"{title}: none.")
        return
    table = Table(title=title)
    for _key, header in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(str(row[key]) if row[key] is not None else "" for key, _ in columns))
    Output().print(table)


def _usd(cents: int | None) -> float | None:
    return None if cents is None else cents / 100


def _instant(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def request_json(r: Request, zone: ZoneInfo) -> dict[str, Any]:
    """One request for `capdesk requests list --json`, as docs/json-output.md describes it."""
    increase = r.kind is RequestKind.CAP_INCREASE
    cap_after = (
        (r.new_cap_cents or r.cap_before_cents + (r.amount_cents or 0)) if increase else None
    )
    return {
        "id": r.id,
        "requester": r.requester,
        "group": r.group,
        "kind": r.kind.value,
        "what": what(r),
        "amount_usd": _usd(cap_after - r.cap_before_cents) if cap_after is not None else None,
        "cap_before_usd": _usd(r.cap_before_cents) if increase else None,
        "cap_after_usd": _usd(cap_after),
        "tier_before": r.tier_before,
        "tier_after": None if increase else r.target_tier,
        "ends_at": _instant(r.ends_at),
        "until": None
        if r.ends_at is None
        else (r.ends_at - timedelta(microseconds=1)).astimezone(zone).date().isoformat(),
        "status": r.status.value,
        "reason": r.reason,
        "source": r.source,
        "created_at": _instant(r.created_at),
        "decided_by": r.decided_by,
        "decided_at": _instant(r.decided_at),
        "decision_note": r.decision_note,
    }


@click.group()
def requests() -> None:
    """Requests for more spend or better seats."""


@requests.command("list")
@click.option(
    "--status",
    type=click.Choice([s.value for s in RequestStatus]),
    help="Only requests in this state.",
)
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@click.pass_obj
def list_requests(ctx: CliContext, status: str | None, as_json: bool) -> None:
    """Requests, newest first."""
    app = ctx.app
    zone = app.policy.org.zone
    now = app.clock.now()
    with app.uow() as uow:
        found = uow.requests.list(status=RequestStatus(status) if status else None)
    if as_json:
        _print([request_json(r, zone) for r in found], [], as_json=True, title="")
        return
    rows = [
        {
            "id": r.id,
            "requester": r.requester,
            "group": r.group,
            "what": what(r),
            "ends_at": local_stamp(r.ends_at, zone, now=now) if r.ends_at else None,
            "status": r.status.value,
            "reason": r.reason,
            "decided_by": r.decided_by,
        }
        for r in found
    ]
    columns = [
        ("id", "#"),
        ("requester", "Requester"),
        ("group", "Group"),
        ("what", "What"),
        ("ends_at", "Until"),
        ("status", "Status"),
        ("decided_by", "Decided by"),
        ("reason", "Reason"),
    ]
    _print(rows, columns, as_json=as_json, title=f"Requests ({status or 'all'})")


@click.group()
def members() -> None:
    """People with seats."""


@members.command("list")
@click.option("--group", "group_name", help="Only this group.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
@at_option
@click.pass_obj
def list_members(ctx: CliContext, group_name: str | None, as_json: bool) -> None:
    """Members with group, tier, cap and month-to-date spend."""
    app = ctx.app
    if group_name is not None and app.policy.group(group_name) is None:
        names = ", ".join(g.name for g in app.policy.groups)
        raise click.BadParameter(
            f"no group {group_name!r}; the groups are {names}", param_hint="--group"
        )
    app.ensure_synced()
    since = month_start(app.clock.now(), app.policy)
    with app.uow() as uow:
        people = uow.members.list()
        spend = uow.usage.spend_by_member(since)
    rows = []
    for m in people:
        group = app.policy.group_of_member(m)
        if group_name is not None and (group is None or group.name != group_name):
            continue
        spent = spend.get(m.email, 0)
        rows.append(
            {
                "email": m.email,
                "name": m.name,
                "group": group.name if group else None,
                "tier": m.tier,
                "cap_usd": m.cap_cents / 100 if as_json else format_usd(m.cap_cents),
                "spent_usd": spent / 100 if as_json else format_usd(spent),
                "used_pct": percent_of(spent, m.cap_cents) if m.cap_cents else None,
                "active": m.active,
            }
        )
    columns = [
        ("name", "Name"),
        ("email", "Email"),
        ("group", "Group"),
        ("tier", "Tier"),
        ("cap_usd", "Cap"),
        ("spent_usd", "Spent (month)"),
        ("used_pct", "%"),
        ("active", "Active"),
    ]
    _print(
        rows, columns, as_json=as_json, title=f"Members ({group_name or 'all groups'}), {len(rows)}"
    )
