"""Everything the emulated Bot Connector holds: conversations, the bot's activities, the calls.

Tests read it to see what the bot did. The emulator's server thread writes it; every method
takes the lock, and reads hand out copies, so a test on another thread sees a consistent
picture. Nothing here speaks HTTP.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

Json = dict[str, Any]
ConversationType = Literal["personal", "channel"]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass
class Conversation:
    """A 1:1 chat with one person, or a channel of the team."""

    id: str
    type: ConversationType
    tenant_id: str
    # Teams user ids: the person of a 1:1 chat; everyone in the team for a channel.
    members: list[str]
    name: str | None = None
    team_id: str | None = None

    def to_activity(self) -> Json:
        """The `conversation` of the activities Teams sends in it."""
        conversation: Json = {
            "conversationType": self.type,
            "tenantId": self.tenant_id,
            "id": self.id,
        }
        if self.type == "channel":
            conversation.update(isGroup=True, name=self.name)
        return conversation


@dataclass
class PostedActivity:
    """An activity the bot posted, as it reads now; `history` holds what updates replaced."""

    conversation_id: str
    id: str
    activity: Json
    reply_to_id: str | None = None
    history: list[Json] = field(default_factory=list)
    # The card each person who clicked sees instead (an invoke answered with a card).
    seen_by: dict[str, Json] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The message text."""
        return str(self.activity.get("text") or "")

    @property
    def cards(self) -> list[Json]:
        """The Adaptive Cards attached, in order."""
        return [
            attachment.get("content") or {}
            for attachment in self.activity.get("attachments") or []
            if isinstance(attachment, dict) and attachment.get("contentType") == ADAPTIVE_CARD
        ]

    def card_seen_by(self, user_id: str) -> Json | None:
        """The card `user_id` sees: the one their click brought, else the first attached."""
        if user_id in self.seen_by:
            return self.seen_by[user_id]
        cards = self.cards
        return cards[0] if cards else None


@dataclass(frozen=True, slots=True)
class ConnectorCall:
    """One call the bot made (to the Bot Connector, or for the key documents): route, HTTP
    method and path, the JSON sent, status and answer."""

    route: str
    method: str
    path: str
    body: Json | None
    status: int
    answer: Any


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """One client-credentials request: the tenant in the path, the form (its secret replaced by
    whether it was right), the status."""

    tenant: str
    form: dict[str, str]
    status: int


class ConnectorState:
    """The Bot Connector's contents. Mutated only by the emulator; read freely."""

    def __init__(self, conversations: list[Conversation]) -> None:
        self._lock = threading.RLock()
        self._conversations = {c.id: c for c in conversations}
        self._posted: list[PostedActivity] = []
        self._calls: list[ConnectorCall] = []
        self._token_requests: list[TokenRequest] = []
        # Access tokens issued to the bot, and when (epoch seconds) each expires.
        self.tokens: dict[str, float] = {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Holds the lock for a compound change."""
        with self._lock:
            yield

    def conversation(self, conversation_id: str) -> Conversation | None:
        """The conversation, also when named by a channel thread (`<channel>;messageid=<id>`)."""
        with self._lock:
            return self._conversations.get(conversation_id.split(";", 1)[0])

    def add_conversation(self, conversation: Conversation) -> Conversation:
        """Stores a conversation, or returns the one already there under its id."""
        with self._lock:
            return self._conversations.setdefault(conversation.id, conversation)

    def conversations(self) -> list[Conversation]:
        """Every conversation."""
        with self._lock:
            return list(self._conversations.values())

    def post(self, posted: PostedActivity) -> PostedActivity:
        """Stores an activity the bot posted."""
        with self._lock:
            self._posted.append(posted)
            return posted

    def posted(self, conversation_id: str | None = None) -> list[PostedActivity]:
        """The bot's activities (in one conversation, or all), oldest first, as copies."""
        with self._lock:
            found = [
                p
                for p in self._posted
                if conversation_id is None or p.conversation_id.split(";", 1)[0] == conversation_id
            ]
            return copy.deepcopy(found)

    def find_posted(self, conversation_id: str, activity_id: str) -> PostedActivity | None:
        """The bot's activity `activity_id` in the conversation (the live object, for edits)."""
        base = conversation_id.split(";", 1)[0]
        with self._lock:
            return next(
                (
                    p
                    for p in self._posted
                    if p.id == activity_id and p.conversation_id.split(";", 1)[0] == base
                ),
                None,
            )

    def record_call(self, call: ConnectorCall) -> None:
        """Logs one Bot Connector call."""
        with self._lock:
            self._calls.append(call)

    def calls(self, route: str | None = None) -> list[ConnectorCall]:
        """The Bot Connector calls (of one route, or all), oldest first."""
        with self._lock:
            return [c for c in self._calls if route is None or c.route == route]

    def record_token_request(self, request: TokenRequest) -> None:
        """Logs one token request."""
        with self._lock:
            self._token_requests.append(request)

    def token_requests(self) -> list[TokenRequest]:
        """The token requests, oldest first."""
        with self._lock:
            return list(self._token_requests)
