"""Expected failures told as the line an operator can act on: the cause, then the setting.

The CLI's error boundary (`bot/cli/main.py`) and `GET /readyz` use the same sentences, so a
backend that is down reads the same in a terminal and in a health check. Anything not listed
here is a bug, and the boundary says so.
"""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from bot.bootstrap import StartupError, one_line
from bot.connectors.select import backend_variables
from bot.settings import Settings, SettingsError
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
