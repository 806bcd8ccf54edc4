"""Settings from the environment and an optional `.env` (SPEC section 2).

Use `load_settings()`: it turns every problem into one line naming the variable, so start-up
can stop with a message an operator can act on.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from workflows.applying.pool import DEFAULT_CONCURRENCY
from workflows.clock import parse_instant

AdminBackend = Literal["sandbox", "anthropic", "litellm", "http"]
MicrosoftAppType = Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"]

DEFAULT_POLICY_FILE = Path("capdesk.yaml")
# Where the Bot Framework publishes the keys that sign its requests to bots.
BOT_FRAMEWORK_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
MICROSOFT_LOGIN_URL = "https://login.microsoftonline.com/"
"""Where the default token endpoint of each tenant lives (`<tenant>/oauth2/v2.0/token`)."""
# Multi-tenant bots get their token from the Bot Framework's own tenant.
BOT_FRAMEWORK_TENANT = "botframework.com"
_LOOPBACK_NAMES = frozenset({"localhost"})
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")

_DATABASE_SCHEMES = ("sqlite", "postgresql")
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")

# Set by `load_settings(env)`: read only the given values, not the process environment or .env.
_GIVEN_ONLY: ContextVar[bool] = ContextVar("capdesk_settings_given_only", default=False)


class SettingsError(Exception):
    """Settings that stop start-up; `str()` has one line per problem, each naming its variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    """Every setting of SPEC section 2; secrets are `SecretStr` and never printed."""

    model_config = SettingsConfigDict(
        env_file=".env",
        extra="ignore",
        case_sensitive=True,
        # `SLACK_BOT_TOKEN=` in a .env means "not set", as people write it when blanking a value.
        env_ignore_empty=True,
    )

    database_url: str = Field("sqlite:///./capdesk.db", validation_alias="CAPDESK_DATABASE_URL")
    policy_file: Path | None = Field(None, validation_alias="CAPDESK_POLICY_FILE")
    admin_backend: AdminBackend = Field("sandbox", validation_alias="CAPDESK_ADMIN_BACKEND")
    http_host: str = Field("127.0.0.1", validation_alias="CAPDESK_HTTP_HOST")
    http_port: Annotated[int, Field(ge=1, le=65535)] = Field(
        3000, validation_alias="CAPDESK_HTTP_PORT"
    )
    sandbox_seed: int = Field(7, validation_alias="CAPDESK_SANDBOX_SEED")
    now: datetime | None = Field(None, validation_alias="CAPDESK_NOW")
    """Start this process's clock here (for tests and demos); see `bootstrap.clock_for`."""

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")

    microsoft_app_id: str | None = Field(None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(
        None, validation_alias="MICROSOFT_APP_PASSWORD"
    )
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MICROSOFT_APP_TENANT_ID")
    # New multi-tenant bot registrations were deprecated in July 2025.
    microsoft_app_type: MicrosoftAppType = Field(
        "SingleTenant", validation_alias="MICROSOFT_APP_TYPE"
    )
    teams_openid_url: str = Field(
        BOT_FRAMEWORK_OPENID_URL, validation_alias="CAPDESK_TEAMS_OPENID_URL"
    )
    teams_token_url: str | None = Field(None, validation_alias="CAPDESK_TEAMS_TOKEN_URL")
    teams_dev_no_auth: bool = Field(False, validation_alias="CAPDESK_TEAMS_DEV_NO_AUTH")

    anthropic_admin_key: SecretStr | None = Field(None, validation_alias="ANTHROPIC_ADMIN_KEY")
    anthropic_admin_url: str = Field(
        "https://api.anthropic.com", validation_alias="ANTHROPIC_ADMIN_URL"
    )
    anthropic_email_members: bool = Field(False, validation_alias="ANTHROPIC_EMAIL_MEMBERS")
    """Let Anthropic e-mail members when capdesk decides on their increase requests."""
    litellm_base_url: str | None = Field(None, validation_alias="LITELLM_BASE_URL")
    litellm_master_key: SecretStr | None = Field(None, validation_alias="LITELLM_MASTER_KEY")
    admin_url: str | None = Field(None, validation_alias="CAPDESK_ADMIN_URL")
    admin_token: SecretStr | None = Field(None, validation_alias="CAPDESK_ADMIN_TOKEN")
    otlp_token: SecretStr | None = Field(None, validation_alias="CAPDESK_OTLP_TOKEN")
    """The bearer token OpenTelemetry exporters send to `/v1/metrics` and `/v1/logs`; unset,
    only loopback peers are served."""
    apply_concurrency: Annotated[int, Field(ge=1, le=64)] = Field(
        DEFAULT_CONCURRENCY, validation_alias="CAPDESK_APPLY_CONCURRENCY"
    )
    """How many changes the outbox worker applies at once (different people's; one person's
    go in order)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment and `.env`, or only the values passed in (see `load_settings`)."""
        if _GIVEN_ONLY.get():
            return (init_settings,)
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if not value.startswith(_DATABASE_SCHEMES):
            raise ValueError(
                f"must be a SQLAlchemy URL starting with {' or '.join(_DATABASE_SCHEMES)}"
            )
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(
                "is not a SQLAlchemy URL such as sqlite:///./capdesk.db or "
                "postgresql://user@host:5432/capdesk"
            ) from None
        try:
            url.get_dialect()
        except NoSuchModuleError:
            raise ValueError(
                f"names a database driver capdesk does not know ({url.drivername}); "
                "use postgresql:// or sqlite:///"
            ) from None
        return value

    @field_validator("now", mode="before")
    @classmethod
    def _instant(cls, value: object) -> object:
        # Stricter than pydantic's datetime, which takes Unix seconds and more: one way to write.
        return parse_instant(value) if isinstance(value, str) else value

    @field_validator(
        "slack_api_url",
        "anthropic_admin_url",
        "litellm_base_url",
        "admin_url",
        "teams_openid_url",
        "teams_token_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be a URL starting with http:// or https://")
        return value

    @model_validator(mode="after")
    def _backend_configured(self) -> Settings:
        needs: dict[str, list[tuple[str, object]]] = {
            "anthropic": [("ANTHROPIC_ADMIN_KEY", self.anthropic_admin_key)],
            "litellm": [
                ("LITELLM_BASE_URL", self.litellm_base_url),
                ("LITELLM_MASTER_KEY", self.litellm_master_key),
            ],
            "http": [("CAPDESK_ADMIN_URL", self.admin_url)],
        }
        missing = [name for name, value in needs.get(self.admin_backend, []) if value is None]
        if missing:
            raise ValueError(
                "\n".join(
                    f"{name}: must be set when CAPDESK_ADMIN_BACKEND={self.admin_backend}"
                    for name in missing
                )
            )
        return self

    @field_validator("microsoft_app_tenant_id")
    @classmethod
    def _tenant(cls, value: str | None) -> str | None:
        if value is not None and not _TENANT.match(value):
            raise ValueError("must be a tenant id (a GUID) or a domain such as contoso.com")
        return value

    @model_validator(mode="after")
    def _teams_configured(self) -> Settings:
        problems = self._teams_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _teams_problems(self) -> list[str]:
        if not self.microsoft_app_id:
            if self.teams_dev_no_auth and not is_loopback(self.http_host):
                return [
                    "CAPDESK_TEAMS_DEV_NO_AUTH: Teams without authentication listens on loopback"
                    f" only, but CAPDESK_HTTP_HOST={self.http_host}; set it to 127.0.0.1"
                ]
            given = [
                name
                for name, value in (
                    ("MICROSOFT_APP_PASSWORD", self.microsoft_app_password),
                    ("MICROSOFT_APP_TENANT_ID", self.microsoft_app_tenant_id),
                )
                if value is not None
            ]
            return [f"MICROSOFT_APP_ID: must be set when {name} is set" for name in given]
        if self.teams_dev_no_auth:
            return [
                "CAPDESK_TEAMS_DEV_NO_AUTH: must not be set with MICROSOFT_APP_ID"
                " (requests are always authenticated when an app id is configured)"
            ]
        if self.microsoft_app_type == "UserAssignedMSI":
            return [
                "MICROSOFT_APP_TYPE: UserAssignedMSI is not supported yet; use SingleTenant"
                " with MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID"
            ]
        problems = []
        if self.microsoft_app_password is None:
            problems.append("MICROSOFT_APP_PASSWORD: must be set when MICROSOFT_APP_ID is set")
        if self.microsoft_app_type == "SingleTenant" and self.microsoft_app_tenant_id is None:
            problems.append(
                "MICROSOFT_APP_TENANT_ID: must be set when MICROSOFT_APP_TYPE=SingleTenant"
                " (the default): the Azure tenant the bot is registered in"
            )
        return problems

    def teams_token_endpoint(self) -> str:
        """Where the bot posts its client-credentials request: `CAPDESK_TEAMS_TOKEN_URL`, else
        Microsoft's endpoint for the bot's tenant (the Bot Framework's for MultiTenant)."""
        if self.teams_token_url is not None:
            return self.teams_token_url
        tenant = (
            self.microsoft_app_tenant_id
            if self.microsoft_app_type == "SingleTenant" and self.microsoft_app_tenant_id
            else BOT_FRAMEWORK_TENANT
        )
        return f"{MICROSOFT_LOGIN_URL}{tenant}/oauth2/v2.0/token"

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # The database URL is not a SecretStr (SQLAlchemy wants the text) but may hold a password.
        for name, value in super().__repr_args__():
            yield name, (_redact_url(value) if name == "database_url" else value)

    def policy_path(self) -> Path | None:
        """The policy file to load: `CAPDESK_POLICY_FILE`, else `./capdesk.yaml` if it exists.

        None means the built-in sandbox policy.
        """
        if self.policy_file is not None:
            return self.policy_file
        return DEFAULT_POLICY_FILE if DEFAULT_POLICY_FILE.is_file() else None

    def mention(self, *variables: str) -> str:
        """`(CAPDESK_ADMIN_URL=http://…)` for the end of an error line: each variable with its
        value, a secret by its name alone, a database password starred."""
        shown = []
        for variable in variables:
            value = getattr(self, _FIELDS[variable])
            if variable in _SECRET_VARIABLES:
                shown.append(variable)
            elif value is None:
                shown.append(f"{variable} unset")
            elif variable == "CAPDESK_DATABASE_URL":
                shown.append(f"{variable}={_redact_url(str(value))}")
            else:
                shown.append(f"{variable}={value}")
        return f"({', '.join(shown)})"


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 with or without brackets) is this machine."""
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _redact_url(url: str) -> str:
    return _URL_PASSWORD.sub(r"\1***@", url)


_FIELDS = {str(field.validation_alias): name for name, field in Settings.model_fields.items()}
_VARIABLES = frozenset(_FIELDS)
_SECRET_VARIABLES = frozenset(
    str(field.validation_alias)
    for field in Settings.model_fields.values()
    if SecretStr in get_args(field.annotation)
)

# Pydantic's own wording ("unable to parse string as an integer") does not tell an operator
# what to write instead; these do.
_REQUIREMENTS = {
    "CAPDESK_HTTP_PORT": "must be an integer from 1 to 65535",
    "CAPDESK_SANDBOX_SEED": "must be an integer",
    "CAPDESK_APPLY_CONCURRENCY": "must be an integer from 1 to 64",
    "CAPDESK_TEAMS_DEV_NO_AUTH": "must be true or false",
    "ANTHROPIC_EMAIL_MEMBERS": "must be true or false",
    "CAPDESK_ADMIN_BACKEND": "must be one of " + ", ".join(get_args(AdminBackend)),
    "MICROSOFT_APP_TYPE": "must be one of " + ", ".join(get_args(MicrosoftAppType)),
}


def _shown(variable: str, value: object) -> str:
    if variable == "CAPDESK_DATABASE_URL" and isinstance(value, str):
        return repr(_redact_url(value))
    return repr(value)


def _error_lines(exc: ValidationError) -> list[str]:
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        if not error["loc"]:
            lines += message.splitlines()  # cross-checks name their variables themselves
            continue
        variable = str(error["loc"][0])
        line = f"{variable}: {_REQUIREMENTS.get(variable, message)}"
        if variable not in _SECRET_VARIABLES:
            line += f", got {_shown(variable, error['input'])}"
        lines.append(line)
    return lines


def load_settings(env: Mapping[str, str] | None = None, *, backend: str | None = None) -> Settings:
    """Settings from the process environment and `./.env`, or from `env` alone when given;
    `backend` stands for `CAPDESK_ADMIN_BACKEND` (a command-line choice).

    Raises SettingsError with one line per bad or missing variable.
    """
    token = _GIVEN_ONLY.set(env is not None)
    chosen: dict[str, Any] = {} if backend is None else {"CAPDESK_ADMIN_BACKEND": backend}
    try:
        if env is None:
            return Settings(**chosen)
        # Empty means unset, as `env_ignore_empty` makes it for the environment and .env.
        given: dict[str, Any] = {
            key: value for key, value in env.items() if key in _VARIABLES and value != ""
        }
        return Settings(**given, **chosen)
    except ValidationError as exc:
        raise SettingsError(_error_lines(exc)) from None
    finally:
        _GIVEN_ONLY.reset(token)


def load_now_setting() -> Settings:
    """Only CAPDESK_NOW of the process environment: for what keeps its own settings otherwise
    (the demo, the standalone Slack emulator) but runs on the same clock as the rest.

    Raises SettingsError naming CAPDESK_NOW if it is unreadable.
    """
    return load_settings({"CAPDESK_NOW": os.environ.get("CAPDESK_NOW", "")})
