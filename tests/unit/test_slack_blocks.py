"""Chat-neutral messages as Block Kit: the layout, the escaping, and every limit Slack sets."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.blocks import fallback_text, many_messages_blocks, message_blocks, progress_line
from bot.slack.limits import MESSAGE_CHARS, cut, escape_mrkdwn, fit_mrkdwn, text_size
from tests.unit.sample_messages import APPROVAL, BUTTON_TOO_LONG, DIGEST, messages
from tests.unit.slack_checks import check_blocks, texts_of
from workflows.messages import Action, Fact, Message, Progress, Section, Verb


def test_an_approval_card_reads_top_to_bottom() -> None:
    blocks = message_blocks(APPROVAL)

    check_blocks(blocks, max_blocks=50)
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "section",
        "section",
        "actions",
        "context",
    ]
    assert blocks[0]["text"]["text"] == "Eve Adams asks for +$150 a month"
    assert blocks[1]["text"] == {"type": "mrkdwn", "text": "Request #7 · embedded · standard seat"}
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[0] == "*What*\n+$150 a month ($85 → $235)"
    assert blocks[3]["text"]["text"] == "*Spent this month*\n`▓▓▓▓▓▓▓░░░` 74% of $85"
    assert [(b["action_id"], b["value"], b["style"]) for b in blocks[4]["elements"]] == [
        ("approve", "7", "primary"),
        ("deny", "7", "danger"),
    ]
    assert blocks[5]["elements"][0]["text"] == "Approved by Dana Okafor at 14:02"


def test_mentions_and_entities_are_escaped_but_the_domains_markdown_stays() -> None:
    reason = next(t for t in texts_of(message_blocks(APPROVAL)) if t.startswith("*Reason*"))

    assert reason == (
        "*Reason*\nRelease crunch &lt;!channel&gt; &amp; the *firmware* build"
        " [here](https://evil.example)"
    )


def test_a_header_is_plain_text_and_keeps_its_characters() -> None:
    blocks = message_blocks(Message(kind="x", title="Q&A <draft>"))

    assert blocks == [
        {"type": "header", "text": {"type": "plain_text", "text": "Q&A <draft>", "emoji": True}}
    ]


def test_ten_kilobytes_of_text_are_cut_to_a_section() -> None:
    blocks = message_blocks(Message(kind="x", title="Long", text="a&b " * 2500))

    check_blocks(blocks, max_blocks=50)
    text = blocks[1]["text"]["text"]
    assert len(text) == 3000
    assert text.endswith("…")
    assert text.startswith("a&amp;b a&amp;b")
    assert not text.removesuffix("…").endswith(("&", "&a", "&am", "&amp"))


def test_a_long_title_is_cut_to_the_header_limit() -> None:
    [header] = message_blocks(Message(kind="x", title="t" * 400))

    assert len(header["text"]["text"]) == 150
    assert header["text"]["text"].endswith("…")


def test_two_hundred_facts_stay_within_the_limits_and_say_how_many_were_left_out() -> None:
    facts = tuple(
        Fact(label=f"Request #{i} pending", value=f"+$150 a month ($85 → $235) · reason {i}")
        for i in range(200)
    )
    message = APPROVAL.model_copy(update={"facts": facts})

    blocks = message_blocks(message)

    check_blocks(blocks, max_blocks=50)
    assert text_size(blocks) <= MESSAGE_CHARS
    shown = sum(len(b.get("fields", [])) for b in blocks)
    more = [t for t in texts_of(blocks) if t.startswith("…and ")]
    assert more == [f"…and {200 - shown} more"]
    assert 0 < shown < 200
    # The buttons, bar and footer survive the cut.
    assert [b["type"] for b in blocks[-3:]] == ["section", "actions", "context"]


def test_many_short_facts_are_cut_by_the_block_limit() -> None:
    facts = tuple(Fact(label=str(i), value="x") for i in range(600))

    blocks = message_blocks(Message(kind="x", title="Facts", facts=facts))

    assert len(blocks) == 50
    assert sum(len(b.get("fields", [])) for b in blocks) == 480
    assert texts_of(blocks)[-1] == "…and 120 more"


def test_a_value_too_long_for_a_button_leaves_the_button_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        blocks = message_blocks(BUTTON_TOO_LONG)

    check_blocks(blocks, max_blocks=50)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [b["action_id"] for b in actions["elements"]] == ["retry_operation"]
    assert "confirm_manual" in caplog.text


def test_a_repeated_verb_starts_a_new_row_so_action_ids_stay_the_verb() -> None:
    message = Message(
        kind="status",
        title="Status",
        actions=(
            Action(verb=Verb.REQUEST_MORE, label="Request more", value="cap_increase"),
            Action(verb=Verb.REQUEST_MORE, label="Request premium seat", value="seat_upgrade"),
            Action(verb=Verb.CANCEL, label="Cancel #3", value="3"),
        ),
    )

    rows = [b["elements"] for b in message_blocks(message) if b["type"] == "actions"]

    assert [[(b["action_id"], b["value"]) for b in row] for row in rows] == [
        [("request_more", "cap_increase")],
        [("request_more", "seat_upgrade"), ("cancel", "3")],
    ]


def test_a_button_without_a_label_is_named_after_its_verb() -> None:
    message = Message(
        kind="x", title="x", actions=(Action(verb=Verb.RETRY_OPERATION, label=" ", value="1"),)
    )

    [_, actions] = message_blocks(message)

    assert actions["elements"][0]["text"]["text"] == "Retry operation"


@pytest.mark.parametrize(
    ("used", "limit", "line"),
    [
        (0, 8500, "`░░░░░░░░░░` 0% of $85"),
        (8500, 8500, "`▓▓▓▓▓▓▓▓▓▓` 100% of $85"),
        (17000, 8500, "`▓▓▓▓▓▓▓▓▓▓` 200% of $85"),
        (-100, 8500, "`░░░░░░░░░░` -2% of $85"),
        (1234, 0, "$12.34, no limit"),
    ],
)
def test_the_bar_stops_at_full_but_the_percentage_does_not(
    used: int, limit: int, line: str
) -> None:
    progress = Progress(label="Spent", used_cents=used, limit_cents=limit)

    assert progress_line(progress) == f"*Spent*\n{line}"


def test_the_fallback_text_is_the_title_and_text_escaped() -> None:
    assert fallback_text(APPROVAL) == (
        "Eve Adams asks for +$150 a month — Request #7 · embedded · standard seat"
    )
    assert fallback_text(Message(kind="x", title="A <b>", text="")) == "A &lt;b&gt;"
    assert fallback_text(Message(kind="x", title=" ")) == "capdesk"
    assert len(fallback_text(Message(kind="x", title="t", text="y" * 50_000))) == 4000


def test_an_empty_message_has_no_blocks() -> None:
    assert message_blocks(Message(kind="x", title="  ")) == []


def test_several_messages_are_joined_by_dividers() -> None:
    empty = Message(kind="e", title=" ")
    blocks = many_messages_blocks(
        [Message(kind="a", title="One"), empty, Message(kind="b", title="Two")]
    )

    assert [b["type"] for b in blocks] == ["header", "divider", "header"]


def test_a_digest_of_thirty_cards_is_cut_with_and_n_more() -> None:
    cards = [APPROVAL.model_copy(update={"title": f"Card {i}"}) for i in range(30)]

    blocks = many_messages_blocks(cards)

    check_blocks(blocks, max_blocks=50)
    assert text_size(blocks) <= MESSAGE_CHARS
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers == [f"Card {i}" for i in range(len(headers))]
    assert blocks[-1]["elements"][0]["text"] == f"…and {30 - len(headers)} more"
    # Whole cards only: every card shown keeps its buttons.
    assert sum(b["type"] == "actions" for b in blocks) == len(headers)


def test_a_first_message_too_big_for_the_budget_is_cut_not_dropped() -> None:
    facts = tuple(Fact(label=str(i), value="x") for i in range(600))
    big = Message(kind="x", title="Big", facts=facts)

    blocks = many_messages_blocks([big, Message(kind="y", title="Next")], max_blocks=20)

    check_blocks(blocks, max_blocks=20)
    assert blocks[0]["text"]["text"] == "Big"
    assert texts_of(blocks)[-1] == "…and 1 more"


def test_digest_items_are_sections_with_their_button_beside_them() -> None:
    blocks = message_blocks(DIGEST)

    check_blocks(blocks, max_blocks=50)
    assert [b["type"] for b in blocks] == ["header"] + ["section"] * 6
    heading, alice = blocks[2], blocks[3]
    assert heading == {"type": "section", "text": {"type": "mrkdwn", "text": "*Near their cap*"}}
    assert alice["text"]["text"] == "*Alice Wong* is at 92% of $85 &lt;script&gt;"
    assert (alice["accessory"]["action_id"], alice["accessory"]["value"]) == (
        "raise_cap",
        "alice@example.com",
    )
    assert "accessory" not in blocks[6]


def test_a_long_digest_is_cut_without_a_dangling_heading() -> None:
    sections = [Section(text="Near their cap", heading=True)]
    sections += [
        Section(
            text=f"*Person {i}* is at 92% of $85",
            action=Action(verb=Verb.NUDGE, label="Nudge", value=f"p{i}@example.com"),
        )
        for i in range(47)
    ]
    sections += [Section(text="Idle seats", heading=True)]
    sections += [Section(text=f"*Idle {i}*") for i in range(5)]
    digest = DIGEST.model_copy(update={"sections": tuple(sections)})

    blocks = message_blocks(digest)

    check_blocks(blocks, max_blocks=50)
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    shown = sum(t.startswith("*Person") for t in texts)
    assert "*Idle seats*" not in texts
    assert texts_of(blocks)[-1] == f"…and {47 - shown + 5} more"


def test_cutting_helpers() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("abcd", 3) == "ab…"
    assert escape_mrkdwn("<a & b>") == "&lt;a &amp; b&gt;"
    assert fit_mrkdwn("<<<<", 9) == "&lt;&lt;…"
    assert fit_mrkdwn("*ok*", 4) == "*ok*"


# --------------------------------------------------------------------------- any content


@settings(max_examples=150, deadline=None)
@given(message=messages, max_blocks=st.integers(1, 50))
def test_no_message_exceeds_any_limit(message: Message, max_blocks: int) -> None:
    blocks = message_blocks(message, max_blocks=max_blocks)

    check_blocks(blocks, max_blocks=max_blocks)
    assert text_size(blocks) <= MESSAGE_CHARS
    assert len(fallback_text(message)) <= 4000
    if message.title.strip() and max_blocks >= 1:
        assert blocks[0]["type"] == "header"


@settings(max_examples=50, deadline=None)
@given(messages=st.lists(messages, max_size=8), max_blocks=st.integers(1, 100))
def test_no_digest_exceeds_any_limit(messages: list[Message], max_blocks: int) -> None:
    blocks = many_messages_blocks(messages, max_blocks=max_blocks)

    check_blocks(blocks, max_blocks=max_blocks)
    assert text_size(blocks) <= MESSAGE_CHARS
