"""The one line of each expected failure, and None for a bug (what the CLI boundary prints)."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from bot.bootstrap import StartupError
from bot.failures import explain
from bot.settings import SettingsError, load_settings
from workflows.admin import PermanentConnectorError
from workflows.policy import PolicyError, Problem

SETTINGS = load_settings(
    {
        "CAPDESK_DATABASE_URL": "postgresql://capdesk:hunter2@db/capdesk",
        "CAPDESK_ADMIN_BACKEND": "litellm",
        "LITELLM_BASE_URL": "http://litellm:4000",
        "LITELLM_MASTER_KEY": "sk-master-secret",
    }
)


def test_a_database_that_fails_mid_command_names_the_url_without_its_password() -> None:
    failure = OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    line = explain(failure, SETTINGS)

    assert line == (
        "the database failed: server closed the connection"
        " (CAPDESK_DATABASE_URL=postgresql://capdesk:***@db/capdesk)"
    )


def test_a_connector_error_names_the_backend_and_its_address_never_its_key() -> None:
    line = explain(PermanentConnectorError("the LiteLLM proxy refused the key."), SETTINGS)

    assert line == (
        "the LiteLLM proxy refused the key."
        " (CAPDESK_ADMIN_BACKEND=litellm, LITELLM_BASE_URL=http://litellm:4000)"
    )
    assert "sk-master-secret" not in line


def test_settings_policy_and_start_up_failures_keep_their_own_lines() -> None:
    assert explain(SettingsError(["A: x", "B: y"]), None) == "A: x\nB: y"
    assert explain(StartupError("port in use"), SETTINGS) == "port in use"
    policy = PolicyError("capdesk.yaml", [Problem("admins", "is required"), Problem("", "x", 3)])
    assert explain(policy, SETTINGS) == "capdesk.yaml: admins: is required\ncapdesk.yaml:3: x"


def test_a_bug_is_not_explained() -> None:
    assert explain(KeyError("x"), SETTINGS) is None
    assert explain(OSError("disk full"), SETTINGS) is None
