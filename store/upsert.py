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

    One statement, and no savepoint: the conflict never becomes an error. The statement is
    built once per table, keys and dialect, and the values go as parameters: building it
    per row cost more Python time than the round trip.
    """
    dialect = session.get_bind().dialect.name
    shape = (table.name, tuple(keys), dialect)
    statement = _UNLESS_EXISTS.get(shape)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table).on_conflict_do_nothing(index_elements=keys).returning(*table.c)
        _UNLESS_EXISTS[shape] = statement
    return session.execute(statement, dict(values)).mappings().first()


_UNLESS_EXISTS: dict[tuple[str, tuple[str, ...], str], Any] = {}


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
