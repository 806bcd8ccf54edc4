"""A separate process for the crash tests: one step of the workflow, then death or a report.

    python -m tests.integration.crash_child MODE DATABASE_URL BACKEND_FILE NOW [REQUEST_ID|THREADS]

approve-then-die  Eve asks for +$150 for 14 days, Dana approves (both committed), SIGKILL.
die-in-commit     Dana approves REQUEST_ID, and the process dies inside the commit.
apply-then-die    a worker takes the due operations; the backend applies the first one and
                  the process dies before capdesk hears of it.
apply             a worker takes the due operations; prints its report.
apply-and-hang    a worker with THREADS threads takes every due operation at once, and the
                  backend never answers its calls; the parent kills the process.

NOW is the ISO time of the process's ManualClock. Every step that ends by itself prints one
JSON line first.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import asdict
from datetime import datetime

from store.uow import SqlUnitOfWork, uow_factory
from tests.integration import world
from tests.integration.connectors import FileBackend
from workflows.clock import ManualClock
from workflows.model import Verdict
from workflows.requests.deciding import decide


def _say(**values: object) -> None:
    print(json.dumps(values), flush=True)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class DyingUnitOfWork(SqlUnitOfWork):
    """Every write of the transaction has reached the database; the commit never does."""

    def commit(self) -> None:
        self.session.flush()
        _say(dying="in commit")
        _die()


def main(argv: list[str]) -> None:
    mode, url, backend_file, now_text, *rest = argv
    engine = world.engine_for(url)
    clock = ManualClock(datetime.fromisoformat(now_text))
    if mode == "approve-then-die":
        request = world.ask(engine, "raise 150 for 14d release prep", now=clock.now())
        request = world.approve(engine, request.id, now=clock.now())
        _say(request_id=request.id, status=request.status)
        _die()
    elif mode == "die-in-commit":
        decide(
            DyingUnitOfWork(uow_factory(engine)),
            world.policy(),
            request_id=int(rest[0]),
            actor=world.DANA,
            verdict=Verdict.APPROVE,
            now=clock.now(),
        )
    elif mode in {"apply-then-die", "apply"}:
        backend = FileBackend(backend_file, crash_after_write=mode == "apply-then-die")
        report = world.worker(engine, backend, clock).run_once()
        _say(**asdict(report))
    elif mode == "apply-and-hang":
        backend = FileBackend(backend_file, hang_writes=True)
        world.worker(engine, backend, clock, concurrency=int(rest[0])).run_once(limit=100)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
