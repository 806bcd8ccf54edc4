"""Chargeback: a month's seats, seat cost, active users, spend and grants per cost centre (the
policy's `groups[].cost_center`) or per group: the figures a finance team imports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from workflows.policy import Policy
from workflows.reports.periods import Span
from workflows.reports.records import GroupMonth
from workflows.reports.tables import Cell, Column, Kind, Report, Table

By = Literal["cost_center", "group"]


def _tiers(policy: Policy, rows: Sequence[GroupMonth]) -> list[str]:
    """The policy's tiers, lowest first, then any other tier a seat is on."""
    seen = {tier for row in rows for tier in row.seats}
    return list(policy.tier_names) + sorted(seen - set(policy.tier_names))


def _key(policy: Policy, group: str | None, by: By) -> str | None:
    if by == "group" or group is None:
        return group
    found = policy.group(group)
    return None if found is None else found.cost_center


def chargeback_report(
    policy: Policy, rows: Sequence[GroupMonth], *, span: Span, now: datetime, by: By
) -> Report:
    """One row per cost centre (or group); members in no group, or groups without a cost
    centre, make a last row with no name."""
    tiers = _tiers(policy, rows)
    price = {name: (tier.monthly_cents or 0) for name, tier in policy.seat_tiers.items()}
    merged: dict[str | None, list[GroupMonth]] = defaultdict(list)
    for row in rows:
        merged[_key(policy, row.group, by)].append(row)
    order = [g.name for g in policy.groups]

    def rank(key: str | None) -> tuple[bool, int, str]:
        position = order.index(key) if by == "group" and key in order else len(order)
        return (key is None, position, key or "")

    labels: list[list[Cell]] = []
    figures: list[list[int]] = []
    for key in sorted(merged, key=rank):
        months = merged[key]
        seats = [sum(m.seats.get(t, 0) for m in months) for t in tiers]
        seat_cost = sum(n * price.get(t, 0) for t, n in zip(tiers, seats, strict=True))
        spent = sum(m.spent_cents for m in months)
        groups = ", ".join(sorted(m.group or "(no group)" for m in months))
        labels.append([key, groups] if by == "cost_center" else [key])
        figures.append(
            [
                *seats,
                sum(seats),
                seat_cost,
                sum(m.active_users for m in months),
                spent,
                sum(m.grants_in_force for m in months),
                seat_cost + spent,
            ]
        )
    table_rows: list[list[Cell]] = [
        [*label, *numbers] for label, numbers in zip(labels, figures, strict=True)
    ]
    total: list[Cell] = ["total", *([""] if by == "cost_center" else [])]
    total += [sum(column) for column in zip(*figures, strict=True)] if figures else []
    columns = [
        Column(by, "Cost centre" if by == "cost_center" else "Group"),
        *([Column("groups", "Groups")] if by == "cost_center" else []),
        *(Column(f"seats_{t}", f"{t.capitalize()} seats", Kind.COUNT) for t in tiers),
        Column("seats", "Seats", Kind.COUNT),
        Column("seat_cost_usd", "Seat cost", Kind.USD),
        Column("active_users", "Active users", Kind.COUNT),
        Column("spend_usd", "Spend", Kind.USD),
        Column("grants_in_force", "Grants in force", Kind.COUNT),
        Column("total_usd", "Total", Kind.USD),
    ]
    unpriced = [t for t in tiers if policy.seat_tiers.get(t) is None or price.get(t) == 0]
    notes = (
        [f"No monthly price for {', '.join(unpriced)} seats: they cost nothing here."]
        if unpriced
        else []
    )
    return Report(
        name="chargeback",
        title=f"Chargeback {span.label} by {'cost centre' if by == 'cost_center' else 'group'}",
        at=now.astimezone(policy.org.zone),
        period={"month": span.label, "from": span.first_day, "to": span.last_day, "by": by},
        tables=[
            Table(
                "chargeback",
                f"Seats, seat cost, active users, spend and grants in {span.label}",
                columns,
                table_rows,
                total=total if figures else None,
            )
        ],
        notes=notes,
    )
