"""A real database for every integration test: SQLite (a temp file) and PostgreSQL.

Each PostgreSQL test gets a schema of its own, made for it and dropped after it, reached
through `search_path` in the connection's options; the URL carries them, so a child process
given the URL lands in the same schema. PostgreSQL is at `CAPDESK_TEST_POSTGRES_URL`
(default `postgresql://postgres@127.0.0.1:5432/test`). When it is unreachable the PostgreSQL
cases are skipped, except in CI (`CI` set), where they fail: CI must never pass without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from store.engine import make_engine
from store.migrate import upgrade
from tests.integration import world
from tests.integration.connectors import FileBackend
from tests.integration.world import Org
from workflows.clock import ManualClock

POSTGRES_URL = os.environ.get(
    "CAPDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def postgres_url(*, schema: str | None = None) -> str:
    """The test server's URL, optionally confined to a schema (its `search_path`)."""
    url = make_url(POSTGRES_URL)
    options = [url.query["options"]] if "options" in url.query else []
    if schema is not None:
        options.append(f"-csearch_path={schema}")
    query = {"connect_timeout": url.query.get("connect_timeout", "5")}
    if options:
        query["options"] = " ".join(str(o) for o in options)
    return url.update_query_dict(query).render_as_string(hide_password=False)


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
    schema = f"capdesk_it_{uuid.uuid4().hex[:16]}"
    with server.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield postgres_url(schema=schema)
    finally:
        with server.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


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
