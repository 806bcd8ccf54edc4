"""Chat-neutral messages as Adaptive Cards: the layout, the Markdown, the size budget, the
clicks read back, and every card valid under the official 1.5 schema."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.teams.cards import (
    CARD_BYTES,
    MIN_CARD_BYTES,
    TEXT_CHARS,
    CardAction,
    card_bytes,
    fallback_text,
    message_card,
    progress_line,
    read_action,
    settled_card,
    teams_markdown,
)
from tests.unit.sample_messages import APPROVAL, BUTTON_TOO_LONG, DIGEST, messages, texts
from tests.unit.teams_checks import check_card, executes, texts_of, walk
from workflows.messages import Action, Fact, Message, Progress, Section, Verb


def card_of(message: Message, **options: Any) -> dict[str, Any]:
    """The message's card, after checking it is one Teams accepts: every card the tests
    render is validated against the official schema."""
    card = message_card(message, **options)
    check_card(card, max_bytes=options.get("max_bytes", CARD_BYTES))
    return card


def settled_card_of(message: Message, **options: Any) -> dict[str, Any]:
    card = settled_card(message, **options)
    check_card(card, max_bytes=options.get("max_bytes", CARD_BYTES))
    return card


def test_an_approval_card_reads_top_to_bottom() -> None:
    card = card_of(APPROVAL)

    body = card["body"]
    assert [b["type"] for b in body] == ["TextBlock"] * 2 + ["FactSet"] + ["TextBlock"] * 3
    assert body[0]["text"] == "Eve Adams asks for +$150 a month"
    assert body[0]["style"] == "heading"
    assert body[1]["text"] == "Request #7 · embedded · standard seat"
    assert body[2]["facts"][0] == {"title": "What", "value": "+$150 a month ($85 → $235)"}
    assert [b["text"] for b in body[3:5]] == ["Spent this month", "▓▓▓▓▓▓▓░░░ 74% of $85"]
    assert body[4]["fontType"] == "monospace"
    assert body[5]["text"] == "Approved by Dana Okafor at 14:02"
    assert body[5]["isSubtle"] is True
    approve, deny = card["actions"]
    assert approve == {
        "type": "Action.Execute",
        "title": "Approve",
        "verb": "approve",
        "data": {"value": "7"},
        "associatedInputs": "None",
        "style": "positive",
    }
    assert (deny["type"], deny["title"], deny["style"]) == (
        "Action.ShowCard",
        "Deny",
        "destructive",
    )


def test_deny_asks_for_a_reason_inside_the_card() -> None:
    deny = card_of(APPROVAL)["actions"][1]

    [reason] = deny["card"]["body"]
    [execute] = deny["card"]["actions"]
    assert reason["type"] == "Input.Text"
    assert reason["id"] == "reason"
    assert (reason["isRequired"], reason["maxLength"]) == (True, 500)
    assert reason["errorMessage"] == "Give a reason of 3 to 500 characters."
    assert execute["verb"] == "deny"
    assert execute["data"] == {"value": "7", "reasonInput": "reason"}
    assert execute["associatedInputs"] == "Auto"
    # Teams merges the field into the data it sends back under the field's id.
    sent = execute["data"] | {"reason": "Not this quarter"}
    assert read_action(execute["verb"], sent) == CardAction(Verb.DENY, "7", "Not this quarter")


@pytest.mark.parametrize(
    ("typed", "minimum_met"),
    [("ok!", True), ("  no  ", False), ("a b", True), ("ab", False), ("x\n\ny", True)],
)
def test_the_reason_field_checks_the_domains_minimum(typed: str, minimum_met: bool) -> None:
    import re

    [reason] = card_of(APPROVAL)["actions"][1]["card"]["body"]

    assert bool(re.fullmatch(reason["regex"], typed)) is minimum_met


def test_several_deny_buttons_have_their_own_reason_fields() -> None:
    reminders = Message(
        kind="x",
        title="Waiting for you",
        sections=tuple(
            Section(text=f"Request #{i}", action=Action(verb=Verb.DENY, label="Deny", value=str(i)))
            for i in (3, 4)
        ),
        actions=(Action(verb=Verb.DENY, label="Deny #5", value="5"),),
    )

    card = card_of(reminders)

    denies = [e for e in executes(card) if e["verb"] == "deny"]
    assert [e["data"] for e in denies] == [
        {"value": "3", "reasonInput": "reason"},
        {"value": "4", "reasonInput": "reason-2"},
        {"value": "5", "reasonInput": "reason-3"},
    ]
    sent = denies[1]["data"] | {"reason-2": "Too much"}
    assert read_action("deny", sent) == CardAction(Verb.DENY, "4", "Too much")


def test_markdown_becomes_what_teams_renders_and_links_cannot_hide() -> None:
    reason = next(t for t in texts_of(card_of(APPROVAL)) if t.startswith("Reason:"))

    assert reason == (
        "Reason: Release crunch <!channel> & the **firmware** build"
        " [here]\u200b(https://evil.example)"
    )


@pytest.mark.parametrize(
    ("domain", "teams"),
    [
        ("*bold* and `code`", "**bold** and **code**"),
        ("**already** bold", "**already** bold"),
        ("2 * 3 * 4", "2 * 3 * 4"),
        ("a*b*c", "a*b*c"),
        ("line one\nline two\n\n\nthree", "line one\n\nline two\n\nthree"),
        ("crlf\r\nand\rcr", "crlf\n\nand\n\ncr"),
        ("bell\x07 and nul\x00 gone", "bell and nul gone"),
        ("<b>html</b> & <at>Dana</at>", "<b>html</b> & <at>Dana</at>"),
        ("[a] (b) ![img](x)", "[a] (b) ![img]\u200b(x)"),
        (
            "[text][ref]\n[ref]: https://evil.example",
            "[text]\u200b[ref]\n\n[ref]\u200b: https://evil.example",
        ),
    ],
)
def test_teams_markdown(domain: str, teams: str) -> None:
    assert teams_markdown(domain) == teams


def test_ten_kilobytes_of_text_are_cut_to_a_block() -> None:
    card = card_of(Message(kind="x", title="Long", text="word " * 2000))

    text = card["body"][1]["text"]
    assert len(text) <= TEXT_CHARS
    assert text.endswith("word…")


def test_a_long_title_is_cut_and_kept_on_one_line() -> None:
    [title] = card_of(Message(kind="x", title="t\n" * 400))["body"]

    assert len(title["text"]) == 150
    assert "\n" not in title["text"]
    assert title["text"].endswith("…")


def test_two_hundred_long_facts_stay_within_the_budget_and_say_how_many_were_left_out() -> None:
    facts = tuple(
        Fact(label=f"Request #{i} pending", value=f"+$150 a month ($85 → $235) · reason {i} " * 5)
        for i in range(200)
    )
    card = card_of(APPROVAL.model_copy(update={"facts": facts}))

    [fact_set] = [b for b in card["body"] if b["type"] == "FactSet"]
    shown = len(fact_set["facts"])
    assert 0 < shown < 200
    assert f"…and {200 - shown} more" in texts_of(card)
    # The bar, the footer and both buttons survive the cut.
    assert texts_of(card)[-3:] == [
        "Spent this month",
        "▓▓▓▓▓▓▓░░░ 74% of $85",
        "Approved by Dana Okafor at 14:02",
    ]
    assert [a["title"] for a in card["actions"]] == ["Approve", "Deny"]
    # Nothing more would have fitted.
    one_more = facts[: shown + 1]
    assert card_bytes(card_of(APPROVAL.model_copy(update={"facts": one_more}))) > (card_bytes(card))


def test_a_smaller_budget_is_kept_too() -> None:
    card = card_of(APPROVAL, max_bytes=MIN_CARD_BYTES)

    assert card["body"][0]["text"] == "Eve Adams asks for +$150 a month"
    with pytest.raises(ValueError, match="at least 2048"):
        message_card(APPROVAL, max_bytes=MIN_CARD_BYTES - 1)


def test_a_value_too_long_for_a_button_leaves_the_button_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        card = card_of(BUTTON_TOO_LONG)

    assert [a["verb"] for a in card["actions"]] == ["retry_operation"]
    assert "confirm_manual" in caplog.text


def test_buttons_past_the_budget_are_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    actions = tuple(
        Action(verb=Verb.NUDGE, label=f"Nudge {i}", value="v" * 1900) for i in range(40)
    )
    with caplog.at_level(logging.WARNING):
        card = card_of(Message(kind="x", title="Many", actions=actions))

    shown = len(card["actions"])
    assert 0 < shown < 40
    assert [a["title"] for a in card["actions"]] == [f"Nudge {i}" for i in range(shown)]
    assert f"left out {40 - shown} buttons" in caplog.text


def test_a_button_without_a_label_is_named_after_its_verb() -> None:
    message = Message(
        kind="x", title="x", actions=(Action(verb=Verb.RETRY_OPERATION, label=" ", value="1"),)
    )

    assert card_of(message)["actions"][0]["title"] == "Retry operation"


@pytest.mark.parametrize(
    ("used", "limit", "line", "colour"),
    [
        (0, 8500, "░░░░░░░░░░ 0% of $85", "good"),
        (7225, 8500, "▓▓▓▓▓▓▓▓░░ 85% of $85", "warning"),
        (8500, 8500, "▓▓▓▓▓▓▓▓▓▓ 100% of $85", "attention"),
        (17000, 8500, "▓▓▓▓▓▓▓▓▓▓ 200% of $85", "attention"),
        (-100, 8500, "░░░░░░░░░░ -2% of $85", "good"),
        (1234, 0, "$12.34, no limit", "default"),
    ],
)
def test_the_bar_stops_at_full_but_the_percentage_does_not(
    used: int, limit: int, line: str, colour: str
) -> None:
    progress = Progress(label="Spent", used_cents=used, limit_cents=limit)
    bar = card_of(Message(kind="x", title="x", progress=progress))["body"][-1]

    assert progress_line(progress) == line
    assert (bar["text"], bar["color"]) == (line, colour)


def test_the_fallback_text_is_one_line_of_title_and_text() -> None:
    assert fallback_text(APPROVAL) == (
        "Eve Adams asks for +$150 a month — Request #7 · embedded · standard seat"
    )
    assert fallback_text(Message(kind="x", title=" ")) == "capdesk"
    assert len(fallback_text(Message(kind="x", title="t", text="y " * 50_000))) == 300
    assert card_of(APPROVAL)["fallbackText"] == fallback_text(APPROVAL)


def test_an_empty_message_is_an_empty_valid_card() -> None:
    card = card_of(Message(kind="x", title="  "))

    assert card["body"] == []
    assert "actions" not in card


def test_card_bytes_counts_utf16_as_teams_does() -> None:
    ascii_card = card_of(Message(kind="x", title="a" * 100))
    astral_card = card_of(Message(kind="x", title="😀" * 100))

    # The title shows twice, on the card and in its fallback text: 4 bytes a character, not 2.
    assert card_bytes(astral_card) - card_bytes(ascii_card) == 2 * 100 * (4 - 2)


def test_digest_items_have_their_button_beside_them() -> None:
    card = card_of(DIGEST, chart_url="https://capdesk.example.com/teams/images/t.png")

    kinds = [b["type"] for b in card["body"]]
    assert kinds == ["TextBlock"] * 3 + ["ColumnSet"] * 2 + ["TextBlock"] * 2 + ["Image"]
    heading, alice = card["body"][2], card["body"][3]
    assert (heading["text"], heading["weight"]) == ("Near their cap", "bolder")
    text_column, button_column = alice["columns"]
    # Teams shows HTML as typed: nothing to escape.
    assert text_column["items"][0]["text"] == "**Alice Wong** is at 92% of $85 <script>"
    [button] = button_column["items"][0]["actions"]
    assert (button["verb"], button["data"]) == ("raise_cap", {"value": "alice@example.com"})
    assert card["body"][6]["text"] == "**Rita Lenz**: no activity for 30 days"
    assert card["body"][7] == {
        "type": "Image",
        "url": "https://capdesk.example.com/teams/images/t.png",
        "altText": "Spend this month",
        "size": "stretch",
    }


def test_without_a_url_the_chart_is_drawn_as_text() -> None:
    card = card_of(DIGEST)

    assert not [e for e in walk(card) if e.get("type") == "Image"]
    assert texts_of(card)[-3:] == [
        "Spend this month",
        "_Spend by group against budget_\n\n"
        "▓▓▓▓▓▓▓▓▓▓ $4,500 of $4,250 software\n\n"
        "▓▓░░░░░░░░ $1,000 of $1,600 embedded",
        "_Top spenders against their cap_\n\nno spend yet",
    ]


def test_a_long_digest_is_cut_without_a_dangling_heading() -> None:
    sections = [Section(text="Near their cap", heading=True)]
    sections += [
        Section(
            text=f"*Person {i}* is at 92% of $85 " + "and more words " * 20,
            action=Action(verb=Verb.NUDGE, label="Nudge", value=f"p{i}@example.com"),
        )
        for i in range(60)
    ]
    sections += [Section(text="Idle seats", heading=True)]
    sections += [Section(text=f"*Idle {i}*") for i in range(5)]
    card = card_of(DIGEST.model_copy(update={"sections": tuple(sections)}))

    texts = texts_of(card)
    shown = sum(t.startswith("**Person") for t in texts)
    assert 0 < shown < 60
    assert "Idle seats" not in texts
    assert f"…and {60 - shown + 5} more" in texts


def test_a_settled_card_has_no_buttons_and_says_what_happened() -> None:
    card = settled_card_of(DIGEST.model_copy(update={"actions": APPROVAL.actions}), status="Done")

    assert executes(card) == []
    assert "actions" not in card
    assert not [e for e in walk(card) if e.get("type") in {"ActionSet", "Action.ShowCard"}]
    assert texts_of(card)[-1] == "Done"
    assert texts_of(card)[3] == "**Alice Wong** is at 92% of $85 <script>"


@pytest.mark.parametrize(
    ("verb", "data", "read"),
    [
        ("approve", {"value": "7"}, CardAction(Verb.APPROVE, "7")),
        (
            "nudge",
            {"value": "bob@example.com", "extra": 1},
            CardAction(Verb.NUDGE, "bob@example.com"),
        ),
        ("deny", {"value": "7"}, CardAction(Verb.DENY, "7", None)),
        ("deny", {"value": "7", "reason": "No"}, CardAction(Verb.DENY, "7", "No")),
        ("deny", {"value": "7", "reasonInput": ["x"], "reason": "No"}, CardAction(Verb.DENY, "7")),
        ("deny", {"value": "7", "reason": 12}, CardAction(Verb.DENY, "7", None)),
        ("approve", {"value": 7}, None),
        ("approve", {}, None),
        ("approve", "7", None),
        ("approve", None, None),
        ("approve", {"value": "x" * 2001}, None),
        ("delete_everything", {"value": "7"}, None),
        (None, {"value": "7"}, None),
        (["approve"], {"value": "7"}, None),
    ],
)
def test_clicks_are_read_back_and_anything_else_is_refused(
    verb: object, data: object, read: CardAction | None
) -> None:
    assert read_action(verb, data) == read


# --------------------------------------------------------------------------- any content


def _check_clicks(message: Message, card: dict[str, Any]) -> None:
    """Every button names a verb and value the message had, and reads back as that click."""
    offered = {(a.verb, a.value) for a in message.actions}
    offered |= {(s.action.verb, s.action.value) for s in message.sections if s.action}
    for execute in executes(card):
        click = read_action(execute["verb"], execute["data"])
        assert click is not None
        assert (click.verb, click.value) in offered


@settings(max_examples=150, deadline=None)
@given(
    message=messages,
    max_bytes=st.integers(MIN_CARD_BYTES, CARD_BYTES),
    chart_url=st.none() | st.just("https://capdesk.example.com/teams/images/abc.png"),
)
def test_no_card_exceeds_any_limit(message: Message, max_bytes: int, chart_url: str | None) -> None:
    card = card_of(message, chart_url=chart_url, max_bytes=max_bytes)

    _check_clicks(message, card)
    if " ".join(teams_markdown(message.title).split()) and card["body"]:
        assert card["body"][0].get("style") == "heading"


@settings(max_examples=40, deadline=None)
@given(message=messages, status=texts)
def test_no_settled_card_exceeds_any_limit_or_keeps_a_button(message: Message, status: str) -> None:
    card = settled_card_of(message, status=status)

    assert executes(card) == []
