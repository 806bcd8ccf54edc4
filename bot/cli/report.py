"""`capdesk report review|chargeback|access`: the reports, as a table, CSV, JSON or Markdown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from bot.cli.context import CliContext
from bot.cli.instants import at_option
from bot.cli.output import Output
from bot.reports.formats import FORMATS, Format, to_csv, to_json, to_markdown, to_rich
from workflows.policy import Policy
from workflows.reports.access import access_query, access_report
from workflows.reports.chargeback import By, chargeback_report
from workflows.reports.periods import Span, month_span, parse_month, parse_quarter, quarter_of
from workflows.reports.review import review_query, review_report
from workflows.reports.tables import Report

F = TypeVar("F", bound=Callable[..., Any])


def _format_options(command: F) -> F:
    command = click.option(
        "--table",
        "table_name",
        metavar="NAME",
        help="Only this table of the report (CSV prints one table: the first, unless named).",
    )(command)
    return click.option(
        "--format",
        "format_",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table and md for people; csv (one table) for spreadsheets; json for scripts.",
    )(command)


def _print(report: Report, format_: Format, table_name: str | None) -> None:
    tables = list(report.tables)
    if table_name is not None:
        names = [t.name for t in tables]
        if table_name not in names:
            raise click.BadParameter(
                f"no table {table_name!r} in this report; it has {', '.join(names)}",
                param_hint="--table",
            )
        tables = [report.table(table_name)]
    if format_ == "csv":
        click.echo(to_csv(tables[0]), nl=False)
    elif format_ == "json":
        click.echo(to_json(report, tables))
    elif format_ == "md":
        click.echo(to_markdown(report, tables), nl=False)
    else:
        Output().print(to_rich(report, tables))


def _begun(span: Span, policy: Policy, now: datetime, option: str) -> Span:
    if not span.begun(policy.org.zone, now):
        today = now.astimezone(policy.org.zone).date()
        raise click.BadParameter(
            f"{span.label} has not begun yet (today is {today.isoformat()})", param_hint=option
        )
    return span


def _span(parse: Callable[[str], Span], text: str, option: str) -> Span:
    try:
        return parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


@click.group()
def report() -> None:
    """Reports for owners, finance and auditors: review, chargeback, access."""


@report.command("review")
@click.option("--quarter", help="The quarter, as 2026Q4. Default: the current one, so far.")
@click.option("--group", "group_name", help="Only this group. Default: every group.")
@_format_options
@at_option
@click.pass_obj
def review(
    ctx: CliContext,
    quarter: str | None,
    group_name: str | None,
    format_: Format,
    table_name: str | None,
) -> None:
    """The quarterly review: requests, approval rate, time to decision, decisions per
    approver, auto- and refused self-approvals, grants ended on time, use cases by member,
    spend against cap; every group side by side."""
    app = ctx.app
    policy, now = app.policy, app.clock.now()
    if group_name is not None and policy.group(group_name) is None:
        names = ", ".join(g.name for g in policy.groups)
        raise click.BadParameter(
            f"no group {group_name!r}; the groups are {names}", param_hint="--group"
        )
    today = now.astimezone(policy.org.zone).date()
    span = quarter_of(today) if quarter is None else _span(parse_quarter, quarter, "--quarter")
    _begun(span, policy, now, "--quarter")
    app.ensure_synced()
    with app.uow() as uow:
        data = uow.reports.review(review_query(policy, span, now, group_name))
    _print(review_report(policy, data, span=span, now=now, group=group_name), format_, table_name)


@report.command("chargeback")
@click.option("--month", help="The month, as 2026-11. Default: the current one, so far.")
@click.option(
    "--by",
    type=click.Choice(["cost_center", "group"]),
    default="cost_center",
    show_default=True,
    help="One row per cost centre (groups[].cost_center in the policy), or per group.",
)
@_format_options
@at_option
@click.pass_obj
def chargeback(
    ctx: CliContext, month: str | None, by: By, format_: Format, table_name: str | None
) -> None:
    """Seats by tier, seat cost, active users, spend, grants in force and the total, per cost
    centre or group: the figures a finance team imports."""
    app = ctx.app
    policy, now = app.policy, app.clock.now()
    today = now.astimezone(policy.org.zone).date()
    span = month_span(today) if month is None else _span(parse_month, month, "--month")
    _begun(span, policy, now, "--month")
    app.ensure_synced()
    with app.uow() as uow:
        rows = uow.reports.chargeback(span.window(policy.org.zone, now))
    _print(chargeback_report(policy, rows, span=span, now=now, by=by), format_, table_name)


@report.command("access")
@click.option(
    "--days",
    type=click.IntRange(1, 3660),
    default=90,
    show_default=True,
    help="How far back elevations are listed.",
)
@_format_options
@at_option
@click.pass_obj
def access(ctx: CliContext, days: int, format_: Format, table_name: str | None) -> None:
    """Who holds which tier and cap, since when and approved by whom; the raises and upgrades
    of the last days; who has not used their seat for 30 days: for an access review."""
    app = ctx.app
    policy, now = app.policy, app.clock.now()
    app.ensure_synced()
    query = access_query(policy, now=now, days=days)
    with app.uow() as uow:
        data = uow.reports.access(query)
    _print(access_report(policy, data, query, days=days), format_, table_name)
