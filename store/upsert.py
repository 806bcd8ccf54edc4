"""INSERT ... ON CONFLICT DO UPDATE on both dialects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import RowMapping, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_unless_exists(
    session: Session, table: Table, values: Mapping[str, Any], *, keys: list[str]
) -> RowMapping | None:
    """Insert a row and return it, or None when a row with the same `keys` exists already.

    One statement, and no savepoint: the conflict never becomes an error.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(values).on_conflict_do_nothing(index_elements=keys)
    return session.execute(statement.returning(*table.c)).mappings().first()


def upsert(
    session: Session,
    table: Table,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    keys: list[str],
    update: list[str],
) -> None:
    """Insert rows, replacing the `update` columns of rows whose `keys` already exist."""
    if not values:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(values)
    excluded = statement.excluded
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={column: excluded[column] for column in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    session.execute(statement)
