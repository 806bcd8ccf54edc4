"""The PostgreSQL server the tests share, and schemas of their own on it.

PostgreSQL is at `CAPDESK_TEST_POSTGRES_URL` (default `postgresql://postgres@127.0.0.1:5432/test`).
A test gets a schema made for it and dropped after it, reached through `search_path` in the
connection's options; the URL carries them, so a child process given the URL lands in the same
schema.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get(
    "CAPDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def in_ci() -> bool:
    """CI sets `CI`: there the PostgreSQL tests must fail, never be skipped, when it is down."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def postgres_url(*, schema: str | None = None, base: str = POSTGRES_URL) -> str:
    """The test server's URL (or `base`), optionally confined to a schema (its `search_path`)."""
    url = make_url(base)
    options = [url.query["options"]] if "options" in url.query else []
    if schema is not None:
        options.append(f"-csearch_path={schema}")
    query = {"connect_timeout": url.query.get("connect_timeout", "5")}
    if options:
        query["options"] = " ".join(str(o) for o in options)
    return url.update_query_dict(query).render_as_string(hide_password=False)


@contextmanager
def fresh_schema(server: Engine, prefix: str) -> Iterator[tuple[str, str]]:
    """A new, empty schema on `server` and the URL that lands in it; dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:16]}"
    with server.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    base = server.url.render_as_string(hide_password=False)
    try:
        yield schema, postgres_url(schema=schema, base=base)
    finally:
        with server.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
