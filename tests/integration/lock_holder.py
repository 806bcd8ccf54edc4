"""A child process that takes the scheduler lock and holds it until it is killed."""

from __future__ import annotations

import sys
import time

from bot.scheduling.leadership import AdvisoryLock
from store.engine import make_engine

if __name__ == "__main__":
    lock = AdvisoryLock(make_engine(sys.argv[1]))
    print("leading" if lock.hold() else "following", flush=True)
    while True:  # the parent kills this process; the lock must go with it
        time.sleep(1)
        lock.hold()
