"""What a person is told when capdesk cannot do what they asked, on every platform."""

from __future__ import annotations

from workflows.messages import Message


def unknown_person(platform: str) -> Message:
    """For someone whose account on `platform` (`Slack`, `Teams`) matches no member."""
    return Message(
        kind="unknown_person",
        title="I don't know you yet",
        text=(
            "capdesk looks after the AI-assistant seats of the people in the organisation's "
            f"policy, and your {platform} account's email is not among them. If you should "
            "have a seat, ask an admin to add you."
        ),
    )


FAILED = Message(
    kind="failure",
    title="Something went wrong on our side",
    text=(
        "capdesk could not finish this just now (the failure is logged for the admins). "
        "Please try again in a minute."
    ),
)


def refusal(text: str) -> Message:
    """A refusal, as a message of its own."""
    return Message(kind="refusal", title="That didn't work", text=text)
