"""Running things at the same moment in threads, each with its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

JOIN_TIMEOUT = 60.0


class Racer(threading.Thread):
    """A thread that waits at a barrier, runs its task, and keeps the outcome or the error."""

    def __init__(self, task: Callable[[], Any], barrier: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self._task = task
        self._barrier = barrier
        self.outcome: Any = None

    def run(self) -> None:
        self._barrier.wait(JOIN_TIMEOUT)
        try:
            self.outcome = self._task()
        except BaseException as exc:
            self.outcome = exc

    def result(self) -> Any:
        self.join(JOIN_TIMEOUT)
        assert not self.is_alive(), "a racer is stuck (a lock nobody releases?)"
        return self.outcome


def start(*tasks: Callable[[], Any]) -> list[Racer]:
    """Start the tasks together (they pass a common barrier first); `result()` joins one."""
    barrier = threading.Barrier(len(tasks))
    racers = [Racer(task, barrier) for task in tasks]
    for racer in racers:
        racer.start()
    return racers


def race(*tasks: Callable[[], Any]) -> list[Any]:
    """Run the tasks at the same moment; their results, or the exceptions they raised."""
    return [racer.result() for racer in start(*tasks)]


def eventually(check: Callable[[], bool], what: str, *, within: float = JOIN_TIMEOUT) -> None:
    """Wait until `check()` holds, looking every 20 ms; fails naming `what` after `within` s."""
    pause = threading.Event()
    for _ in range(int(within / 0.02)):
        if check():
            return
        pause.wait(0.02)
    raise AssertionError(f"never happened: {what}")


def finished(racer: Racer) -> Any:
    """What the racer's task returned, once it has; what it raised is raised here."""
    outcome = racer.result()
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
