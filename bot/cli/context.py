"""The click context object: builds capdesk on first use, so `--help` needs no database."""

from __future__ import annotations

from datetime import datetime

import click

from bot.bootstrap import Capdesk, bootstrap, connector_without_store
from bot.cli.policy import Organisation
from bot.failures import backend_failure
from bot.settings import Settings, load_settings
from workflows.admin import ConnectorError, backend_groups


class CliContext:
    """Lazily loaded settings and capdesk; their failures reach the CLI's error boundary."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._app: Capdesk | None = None
        self.at: datetime | None = None
        """The command's `--at`, set before `app` is first used."""

    @property
    def loaded_settings(self) -> Settings | None:
        """The settings if a command has read them already (for error lines)."""
        return self._settings

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def app(self) -> Capdesk:
        if self._app is None:
            self._app = bootstrap(self.settings, at=self.at)
        return self._app

    def organisation(self) -> Organisation:
        """Everyone the configured backend knows, for `policy check`; opens no database."""
        settings = self.settings
        try:
            connector = connector_without_store(settings)
            members = list(connector.list_members())
            source = backend_groups(connector)
            groups = None if source is None else tuple(source.list_groups())
        except ConnectorError as exc:
            raise click.ClickException(
                f"{backend_failure(exc, settings)}; `--offline` checks the file alone"
            ) from exc
        name = (
            f"the sandbox org (seed {settings.sandbox_seed})"
            if settings.admin_backend == "sandbox"
            else f"the {settings.admin_backend} backend"
        )
        return Organisation(
            name=name,
            people=frozenset(m.email.lower() for m in members),
            active=frozenset(m.email.lower() for m in members if m.active),
            backend=connector.name,
            groups=groups,
        )
