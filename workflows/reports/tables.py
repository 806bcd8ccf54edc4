"""A report as tables with stable columns, for the CLI to print in any format.

A column's `name` is its stable key (the CSV header, the JSON key); its `kind` says how a cell
is written: money is held in cents, time spans in seconds, instants in the org's timezone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

Cell = str | int | float | bool | date | datetime | None


class Kind(StrEnum):
    TEXT = "text"
    COUNT = "count"
    USD = "usd"
    """Cents, written as dollars."""
    PERCENT = "percent"
    """A whole percent, rounded down as everywhere."""
    HOURS = "hours"
    """Seconds, written as hours."""
    DAY = "day"
    INSTANT = "instant"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    header: str
    kind: Kind = Kind.TEXT


@dataclass(frozen=True, slots=True)
class Table:
    """One table of a report; `total` is a last row for people (never in CSV or JSON rows)."""

    name: str
    title: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    total: Sequence[Cell] | None = None

    def records(self) -> list[dict[str, Cell]]:
        """The rows as mappings from column name to cell."""
        names = [c.name for c in self.columns]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


@dataclass(frozen=True, slots=True)
class Report:
    """A whole report: what it covers, when it was made, its tables and notes for people."""

    name: str
    title: str
    at: datetime
    period: Mapping[str, Cell]
    tables: Sequence[Table]
    notes: Sequence[str] = field(default_factory=tuple)

    def table(self, name: str) -> Table:
        found = next((t for t in self.tables if t.name == name), None)
        if found is None:
            raise KeyError(name)
        return found
