"""Commands in the domain's texts are written by each platform's renderer its own way."""

from __future__ import annotations

from bot.console import plain_text
from bot.slack.blocks import fallback_text, message_blocks
from bot.slack.limits import cut, fit_mrkdwn
from bot.teams.cards import message_card
from tests.unit.slack_checks import texts_of
from workflows.messages import COMMAND, Fact, Message, command, written_for
from workflows.requests.grammar import HELP

HELP_MESSAGE = Message(kind="help", title="capdesk commands", text=HELP)


def test_the_domain_writes_no_platforms_prefix() -> None:
    assert "/capdesk" not in HELP
    assert command("cancel 42") == f"`{COMMAND}cancel 42`"
    assert written_for(command("cancel 42"), "/capdesk ") == "`/capdesk cancel 42`"


def test_slack_writes_the_slash_command() -> None:
    shown = " ".join(texts_of(message_blocks(HELP_MESSAGE)))
    assert "`/capdesk status`" in shown
    assert "`/capdesk cancel 42`" in shown
    assert COMMAND not in shown
    assert "/capdesk status" in fallback_text(HELP_MESSAGE)
    assert cut(command("help"), 100) == fit_mrkdwn(command("help"), 100) == "`/capdesk help`"


def test_teams_writes_the_command_as_typed_in_its_chat() -> None:
    card = str(message_card(HELP_MESSAGE))
    assert "**status**" in card
    assert "/capdesk" not in card
    assert COMMAND not in card


def test_the_terminal_writes_them_as_slack_does() -> None:
    shown = plain_text(HELP_MESSAGE)
    assert "`/capdesk status`" in shown
    assert COMMAND not in shown


def test_a_whole_message_is_written_for_a_platform_and_a_plain_one_is_left_alone() -> None:
    message = Message(
        kind="k",
        title="t",
        text=command("help"),
        facts=(Fact(label=command("status"), value='say "hi"'),),
    )
    written = message.written_for('@bot "')
    assert written.text == '`@bot "help`'
    assert written.facts[0].label == '`@bot "status`'
    assert written.facts[0].value == 'say "hi"'
    plain = Message(kind="k", title="no commands")
    assert plain.written_for("/capdesk ") is plain
