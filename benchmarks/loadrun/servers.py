"""The servers under load, in child processes: started, SIGKILLed, started again, stopped.

Their CPU time is read from /proc before each kill and at the end, so a run can say how busy
the server was (one core is 1 second of CPU per second).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from benchmarks.slack_ack import wait_ready
from store.engine import make_engine
from store.migrate import upgrade
from tests.postgres import fresh_schema

FLOOR_APP = Path(__file__).with_name("floor_app.py")
_TICKS = os.sysconf("SC_CLK_TCK")
_OUTSIDE = ("CAPDESK_", "SLACK_", "MICROSOFT_", "ANTHROPIC_", "LITELLM_")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


class ServerProcess:
    """A server in a child process on a fixed port, ready when `ready_url` answers under 500."""

    def __init__(
        self, argv: list[str], *, env: Mapping[str, str], cwd: Path, ready_url: str, log: Path
    ) -> None:
        self._argv = argv
        self._env = dict(env)
        self._cwd = cwd
        self._ready_url = ready_url
        self.log = log
        self.starts = 0
        self._cpu = 0.0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> None:
        """Start it and wait until it answers."""
        self._log = self._log or self.log.open("ab")
        self._process = subprocess.Popen(
            self._argv, env=self._env, cwd=self._cwd, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.starts += 1
        await wait_ready(self._ready_url, self._process)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, whatever was in hand stays as it was."""
        process = self._running()
        self._cpu += cpu_seconds(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()

    async def stop(self) -> None:
        """SIGTERM, then wait for it to finish its work in hand (SIGKILL after a minute)."""
        process = self._process
        if process is not None and process.poll() is None:
            self._cpu += cpu_seconds(process.pid)
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, lines: int = 20) -> str:
        """The end of what the server wrote."""
        if not self.log.exists():
            return "(nothing)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def cpu(self) -> float:
        """CPU seconds so far, over every start."""
        process = self._process
        alive = process is not None and process.poll() is None
        return self._cpu + (cpu_seconds(process.pid) if alive and process else 0.0)

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            raise RuntimeError(f"the server of {self.log.name} is not running")
        return self._process


def clean_environment() -> dict[str, str]:
    """This process's environment without any capdesk, chat or backend settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_OUTSIDE)}


def capdesk(folder: Path, *, port: int, settings: Mapping[str, str]) -> ServerProcess:
    """`capdesk serve` (the real CLI) with these settings, in `folder` (no stray `.env`)."""
    env = {
        **clean_environment(),
        "CAPDESK_HTTP_HOST": "127.0.0.1",
        "CAPDESK_HTTP_PORT": str(port),
        **settings,
    }
    return ServerProcess(
        [sys.executable, "-c", "from bot.cli.main import cli; cli()", "serve"],
        env=env,
        cwd=folder,
        ready_url=f"http://127.0.0.1:{port}/readyz",
        log=folder / "capdesk-serve.log",
    )


def floor(folder: Path, *, port: int, config: Mapping[str, object]) -> ServerProcess:
    """The bare Bolt app of `floor_app.py`."""
    return ServerProcess(
        [sys.executable, str(FLOOR_APP), json.dumps({**config, "port": port})],
        env=clean_environment(),
        cwd=folder,
        ready_url=f"http://127.0.0.1:{port}/slack/events",
        log=folder / "floor-app.log",
    )


@contextmanager
def database(kind: str, folder: Path, postgres_url: str) -> Iterator[str]:
    """An empty database at the current migration: a SQLite file in `folder`, or a PostgreSQL
    schema made for the run (and dropped after it) on the server at `postgres_url`."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'capdesk.db'}"
        yield url
        return
    server = make_engine(postgres_url)
    try:
        with fresh_schema(server, "capdesk_load") as (_, url):
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            yield url
    finally:
        server.dispose()
