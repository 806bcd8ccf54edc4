"""Settings: defaults, one clear line per bad variable, secrets never shown, .env read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

SECRET = "xoxb-very-secret-4242"


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A process environment without capdesk variables, in a directory of its own."""
    for field in Settings.model_fields.values():
        monkeypatch.delenv(str(field.validation_alias), raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _error(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    return str(caught.value)


def test_defaults_follow_the_spec() -> None:
    settings = load_settings({})

    assert settings.database_url == "sqlite:///./capdesk.db"
    assert settings.policy_file is None
    assert settings.admin_backend == "sandbox"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 3000)
    assert settings.sandbox_seed == 7
    assert settings.apply_concurrency == 8
    assert settings.slack_bot_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.microsoft_app_id is None
    assert settings.microsoft_app_type == "SingleTenant"
    assert settings.teams_openid_url == (
        "https://login.botframework.com/v1/.well-known/openidconfiguration"
    )
    assert settings.teams_token_url is None
    assert settings.teams_dev_no_auth is False
    assert settings.anthropic_admin_key is None
    assert settings.anthropic_admin_url == "https://api.anthropic.com"
    assert settings.anthropic_email_members is False
    assert settings.litellm_base_url is None
    assert settings.admin_url is None
    assert settings.now is None  # the real time


def test_values_are_read_by_their_variable_names() -> None:
    settings = load_settings(
        {
            "CAPDESK_HTTP_PORT": "8080",
            "CAPDESK_SANDBOX_SEED": "11",
            "CAPDESK_APPLY_CONCURRENCY": "3",
            "CAPDESK_TEAMS_DEV_NO_AUTH": "true",
            "ANTHROPIC_EMAIL_MEMBERS": "true",
            "CAPDESK_ADMIN_BACKEND": "litellm",
            "LITELLM_BASE_URL": "http://127.0.0.1:4000",
            "LITELLM_MASTER_KEY": "sk-master",
            "MICROSOFT_APP_TYPE": "MultiTenant",
            "CAPDESK_DATABASE_URL": "postgresql+psycopg://capdesk@db/capdesk",
            "PATH": "/usr/bin",
        }
    )

    assert settings.http_port == 8080
    assert settings.sandbox_seed == 11
    assert settings.apply_concurrency == 3
    assert settings.teams_dev_no_auth is True
    assert settings.anthropic_email_members is True
    assert settings.admin_backend == "litellm"
    assert settings.litellm_master_key is not None
    assert settings.litellm_master_key.get_secret_value() == "sk-master"
    assert settings.microsoft_app_type == "MultiTenant"


def test_capdesk_now_keeps_an_offset_and_leaves_a_bare_time_to_the_org_timezone() -> None:
    assert load_settings({"CAPDESK_NOW": "2026-12-01T08:30"}).now == datetime(2026, 12, 1, 8, 30)
    assert load_settings({"CAPDESK_NOW": "2026-12-01T07:30Z"}).now == datetime(
        2026, 12, 1, 7, 30, tzinfo=UTC
    )
    offset = load_settings({"CAPDESK_NOW": "2026-12-01T08:30+01:00"}).now
    assert offset is not None
    assert offset.utcoffset() == timedelta(hours=1)


def test_an_empty_value_counts_as_unset() -> None:
    assert load_settings({"CAPDESK_HTTP_PORT": "", "SLACK_BOT_TOKEN": ""}).slack_bot_token is None


def test_given_values_replace_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPDESK_HTTP_PORT", "not-a-port")

    assert load_settings({}).http_port == 3000


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"CAPDESK_HTTP_PORT": "abc"},
            "CAPDESK_HTTP_PORT: must be an integer from 1 to 65535, got 'abc'",
        ),
        (
            {"CAPDESK_HTTP_PORT": "70000"},
            "CAPDESK_HTTP_PORT: must be an integer from 1 to 65535, got '70000'",
        ),
        (
            {"CAPDESK_APPLY_CONCURRENCY": "0"},
            "CAPDESK_APPLY_CONCURRENCY: must be an integer from 1 to 64, got '0'",
        ),
        (
            {"CAPDESK_APPLY_CONCURRENCY": "many"},
            "CAPDESK_APPLY_CONCURRENCY: must be an integer from 1 to 64, got 'many'",
        ),
        (
            {"CAPDESK_SANDBOX_SEED": "seven"},
            "CAPDESK_SANDBOX_SEED: must be an integer, got 'seven'",
        ),
        (
            {"CAPDESK_ADMIN_BACKEND": "openai"},
            "CAPDESK_ADMIN_BACKEND: must be one of sandbox, anthropic, litellm, http, got 'openai'",
        ),
        (
            {"MICROSOFT_APP_TYPE": "Multi"},
            "MICROSOFT_APP_TYPE: must be one of MultiTenant, SingleTenant, UserAssignedMSI,"
            " got 'Multi'",
        ),
        (
            {"CAPDESK_TEAMS_DEV_NO_AUTH": "maybe"},
            "CAPDESK_TEAMS_DEV_NO_AUTH: must be true or false, got 'maybe'",
        ),
        (
            {"ANTHROPIC_EMAIL_MEMBERS": "sometimes"},
            "ANTHROPIC_EMAIL_MEMBERS: must be true or false, got 'sometimes'",
        ),
        (
            {"CAPDESK_DATABASE_URL": "mysql://capdesk@db/capdesk"},
            "CAPDESK_DATABASE_URL: must be a SQLAlchemy URL starting with sqlite or postgresql,"
            " got 'mysql://capdesk@db/capdesk'",
        ),
        (
            {"SLACK_API_URL": "localhost:3000/api/"},
            "SLACK_API_URL: must be a URL starting with http:// or https://,"
            " got 'localhost:3000/api/'",
        ),
        (
            {"CAPDESK_NOW": "1796117400"},  # pydantic alone would take Unix seconds
            "CAPDESK_NOW: must be YYYY-MM-DDTHH:MM in the organisation's timezone,"
            " or with an offset: 2026-12-01T08:30+01:00, got '1796117400'",
        ),
        (
            {"CAPDESK_NOW": "2026-12-01 08:30"},
            "CAPDESK_NOW: must be YYYY-MM-DDTHH:MM in the organisation's timezone,"
            " or with an offset: 2026-12-01T08:30+01:00, got '2026-12-01 08:30'",
        ),
        (
            {"CAPDESK_NOW": "2026-11-31T08:30"},
            "CAPDESK_NOW: must be a real date and time, got '2026-11-31T08:30'",
        ),
        (
            {"CAPDESK_ADMIN_BACKEND": "anthropic"},
            "ANTHROPIC_ADMIN_KEY: must be set when CAPDESK_ADMIN_BACKEND=anthropic",
        ),
        (
            {"CAPDESK_ADMIN_BACKEND": "http"},
            "CAPDESK_ADMIN_URL: must be set when CAPDESK_ADMIN_BACKEND=http",
        ),
    ],
)
def test_a_bad_value_gives_one_line_naming_the_variable(env: dict[str, str], line: str) -> None:
    assert _error(env) == line


def test_each_missing_litellm_variable_has_its_line() -> None:
    assert _error({"CAPDESK_ADMIN_BACKEND": "litellm"}).splitlines() == [
        "LITELLM_BASE_URL: must be set when CAPDESK_ADMIN_BACKEND=litellm",
        "LITELLM_MASTER_KEY: must be set when CAPDESK_ADMIN_BACKEND=litellm",
    ]


def test_several_bad_variables_give_one_line_each() -> None:
    lines = _error({"CAPDESK_HTTP_PORT": "0", "CAPDESK_ADMIN_BACKEND": "x"}).splitlines()

    assert [line.split(":")[0] for line in lines] == [
        "CAPDESK_ADMIN_BACKEND",
        "CAPDESK_HTTP_PORT",
    ]


def test_secrets_are_hidden_in_repr_and_str() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": SECRET,
            "CAPDESK_ADMIN_BACKEND": "anthropic",
            "ANTHROPIC_ADMIN_KEY": SECRET,
            "CAPDESK_DATABASE_URL": f"postgresql://capdesk:{SECRET}@db/capdesk",
        }
    )

    for shown in (repr(settings), str(settings)):
        assert SECRET not in shown
        assert "postgresql://capdesk:***@db/capdesk" in shown


def test_secrets_are_hidden_in_error_lines() -> None:
    message = _error(
        {
            "CAPDESK_DATABASE_URL": f"mysql://capdesk:{SECRET}@db/capdesk",
            "CAPDESK_ADMIN_BACKEND": "litellm",
            "LITELLM_MASTER_KEY": SECRET,
        }
    )

    assert SECRET not in message
    assert "got 'mysql://capdesk:***@db/capdesk'" in message


def test_the_process_environment_and_dot_env_are_read(
    tmp_path: Path, environment: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text(
        "CAPDESK_HTTP_PORT=4000\nSLACK_BOT_TOKEN=xoxb-from-dotenv\nSOMETHING_ELSE=ignored\n"
    )
    environment.setenv("CAPDESK_SANDBOX_SEED", "21")
    environment.setenv("CAPDESK_HTTP_PORT", "5000")

    settings = load_settings()

    assert settings.sandbox_seed == 21
    assert settings.http_port == 5000  # the environment wins over .env
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-dotenv"


@pytest.mark.usefixtures("environment")
def test_a_bad_dot_env_value_names_its_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CAPDESK_HTTP_PORT=http\n")

    with pytest.raises(SettingsError, match=r"^CAPDESK_HTTP_PORT: must be an integer"):
        load_settings()


def test_policy_path_prefers_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "capdesk.yaml").write_text("admins: []\n")

    settings = load_settings({"CAPDESK_POLICY_FILE": "/etc/capdesk/policy.yaml"})

    assert settings.policy_path() == Path("/etc/capdesk/policy.yaml")


def test_policy_path_falls_back_to_capdesk_yaml_then_to_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings: Settings = load_settings({})

    assert settings.policy_path() is None

    (tmp_path / "capdesk.yaml").write_text("admins: []\n")

    assert settings.policy_path() == Path("capdesk.yaml")


def test_mention_shows_values_for_error_lines_but_never_a_secret() -> None:
    settings = load_settings(
        {
            "CAPDESK_DATABASE_URL": "postgresql://capdesk:hunter2@db:5432/capdesk",
            "SLACK_BOT_TOKEN": SECRET,
        }
    )

    line = settings.mention("CAPDESK_DATABASE_URL", "SLACK_BOT_TOKEN", "CAPDESK_ADMIN_URL")

    assert line == (
        "(CAPDESK_DATABASE_URL=postgresql://capdesk:***@db:5432/capdesk, SLACK_BOT_TOKEN,"
        " CAPDESK_ADMIN_URL unset)"
    )
