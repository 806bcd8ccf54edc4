"""Schema migrations with Alembic, run from code (`capdesk db upgrade`, first start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

_SCRIPTS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head() -> str:
    """The newest revision this code knows."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between the tables and the database."""
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)


class SchemaOutOfDate(Exception):
    """The database is behind the code and must be upgraded first."""


def ensure_schema(engine: Engine) -> None:
    """Upgrade a fresh SQLite database by itself; elsewhere, refuse to run on an old schema."""
    if engine.dialect.name == "sqlite":
        _ensure_sqlite(engine)
        return
    now, newest = current(engine), head()
    if now == newest:
        return
    state = "empty" if now is None else f"at revision {now}"
    raise SchemaOutOfDate(
        f"the database is {state}, the code needs {newest}: run `capdesk db upgrade`"
    )


def _ensure_sqlite(engine: Engine, *, attempts: int = 5) -> None:
    # Processes starting at once on a fresh file race to upgrade it. SQLite answers "database
    # is locked" at once, without waiting, when it sees two lock upgrades that would deadlock;
    # the loser's migration rolled back whole, so it looks again and, if need be, retries.
    for attempt in range(1, attempts + 1):
        try:
            if current(engine) != head():
                upgrade(engine)
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts:
                raise
