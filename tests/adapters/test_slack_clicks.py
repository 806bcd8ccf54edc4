"""Clicks sent twice, clicks racing each other, and clicks by people not entitled."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import text

from bot.slack.emulator import Message
from tests.adapters.conftest import ANA, BOTH_DATABASES, LEA, RAVI, SAM, TOM, Served
from tests.adapters.test_slack_story import ask, buttons, text_of
from tests.now import ZONE
from workflows.timefmt import local_time

pytestmark = pytest.mark.anyio


@pytest.fixture(params=BOTH_DATABASES)
def database(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def pending_card(served: Served) -> tuple[Message, Message]:
    await ask(served, TOM, "raise 150 for 14d release prep")
    return served.dm(SAM)[-1], served.dm(LEA)[-1]


def sent_message(served: Served) -> tuple[str, str]:
    """Tom's "Request #1 sent" message, which is updated with the decision too."""
    [sent] = [m for m in served.dm(TOM) if "Request #1 sent" in text_of(m)]
    return (sent.channel, sent.ts)


def updates_per_message(served: Served) -> Counter[tuple[str, str]]:
    return Counter(
        (call.params["channel"], call.params["ts"])
        for call in served.emu.calls("chat.update")
        if call.answer.get("ok")
    )


async def test_the_same_click_delivered_twice_decides_once(served: Served) -> None:
    sam_card, lea_card = await pending_card(served)
    before = served.cap_of(TOM)
    payload = served.emu.block_actions(SAM, sam_card, "approve")

    first, second = await asyncio.gather(
        served.emu.send_interaction(payload), served.emu.send_interaction(payload)
    )
    assert first.status == second.status == 200
    await served.settle()

    assert served.cap_of(TOM) == before + 15_000
    assert [status for _, status in served.requests()] == ["applied"]
    assert updates_per_message(served) == {
        (sam_card.channel, sam_card.ts): 1,
        (lea_card.channel, lea_card.ts): 1,
        sent_message(served): 1,
    }
    # One click, one answer: the copy with the same trigger_id is not answered a second time.
    answers = [text_of(e) for e in served.emu.ephemerals_for(SAM)]
    assert sum("You approved" in a for a in answers) == 1
    assert len(answers) == 1, answers


async def test_approve_and_deny_at_the_same_moment(served: Served) -> None:
    sam_card, lea_card = await pending_card(served)
    await served.emu.click(LEA, lea_card, "deny")
    await served.settle()

    approve, deny = await asyncio.gather(
        served.emu.click(SAM, sam_card, "approve"),
        served.emu.submit_view(LEA, {"reason": "not this quarter"}),
    )
    assert approve.status == deny.status == 200
    await served.settle()

    [(request_id, status)] = served.requests()
    decisions = [
        a for a, _ in served.audit(f"request:{request_id}") if a.endswith(("approved", "denied"))
    ]
    assert len(decisions) == 1
    assert updates_per_message(served) == {
        (sam_card.channel, sam_card.ts): 1,
        (lea_card.channel, lea_card.ts): 1,
        sent_message(served): 1,
    }
    if status == "denied":
        loser = served.emu.last_ephemeral_for(SAM)
        assert loser is not None
        assert "already denied by Lea Brandt" in text_of(loser)
    else:
        assert deny.json["response_action"] == "errors"
        assert "already approved by Sam Ortiz" in deny.json["errors"]["reason"]


@pytest.mark.parametrize("verb", ["approve", "deny"])
@pytest.mark.parametrize(
    ("who", "says"),
    [
        (TOM, "can't decide on your own request"),
        (RAVI, "Only the owners of software or an admin can decide on #1."),
        ("stranger@elsewhere.example", "Only the owners of software or an admin"),
    ],
)
async def test_a_click_by_someone_not_entitled(
    served: Served, who: str, says: str, verb: str
) -> None:
    sam_card, _ = await pending_card(served)
    if who.endswith("elsewhere.example"):
        served.emu.add_user(who, real_name="Stranger")
    updates = len(served.emu.calls("chat.update"))

    reply = await served.emu.click(who, sam_card, verb)
    assert reply.status == 200
    await served.settle()

    # Deny is refused on the click, as Approve is, not after a reason was typed into its form.
    told = served.emu.last_ephemeral_for(who)
    assert told is not None
    assert says in text_of(told)
    assert served.emu.calls("views.open") == []
    assert [status for _, status in served.requests()] == ["pending"]
    assert len(served.emu.calls("chat.update")) == updates
    assert buttons(sam_card) == ["approve", "deny"]


async def test_deny_on_a_request_decided_meanwhile_says_so_without_a_form(served: Served) -> None:
    sam_card, lea_card = await pending_card(served)
    stale = served.emu.block_actions(LEA, lea_card, "deny")
    await served.emu.click(SAM, sam_card, "approve")
    await served.settle()

    await served.emu.send_interaction(stale)
    await served.settle()
    told = served.emu.last_ephemeral_for(LEA)
    assert told is not None
    at = local_time(served.clock.now(), ZONE)
    assert f"Request #1 was already approved by Sam Ortiz at {at}." in text_of(told)
    assert served.emu.calls("views.open") == []


@pytest.mark.parametrize(
    ("verb", "value"),
    [
        ("approve", "1" * 100_000),
        ("approve", "9" * 30),
        ("deny", "²"),
        ("cancel", "-1"),
        ("nudge", "x" * 3000),
        ("extend", "1" * 5000),
    ],
    ids=["100 kB of digits", "30 digits", "a superscript two", "negative", "3000 chars", "5000"],
)
async def test_a_button_value_capdesk_did_not_make_is_said_to_be_invalid(
    served: Served, verb: str, value: str
) -> None:
    sam_card, _ = await pending_card(served)
    payload = served.emu.block_actions(SAM, sam_card, "approve")
    payload["actions"][0].update(action_id=verb, value=value)
    before = served.written()

    assert (await served.emu.send_interaction(payload)).status == 200
    await served.settle()

    told = served.emu.last_ephemeral_for(SAM)
    assert told is not None
    assert "This button is not valid" in text_of(told)
    assert "Something went wrong" not in text_of(told)
    assert served.written() == before


async def test_an_admin_may_decide(served: Served) -> None:
    sam_card, _ = await pending_card(served)
    await served.emu.click(ANA, sam_card, "approve")
    await served.settle()
    assert "Approved by Ana Lima" in text_of(sam_card)


async def test_a_stranger_gets_a_polite_answer_to_commands(served: Served) -> None:
    served.emu.add_user("stranger@elsewhere.example", real_name="Stranger")
    await ask(served, "stranger@elsewhere.example", "status")
    told = served.emu.last_ephemeral_for("stranger@elsewhere.example")
    assert told is not None
    assert "don't have a seat that capdesk knows of" in text_of(told)
    assert served.requests() == []


async def test_a_database_failure_after_the_ack_is_told_and_changes_nothing(
    served: Served,
) -> None:
    sam_card, _ = await pending_card(served)
    with served.app.engine.begin() as connection:
        connection.execute(text("ALTER TABLE request RENAME TO request_away"))

    await served.emu.click(SAM, sam_card, "approve")
    await ask(served, TOM, "status")
    for who in (SAM, TOM):
        told = served.emu.last_ephemeral_for(who)
        assert told is not None
        assert "Something went wrong on our side" in text_of(told)

    with served.app.engine.begin() as connection:
        connection.execute(text("ALTER TABLE request_away RENAME TO request"))
    assert [status for _, status in served.requests()] == ["pending"]
    assert buttons(sam_card) == ["approve", "deny"]

    await served.emu.click(SAM, sam_card, "approve")
    await served.settle()
    assert [status for _, status in served.requests()] == ["applied"]


async def test_a_database_failure_in_a_form_is_shown_in_the_form(served: Served) -> None:
    await ask(served, TOM, "raise 150")
    with served.app.engine.begin() as connection:
        connection.execute(text("ALTER TABLE request RENAME TO request_away"))
    reply = await served.emu.submit_view(TOM, {"amount": "150", "reason": "release prep"})
    assert reply.json["response_action"] == "errors"
    assert "Something went wrong on our side" in reply.json["errors"]["reason"]
    with served.app.engine.begin() as connection:
        connection.execute(text("ALTER TABLE request_away RENAME TO request"))
    assert served.requests() == []

    again = await served.emu.submit_view(TOM, {"amount": "150", "reason": "release prep"})
    assert not again.json
    assert [status for _, status in served.requests()] == ["pending"]
