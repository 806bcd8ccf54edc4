"""Rate limits and outages lose nothing and post nothing twice; redelivered events count once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests.adapters.conftest import BOTH_DATABASES, LEA, SAM, TOM, Served
from tests.adapters.test_slack_story import ask, buttons

pytestmark = pytest.mark.anyio


@pytest.fixture(params=BOTH_DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def posts(served: Served) -> Counter[str]:
    """Successful posts per channel (a DM is posted to by user id, as Slack allows)."""
    return Counter(
        call.answer["channel"]
        for call in served.emu.calls("chat.postMessage")
        if call.answer.get("ok")
    )


async def test_429_five_times_then_ok_delivers_each_message_once(
    served: Served, retry_sleeps: list[float]
) -> None:
    served.emu.fail("chat.postMessage", status=429, retry_after=7, times=5)

    await ask(served, TOM, "raise 150 for 14d release prep")
    # The client retried twice on its own, honouring Retry-After; the outbox keeps the rest.
    assert retry_sleeps
    assert all(wait >= 7 for wait in retry_sleeps)
    for _ in range(5):
        served.clock.advance(timedelta(minutes=1))
        await served.settle()

    assert posts(served) == {
        served.emu.dm_of(SAM): 1,
        served.emu.dm_of(LEA): 1,
        served.emu.dm_of(TOM): 1,
    }
    assert buttons(served.dm(SAM)[-1]) == ["approve", "deny"]
    attempts = [c for c in served.emu.calls("chat.postMessage") if not c.answer.get("ok")]
    assert len(attempts) == 5


async def test_an_outage_delays_delivery_and_loses_nothing(
    served: Served, retry_sleeps: list[float]
) -> None:
    served.emu.fail("chat.postMessage", status=503, retry_after=None, times=40)
    await ask(served, TOM, "raise 150 for 14d release prep")
    assert posts(served) == {}
    with served.app.uow() as uow:
        assert uow.notifications.depth() == 3

    served.emu.clear_faults()
    for _ in range(12):
        served.clock.advance(timedelta(minutes=10))
        await served.settle()
    assert sum(posts(served).values()) == 3
    with served.app.uow() as uow:
        assert uow.notifications.depth() == 0
    assert "capdesk_slack_api_errors_total" in served.runtime.metrics.exposition().decode()


async def test_a_redelivered_event_is_handled_once(served: Served) -> None:
    first = await served.emu.app_home_opened(SAM, event_id="Ev0CAPDESK1")
    await served.settle()
    again = await served.emu.event(
        {"type": "app_home_opened", "user": served.emu.user_id(SAM), "tab": "home"},
        event_id="Ev0CAPDESK1",
        retry_num=1,
    )
    await served.settle()
    assert first.status == again.status == 200
    assert len(served.emu.calls("views.publish")) == 1

    await served.emu.app_home_opened(SAM, event_id="Ev0CAPDESK2")
    await served.settle()
    assert len(served.emu.calls("views.publish")) == 2
