"""Teams settings: who authenticates, against which endpoints, and the clear line when not."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings

APP = {
    "MICROSOFT_APP_ID": "7f6c3a52-0d9b-4d0e-9a39-5d1b7f0c2e11",
    "MICROSOFT_APP_PASSWORD": "app-secret",
    "MICROSOFT_APP_TENANT_ID": "3b1d2c4e-8f7a-4a6b-9c0d-1e2f3a4b5c6d",
}


def _error(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    return str(caught.value)


def test_a_single_tenant_bot_gets_its_token_from_its_own_tenant() -> None:
    settings = load_settings(APP)

    assert settings.teams_token_endpoint() == (
        "https://login.microsoftonline.com/3b1d2c4e-8f7a-4a6b-9c0d-1e2f3a4b5c6d/oauth2/v2.0/token"
    )


def test_a_multi_tenant_bot_gets_its_token_from_the_bot_framework_tenant() -> None:
    settings = load_settings({**APP, "MICROSOFT_APP_TYPE": "MultiTenant"})

    assert settings.teams_token_endpoint() == (
        "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token"
    )


def test_the_stand_in_urls_may_be_plain_http_on_loopback() -> None:
    settings = load_settings(
        {
            **APP,
            "CAPDESK_TEAMS_OPENID_URL": "http://127.0.0.1:3002/v1/.well-known/openidconfiguration",
            "CAPDESK_TEAMS_TOKEN_URL": "http://127.0.0.1:3002/t/oauth2/v2.0/token",
        }
    )

    assert settings.teams_openid_url == "http://127.0.0.1:3002/v1/.well-known/openidconfiguration"
    assert settings.teams_token_endpoint() == "http://127.0.0.1:3002/t/oauth2/v2.0/token"


def test_dev_mode_without_an_app_id_is_allowed_on_loopback() -> None:
    settings = load_settings({"CAPDESK_TEAMS_DEV_NO_AUTH": "1", "CAPDESK_HTTP_HOST": "::1"})

    assert settings.teams_dev_no_auth is True
    assert settings.microsoft_app_id is None


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CAPDESK_TEAMS_DEV_NO_AUTH": "1", "CAPDESK_HTTP_HOST": "0.0.0.0"},
            "CAPDESK_TEAMS_DEV_NO_AUTH: Teams without authentication listens on loopback only,"
            " but CAPDESK_HTTP_HOST=0.0.0.0; set it to 127.0.0.1",
        ),
        (
            {**APP, "CAPDESK_TEAMS_DEV_NO_AUTH": "1"},
            "CAPDESK_TEAMS_DEV_NO_AUTH: must not be set with MICROSOFT_APP_ID"
            " (requests are always authenticated when an app id is configured)",
        ),
        (
            {"MICROSOFT_APP_ID": APP["MICROSOFT_APP_ID"], "MICROSOFT_APP_TENANT_ID": "contoso.com"},
            "MICROSOFT_APP_PASSWORD: must be set when MICROSOFT_APP_ID is set",
        ),
        (
            {k: v for k, v in APP.items() if k != "MICROSOFT_APP_TENANT_ID"},
            "MICROSOFT_APP_TENANT_ID: must be set when MICROSOFT_APP_TYPE=SingleTenant"
            " (the default): the Azure tenant the bot is registered in",
        ),
        (
            {"MICROSOFT_APP_PASSWORD": "app-secret"},
            "MICROSOFT_APP_ID: must be set when MICROSOFT_APP_PASSWORD is set",
        ),
        (
            {**APP, "MICROSOFT_APP_TYPE": "UserAssignedMSI"},
            "MICROSOFT_APP_TYPE: UserAssignedMSI is not supported yet; use SingleTenant"
            " with MICROSOFT_APP_PASSWORD and MICROSOFT_APP_TENANT_ID",
        ),
        (
            {**APP, "MICROSOFT_APP_TENANT_ID": "evil/../x"},
            "MICROSOFT_APP_TENANT_ID: must be a tenant id (a GUID) or a domain such as"
            " contoso.com, got 'evil/../x'",
        ),
        (
            {**APP, "CAPDESK_TEAMS_TOKEN_URL": "127.0.0.1:3002/token"},
            "CAPDESK_TEAMS_TOKEN_URL: must be a URL starting with http:// or https://,"
            " got '127.0.0.1:3002/token'",
        ),
        (
            {**APP, "CAPDESK_TEAMS_OPENID_URL": "login.botframework.com"},
            "CAPDESK_TEAMS_OPENID_URL: must be a URL starting with http:// or https://,"
            " got 'login.botframework.com'",
        ),
    ],
)
def test_a_teams_misconfiguration_gives_one_line_naming_the_variable(
    env: dict[str, str], line: str
) -> None:
    assert _error(env) == line


def test_the_app_password_never_shows() -> None:
    message = _error({"MICROSOFT_APP_PASSWORD": "app-secret"})
    settings = load_settings(APP)

    assert "app-secret" not in message
    assert "app-secret" not in repr(settings)
