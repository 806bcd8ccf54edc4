"""Expected failures told as the line an operator can act on: the cause, then the setting.

The CLI's error boundary (`bot/cli/main.py`) and `GET /readyz` use the same sentences, so a
backend that is down reads the same in a terminal and in a health check. Anything not listed
here is a bug, and the boundary says so.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import OperationalError

from bot.connectors.select import backend_variables
from bot.settings import Settings, SettingsError
from bot.startup import StartupError
from store.migrate import SchemaOutOfDate
from workflows.admin import ConnectorError
from workflows.policy import PolicyError


def explain(exc: BaseException, settings: Settings | None) -> str | None:
    """What went wrong, one line per problem, naming the setting; None when it is a bug.

    `settings` are None when they could not be read (that failure names its variable itself).
    """
    if isinstance(exc, SettingsError | StartupError):
        return str(exc)
    if isinstance(exc, PolicyError):
        return "\n".join(exc.lines())
    if isinstance(exc, ConnectorError):
        return backend_failure(exc, settings)
    if isinstance(exc, OperationalError):
        mention = f" {settings.mention('CAPDESK_DATABASE_URL')}" if settings else ""
        return f"the database failed: {one_line(exc)}{mention}"
    return None


def backend_failure(exc: ConnectorError, settings: Settings | None) -> str:
    """The connector's own sentence, with the backend and its address."""
    if settings is None:
        return str(exc)
    return f"{exc} {settings.mention(*backend_variables(settings))}"


def database_failure(exc: Exception, settings: Settings) -> str:
    """`cannot open the database: unable to open database file (CAPDESK_DATABASE_URL=…)`."""
    cause = (
        str(exc)
        if isinstance(exc, SchemaOutOfDate)
        else f"cannot open the database: {one_line(exc)}"
    )
    return f"{cause} {settings.mention('CAPDESK_DATABASE_URL')}"


def one_line(exc: Exception) -> str:
    """The driver's own message of a database error, without SQLAlchemy's links, SQL and the
    `(sqlite3.OperationalError)` in front."""
    return _DRIVER_CLASS.sub("", str(exc).strip().splitlines()[0])


_DRIVER_CLASS = re.compile(r"^\([\w.]+\) ")
