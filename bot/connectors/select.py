"""Which admin connector `CAPDESK_ADMIN_BACKEND` names, built from the settings."""

from __future__ import annotations

from typing import Any

from bot.connectors import anthropic, http, litellm
from bot.settings import Settings
from workflows.admin import AdminConnector


def remote_connector(settings: Settings, **api: Any) -> AdminConnector:
    """The connector of a real backend (not the sandbox, which needs the store).

    `api` goes to every HTTP client (timeouts, retries, a sleep function for tests). The
    settings have checked that the backend's variables are set.
    """
    backend = settings.admin_backend
    if backend == "anthropic":
        assert settings.anthropic_admin_key is not None
        return anthropic.build(
            settings.anthropic_admin_key.get_secret_value(),
            settings.anthropic_admin_url,
            email_members=settings.anthropic_email_members,
            **api,
        )
    if backend == "litellm":
        assert settings.litellm_base_url is not None
        assert settings.litellm_master_key is not None
        return litellm.build(
            settings.litellm_base_url, settings.litellm_master_key.get_secret_value(), **api
        )
    if backend == "http":
        assert settings.admin_url is not None
        token = settings.admin_token.get_secret_value() if settings.admin_token else None
        return http.build(settings.admin_url, token, **api)
    raise ValueError(f"{backend} is not a remote backend")


_ADDRESSES = {
    "anthropic": "ANTHROPIC_ADMIN_URL",
    "litellm": "LITELLM_BASE_URL",
    "http": "CAPDESK_ADMIN_URL",
}


def backend_variables(settings: Settings) -> tuple[str, ...]:
    """The settings that say which backend capdesk talks to and where, for error lines."""
    address = _ADDRESSES.get(settings.admin_backend)
    return ("CAPDESK_ADMIN_BACKEND", address) if address else ("CAPDESK_ADMIN_BACKEND",)
