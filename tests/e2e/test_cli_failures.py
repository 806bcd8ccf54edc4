"""Expected failures through the real command line: one line naming the cause and the setting,
exit status 1, no traceback unless `-v` asks for it (SPEC section 3)."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.bootstrap
from tests.connectors.fake_contract import TOKEN
from tests.connectors.server import FakeBackend, Fault, Served
from tests.connectors.test_backends_e2e import anthropic_org, contract_org, env_for, litellm_org
from tests.e2e.test_cli import _OUTSIDE, _TERMINAL, POLICY, _clean_environment, capdesk, sqlite_url

NOT_REACHED = (
    "the admin API at CAPDESK_ADMIN_URL could not be reached for GET /members (ConnectError);"
    " is the URL right and the service up?"
)
ADDRESS_OF = {"anthropic": "ANTHROPIC_ADMIN_URL", "litellm": "LITELLM_BASE_URL"}
SERVICE_OF = {
    "anthropic": "the Anthropic Admin API",
    "litellm": "the LiteLLM proxy",
    "http": "the admin API at CAPDESK_ADMIN_URL",
}
FAKES: dict[str, Callable[[], FakeBackend]] = {
    "anthropic": anthropic_org,
    "litellm": litellm_org,
    "http": contract_org,
}


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding only a policy, none of the caller's capdesk settings."""
    _clean_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    return tmp_path


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound for a moment, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def _members_in(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM member").fetchone()
    connection.close()
    return int(count)


def _down(workdir: Path, port: int) -> dict[str, str]:
    return {
        "CAPDESK_DATABASE_URL": sqlite_url(workdir / "capdesk.db"),
        "CAPDESK_POLICY_FILE": str(workdir / "policy.yaml"),
        "CAPDESK_ADMIN_BACKEND": "http",
        "CAPDESK_ADMIN_URL": f"http://127.0.0.1:{port}/",
        "CAPDESK_ADMIN_TOKEN": TOKEN,
    }


# --- the admin backend --------------------------------------------------------------------------


@pytest.fixture(params=sorted(FAKES))
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, Served[Any]]]:
    name = str(request.param)
    with Served(FAKES[name]()) as server:
        yield name, server


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        pytest.param(
            Fault(raw=b"<html>Welcome to nginx</html>"),
            r"with a body that is not JSON; is the URL right\?",
            id="not-json",
        ),
        pytest.param(
            Fault(status=200, body=[1, 2, 3]),
            r"with something capdesk cannot read \(.+\); is the URL right, and is the API the"
            r" expected one\?",
            id="wrong-shape",
        ),
    ],
)
def test_sync_against_a_backend_answering_what_it_cannot_read(
    backend: tuple[str, Served[Any]], answer: Fault, said: str, workdir: Path
) -> None:
    name, server = backend
    server.backend.fail_next(answer)
    env = {
        "CAPDESK_DATABASE_URL": sqlite_url(workdir / "capdesk.db"),
        "CAPDESK_POLICY_FILE": str(workdir / "policy.yaml"),
        **env_for(name, server.url),
    }

    result = capdesk("sync", env=env)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    address = ADDRESS_OF.get(name, "CAPDESK_ADMIN_URL")
    assert re.fullmatch(
        rf"Error: {re.escape(SERVICE_OF[name])} answered [^()]+ {said}"
        rf" \(CAPDESK_ADMIN_BACKEND={name}, {address}={re.escape(server.url)}\)\n",
        result.stderr,
    ), result.stderr
    assert result.stdout == ""
    assert _members_in(workdir / "capdesk.db") == 0  # nothing half-written


@pytest.mark.parametrize(
    ("args", "after"),
    [
        (["sync"], ""),
        (["members", "list"], ""),
        (["alerts", "run", "--dry-run"], ""),
        (["policy", "check", "policy.yaml"], "; `--offline` checks the file alone"),
    ],
)
def test_any_command_with_the_http_backend_down_stops_with_one_line(
    args: list[str], after: str, closed_port: int, workdir: Path
) -> None:
    result = capdesk(*args, env=_down(workdir, closed_port))

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr == (
        f"Error: {NOT_REACHED} (CAPDESK_ADMIN_BACKEND=http,"
        f" CAPDESK_ADMIN_URL=http://127.0.0.1:{closed_port}/){after}\n"
    )
    assert result.stdout == ""


def test_verbose_shows_the_traceback_then_the_line(closed_port: int, workdir: Path) -> None:
    result = capdesk("-v", "sync", env=_down(workdir, closed_port))

    assert result.exit_code == 1
    assert "Traceback (most recent call last):" in result.stderr
    assert "workflows.admin.TransientConnectorError: " in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"Error: {NOT_REACHED} (CAPDESK_ADMIN_")


def test_a_bug_is_one_line_that_points_at_verbose(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(bot.bootstrap, "sync", broken)
    env = {"CAPDESK_DATABASE_URL": sqlite_url(workdir / "capdesk.db")}

    quiet = capdesk("sync", env=env)
    loud = capdesk("-v", "sync", env=env)

    assert quiet.exit_code == loud.exit_code == 1
    assert quiet.stderr == (
        "Error: capdesk failed unexpectedly (ZeroDivisionError: division by zero), a bug;"
        " run it again with -v to see the traceback\n"
    )
    assert "Traceback (most recent call last):" in loud.stderr
    assert loud.stderr.splitlines()[-1] == (
        "Error: capdesk failed unexpectedly (ZeroDivisionError: division by zero), a bug"
    )


# --- the database -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "line"),
    [
        pytest.param(
            "postgresql+nodriver://db/capdesk",
            "CAPDESK_DATABASE_URL: names a database driver capdesk does not know"
            " (postgresql+nodriver); use postgresql:// or sqlite:///,"
            " got 'postgresql+nodriver://db/capdesk'",
            id="unknown-driver",
        ),
        pytest.param(
            "postgresql://capdesk:hunter2@db:port/capdesk",
            "CAPDESK_DATABASE_URL: is not a SQLAlchemy URL such as sqlite:///./capdesk.db or"
            " postgresql://user@host:5432/capdesk, got 'postgresql://capdesk:***@db:port/capdesk'",
            id="bad-port",
        ),
        pytest.param(
            "postgresql+asyncpg://db/capdesk",
            "cannot open the database: No module named 'asyncpg'"
            " (CAPDESK_DATABASE_URL=postgresql+asyncpg://db/capdesk)",
            id="driver-not-installed",
        ),
    ],
)
@pytest.mark.parametrize("args", [["requests", "list"], ["db", "upgrade"]])
def test_a_bad_database_url_stops_with_one_line(
    url: str, line: str, args: list[str], workdir: Path
) -> None:
    result = capdesk(*args, env={"CAPDESK_DATABASE_URL": url})

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr == f"Error: {line}\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["policy.yaml"]


@pytest.mark.parametrize("args", [["requests", "list"], ["db", "upgrade"]])
def test_a_database_that_does_not_answer_is_one_line(
    args: list[str], closed_port: int, workdir: Path
) -> None:
    url = f"postgresql://capdesk:hunter2@127.0.0.1:{closed_port}/capdesk?connect_timeout=5"

    result = capdesk(*args, env={"CAPDESK_DATABASE_URL": url})

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr.startswith("Error: cannot open the database: connection failed: ")
    assert result.stderr.endswith(
        f" (CAPDESK_DATABASE_URL=postgresql://capdesk:***@127.0.0.1:{closed_port}/capdesk"
        "?connect_timeout=5)\n"
    )
    assert len(result.stderr.splitlines()) == 1
    assert "hunter2" not in result.stderr


# --- capdesk serve, as its own process ----------------------------------------------------------


def _script(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed console script in its own process: what a shell sees."""
    script = Path(sysconfig.get_path("scripts")) / "capdesk"
    if not script.is_file():
        script = Path(sys.executable).parent / "capdesk"
    outside = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_OUTSIDE) and name not in _TERMINAL
    }
    return subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env={**outside, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_on_a_port_in_use_stops_with_one_line(workdir: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = _script(
            "serve",
            cwd=workdir,
            env={
                "CAPDESK_DATABASE_URL": sqlite_url(workdir / "capdesk.db"),
                "CAPDESK_HTTP_PORT": str(port),
            },
        )

    assert done.returncode == 1
    assert done.stderr == (
        f"Error: port {port} on 127.0.0.1 is in use by another program: stop it, or choose"
        f" another port (CAPDESK_HTTP_PORT={port})\n"
    )  # and no "Unclosed client session" after it
    assert done.stdout == ""


def test_serve_with_teams_alone_says_this_release_has_no_teams_adapter(workdir: Path) -> None:
    done = _script(
        "serve",
        cwd=workdir,
        env={
            "CAPDESK_DATABASE_URL": sqlite_url(workdir / "capdesk.db"),
            "MICROSOFT_APP_ID": "2b1e7c0a-app",
            "MICROSOFT_APP_PASSWORD": "teams-secret-value",
            "MICROSOFT_APP_TENANT_ID": "c0ffee00-tenant",
        },
    )

    assert done.returncode == 1
    assert done.stderr == (
        "Error: this release has no Teams adapter, so capdesk cannot serve Teams: set"
        " SLACK_BOT_TOKEN for Slack, or unset MICROSOFT_APP_ID for the playground"
        " (MICROSOFT_APP_ID=2b1e7c0a-app)\n"
    )
    assert done.stdout == ""
