"""`python -m bot.slack.emulator`, as a person starts it next to `capdesk serve`: on CAPDESK_NOW."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.slack.emulator.server import DEFAULT_BOT_TOKEN

pytestmark = pytest.mark.slow


def _environment(now: str) -> dict[str, str]:
    outside = {k: v for k, v in os.environ.items() if not k.startswith(("CAPDESK_", "SLACK_"))}
    return {**outside, "CAPDESK_NOW": now}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[str]:
    """The emulator in a process of its own on 28 March 2027 at 03:30 in Berlin; its API URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.slack.emulator", "--port", "0"],
        cwd=tmp_path,
        env=_environment("2027-03-28T03:30"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("SLACK_API_URL="), first + (
            process.stderr.read() if process.stderr else ""
        )
        yield first.strip().removeprefix("SLACK_API_URL=")
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_standalone_emulator_tells_capdesk_nows_time(emulator: str) -> None:
    client = WebClient(token=DEFAULT_BOT_TOKEN, base_url=emulator)
    eve = client.users_lookupByEmail(email="eve.novak@example.com")["user"]["id"]
    posted = client.chat_postMessage(channel=eve, text="What day is it?")
    stamped = datetime.fromtimestamp(float(posted["ts"]), UTC)
    start = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 in Berlin, summer time
    assert start <= stamped < start.replace(minute=40)


def test_the_standalone_emulator_refuses_a_capdesk_now_it_cannot_read(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.slack.emulator", "--port", "0"],
        cwd=tmp_path,
        env=_environment("2027-03-28T02:30"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "python -m bot.slack.emulator: error: CAPDESK_NOW: 2027-03-28T02:30 does not exist in"
        " Europe/Berlin (the clocks go forward then); write it with an offset,"
        " e.g. 2027-03-28T02:30+01:00"
    )
    assert done.stdout == ""
