"""What Slack sends, as models read at the edge: listeners take these, never raw dicts.

Slack adds fields over time, so unknown ones are kept and ignored; a field a listener needs
that is missing or of the wrong shape makes the whole body one Slack would not send
(`POST /slack/events` answers 400, see `bot.slack.inbound`). Ids are bounded as the store
keeps them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_ID = 150
"""Slack's trigger ids are about 50 characters and its event ids about 10; the store keeps the
ids it has seen, up to 200 characters."""

SlackId = Annotated[str, Field(min_length=1, max_length=MAX_ID)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class User(_Payload):
    """Who did it: their Slack user id."""

    id: SlackId


class SlashCommand(_Payload):
    """`/capdesk …` as typed (a form-encoded body)."""

    command: Annotated[str, Field(min_length=1)]
    user_id: SlackId
    text: str = ""
    trigger_id: SlackId
    response_url: Annotated[str, Field(min_length=1)]


class Action(_Payload):
    """One element acted on: its `action_id` (the domain's verb) and the value it carries."""

    action_id: Annotated[str, Field(min_length=1)]
    value: str | None = None


class ViewRef(_Payload):
    """The view an interaction came from (the App Home tab, a modal)."""

    type: str | None = None


class BlockActions(_Payload):
    """A click on a button of a message, of the App Home tab or of a modal."""

    type: Literal["block_actions"]
    user: User
    trigger_id: SlackId
    actions: Annotated[list[Action], Field(min_length=1)]
    response_url: str | None = None
    """Absent for clicks on the App Home tab."""
    view: ViewRef | None = None

    @property
    def on_home(self) -> bool:
        return self.view is not None and self.view.type == "home"


class ViewState(_Payload):
    values: dict[str, Any]


class SubmittedView(_Payload):
    callback_id: str = ""
    private_metadata: str = ""
    state: ViewState


class ViewSubmission(_Payload):
    """A modal submitted: its inputs by block id, and what capdesk gave it to carry."""

    type: Literal["view_submission"]
    user: User
    trigger_id: SlackId
    view: SubmittedView


class Shortcut(_Payload):
    """A global shortcut, from anywhere in Slack."""

    type: Literal["shortcut"]
    user: User
    trigger_id: SlackId
    callback_id: str = ""


class MessageAction(_Payload):
    """A message shortcut: checked like the others, though capdesk declares none."""

    type: Literal["message_action"]
    user: User
    trigger_id: SlackId


class Event(_Payload):
    """The event inside an Events API envelope."""

    type: Annotated[str, Field(min_length=1)]
    user: str | None = None
    tab: str = "home"


class EventCallback(_Payload):
    """An Events API envelope; Slack redelivers it with the same `event_id`."""

    type: Literal["event_callback"]
    event: Event
    event_id: SlackId | None = None


Interaction = BlockActions | ViewSubmission | Shortcut | MessageAction
_INTERACTIONS: dict[str, type[Interaction]] = {
    "block_actions": BlockActions,
    "view_submission": ViewSubmission,
    "shortcut": Shortcut,
    "message_action": MessageAction,
}


P = TypeVar("P", bound=BaseModel)


class PayloadError(ValueError):
    """A body of a known kind without what capdesk needs from it; says what is missing."""


def checked(model: type[P], fields: dict[str, Any], what: str) -> P:
    """`fields` read as `model`; PayloadError naming the first field at fault."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "body"
        raise PayloadError(f"{what} whose {where} does not hold ({error['msg']})") from None


def interaction_model(kind: str) -> type[Interaction] | None:
    """The model of an interaction payload of this `type`, if capdesk reads that kind."""
    return _INTERACTIONS.get(kind)
