"""Writing a report (`workflows.reports.tables.Report`) in each format.

CSV is one table, for a spreadsheet to open as it is: a UTF-8 byte order mark (so Excel reads
names with accents right), a header row of the stable column names, RFC 4180 quoting and line
ends, amounts as plain numbers with two decimals, ISO dates and times, `true`/`false`. JSON
holds every table, keyed by column name, with numbers as numbers. Markdown and the terminal
table are for people: dollars, percents, waits in hours and minutes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from rich.console import Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from workflows.money import format_usd
from workflows.reports.review import duration
from workflows.reports.tables import Cell, Column, Kind, Report, Table

Format = Literal["table", "csv", "json", "md"]
FORMATS: tuple[Format, ...] = ("table", "csv", "json", "md")
BOM = "\ufeff"


def _number(cell: Cell) -> float:
    """The number in a cell of an amount or a wait; anything else there is a bug."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return cell
    raise TypeError(f"{cell!r} is not a number")


def plain(cell: Cell, kind: Kind) -> Any:
    """A cell as JSON holds it: dollars and hours as numbers, days and instants as ISO text."""
    if cell is None:
        return None
    if kind is Kind.USD:
        return round(_number(cell) / 100, 2)
    if kind is Kind.HOURS:
        return round(_number(cell) / 3600, 2)
    if isinstance(cell, datetime):
        return cell.isoformat(timespec="seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    return cell


def csv_cell(cell: Cell, kind: Kind) -> str:
    """A cell as CSV writes it: no currency sign, two decimals for amounts and hours."""
    if cell is None:
        return ""
    if kind is Kind.USD:
        return f"{_number(cell) / 100:.2f}"
    if kind is Kind.HOURS:
        return f"{_number(cell) / 3600:.2f}"
    if isinstance(cell, bool):
        return "true" if cell else "false"
    value = plain(cell, kind)
    return str(value)


def shown(cell: Cell, kind: Kind) -> str:
    """A cell as people read it."""
    if cell is None or cell == "":
        return ""
    if kind is Kind.USD:
        return format_usd(int(_number(cell)))
    if kind is Kind.PERCENT:
        return f"{cell}%"
    if kind is Kind.HOURS:
        return duration(_number(cell))
    if kind is Kind.FLAG:
        return "yes" if cell else "no"
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M")
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def to_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [csv_cell(cell, column.kind) for cell, column in zip(row, table.columns, strict=True)]
        )
    return BOM + buffer.getvalue()


def to_json(report: Report, tables: Sequence[Table]) -> str:
    document = {
        "report": report.name,
        "title": report.title,
        "at": report.at.isoformat(timespec="seconds"),
        "period": {key: plain(value, Kind.TEXT) for key, value in report.period.items()},
        "tables": {
            t.name: [
                {c.name: plain(cell, c.kind) for c, cell in zip(t.columns, row, strict=True)}
                for row in t.rows
            ]
            for t in tables
        },
        "notes": list(report.notes),
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _md_cell(cell: Cell, column: Column) -> str:
    return shown(cell, column.kind).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report, tables: Sequence[Table]) -> str:
    lines = [f"# {report.title}", "", _covers(report), ""]
    for table in tables:
        lines += [f"## {table.title}", ""]
        if not table.rows:
            lines += ["None.", ""]
            continue
        lines.append("| " + " | ".join(c.name for c in table.columns) + " |")
        lines.append("|" + "|".join("---" for _ in table.columns) + "|")
        rows = [*table.rows, *([table.total] if table.total is not None else [])]
        for row in rows:
            cells = [_md_cell(cell, c) for cell, c in zip(row, table.columns, strict=True)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if report.notes:
        lines += [f"- {note}" for note in report.notes] + [""]
    return "\n".join(lines)


def _covers(report: Report) -> str:
    period = ", ".join(
        f"{key} {plain(value, Kind.TEXT)}"
        for key, value in report.period.items()
        if value is not None
    )
    return f"{period}; as of {report.at:%Y-%m-%d %H:%M %Z}"


def to_rich(report: Report, tables: Sequence[Table]) -> RenderableType:
    parts: list[RenderableType] = [Text(report.title, style="bold"), Text(_covers(report))]
    for table in tables:
        if not table.rows:
            parts.append(Text(f"{table.title}: none."))
            continue
        rich = RichTable(title=table.title, title_justify="left")
        for column in table.columns:
            numeric = column.kind in (Kind.COUNT, Kind.USD, Kind.PERCENT, Kind.HOURS)
            rich.add_column(column.header, justify="right" if numeric else "left", overflow="fold")
        for row in table.rows:
            rich.add_row(*(shown(cell, c.kind) for cell, c in zip(row, table.columns, strict=True)))
        if table.total is not None:
            rich.add_row(
                *(shown(cell, c.kind) for cell, c in zip(table.total, table.columns, strict=True)),
                style="bold",
                end_section=False,
            )
        parts.append(rich)
    parts += [Text(note) for note in report.notes]
    return Group(*parts)
