"""Fixtures every kind of test may use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from store.engine import make_engine
from tests.postgres import POSTGRES_URL, in_ci, postgres_url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Engine]:
    """An engine on the server's default schema, for making and dropping test schemas."""
    engine = make_engine(postgres_url())
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = f"PostgreSQL is unreachable at {POSTGRES_URL}: {str(exc).splitlines()[0]}"
        if in_ci():
            pytest.fail(f"{reason}; CI is set, so the PostgreSQL tests may not be skipped")
        pytest.skip(f"{reason} (outside CI the PostgreSQL tests are skipped)")
    yield engine
    engine.dispose()
