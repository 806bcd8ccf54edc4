"""The request workflow under load: create, approve and apply N requests through the domain.

What is measured, per database (SQLite in a temp file, PostgreSQL in a schema made for the run):

* **submit**: `submit_request(...)` for N members, one request each (a cap raise; every other one
  temporary), each its own transaction, with the approval cards and the requester's message
  queued. Throughput and the p50 / p99 latency of one call.
* **decide**: `decide(..., verdict=APPROVE)` by an owner of the requester's group, for every
  request; `auto_approve_under_usd: 0`, so each request needs this decision. Throughput and the
  p50 / p99 latency of one call (`time.perf_counter_ns` around the call).
* **apply**: `OperationWorker.run_once(limit=...)` until the outbox is empty, against a no-op
  in-memory connector (every capability; it only records the idempotency keys). Operations per
  second.
* **end to end**: N divided by the time of the three phases together.
* **several deciders at once** (`--deciders N`, default 4; 1 skips it): every requester asks
  again (untimed, N at a time), then N threads, each on its own connection from the engine's
  pool, approve those requests at once; decisions per second and the p50 / p99 of one. Beside
  it, the floor again with N connections at once on fresh rows, so that both have the same
  chance to share commits (group commit). For both, how many cores were kept busy by this
  process, by the PostgreSQL server processes of this run's connections (found by their
  `application_name`, read from /proc, so only for a server on this machine) and by the whole
  machine: near one core for this process means Python under the GIL is the limit; the
  machine's cores all busy means the CPUs are (this process, the server, other work).
* **floor**: the same number of bare SQL round trips of a decision's shape, on the same engine
  with plain SQLAlchemy Core: `UPDATE request SET status = 'approved' ... WHERE id = ? AND
  status = 'pending'` and one `INSERT` into `operation`, committed per decision, on N pending
  requests inserted (untimed) for it. The table prints domain/floor: what the domain costs over
  the raw database for the same durable effect.
* **round trips**: statements sent (BEGIN, SAVEPOINT and COMMIT included) per submission,
  decision and applied operation, counted by an engine event listener, next to the floor's.
* **CPU**: the Python process's CPU time per request over the three phases; when it is close to
  the wall time, the domain is CPU-bound in Python rather than waiting on the database.
* **memory**: the peak RSS of the timed pass (`resource.getrusage(RUSAGE_SELF).ru_maxrss`), and
  the `tracemalloc` peak of the Python heap. Each pass runs in a child process of its own, so one
  database's figures never include the other's. `tracemalloc` slows Python down several-fold,
  so the heap is measured in a second, untimed pass on a fresh database, in a child started with
  `python -X tracemalloc` (traced from the first import), over `--heap-requests` requests
  (default 1,000; the domain keeps nothing per request, so the peak hardly grows with N). The
  table shows the whole process's peak and the part the workload added on top of the set-up.

Set-up, untimed: N requesters in groups of 100 (`*@gNNN.bench.example`), each group with one or
two owners, one admin; caps of $85, raises of $50 (max $400). The clock is a `ManualClock`.

The project's target is at least 500 decisions per second on PostgreSQL with several deciders
at once; the script prints whether this run met it. It exits non-zero only on errors (a
request not applied is one), never for a missed target.

Run it from the repository root::

    python benchmarks/workflow.py                       # 10,000 requests, SQLite and PostgreSQL
    python benchmarks/workflow.py --requests 2000 --only sqlite
    python benchmarks/workflow.py --postgres-url postgresql://user:pw@host:5432/db
    python benchmarks/workflow.py --heap-requests 10000   # the heap pass at full size too
    python benchmarks/workflow.py --deciders 8            # eight decisions at once

PostgreSQL defaults to `postgresql://postgres@127.0.0.1:5432/test`; the run creates a schema
named `capdesk_bench_<random>` there, reaches it through `-csearch_path=...`, migrates it with
`store.migrate.upgrade` and drops it at the end. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, event, func, insert, select, text, update
from sqlalchemy.engine import make_url

from store.engine import make_engine
from store.migrate import upgrade
from store.tables import OperationRow, RequestRow, table
from store.uow import SqlUnitOfWork, uow_factory
from workflows.admin import Capability, DailyUsage, HourlyUsage, RemoteMember
from workflows.applying.worker import OperationWorker
from workflows.clock import ManualClock
from workflows.model import (
    Member,
    OperationKind,
    OperationPurpose,
    OperationStatus,
    RequestKind,
    RequestStatus,
    Verdict,
)
from workflows.policy import Policy
from workflows.ports import GroupRecord
from workflows.requests.asking import submit_request
from workflows.requests.deciding import decide
from workflows.requests.grammar import RequestDraft

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
TARGET_DECISIONS_PER_SECOND = 500
GROUP_SIZE = 100
WORKER_BATCH = 100
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ADMIN = "admin@bench.example"
CAP_CENTS = 8500
RAISE_CENTS = 5000

_R = table(RequestRow)
_O = table(OperationRow)


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the organisation


@dataclass(frozen=True)
class Org:
    """The members, who owns their groups, and the policy that says so."""

    policy: Policy
    requesters: list[str]
    owners: dict[str, tuple[str, ...]]  # group name -> owners
    group_of: dict[str, str]  # requester -> group name

    def members(self) -> Iterator[Member]:
        yield Member(email=ADMIN, name="Bench Admin", tier="premium", cap_cents=CAP_CENTS)
        for group, owners in self.owners.items():
            for n, owner in enumerate(owners):
                yield Member(
                    email=owner, name=f"Owner {n} of {group}", tier="premium", cap_cents=CAP_CENTS
                )
        for n, email in enumerate(self.requesters):
            yield Member(email=email, name=f"Member {n}", tier="standard", cap_cents=CAP_CENTS)


def make_org(requests: int) -> Org:
    groups = max(1, math.ceil(requests / GROUP_SIZE))
    owners: dict[str, tuple[str, ...]] = {}
    group_of: dict[str, str] = {}
    requesters: list[str] = []
    for g in range(groups):
        name = f"g{g:03d}"
        domain = f"{name}.bench.example"
        # Every other group has two owners; owners sit outside the group's pattern.
        owners[name] = tuple(f"owner{k}.{name}@owners.bench.example" for k in range(1 + g % 2))
        for m in range(min(GROUP_SIZE, requests - len(requesters))):
            email = f"m{m:03d}@{domain}"
            requesters.append(email)
            group_of[email] = name
    policy = Policy.model_validate(
        {
            "org": {"timezone": "Europe/Berlin"},
            "admins": [ADMIN],
            "groups": [
                {
                    "name": name,
                    "owners": list(group_owners),
                    "members": [f"*@{name}.bench.example"],
                    "default_cap_usd": 85,
                    "max_cap_usd": 400,
                    "auto_approve_under_usd": 0,
                }
                for name, group_owners in owners.items()
            ],
        }
    )
    return Org(policy=policy, requesters=requesters, owners=owners, group_of=group_of)


class NoopConnector:
    """An admin backend that accepts every write and only remembers the idempotency keys."""

    name = "bench-noop"
    capabilities = frozenset(Capability)

    def __init__(self) -> None:
        self.keys: list[str] = []

    def list_members(self) -> Iterable[RemoteMember]:
        return []

    def daily_usage(self, since: date, until: date) -> Iterable[DailyUsage]:
        return []

    def hourly_usage(self, since: datetime, until: datetime) -> Iterable[HourlyUsage]:
        return []

    def set_cap(self, email: str, cap_cents: int, *, idempotency_key: str) -> None:
        self.keys.append(idempotency_key)

    def set_tier(self, email: str, tier: str, *, idempotency_key: str) -> None:
        self.keys.append(idempotency_key)

    def remove_seat(self, email: str, *, idempotency_key: str) -> None:
        self.keys.append(idempotency_key)


# --------------------------------------------------------------------------- one database


@dataclass
class Phase:
    """A timed phase: its wall time and, where it has them, per-call latencies in ns."""

    count: int = 0
    seconds: float = 0.0
    latencies: list[int] = field(default_factory=list)
    statements: int = 0

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] / 1e6

    def summary(self) -> dict[str, float]:
        return {
            "count": self.count,
            "seconds": self.seconds,
            "per_second": self.per_second,
            "p50_ms": self.percentile(50),
            "p99_ms": self.percentile(99),
            "statements": self.statements / self.count if self.count else 0.0,
        }


def timed_calls(
    items: Sequence[Any], call: Callable[[Any], object], label: str, *, threads: int = 1
) -> Phase:
    """`call` on every item, timing each call and the whole. With `threads`, the items are dealt
    round-robin to that many threads, which start together and each use their own connection;
    the wall time runs from their start to the last one's end."""
    phase = Phase(count=len(items))
    clock = time.perf_counter_ns
    if threads > 1:
        shares = [list(items[k::threads]) for k in range(threads)]
        latencies: list[list[int]] = [[] for _ in shares]
        failures: list[BaseException] = []
        start = threading.Barrier(threads + 1)

        def run(k: int) -> None:
            start.wait()
            try:
                for item in shares[k]:
                    t0 = clock()
                    call(item)
                    latencies[k].append(clock() - t0)
            except BaseException as exc:
                failures.append(exc)

        workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
        for worker in workers:
            worker.start()
        start.wait()
        started = clock()
        for worker in workers:
            worker.join()
        phase.seconds = (clock() - started) / 1e9
        if failures:
            raise failures[0]
        phase.latencies = [ns for share in latencies for ns in share]
        progress(f"  {label}: {len(items)} in {threads} threads ({phase.per_second:,.0f}/s)")
        return phase
    step = max(1, len(items) // 5)
    started = clock()
    for i, item in enumerate(items, 1):
        t0 = clock()
        call(item)
        phase.latencies.append(clock() - t0)
        if i % step == 0:
            elapsed = (clock() - started) / 1e9
            progress(f"  {label}: {i}/{len(items)} ({i / elapsed:,.0f}/s)")
    phase.seconds = (clock() - started) / 1e9
    return phase


def seed(engine: Engine, org: Org) -> None:
    """Members and the policy's groups, untimed, in chunks of a thousand per transaction."""
    factory = uow_factory(engine)
    members = list(org.members())
    for start in range(0, len(members), 1000):
        with SqlUnitOfWork(factory) as uow:
            for member in members[start : start + 1000]:
                uow.members.upsert(member)
            uow.commit()
    with SqlUnitOfWork(factory) as uow:
        uow.groups.replace_all(
            [
                GroupRecord(
                    name=g.name,
                    default_cap_cents=g.default_cap_cents,
                    max_cap_cents=g.max_cap_cents,
                    budget_cents=g.budget_cents,
                    owners=tuple(g.owners),
                    members=tuple(e for e in org.requesters if org.group_of[e] == g.name),
                )
                for g in org.policy.groups
            ]
        )
        uow.commit()


def workload(engine: Engine, org: Org, *, statements: list[int] | None = None) -> dict[str, Any]:
    """Submit, decide and apply one request per requester; returns the phases' figures.

    `statements` is a counter some event listener increments; each phase reports its share.
    """
    counter = statements if statements is not None else [0]
    factory = uow_factory(engine)

    def new_uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(factory)

    policy = org.policy
    clock = ManualClock(START)
    connector = NoopConnector()
    worker = OperationWorker(uow_factory=new_uow, connector=connector, policy=policy, clock=clock)
    n = len(org.requesters)
    drafts = [
        RequestDraft(
            kind=RequestKind.CAP_INCREASE,
            reason="benchmark load, release prep",
            add_cents=RAISE_CENTS,
            ends_at=START + timedelta(days=14) if i % 2 else None,
        )
        for i in range(n)
    ]

    ids: list[int] = []

    def submit(i: int) -> None:
        request = submit_request(
            new_uow(), policy, requester=org.requesters[i], draft=drafts[i], now=clock.now()
        )
        ids.append(request.id)

    mark = counter[0]
    submitting = timed_calls(range(n), submit, "submit")
    submitting.statements, mark = counter[0] - mark, counter[0]

    deciders = [org.owners[org.group_of[r]][0] for r in org.requesters]

    def approve(i: int) -> None:
        decided = decide(
            new_uow(),
            policy,
            request_id=ids[i],
            actor=deciders[i],
            verdict=Verdict.APPROVE,
            now=clock.now(),
        )
        if decided.status is not RequestStatus.APPROVED:
            raise RuntimeError(f"request {decided.id} is {decided.status} after the approval")

    deciding = timed_calls(range(n), approve, "decide")
    deciding.statements, mark = counter[0] - mark, counter[0]

    applying = Phase()
    next_report = max(1, n // 5)
    started = time.perf_counter_ns()
    while True:
        report = worker.run_once(limit=WORKER_BATCH)
        if not report.handled:
            break
        if report.retrying or report.failed or report.manual:
            raise RuntimeError(f"the worker did not apply everything: {report}")
        applying.count += len(report.applied)
        if applying.count >= next_report or applying.count == n:
            next_report += max(1, n // 5)
            elapsed = (time.perf_counter_ns() - started) / 1e9
            progress(f"  apply: {applying.count}/{n} ({applying.count / elapsed:,.0f}/s)")
    applying.seconds = (time.perf_counter_ns() - started) / 1e9
    applying.statements = counter[0] - mark

    check_applied(engine, n, connector)
    total = submitting.seconds + deciding.seconds + applying.seconds
    return {
        "end_to_end_per_second": n / total,
        "end_to_end_seconds": total,
        "submit": submitting.summary(),
        "decide": deciding.summary(),
        "apply": applying.summary(),
    }


def check_applied(engine: Engine, n: int, connector: NoopConnector) -> None:
    with engine.connect() as connection:
        applied = connection.execute(
            select(func.count()).select_from(_R).where(_R.c.status == RequestStatus.APPLIED)
        ).scalar()
        done = connection.execute(
            select(func.count()).select_from(_O).where(_O.c.status == OperationStatus.DONE)
        ).scalar()
    if applied != n or done != n or len(set(connector.keys)) != n:
        raise RuntimeError(
            f"expected {n} applied requests, done operations and connector keys; "
            f"got {applied}, {done}, {len(set(connector.keys))}"
        )


def floor(
    engine: Engine,
    org: Org,
    *,
    statements: list[int] | None = None,
    threads: int = 1,
    day: int = 1,
) -> dict[str, float]:
    """N decisions as bare SQL: UPDATE the request + INSERT the operation, one commit each;
    with `threads`, that many connections at once. `day` keeps each run's keys apart."""
    now = START + timedelta(days=day)
    rows = [
        {
            "requester": email,
            "group_name": org.group_of[email],
            "kind": RequestKind.CAP_INCREASE,
            "reason": "floor baseline",
            "status": RequestStatus.PENDING,
            "created_at": now,
            "updated_at": now,
            "approvals_required": 1,
            "cap_before_cents": CAP_CENTS,
            "tier_before": "standard",
            "amount_cents": RAISE_CENTS,
            "new_cap_cents": CAP_CENTS + RAISE_CENTS,
            "source": "chat",
        }
        for email in org.requesters
    ]
    with engine.begin() as connection:
        ids = list(connection.execute(insert(_R).returning(_R.c.id), rows).scalars())
    deciders = [org.owners[org.group_of[r]][0] for r in org.requesters]
    approve = (
        update(_R)
        .where(_R.c.id == bindparam("rid"), _R.c.status == RequestStatus.PENDING)
        .values(
            status=RequestStatus.APPROVED,
            updated_at=bindparam("at"),
            decided_by=bindparam("actor"),
            decided_at=bindparam("at"),
        )
    )
    queue = insert(_O)

    def one(i: int) -> None:
        rid = ids[i]
        with engine.begin() as connection:
            result = connection.execute(approve, {"rid": rid, "at": now, "actor": deciders[i]})
            if result.rowcount != 1:
                raise RuntimeError(f"floor: request {rid} was not pending")
            connection.execute(
                queue,
                {
                    "key": f"floor-{day}-{rid}-apply",
                    "kind": OperationKind.SET_CAP,
                    "purpose": OperationPurpose.APPLY,
                    "email": org.requesters[i],
                    "status": OperationStatus.PENDING,
                    "attempts": 0,
                    "created_at": now,
                    "next_attempt_at": now,
                    "request_id": rid,
                    "cap_cents": CAP_CENTS + RAISE_CENTS,
                },
            )

    counter = statements if statements is not None else [0]
    mark = counter[0]
    label = "floor" if threads == 1 else f"floor x{threads}"
    with machine_cpu(engine) as busy:
        phase = timed_calls(range(len(ids)), one, label, threads=threads)
    phase.statements = counter[0] - mark
    return {**phase.summary(), **busy}


def concurrent_decisions(engine: Engine, org: Org, *, deciders: int) -> dict[str, float]:
    """A second request from every requester (submitted untimed, `deciders` at a time), then
    every one approved by its owner, `deciders` decisions at once on as many connections.

    Round trips are not counted here: the listener's counter is not thread-safe, and a
    decision's statements are the same as in the serial phase."""
    factory = uow_factory(engine)
    policy = org.policy
    now = START + timedelta(days=2)
    draft = RequestDraft(
        kind=RequestKind.CAP_INCREASE, reason="benchmark load, second round", add_cents=RAISE_CENTS
    )
    ids = [0] * len(org.requesters)

    def submit(i: int) -> None:
        ids[i] = submit_request(
            SqlUnitOfWork(factory), policy, requester=org.requesters[i], draft=draft, now=now
        ).id

    timed_calls(range(len(ids)), submit, "submit (untimed set-up)", threads=deciders)
    deciders_of = [org.owners[org.group_of[r]][0] for r in org.requesters]

    def approve(i: int) -> None:
        decided = decide(
            SqlUnitOfWork(factory),
            policy,
            request_id=ids[i],
            actor=deciders_of[i],
            verdict=Verdict.APPROVE,
            now=now,
        )
        if decided.status is not RequestStatus.APPROVED:
            raise RuntimeError(f"request {decided.id} is {decided.status} after the approval")

    with machine_cpu(engine) as busy:
        phase = timed_calls(range(len(ids)), approve, f"decide x{deciders}", threads=deciders)
    return {**phase.summary(), **busy}


def _cpu_times() -> tuple[float, float]:
    """Busy and total jiffies of the whole machine, from /proc/stat (zeros elsewhere)."""
    try:
        with open("/proc/stat") as stat:
            fields = [float(x) for x in stat.readline().split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _server_ticks(engine: Engine) -> dict[int, int] | None:
    """CPU ticks so far of each PostgreSQL server process serving this run's connections
    (they carry the run's application_name); None when the server is not on this machine or
    the database is SQLite (in this process)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        pids = connection.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE application_name = current_setting('application_name')"
            )
        ).scalars()
        ticks: dict[int, int] = {}
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                return None
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


@contextmanager
def machine_cpu(engine: Engine) -> Iterator[dict[str, float]]:
    """Fills in, when the block ends, how busy this process, the database server's processes
    for this run and the whole machine were during it, in cores. This process near one core
    means Python under the GIL is the limit; the machine's cores all busy means the CPUs are
    (this process, the database server, other people's work)."""
    found: dict[str, float] = {}
    wall, cpu, (busy, total) = time.monotonic(), time.process_time(), _cpu_times()
    server = _server_ticks(engine)
    yield found
    seconds = max(time.monotonic() - wall, 1e-9)
    found["python_cores"] = (time.process_time() - cpu) / seconds
    busy_after, total_after = _cpu_times()
    if total_after > total:
        found["machine_cores"] = (os.cpu_count() or 1) * (busy_after - busy) / (total_after - total)
    after = _server_ticks(engine)
    if server is not None and after is not None:
        spent = sum(t - server.get(pid, 0) for pid, t in after.items())
        found["server_cores"] = spent / os.sysconf("SC_CLK_TCK") / seconds


def run_child(
    label: str, mode: str, url: str, requests: int, *, deciders: int = 1
) -> dict[str, Any]:
    """One pass on one database, in this (child) process: `timed` or `memory`."""
    org = make_org(requests)
    engine = make_engine(url)
    try:
        progress(f"{label} ({mode}): migrating, seeding {requests:,} requesters")
        upgrade(engine)
        seed(engine, org)
        if mode == "memory":
            return memory_pass(engine, org)
        counter = count_round_trips(engine)
        cpu = time.process_time()
        result: dict[str, Any] = workload(engine, org, statements=counter)
        result["cpu_ms_per_request"] = (time.process_time() - cpu) * 1e3 / requests
        result["floor"] = floor(engine, org, statements=counter)
        if deciders > 1:
            result["deciders"] = deciders
            result["decide_concurrent"] = concurrent_decisions(engine, org, deciders=deciders)
            result["floor_concurrent"] = floor(engine, org, threads=deciders, day=3)
        result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["server"] = server_version(engine)
        return result
    finally:
        engine.dispose()


def count_round_trips(engine: Engine) -> list[int]:
    """A counter of the statements (BEGIN and SAVEPOINT included) and commits on the engine.

    A listener call costs about a microsecond, against hundreds for the statement it counts.
    """
    counter = [0]

    def count(*_: Any) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "commit", count)
    return counter


def memory_pass(engine: Engine, org: Org) -> dict[str, Any]:
    """The workload again, traced by tracemalloc (the child runs under `python -X tracemalloc`)."""
    if not tracemalloc.is_tracing():
        tracemalloc.start()
    gc.collect()
    baseline, before = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    workload(engine, org)
    _, peak = tracemalloc.get_traced_memory()
    return {
        "heap_requests": len(org.requesters),
        "heap_peak_bytes": max(before, peak),
        "heap_workload_bytes": peak - baseline,
    }


def server_version(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            version = connection.execute(text("SHOW server_version")).scalar()
            return f"PostgreSQL {str(version).split()[0]}"
        version = connection.execute(text("SELECT sqlite_version()")).scalar()
        return f"SQLite {version}"


# --------------------------------------------------------------------------- the parent


def postgres_url(base: str, schema: str | None) -> str:
    url = make_url(base)
    options = [url.query["options"]] if "options" in url.query else []
    query = dict(url.query)
    if schema is not None:
        options.append(f"-csearch_path={schema}")
        query["application_name"] = schema  # how the run finds its own server processes
    query.setdefault("connect_timeout", "10")
    if options:
        query["options"] = " ".join(str(o) for o in options)
    return url.update_query_dict(query).render_as_string(hide_password=False)


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A new, uniquely named schema on the server; yields a URL confined to it, then drops it."""
    server = make_engine(postgres_url(base, None))
    schema = f"capdesk_bench_{uuid.uuid4().hex[:12]}"
    try:
        with server.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        progress(f"postgres: schema {schema}")
        try:
            yield postgres_url(base, schema)
        finally:
            with server.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '30s'"))
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            progress(f"postgres: dropped schema {schema}")
    finally:
        server.dispose()


@contextmanager
def sqlite_file() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="capdesk-bench-") as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


def in_child(
    label: str, mode: str, url: str, requests: int, *, deciders: int = 1
) -> dict[str, Any]:
    """Run one pass in a fresh interpreter, so its peak RSS and heap are that pass's alone."""
    command = [sys.executable]
    if mode == "memory":
        command += ["-X", "tracemalloc"]  # trace from the start: imports, engine, everything
    command += [__file__, "--requests", str(requests), "--deciders", str(deciders)]
    command += ["--child", label, "--child-mode", mode, "--child-url", url]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {label} {mode} pass failed (exit {done.returncode}); see above")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_database(
    label: str, fresh: Callable[[], AbstractContextManager[str]], args: argparse.Namespace
) -> dict[str, Any]:
    """The timed pass and the memory pass, each on a database of its own."""
    with fresh() as url:
        result = in_child(label, "timed", url, args.requests, deciders=args.deciders)
    if args.heap_requests:
        with fresh() as url:
            result.update(in_child(label, "memory", url, args.heap_requests))
    return result


def render(results: dict[str, dict[str, Any]], args: argparse.Namespace, load: str) -> str:
    labels = list(results)

    def row(name: str, value: Callable[[dict[str, Any]], str]) -> list[str]:
        cells = []
        for label in labels:
            try:
                cells.append(value(results[label]))
            except (KeyError, ZeroDivisionError):
                cells.append("-")
        return [name, *cells]

    def rate(value: float) -> str:
        return f"{value:,.0f}/s"

    def ms(value: float) -> str:
        return f"{value:.2f} ms"

    def mib(value: float) -> str:
        return f"{value / 2**20:,.1f} MiB"

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x"

    def cores(phase: dict[str, float]) -> str:
        def shown(key: str) -> str:
            return f"{phase[key]:.1f}" if key in phase else "-"

        return f"{shown('python_cores')} / {shown('server_cores')} / {shown('machine_cores')}"

    heap = f"{args.heap_requests:,}-request pass"
    rows = [
        ["", *labels],
        row("server", lambda r: r["server"]),
        row(
            "requests end to end (create+approve+apply)", lambda r: rate(r["end_to_end_per_second"])
        ),
        row("  wall time of the three phases", lambda r: f"{r['end_to_end_seconds']:,.1f} s"),
        row("  Python CPU per request", lambda r: ms(r["cpu_ms_per_request"])),
        row("submissions", lambda r: rate(r["submit"]["per_second"])),
        row("  submission p50", lambda r: ms(r["submit"]["p50_ms"])),
        row("  submission p99", lambda r: ms(r["submit"]["p99_ms"])),
        row("decisions", lambda r: rate(r["decide"]["per_second"])),
        row("  decision p50", lambda r: ms(r["decide"]["p50_ms"])),
        row("  decision p99", lambda r: ms(r["decide"]["p99_ms"])),
        row(f"apply (run_once(limit={WORKER_BATCH}))", lambda r: rate(r["apply"]["per_second"])),
        row("floor: bare UPDATE + INSERT + COMMIT", lambda r: rate(r["floor"]["per_second"])),
        row("  floor p50", lambda r: ms(r["floor"]["p50_ms"])),
        row("  floor p99", lambda r: ms(r["floor"]["p99_ms"])),
        row(
            "domain/floor, time per decision",
            lambda r: ratio(r["floor"]["per_second"], r["decide"]["per_second"]),
        ),
        row(
            "domain/floor, p50 of a decision",
            lambda r: ratio(r["decide"]["p50_ms"], r["floor"]["p50_ms"]),
        ),
        row(
            "round trips per decision (domain/floor)",
            lambda r: f"{r['decide']['statements']:.1f} / {r['floor']['statements']:.1f}",
        ),
        row(
            f"decisions, {args.deciders} deciders at once",
            lambda r: rate(r["decide_concurrent"]["per_second"]),
        ),
        row("  decision p50", lambda r: ms(r["decide_concurrent"]["p50_ms"])),
        row("  decision p99", lambda r: ms(r["decide_concurrent"]["p99_ms"])),
        row(
            "  cores busy: Python / server / machine",
            lambda r: cores(r["decide_concurrent"]),
        ),
        row(
            f"floor, {args.deciders} connections at once",
            lambda r: rate(r["floor_concurrent"]["per_second"]),
        ),
        row("  cores busy: Python / server / machine", lambda r: cores(r["floor_concurrent"])),
        row(
            f"domain/floor, {args.deciders} at once",
            lambda r: ratio(
                r["floor_concurrent"]["per_second"], r["decide_concurrent"]["per_second"]
            ),
        ),
        row("round trips per submission", lambda r: f"{r['submit']['statements']:.1f}"),
        row("round trips per applied operation", lambda r: f"{r['apply']['statements']:.1f}"),
        row(f"peak Python heap (tracemalloc, {heap})", lambda r: mib(r["heap_peak_bytes"])),
        row("  of which the workload itself", lambda r: mib(r["heap_workload_bytes"])),
        row("peak RSS (ru_maxrss, timed pass)", lambda r: mib(r["maxrss_kib"] * 1024)),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        f"capdesk workflow benchmark: {args.requests:,} requests per database, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load}",
        "",
    ]
    for i, r in enumerate(rows):
        cells = [
            r[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)),
        ]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def verdict(results: dict[str, dict[str, Any]]) -> str:
    target = f"target >= {TARGET_DECISIONS_PER_SECOND} decisions/s on PostgreSQL"
    if "postgres" not in results:
        return f"{target}: not measured"
    found = results["postgres"]
    phase, how = found["decide"], "one decider"
    if "decide_concurrent" in found:
        phase, how = found["decide_concurrent"], f"{found['deciders']} deciders at once"
    rate = phase["per_second"]
    met = "MET" if rate >= TARGET_DECISIONS_PER_SECOND else "NOT MET"
    return f"{target}: {met} ({rate:,.0f}/s, {how})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=10_000, help="requests per database")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="run one database only")
    parser.add_argument(
        "--deciders",
        type=int,
        default=4,
        help="threads deciding at once, each on its own connection (1 skips that phase)",
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--heap-requests",
        type=int,
        default=1_000,
        help="requests in the tracemalloc pass (0 skips it; it runs several times slower)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-mode", choices=["timed", "memory"], help=argparse.SUPPRESS)
    parser.add_argument("--child-url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    if not 1 <= args.deciders <= 16:
        parser.error("--deciders must be from 1 to 16 (the engine's pool has 20 connections)")
    args.heap_requests = min(max(0, args.heap_requests), args.requests)

    if args.child:
        result = run_child(
            args.child, args.child_mode, args.child_url, args.requests, deciders=args.deciders
        )
        print(json.dumps(result))
        return 0

    results: dict[str, dict[str, Any]] = {}
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    started = time.monotonic()
    if args.only in (None, "sqlite"):
        results["sqlite"] = run_database("sqlite", sqlite_file, args)
    if args.only in (None, "postgres"):
        results["postgres"] = run_database(
            "postgres", lambda: postgres_schema(args.postgres_url), args
        )
    progress(f"done in {time.monotonic() - started:.0f} s")
    print(render(results, args, load))
    print()
    print(verdict(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
