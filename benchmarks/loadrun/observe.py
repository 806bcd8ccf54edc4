"""What the driver sees of a flow, and when: the emulator's Web API calls and response_url
posts, and the admin backend's effects, turned into moments per request number.

Every observation is stamped with `time.monotonic()` when the emulator or the backend handles
it, in the same process and on the same loop as the driver, so a latency is the time between
two things a person would see (or the backend would do), not what the server says about
itself.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from benchmarks.loadrun.backend import Effect
from benchmarks.loadrun.world import Org
from bot.slack.emulator import ApiCall, Ephemeral, Message, ResponseUrlPost, SlackEmulator
from bot.slack.emulator.state import find_element

T = TypeVar("T")

CARD, CLICKED, DECIDED, APPLIED, IN_FORCE = "card", "clicked", "decided", "applied", "in force"

_MENTION = re.compile(r"Request #(\d+)")
_PENDING = re.compile(r"already have request #(\d+) pending")
_IN_FORCE = re.compile(r"Request #(\d+) is in force")
_APPROVED = re.compile(r"#(\d+)\b[^#]*?\bapproved\b|\bapproved #(\d+)", re.IGNORECASE)
_APPLY_KEY = re.compile(r"^request-(\d+)-apply$")

Card = Message | Ephemeral
OnCard = Callable[[int, Card], None]


class Moments:
    """When each (event, request number) was first seen, and waiters for them."""

    def __init__(self) -> None:
        self._at: dict[tuple[str, int], float] = {}
        self._waiters: dict[tuple[str, int], asyncio.Event] = {}

    def mark(self, event: str, request: int, at: float | None = None) -> bool:
        """Record the moment unless already seen; True the first time."""
        key = (event, request)
        if key in self._at:
            return False
        self._at[key] = time.monotonic() if at is None else at
        waiter = self._waiters.pop(key, None)
        if waiter is not None:
            waiter.set()
        return True

    def at(self, event: str, request: int) -> float | None:
        return self._at.get((event, request))

    async def wait(self, event: str, request: int, *, timeout: float) -> bool:
        """Whether the moment comes within `timeout` seconds (or came already)."""
        key = (event, request)
        if key in self._at:
            return True
        waiter = self._waiters.setdefault(key, asyncio.Event())
        try:
            await asyncio.wait_for(waiter.wait(), max(0.0, timeout))
        except TimeoutError:
            return False
        return True


class Announcements:
    """The request numbers each person was told about (their request, or the one pending)."""

    def __init__(self, people: Iterable[str]) -> None:
        self._queues: dict[str, asyncio.Queue[int]] = {p: asyncio.Queue() for p in people}
        self.requester: dict[int, str] = {}

    def tell(self, person: str, request: int) -> None:
        self.requester.setdefault(request, person)
        self._queues[person].put_nowait(request)

    async def next_after(self, person: str, last: int, *, timeout: float) -> int | None:
        """The first number above `last` told to `person` within `timeout` seconds."""
        queue = self._queues[person]
        deadline = time.monotonic() + timeout
        while True:
            try:
                number = await asyncio.wait_for(queue.get(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return None
            if number > last:
                return number


class Watched(list[T]):
    """A list that shows `seen` every item appended (the emulator appends what it handled)."""

    def __init__(self, items: Iterable[T], seen: Callable[[T], None]) -> None:
        super().__init__(items)
        self._seen = seen

    def append(self, item: T) -> None:
        super().append(item)
        self._seen(item)


class Observer:
    """Turns what the workspace and the backend see into moments and announcements.

    `cards_to_owners`: the approval card reaches the deciding owner in their DM (capdesk);
    otherwise the card is the reply shown to the requester, which the owner clicks (the floor).
    `on_card(number, card)` is told of the card the deciding owner is to click.
    """

    def __init__(
        self, emu: SlackEmulator, org: Org, dms: dict[str, str], *, cards_to_owners: bool
    ) -> None:
        self.moments = Moments()
        self.announcements = Announcements(org.people)
        self._emu = emu
        self._org = org
        self._dms = dms
        self._people = frozenset(org.people)
        self._cards_to_owners = cards_to_owners
        self.on_card: OnCard = lambda _number, _card: None
        self._cards: dict[tuple[str, str], int] = {}
        self._open_replies: dict[int, Ephemeral] = {}

    def watch(self) -> None:
        """Start seeing the emulator's calls and posts as they are handled."""
        state = self._emu.state
        state.calls = Watched(state.calls, self._call)
        state.response_posts = Watched(state.response_posts, self._post)

    def effect(self, effect: Effect) -> None:
        """A write took effect at the backend."""
        number = number_of(effect.key)
        if number is not None:
            self.moments.mark(APPLIED, number, effect.at)
            self.moments.mark(DECIDED, number, effect.at)

    def _call(self, call: ApiCall) -> None:
        if call.status != 200 or not call.answer.get("ok"):
            return
        if call.method not in ("chat.postMessage", "chat.update"):
            return
        channel, ts = str(call.answer["channel"]), str(call.answer["ts"])
        message = _newest(self._emu.state.messages.get(channel, []), ts)
        if message is not None:
            self._seen(self._dms.get(channel), message, edited=call.method == "chat.update")

    def _post(self, post: ResponseUrlPost) -> None:
        if post.status != 200:
            return
        state = self._emu.state
        target = state.response_targets.get(post.url.rsplit("/", 1)[1])
        if target is None or post.body.get("delete_original"):
            return
        recipient = self._emu.user(target.user).email
        shown: Card | None
        if post.body.get("replace_original") and target.message_ts is not None:
            if target.ephemeral:
                shown = state.ephemeral(target.channel, target.message_ts)
            else:
                shown = state.message(target.channel, target.message_ts)
            if shown is not None:
                self._seen(recipient, shown, edited=True)
            return
        if post.body.get("response_type") == "in_channel":
            shown = _newest(state.messages.get(target.channel, []), None)
        else:
            # The responder has just appended the reply; nothing runs in between.
            shown = state.ephemerals[-1] if state.ephemerals else None
        if shown is None:
            return
        self._seen(recipient, shown, edited=False)
        if isinstance(shown, Ephemeral):
            self._forget(shown)

    def _forget(self, reply: Ephemeral) -> None:
        """Drop a read reply that no one will click from the workspace (a card once it is in
        force): the emulator looks ephemerals up one by one, which over a long run of the
        floor would cost the driver more than the app it measures."""
        button = find_element(reply.blocks, action_id="approve")
        if button is not None:
            number = int(button[1]["value"])
            if self.moments.at(IN_FORCE, number) is None:
                self._open_replies[number] = reply
                return
        ephemerals = self._emu.state.ephemerals
        if ephemerals and ephemerals[-1] is reply:
            ephemerals.pop()
        else:
            ephemerals.remove(reply)

    def _seen(self, recipient: str | None, shown: Card, *, edited: bool) -> None:
        words = shown.text + json.dumps(shown.blocks)
        button = find_element(shown.blocks, action_id="approve")
        place = (shown.channel, shown.ts)
        if button is not None:
            number = int(button[1]["value"])
            if not self._cards_to_owners and recipient in self._people:
                self.announcements.tell(recipient, number)
                self._card(number, shown)
            elif self._cards_to_owners and recipient == self._org.decider(number):
                self._cards[place] = number
                self._card(number, shown)
        elif edited and place in self._cards:
            self.moments.mark(DECIDED, self._cards[place])
        for found in _IN_FORCE.finditer(words):
            number = int(found.group(1))
            self.moments.mark(IN_FORCE, number)
            card = self._open_replies.pop(number, None)
            if card is not None:
                self._emu.state.ephemerals.remove(card)
        for found in _APPROVED.finditer(words):
            self.moments.mark(DECIDED, int(found.group(1) or found.group(2)))
        if recipient in self._people:
            for pattern in (_MENTION, _PENDING):
                for found in pattern.finditer(words):
                    self.announcements.tell(recipient, int(found.group(1)))

    def _card(self, number: int, card: Card) -> None:
        if self.moments.mark(CARD, number):
            self.on_card(number, card)


def _newest(messages: list[Message], ts: str | None) -> Message | None:
    """The live message at `ts` (or the last one), searched from the end: new ones are there."""
    return next(
        (m for m in reversed(messages) if (ts is None or m.ts == ts) and not m.deleted), None
    )


def number_of(key: str) -> int | None:
    """The request number of an apply key (`workflows.requests.deciding.apply_key`)."""
    found = _APPLY_KEY.match(key)
    return int(found.group(1)) if found else None
