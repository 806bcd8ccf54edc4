"""The console renderer: a message drawn as a panel, and the same content as plain text."""

from __future__ import annotations

from rich.console import Console, RenderableType

from bot.console import plain_text, render_delivery, render_message
from workflows.messages import Action, Fact, Message, Outgoing, Progress, Recipient, Verb

APPROVAL = Message(
    kind="approval",
    title="Eve Adams asks for +$150 until Dec 12",
    text="Release crunch on the [firmware] build.",
    facts=(
        Fact(label="Requester", value="Eve Adams"),
        Fact(label="Current cap", value="$85"),
        Fact(label="New cap", value="$235"),
    ),
    progress=Progress(label="Month to date", used_cents=6120, limit_cents=8500),
    actions=(
        Action(verb=Verb.APPROVE, label="Approve", value="r1", style="primary"),
        Action(verb=Verb.DENY, label="Deny", value="r1", style="danger"),
    ),
    footer="Request r1 · group embedded",
)


def _text(renderable: RenderableType) -> str:
    console = Console(record=True, width=100)
    console.print(renderable)
    return console.export_text()


def _style_of(renderable: RenderableType, fragment: str) -> str:
    console = Console(width=100, force_terminal=True, color_system="standard")
    for segment in console.render(renderable):
        if fragment in segment.text:
            return str(segment.style)
    raise AssertionError(f"{fragment!r} is not rendered")


def test_a_delivery_shows_everything_a_person_reads() -> None:
    outgoing = Outgoing(recipient=Recipient.member("dana@example.com"), message=APPROVAL)

    text = _text(render_delivery(outgoing, recipient_label="DM to Dana Okafor"))

    assert "DM to Dana Okafor" in text.splitlines()[0]
    assert "Eve Adams asks for +$150 until Dec 12" in text
    assert "Release crunch on the [firmware] build." in text
    assert "Current cap  $85" in text
    assert "New cap      $235" in text
    assert "Month to date  ██████████████░░░░░░ 72% of $85" in text
    assert "[ Approve ]  [ Deny ]" in text
    assert "Request r1 · group embedded" in text


def test_buttons_are_coloured_by_their_style_and_the_footer_is_dim() -> None:
    panel = render_message(APPROVAL)

    assert "green" in _style_of(panel, "[ Approve ]")
    assert "red" in _style_of(panel, "[ Deny ]")
    assert "dim" in _style_of(panel, "Request r1")
    assert "bold" in _style_of(panel, "Eve Adams asks")


def test_a_message_with_only_a_title_has_no_empty_sections() -> None:
    message = Message(kind="notice", title="Your cap is now $235")

    assert plain_text(message) == "Your cap is now $235"
    assert len(_text(render_message(message)).splitlines()) == 3


def test_plain_text_has_the_same_content_without_colours() -> None:
    assert plain_text(APPROVAL) == "\n".join(
        [
            "Eve Adams asks for +$150 until Dec 12",
            "Release crunch on the [firmware] build.",
            "",
            "Requester    Eve Adams",
            "Current cap  $85",
            "New cap      $235",
            "",
            "Month to date  ██████████████░░░░░░ 72% of $85",
            "",
            "[ Approve ]  [ Deny ]",
            "",
            "Request r1 · group embedded",
        ]
    )


def test_the_bar_stops_at_full_but_the_percentage_does_not() -> None:
    message = Message(
        kind="cap_near",
        title="Over the cap",
        progress=Progress(label="Spend", used_cents=17000, limit_cents=8500),
    )

    assert plain_text(message).endswith("Spend  " + "█" * 20 + " 200% of $85")
    assert "red" in _style_of(render_message(message), "█")


def test_a_bar_without_a_limit_shows_the_amount() -> None:
    message = Message(
        kind="usage",
        title="Usage",
        progress=Progress(label="Spend", used_cents=4250, limit_cents=0),
    )

    assert plain_text(message).endswith("Spend  $42.50, no limit")
