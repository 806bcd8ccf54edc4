"""The alert rules over a large organisation: a full evaluation against one raw SQL aggregate.

Per database (SQLite in a temp file, PostgreSQL in a schema made for the run) and per size
(10,000 and 100,000 seats by default):

* **data**, untimed: N members with seats in groups of 5,000 (`*@gNN.bench.example`), each with a
  budget; 90 days of daily usage (working days mostly active, weekends rarely, 3 % idle seats,
  5 % heavy spenders) and 14 days of hourly usage (three active hours a working day, 1 % of
  people with an after-hours burst). Loaded with COPY (PostgreSQL) or one executemany
  (SQLite), then ANALYZE.
* **evaluation**: `run_alerts(...)` with the five rules of SPEC section 4, as the scheduler runs
  it every 15 minutes: every candidate query, every candidate's key claimed (and held back, as
  the first run recorded them). The median of `--repeat` runs after that first run.
* **first run**: the same on an empty firing table, when every firing is recorded and every
  message queued (`dry_run=True`, rolled back, so it can be repeated). Median of `--repeat`.
* **floor**: one raw SQL statement reading the same rows once: per member, the sum of spend and
  the last day over the 90 days of `usage_daily`, and the largest hour of the 14 days of
  `usage_hourly`. Any evaluation must at least read these. Median of `--repeat` runs.
* **ratio** evaluation / floor (target: within 3x), and how the evaluation time grows from the
  smallest to the largest size (target: 10x the seats costs at most about 10x the time).
* **memory**: the `tracemalloc` peak of one evaluation (the Python heap it allocates) and the
  process's peak RSS. Each (database, size) runs in a child process of its own.

Run it from the repository root::

    python benchmarks/rules.py                          # 10k and 100k seats, both databases
    python benchmarks/rules.py --seats 10000 --only sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, func, select, text

from store.engine import make_engine
from store.migrate import upgrade
from store.tables import UsageDailyRow, UsageHourlyRow, table
from store.uow import SqlUnitOfWork, uow_factory
from workflows.alerts.running import run_alerts
from workflows.policy import Policy

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
GROUP_SIZE = 5000
DAYS, HOURLY_DAYS = 90, 14
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)  # Friday 20 Nov 2026, 10:00 in Berlin
TODAY = date(2026, 11, 20)
RULES: list[dict[str, Any]] = [
    {"id": "cap-near", "kind": "cap_near", "threshold_pct": 85, "notify": ["user", "owners"],
     "cooldown": "24h"},
    {"id": "after-hours", "kind": "after_hours_spike", "min_commands_per_hour": 50,
     "notify": ["admins"], "cooldown": "1h", "mode": "immediate"},
    {"id": "idle-seat", "kind": "idle_seat", "warn_after_days": 14, "reclaim_after_days": 30,
     "notify": ["user", "admins"]},
    {"id": "group-budget", "kind": "group_budget", "threshold_pct": 90,
     "notify": ["owners", "admins"], "cooldown": "48h"},
    {"id": "forecast", "kind": "forecast_overrun", "notify": ["owners", "admins"]},
]  # fmt: skip


def _policy(groups: int) -> Policy:
    return Policy.model_validate(
        {
            "org": {"timezone": "Europe/Berlin", "business_hours": "08:00-20:00"},
            "admins": ["admin@bench.example"],
            "admin_channel": {"slack": "C0ADMINS"},
            "groups": [
                {
                    "name": f"g{g:02d}",
                    "owners": [f"owner{g:02d}@bench.example"],
                    "members": [f"*@g{g:02d}.bench.example"],
                    "default_cap_usd": 100,
                    "max_cap_usd": 400,
                    "monthly_budget_usd": GROUP_SIZE * 60,
                }
                for g in range(groups)
            ],
            "rules": RULES,
        }
    )


def _generate(seats: int, seed: int = 7) -> dict[str, list[tuple[Any, ...]]]:
    rng = random.Random(seed)
    first_day = TODAY - timedelta(days=DAYS - 1)
    hour_origin = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC) - timedelta(
        days=HOURLY_DAYS - 1
    )
    members, seat_rows, group_members, daily, hourly = [], [], [], [], []
    for n in range(seats):
        member_id = n + 1
        group = n // GROUP_SIZE
        members.append((member_id, f"p{n}@g{group:02d}.bench.example", f"Person {n}", "", True))
        kind = rng.random()
        seat_rows.append((member_id, "standard", 5000 if kind > 0.95 else 10000))
        group_members.append((member_id, f"g{group:02d}"))
        last = TODAY - timedelta(days=rng.randint(15, 60)) if kind < 0.03 else TODAY
        per_day = rng.randint(150, 450) if kind > 0.95 else rng.randint(50, 320)
        for d in range(DAYS):
            day = first_day + timedelta(days=d)
            if day > last:
                break
            working = day.weekday() < 5
            if rng.random() < (0.9 if working else 0.08):
                spend = per_day if working else per_day // 4
                daily.append((member_id, day, spend, spend // 6))
                if working and (TODAY - day).days < HOURLY_DAYS:
                    start = hour_origin + timedelta(days=(day - hour_origin.date()).days)
                    for h in (8, 11, 14):
                        hourly.append(
                            (member_id, start + timedelta(hours=h), spend // 3, spend // 18)
                        )
        if kind > 0.99:
            at = hour_origin + timedelta(days=rng.randint(7, 12), hours=rng.choice([21, 22, 23]))
            hourly.append((member_id, at, 900, rng.randint(60, 140)))
    groups = [
        (f"g{g:02d}", 10000, 40000, GROUP_SIZE * 6000) for g in range(-(-seats // GROUP_SIZE))
    ]
    owners = [(name, f"owner{name[1:]}@bench.example") for name, *_ in groups]
    return {
        "member": members,
        "seat": seat_rows,
        "member_group": groups,
        "group_owner": owners,
        "group_member": group_members,
        "usage_daily": daily,
        "usage_hourly": hourly,
    }


_COLUMNS = {
    "member": "id, email, name, external_id, active",
    "seat": "member_id, tier, cap_cents",
    "member_group": "name, default_cap_cents, max_cap_cents, budget_cents",
    "group_owner": "group_name, email",
    "group_member": "member_id, group_name",
    "usage_daily": "member_id, day, spend_cents, commands",
    "usage_hourly": "member_id, hour, spend_cents, commands",
}


def _load(engine: Engine, data: dict[str, list[tuple[Any, ...]]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for name, rows in data.items():
            columns = _COLUMNS[name]
            if engine.dialect.name == "postgresql":
                with cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(rows[0]))
                cursor.executemany(
                    f"INSERT INTO {name} ({columns}) VALUES ({marks})",
                    [tuple(map(_sqlite_value, row)) for row in rows],
                )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy's SQLite DateTime format: naive UTC with microseconds.
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _floor(engine: Engine) -> int:
    d, h = table(UsageDailyRow), table(UsageHourlyRow)
    per_member = (
        select(d.c.member_id, func.sum(d.c.spend_cents).label("s"), func.max(d.c.day).label("l"))
        .where(d.c.day <= TODAY)
        .group_by(d.c.member_id)
        .subquery()
    )
    statement = select(
        select(func.count()).select_from(per_member).scalar_subquery(),
        select(func.max(h.c.commands))
        .where(h.c.hour >= NOW - timedelta(days=HOURLY_DAYS))
        .scalar_subquery(),
    )
    with engine.connect() as connection:
        counted, _ = connection.execute(statement).one()
    return int(counted)


def _median(run: Any, repeat: int) -> tuple[float, Any]:
    run()  # warm-up: caches, statement compilation
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def measure(url: str, seats: int, repeat: int) -> dict[str, Any]:
    """One (database, size) in this process: load, time the floor and the evaluation."""
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    _load(engine, _generate(seats))
    loaded = time.perf_counter() - started
    policy = _policy(-(-seats // GROUP_SIZE))
    factory = uow_factory(engine)

    def uows() -> SqlUnitOfWork:
        return SqlUnitOfWork(factory)

    floor_s, members = _median(lambda: _floor(engine), repeat)
    first_s, run = _median(lambda: run_alerts(uows, policy, now=NOW, dry_run=True), repeat)
    run_alerts(uows, policy, now=NOW)
    eval_s, steady = _median(lambda: run_alerts(uows, policy, now=NOW), repeat)
    assert not steady.fired, "a second evaluation fired again"
    tracemalloc.start()
    run_alerts(uows, policy, now=NOW)
    heap = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    with engine.connect() as connection:
        daily = connection.execute(text("SELECT count(*) FROM usage_daily")).scalar_one()
        hourly = connection.execute(text("SELECT count(*) FROM usage_hourly")).scalar_one()
    kinds: dict[str, int] = {}
    for f in run.fired:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    engine.dispose()
    return {
        "seats": seats,
        "members_aggregated": members,
        "daily_rows": daily,
        "hourly_rows": hourly,
        "load_s": loaded,
        "floor_s": floor_s,
        "eval_s": eval_s,
        "first_s": first_s,
        "firings": len(run.fired),
        "kinds": kinds,
        "heap_mib": heap / 2**20,
        "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _postgres_schema(base: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    schema = f"capdesk_bench_{uuid.uuid4().hex[:10]}"
    server = make_engine(base)
    with server.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    server.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def _drop(base: str, schema: str) -> None:
    server = make_engine(base)
    with server.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    server.dispose()


def _child(database: str, seats: int, repeat: int, postgres: str) -> dict[str, Any]:
    """Run one measurement in a fresh process, on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="capdesk-rules-") as folder:
        if database == "sqlite":
            url, schema = f"sqlite:///{Path(folder) / 'bench.db'}", None
        else:
            url, schema = _postgres_schema(postgres)
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", url, str(seats), str(repeat)],
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            if schema is not None:
                _drop(postgres, schema)
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seats", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--postgres-url", default=os.environ.get("CAPDESK_TEST_POSTGRES_URL", POSTGRES_URL)
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, seats, repeat = args.child
        print(json.dumps(measure(url, int(seats), int(repeat))))
        return
    databases = [args.only] if args.only else ["sqlite", "postgresql"]
    results: dict[str, list[dict[str, Any]]] = {}
    for database in databases:
        for seats in args.seats:
            print(f"{database}: {seats:,} seats ...", file=sys.stderr, flush=True)
            results.setdefault(database, []).append(
                _child(database, seats, args.repeat, args.postgres_url)
            )
    load = os.getloadavg()[0]
    print(f"Alert rules benchmark · {os.cpu_count()} CPUs · load {load:.2f}")
    header = (
        f"{'database':<11}{'seats':>9}{'daily rows':>12}{'hourly rows':>12}{'floor':>9}"
        f"{'eval':>9}{'ratio':>7}{'1st run':>9}{'firings':>9}{'heap MiB':>10}{'RSS MiB':>9}"
    )
    print(header)
    for database, runs in results.items():
        for r in runs:
            print(
                f"{database:<11}{r['seats']:>9,}{r['daily_rows']:>12,}{r['hourly_rows']:>12,}"
                f"{r['floor_s'] * 1000:>7.0f}ms{r['eval_s'] * 1000:>7.0f}ms"
                f"{r['eval_s'] / r['floor_s']:>6.1f}x{r['first_s'] * 1000:>7.0f}ms"
                f"{r['firings']:>9,}"
                f"{r['heap_mib']:>10.1f}{r['rss_mib']:>9.0f}"
            )
        if len(runs) > 1:
            small, large = runs[0], runs[-1]
            growth = large["eval_s"] / small["eval_s"]
            size = large["seats"] / small["seats"]
            print(f"{'':<11}{size:.0f}x the seats: evaluation {growth:.1f}x the time")
    worst = max(r["eval_s"] / r["floor_s"] for runs in results.values() for r in runs)
    verdict = "met" if worst <= 3 else "not met"
    print(f"Target evaluation within 3x the floor: {verdict} (worst {worst:.1f}x)")
    for database, runs in results.items():
        for r in runs:
            kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(r["kinds"].items()))
            loaded = f"loaded in {r['load_s']:.0f}s"
            print(f"  {database} {r['seats']:,}: first-run firings {kinds}; {loaded}")


if __name__ == "__main__":
    main()
