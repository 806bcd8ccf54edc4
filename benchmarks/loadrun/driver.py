"""People asking and owners approving, over HTTP through the emulator, for a given time.

Each person asks (`/capdesk raise ...`), waits for their request to be in force, and asks
again, until the load time is up; the owner whose turn it is clicks Approve on each card as
soon as it arrives. They behave as people do when something goes wrong: a command that is
refused (the server is down) is typed again a moment later, a command that gets no answer
within `PATIENCE` is typed again (capdesk then says which request is pending), and a click
that changes nothing within `PATIENCE` is clicked again. After the load time no one asks any
more, and the run waits up to `drain` seconds for the flows under way to finish.

A flow's moments are measured in this process (see `observe`); the server is killed and
started again at the planned moments, and the backend's armed hangs are set off likewise.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import aiohttp

from benchmarks.loadrun.observe import APPLIED, CARD, CLICKED, DECIDED, IN_FORCE, Card, Observer
from benchmarks.loadrun.world import COMMAND, Org
from bot.slack.emulator import AckTimeout, Reply, SlackEmulator

PATIENCE = 30.0
"""Seconds a person waits for an answer before typing, or clicking, again."""
PAUSE = 0.5
"""Seconds before trying again after a refused connection or an error status."""


@dataclass
class Flow:
    """One request of one person, from the command to the "in force" message."""

    person: str
    asked: float
    request: int | None = None


@dataclass
class Tally:
    """What went wrong on the way, as the people saw it."""

    ack_timeouts: int = 0
    """Answers that took longer than Slack's 3 seconds (Slack shows the person an error)."""
    refused: int = 0
    """Requests that found no server (killed, starting again)."""
    errors: Counter[int] = field(default_factory=Counter)
    """Answers with a status other than 200, by status."""
    retyped: int = 0
    reclicked: int = 0
    kills: int = 0
    hangs: int = 0


@dataclass(frozen=True)
class Plan:
    """How long to load and drain, and when (seconds after the start) to kill and hang."""

    seconds: float
    drain: float
    kills: tuple[float, ...] = ()
    hangs: tuple[float, ...] = ()


class Driver:
    """The people and owners of `org` against the app behind `emu`, seen by `observer`."""

    def __init__(
        self, emu: SlackEmulator, org: Org, observer: Observer, *, patience: float = PATIENCE
    ) -> None:
        self._emu = emu
        self._org = org
        self._patience = patience
        self.observer = observer
        observer.on_card = self._card
        self.moments = observer.moments
        self.flows: list[Flow] = []
        self.tally = Tally()
        self.started = self.stopped_asking = self._deadline = 0.0
        self._clicks: set[asyncio.Task[None]] = set()

    async def run(
        self, plan: Plan, *, kill: Callable[[], Awaitable[None]], hang: Callable[[], None]
    ) -> None:
        """Load for `plan.seconds`, then wait up to `plan.drain` for the flows under way."""
        self.observer.watch()
        self.started = time.monotonic()
        self.stopped_asking = self.started + plan.seconds
        self._deadline = self.stopped_asking + plan.drain
        spread = 1.0 / len(self._org.people)
        people = [
            asyncio.create_task(self._person(email, delay=n * spread))
            for n, email in enumerate(self._org.people)
        ]
        faults = [
            asyncio.create_task(self._kills(plan.kills, kill)),
            asyncio.create_task(self._hangs(plan.hangs, hang)),
        ]
        await asyncio.wait(people, timeout=self._deadline - time.monotonic())
        for task in (*people, *faults, *self._clicks):
            task.cancel()
        await asyncio.gather(*people, *faults, *self._clicks, return_exceptions=True)

    async def _person(self, email: str, *, delay: float) -> None:
        await asyncio.sleep(delay)
        last = 0
        while time.monotonic() < self.stopped_asking:
            flow = Flow(email, asked=time.monotonic())
            self.flows.append(flow)
            number = await self._ask(flow, last)
            if number is None:
                return
            flow.request = number
            remaining = self._deadline - time.monotonic()
            if not await self.moments.wait(IN_FORCE, number, timeout=remaining):
                return
            last = number

    async def _ask(self, flow: Flow, last: int) -> int | None:
        """The number of the request the command made (or found pending)."""
        announcements = self.observer.announcements
        while time.monotonic() < self._deadline:
            if not await self._send(partial(self._emu.slash_command, flow.person, COMMAND)):
                continue
            wait = min(self._patience, self._deadline - time.monotonic())
            number = await announcements.next_after(flow.person, last, timeout=wait)
            if number is not None:
                return number
            self.tally.retyped += 1
        return None

    def _card(self, number: int, card: Card) -> None:
        task = asyncio.create_task(self._approve(number, card))
        self._clicks.add(task)
        task.add_done_callback(self._clicks.discard)

    async def _approve(self, number: int, card: Card) -> None:
        owner = self._org.decider(number)
        while time.monotonic() < self._deadline:
            try:
                payload = self._emu.block_actions(owner, card, "approve")
            except LookupError:
                return  # the card has no Approve button any more: it was decided
            self.moments.mark(CLICKED, number)
            if not await self._send(partial(self._emu.send_interaction, payload)):
                continue
            wait = min(self._patience, self._deadline - time.monotonic())
            if await self.moments.wait(DECIDED, number, timeout=wait):
                return
            self.tally.reclicked += 1

    async def _send(self, request: Callable[[], Awaitable[Reply]]) -> bool:
        """Whether the app took the request (an ack after Slack's timeout counts as taken)."""
        try:
            reply = await request()
        except AckTimeout:
            self.tally.ack_timeouts += 1
            return True
        except (aiohttp.ClientError, OSError):
            self.tally.refused += 1
            await asyncio.sleep(PAUSE)
            return False
        if reply.status != 200:
            self.tally.errors[reply.status] += 1
            await asyncio.sleep(PAUSE)
            return False
        return True

    async def _kills(self, moments: tuple[float, ...], kill: Callable[[], Awaitable[None]]) -> None:
        for offset in sorted(moments):
            await asyncio.sleep(max(0.0, self.started + offset - time.monotonic()))
            self.tally.kills += 1
            await kill()

    async def _hangs(self, moments: tuple[float, ...], hang: Callable[[], None]) -> None:
        for offset in sorted(moments):
            await asyncio.sleep(max(0.0, self.started + offset - time.monotonic()))
            self.tally.hangs += 1
            hang()

    # What the run measured

    def latency(self, start: str, end: str) -> list[float]:
        """Seconds from `start` (or the command, for "asked") to `end`, per flow that has both."""
        found = []
        for flow in self.flows:
            if flow.request is None:
                continue
            began = flow.asked if start == "asked" else self.moments.at(start, flow.request)
            ended = self.moments.at(end, flow.request)
            if began is not None and ended is not None:
                found.append(ended - began)
        return found

    def finished_in_time(self) -> int:
        """Flows whose requester heard "in force" before the load time was up."""
        return sum(
            1
            for flow in self.flows
            if flow.request is not None
            and (done := self.moments.at(IN_FORCE, flow.request)) is not None
            and done <= self.stopped_asking
        )

    def finished(self) -> int:
        """Flows whose requester heard "in force", by the end."""
        return sum(
            1
            for flow in self.flows
            if flow.request is not None and self.moments.at(IN_FORCE, flow.request) is not None
        )

    def stuck(self) -> Counter[str]:
        """Flows not finished at the end, by what they were waiting for."""
        waiting: Counter[str] = Counter()
        for flow in self.flows:
            number = flow.request
            if number is None:
                waiting["an answer to the command"] += 1
            elif self.moments.at(IN_FORCE, number) is not None:
                continue
            elif self.moments.at(CARD, number) is None:
                waiting["the card"] += 1
            elif self.moments.at(DECIDED, number) is None:
                waiting["the decision"] += 1
            elif self.moments.at(APPLIED, number) is None:
                waiting["the apply"] += 1
            else:
                waiting["the in-force message"] += 1
        return waiting

    def clicked(self) -> dict[int, str]:
        """Requests whose Approve was clicked, with their requesters."""
        requester = self.observer.announcements.requester
        return {
            n: requester[n]
            for flow in self.flows
            if (n := flow.request) is not None and self.moments.at(CLICKED, n) is not None
        }
