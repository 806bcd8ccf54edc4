"""Slack's payloads read into models at the edge: extra fields are Slack's to add, missing
ones make the body one Slack would not send."""

from __future__ import annotations

import logging

import pytest

from bot.slack.payloads import (
    MAX_ID,
    BlockActions,
    EventCallback,
    PayloadError,
    SlashCommand,
    ViewSubmission,
    checked,
    interaction_model,
)
from bot.slack.surface import read

CLICK = {
    "type": "block_actions",
    "user": {"id": "U0SAM", "name": "sam", "team_id": "T0"},
    "trigger_id": "1.2.abc",
    "response_url": "https://hooks.slack.com/actions/1",
    "actions": [{"action_id": "approve", "value": "7", "type": "button", "block_id": "b"}],
    "container": {"type": "message"},
}


def test_a_click_is_read_with_what_capdesk_needs_and_keeps_the_rest() -> None:
    click = checked(BlockActions, CLICK, "a block_actions payload")
    assert (click.user.id, click.trigger_id, click.actions[0].value) == ("U0SAM", "1.2.abc", "7")
    assert not click.on_home
    assert click.model_extra == {"container": {"type": "message"}}
    home = checked(BlockActions, {**CLICK, "view": {"type": "home"}}, "a block_actions payload")
    assert home.on_home
    assert interaction_model("block_actions") is BlockActions
    assert interaction_model("view_closed") is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"actions": []}, "actions does not hold"),
        ({"user": "sam"}, "user does not hold"),
        ({"trigger_id": "1" * (MAX_ID + 1)}, "trigger_id does not hold"),
        ({"trigger_id": None}, "trigger_id does not hold"),
    ],
)
def test_a_click_without_what_capdesk_needs_says_what_is_missing(
    change: dict[str, object], says: str
) -> None:
    with pytest.raises(PayloadError, match=says):
        checked(BlockActions, {**CLICK, **change}, "a block_actions payload")


def test_commands_submissions_and_events_are_read_too() -> None:
    command = checked(
        SlashCommand,
        {
            "command": "/capdesk",
            "user_id": "U1",
            "trigger_id": "t",
            "response_url": "https://r",
            "team_domain": "x",
        },
        "a slash command",
    )
    assert command.text == ""
    submission = checked(
        ViewSubmission,
        {
            "type": "view_submission",
            "user": {"id": "U1"},
            "trigger_id": "t",
            "view": {"state": {"values": {"amount": {}}}},
        },
        "a view_submission payload",
    )
    assert submission.view.private_metadata == ""
    event = checked(
        EventCallback,
        {"type": "event_callback", "event": {"type": "app_home_opened", "user": "U1"}},
        "an event_callback",
    )
    assert (event.event.tab, event.event_id) == ("home", None)


def test_a_listener_ignores_a_body_that_does_not_hold_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        assert read(BlockActions, {**CLICK, "actions": []}, "a block_actions payload") is None
    assert [r.getMessage() for r in caplog.records] == [
        "ignored a Slack request: a block_actions payload whose actions does not hold "
        "(List should have at least 1 item after validation, not 0)"
    ]
