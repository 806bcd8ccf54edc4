"""Bad input on the slash command: a clear ephemeral answer, and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.conftest import TOM, LoopThread, Served, serve
from tests.adapters.test_slack_story import ask, text_of

T = TypeVar("T")


BAD = {
    "raise -50 for 7d reason": "must be positive",
    "raise 0 for 7d reason": "more than $0",
    "raise 1000000 for 7d reason": "above your group's maximum",
    "raise lots for 7d reason": "is not an amount",
    "raise 1e9 big": "is not an amount",
    "upgrade platinum because": "is not a seat tier",
    "raise 50 until 2020-01-01 reason": "in the past",
    "raise 50 for 400d reason": "at most 90 days",
    "raise 50 for 0d reason": "A temporary grant lasts at least a day",
    "raise 50 for 99999d reason": "at most 90 days; 99999 days is longer",
    # Never this year at any instant the suites run at, so the year is shown.
    "raise 50 until 2030-12-31 reason": "at most 90 days; Tue 31 Dec 2030 is further away",
    "raise 50 for 7d " + "x" * 10_000: "keep it to 500",
    "fly me to the moon": "I don't know `fly`",
    "cancel abc": "Say which request to cancel",
    "cancel 999": "no request #999",
}


@pytest.mark.anyio
@pytest.mark.parametrize(("text", "says"), BAD.items(), ids=[t[:24] for t in BAD])
async def test_bad_commands_are_refused_and_write_nothing(
    served: Served, text: str, says: str
) -> None:
    before = served.written()
    await ask(served, TOM, text)
    told = served.emu.last_ephemeral_for(TOM)
    assert told is not None
    assert says.lower() in text_of(told).lower()
    assert served.written() == before
    assert served.emu.calls("chat.postMessage") == []


@pytest.mark.anyio
async def test_a_second_pending_request_is_refused(served: Served) -> None:
    await ask(served, TOM, "raise 150 for 14d release prep")
    before = served.written()
    posted = len(served.emu.calls("chat.postMessage"))
    await ask(served, TOM, "raise 50 for 7d more")
    told = served.emu.last_ephemeral_for(TOM)
    assert told is not None
    assert "already have request #1 pending" in text_of(told)
    assert served.written() == before
    assert len(served.emu.calls("chat.postMessage")) == posted


# --------------------------------------------------------------------------- any text at all


@pytest.fixture(scope="module")
def steady(
    tmp_path_factory: pytest.TempPathFactory, synced_store: Path
) -> Iterator[tuple[LoopThread, Served]]:
    runner = LoopThread()
    running = serve(tmp_path_factory.mktemp("hypothesis"), synced_store)
    served = runner.run(running.__aenter__())
    yield runner, served
    runner.run(running.__aexit__(None, None, None))
    runner.close()


words = st.sampled_from(
    ["raise", "upgrade", "status", "cancel", "requests", "help", "for", "until", "to", "premium"]
)
pieces = st.one_of(
    words,
    st.from_regex(r"-?\$?[0-9]{0,12}(\.[0-9]{0,4})?[dw]?", fullmatch=True),
    st.from_regex(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]", fullmatch=True),
    st.text(max_size=30),
)
commands = st.lists(pieces, max_size=8).map(" ".join)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=commands)
def test_any_command_text_answers_and_refusals_write_nothing(
    steady: tuple[LoopThread, Served], text: str
) -> None:
    runner, served = steady
    before = served.written()
    answered = len(served.emu.ephemerals_for(TOM))
    forms = len(served.emu.calls("views.open"))

    reply = runner.run(served.emu.slash_command(TOM, text))
    runner.run(served.settle())

    assert reply.status == 200
    replies = served.emu.ephemerals_for(TOM)[answered:]
    opened = served.emu.calls("views.open")[forms:]
    assert len(replies) + len(opened) == 1, (text, replies, opened)
    if opened or "That didn't work" in replies[0].text:
        assert served.written() == before, text


@pytest.mark.anyio
@pytest.mark.parametrize("metadata", ["{broken", '{"kind": "platinum"}', "[1]", "null"])
async def test_a_request_form_with_metadata_capdesk_did_not_write_is_refused_inline(
    served: Served, metadata: str
) -> None:
    await ask(served, TOM, "raise")
    submission = served.emu.view_submission(TOM, {"amount": "150", "reason": "release prep"})
    submission["view"]["private_metadata"] = metadata
    before = served.written()
    reply = await served.emu.send_interaction(submission)
    await served.settle()
    assert reply.status == 200
    assert reply.json["response_action"] == "errors"
    assert "not one capdesk made" in str(reply.json["errors"])
    assert served.written() == before
