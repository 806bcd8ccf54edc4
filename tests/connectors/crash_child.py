"""A process that takes in a native request, approves it, and is killed before applying it.

    python -m tests.connectors.crash_child NOW

Settings come from the environment (the parent points them at its fake Anthropic API and its
database). Prints one JSON line with the request id, then SIGKILLs itself.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime

from bot.bootstrap import bootstrap
from bot.settings import load_settings
from workflows.clock import ManualClock
from workflows.model import Verdict
from workflows.requests.deciding import decide
from workflows.requests.native import poll_native_requests


def main(now_text: str) -> None:
    now = datetime.fromisoformat(now_text)
    capdesk = bootstrap(load_settings(), clock=ManualClock(now))
    (request_id,) = poll_native_requests(
        capdesk.uow, capdesk.connector, capdesk.policy, now
    ).created
    decide(
        capdesk.uow(),
        capdesk.policy,
        request_id=request_id,
        actor="dana@example.com",
        verdict=Verdict.APPROVE,
        now=now,
    )
    print(json.dumps({"request_id": request_id}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    main(sys.argv[1])
