"""A real database for every integration test: SQLite (a temp file) and PostgreSQL.

Each PostgreSQL test gets a schema of its own (`tests.postgres`). When the server is unreachable
the PostgreSQL cases are skipped, except in CI (`CI` set), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from store.engine import make_engine
from store.migrate import upgrade
from tests.integration import world
from tests.integration.connectors import FileBackend
from tests.integration.world import Org
from tests.postgres import fresh_schema
from workflows.clock import ManualClock


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database nobody else uses: a new SQLite file, or a new PostgreSQL schema."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'capdesk.db'}"
        return
    server: Engine = request.getfixturevalue("postgres_server")
    with fresh_schema(server, "capdesk_it") as (_, url):
        yield url


@pytest.fixture
def blank_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the empty database, before any migration."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(blank_engine: Engine) -> Engine:
    """An engine on a database migrated to head (`capdesk db upgrade`)."""
    upgrade(blank_engine)
    return blank_engine


@pytest.fixture
def backend(tmp_path: Path) -> FileBackend:
    connector = FileBackend(tmp_path / "backend.sqlite")
    connector.seed(world.members())
    return connector


@pytest.fixture
def org(dialect: str, database_url: str, engine: Engine, backend: FileBackend) -> Org:
    world.seed(engine)
    return Org(dialect, database_url, engine, backend, ManualClock(world.T0))
