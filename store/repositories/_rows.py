"""Turning result rows into the domain's frozen records."""

from __future__ import annotations

import dataclasses
from typing import TypeVar

from sqlalchemy import RowMapping

T = TypeVar("T")


def to_record(cls: type[T], row: RowMapping, **renamed: str) -> T:
    """Build dataclass `cls` from the row's columns of the same names (`renamed`: field=column)."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    return cls(**{f.name: row[renamed.get(f.name, f.name)] for f in fields})
