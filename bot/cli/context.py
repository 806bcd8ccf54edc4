"""The click context object: builds capdesk on first use, so `--help` needs no database."""

from __future__ import annotations

from datetime import datetime

import click

from bot.bootstrap import Capdesk, StartupError, bootstrap
from bot.settings import SettingsError, load_settings
from workflows.policy import PolicyError


class CliContext:
    """Lazily bootstrapped capdesk, turning start-up problems into one line and exit 1."""

    def __init__(self) -> None:
        self._app: Capdesk | None = None
        self.at: datetime | None = None
        """The command's `--at`, set before `app` is first used."""

    @property
    def app(self) -> Capdesk:
        if self._app is None:
            try:
                self._app = bootstrap(load_settings(), at=self.at)
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from None
            except PolicyError as exc:
                raise click.ClickException(
                    "\n".join(f"{exc.source}: {e}" for e in exc.errors)
                ) from None
            except StartupError as exc:
                raise click.ClickException(str(exc)) from None
        return self._app

    def known_emails(self) -> set[str]:
        """Everyone the admin backend knows, for `policy check`."""
        return {m.email.lower() for m in self.app.connector.list_members()}
