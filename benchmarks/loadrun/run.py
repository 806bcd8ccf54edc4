"""One load run against one app: the workspace, the backend, the server, the driver, the counts."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.loadrun import servers
from benchmarks.loadrun.backend import TOKEN, FaultyContract, serve_backend
from benchmarks.loadrun.counts import Approved, Counts, approved_in_store, count
from benchmarks.loadrun.driver import PATIENCE, Driver, Plan, Tally
from benchmarks.loadrun.observe import APPLIED, CARD, CLICKED, IN_FORCE, Observer
from benchmarks.loadrun.world import AMOUNT_CENTS, START_CAP_CENTS, Org
from benchmarks.slack_ack import free_port
from bot.slack.emulator import SlackEmulator
from tests.postgres import POSTGRES_URL

SECRET = "capdesk-load-signing-secret"
CAPDESK, FLOOR = "capdesk serve", "floor"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """What to run (the defaults of `benchmarks/load.py`)."""

    people: int = 40
    owners: int = 2
    seconds: float = 60.0
    drain: float = 90.0
    fail_share: float = 0.0
    hangs: int = 0
    kills: int = 0
    database: str = "sqlite"
    postgres_url: str = POSTGRES_URL
    seed: int = 1
    patience: float = PATIENCE

    def plan(self, *, faults: bool) -> Plan:
        """Kills at random moments in the middle 70 % of the load, hangs spread evenly."""
        if not faults:
            return Plan(self.seconds, self.drain)
        rng = random.Random(f"kills {self.seed}")
        kills = sorted(rng.uniform(0.15, 0.85) * self.seconds for _ in range(self.kills))
        hangs = [(n + 1) / (self.hangs + 1) * self.seconds for n in range(self.hangs)]
        return Plan(self.seconds, self.drain, tuple(kills), tuple(hangs))


@dataclass
class Outcome:
    """What one run measured."""

    target: str
    latencies: dict[str, list[float]]
    per_second: float
    started: int
    finished: int
    counts: Counts
    stuck: Counter[str]
    tally: Tally
    writes: int
    injected: Counter[int]
    hung: int
    replayed: int
    server_cpu: float
    driver_cpu: float
    elapsed: float


async def run(target: str, options: Options, progress: Progress) -> Outcome:
    """Runs the load against `capdesk serve` (with the faults asked for) or the floor app."""
    org = Org.of(options.people, options.owners)
    faulty = target == CAPDESK
    backend = FaultyContract(fail_share=options.fail_share if faulty else 0.0, seed=options.seed)
    org.seat_everyone(backend)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="capdesk-load-") as folder:
        async with (
            serve_backend(backend) as backend_url,
            SlackEmulator(seed=7, signing_secret=SECRET) as emu,
        ):
            dms = org.join(emu)
            with _database(target, options, Path(folder)) as url:
                server = _server(
                    target,
                    folder=Path(folder),
                    port=port,
                    org=org,
                    emu=emu,
                    backend_url=backend_url,
                    database_url=url,
                )
                emu.request_url = f"http://127.0.0.1:{port}/slack/events"
                observer = Observer(emu, org, dms, cards_to_owners=faulty)
                driver = Driver(emu, org, observer, patience=options.patience)
                backend.seen = driver.observer.effect
                plan = options.plan(faults=faulty)
                progress(
                    f"{target}: {options.people} people, {options.owners} owners, "
                    f"{plan.seconds:.0f} s of load, then up to {plan.drain:.0f} s to drain"
                )
                try:
                    usage = await _drive(
                        target,
                        plan,
                        server=server,
                        driver=driver,
                        hang=backend.arm_hang,
                        progress=progress,
                    )
                    if url is not None:
                        approved = await asyncio.to_thread(approved_in_store, url)
                    else:
                        approved = {n: Approved(r) for n, r in driver.clicked().items()}
                except (Exception, SystemExit):
                    progress(f"{target}: the run failed; the end of its log:\n{server.tail()}")
                    raise
                finally:
                    progress(f"{target}: stopping")
                    await server.stop()
    final_caps = {p: backend.members[p]["monthly_cap_cents"] for p in org.people}
    return Outcome(
        target=target,
        latencies={
            "card": driver.latency("asked", CARD),
            "applied": driver.latency(CLICKED, APPLIED),
            "in force": driver.latency(CLICKED, IN_FORCE),
        },
        per_second=driver.finished_in_time() / options.seconds,
        started=len(driver.flows),
        finished=driver.finished(),
        counts=count(approved, backend.effects, final_caps),
        stuck=driver.stuck(),
        tally=driver.tally,
        writes=backend.writes,
        injected=backend.injected,
        hung=backend.hung,
        replayed=backend.replayed,
        server_cpu=usage.server_cpu,
        driver_cpu=usage.driver_cpu,
        elapsed=usage.elapsed,
    )


@dataclass(frozen=True)
class Usage:
    """CPU seconds of the server and of this process, over the wall time of the load."""

    server_cpu: float
    driver_cpu: float
    elapsed: float


async def _drive(
    target: str,
    plan: Plan,
    *,
    server: servers.ServerProcess,
    driver: Driver,
    hang: Callable[[], None],
    progress: Progress,
) -> Usage:
    """Start the server, run the load (killing and hanging as planned), measure the CPU."""
    progress(f"{target}: starting")
    await server.start()

    async def restart() -> None:
        progress(f"{target}: SIGKILL, then start again")
        server.kill()
        await server.start()

    cpu, own_cpu, began = server.cpu(), time.process_time(), time.monotonic()
    await driver.run(plan, kill=restart, hang=hang)
    return Usage(
        server_cpu=server.cpu() - cpu,
        driver_cpu=time.process_time() - own_cpu,
        elapsed=time.monotonic() - began,
    )


@contextmanager
def _database(target: str, options: Options, folder: Path) -> Iterator[str | None]:
    if target != CAPDESK:
        yield None
        return
    with servers.database(options.database, folder, options.postgres_url) as url:
        yield url


def _server(
    target: str,
    *,
    folder: Path,
    port: int,
    org: Org,
    emu: SlackEmulator,
    backend_url: str,
    database_url: str | None,
) -> servers.ServerProcess:
    if target == FLOOR:
        config = {
            "signing_secret": SECRET,
            "bot_token": emu.bot_token,
            "api_url": emu.api_url,
            "backend_url": backend_url,
            "backend_token": TOKEN,
            "emails": {emu.user_id(p): p for p in org.people},
            "start_cap_cents": START_CAP_CENTS,
            "amount_cents": AMOUNT_CENTS,
        }
        return servers.floor(folder, port=port, config=config)
    assert database_url is not None
    policy = folder / "capdesk.yaml"
    policy.write_text(org.policy())
    settings = {
        "CAPDESK_DATABASE_URL": database_url,
        "CAPDESK_POLICY_FILE": str(policy),
        "CAPDESK_ADMIN_BACKEND": "http",
        "CAPDESK_ADMIN_URL": backend_url,
        "CAPDESK_ADMIN_TOKEN": TOKEN,
        "SLACK_BOT_TOKEN": emu.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emu.api_url,
    }
    return servers.capdesk(folder, port=port, settings=settings)
