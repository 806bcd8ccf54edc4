"""The OTLP receiver's ingestion: data points per second counted from protobuf batches, beside
parsing the same batches alone with `opentelemetry-proto`, in the same run.

Per database (SQLite in a temp file, PostgreSQL in a schema made for the run) and per number
of active people (1,000 and 10,000 by default):

* **batches**, untimed: what Claude Code sends at its default interval (metrics every 60 s, in
  delta temporality): one `ExportMetricsServiceRequest` per person per minute, with the data
  points of one busy minute (cost, four token types, lines added and removed, session, commit,
  pull request, active time of the user and of the CLI: 12 points), each with Claude Code's
  standard attributes, serialized to protobuf. Two minutes of them: the first creates every
  series, the second is the steady state (every series known).
* **parse**: `ExportMetricsServiceRequest.ParseFromString` of every batch of a minute, nothing
  else: the floor any receiver pays.
* **ingest**: what the receiver's worker does with the same bytes: decode them into the domain's
  data points (`bot/telemetry/decode.py`) and count them (`workflows/telemetry/ingest.py`) in
  transactions of up to 64 batches, as it groups what waits in its queue, with commits. HTTP is
  not included.

Run it from the repository root::

    python benchmarks/otlp.py                          # 1,000 and 10,000 people, both databases
    python benchmarks/otlp.py --people 1000 --only sqlite
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.telemetry import decode
from bot.telemetry.receiver import GROUP
from store.engine import make_engine
from store.migrate import upgrade
from store.uow import SqlUnitOfWork, uow_factory
from workflows.model import Member
from workflows.policy import Policy
from workflows.telemetry.ingest import ingest

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POINTS = [
    ("claude_code.cost.usage", {"model": "claude-sonnet-5", "query_source": "main"}, 0.0421),
    ("claude_code.token.usage", {"model": "claude-sonnet-5", "type": "input"}, 1200),
    ("claude_code.token.usage", {"model": "claude-sonnet-5", "type": "output"}, 340),
    ("claude_code.token.usage", {"model": "claude-sonnet-5", "type": "cacheRead"}, 5000),
    ("claude_code.token.usage", {"model": "claude-sonnet-5", "type": "cacheCreation"}, 800),
    ("claude_code.lines_of_code.count", {"model": "claude-sonnet-5", "type": "added"}, 12),
    ("claude_code.lines_of_code.count", {"model": "claude-sonnet-5", "type": "removed"}, 3),
    ("claude_code.session.count", {"start_type": "fresh"}, 1),
    ("claude_code.commit.count", {}, 1),
    ("claude_code.pull_request.count", {}, 1),
    ("claude_code.active_time.total", {"type": "user"}, 21.5),
    ("claude_code.active_time.total", {"type": "cli"}, 33.25),
]
POLICY = Policy.model_validate(
    {
        "admins": ["admin@bench.example"],
        "groups": [
            {
                "name": "everyone",
                "owners": ["admin@bench.example"],
                "members": ["*@bench.example"],
                "default_cap_usd": 100,
                "max_cap_usd": 400,
            }
        ],
    }
)


def _pairs(values: dict[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values.items()]


def _batch(person: int, minute: int) -> bytes:
    """One person's metrics export at the end of `minute`, as Claude Code sends it."""
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.extend(
        _pairs({"service.name": "claude-code", "service.version": "2.1.230", "os.type": "linux"})
    )
    scope = resource.scope_metrics.add()
    scope.scope.name = "com.anthropic.claude_code"
    standard = {
        "user.email": f"p{person}@bench.example",
        "organization.id": "7c1e2d3f-0000-4000-8000-00000000c0de",
        "session.id": f"session-{person}",
        "user.id": f"{person:032x}",
        "terminal.type": "tmux",
    }
    end = START + timedelta(minutes=minute + 1)
    start = end - timedelta(minutes=1)
    by_name: dict[str, object] = {}
    for name, own, value in POINTS:
        metric = by_name.get(name)
        if metric is None:
            metric = scope.metrics.add()
            metric.name = name
            metric.sum.aggregation_temporality = (
                AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
            )
            metric.sum.is_monotonic = True
            by_name[name] = metric
        point = metric.sum.data_points.add()  # type: ignore[attr-defined]
        point.attributes.extend(_pairs({**standard, **own}))
        point.start_time_unix_nano = int(start.timestamp()) * 10**9
        point.time_unix_nano = int(end.timestamp()) * 10**9
        if isinstance(value, float):
            point.as_double = value
        else:
            point.as_int = value
    return request.SerializeToString()


def _members(engine_url: str, people: int) -> SqlUnitOfWork:
    engine = make_engine(engine_url)
    upgrade(engine)
    factory = uow_factory(engine)
    with SqlUnitOfWork(factory) as uow:
        for person in range(people):
            uow.members.upsert(
                Member(
                    email=f"p{person}@bench.example",
                    name=f"Person {person}",
                    tier="standard",
                    cap_cents=10_000,
                )
            )
        uow.commit()
    return SqlUnitOfWork(factory)


def _ingest(factory: object, bodies: list[bytes], now: datetime) -> float:
    started = time.perf_counter()
    for first in range(0, len(bodies), GROUP):
        batches = [decode.metrics(b, decode.PROTOBUF) for b in bodies[first : first + GROUP]]
        with factory() as uow:  # type: ignore[operator]
            ingest(uow, POLICY, batches, now=now)
            uow.commit()
    return time.perf_counter() - started


def _parse(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        ExportMetricsServiceRequest.FromString(body)
    return time.perf_counter() - started


def measure(url: str, people: int) -> list[str]:
    uow = _members(url, people)
    factory = uow._factory
    lines = []
    for minute, label in ((0, "first minute (new series)"), (1, "steady state")):
        bodies = [_batch(p, minute) for p in range(people)]
        points = people * len(POINTS)
        parse = _parse(bodies)
        taken = _ingest(
            lambda: SqlUnitOfWork(factory), bodies, START + timedelta(minutes=minute + 1)
        )
        lines.append(
            f"  {label:<27} {points:>8,} points in {people:,} batches:"
            f" ingest {points / taken:>9,.0f} points/s ({taken * 1000:,.0f} ms),"
            f" parse alone {points / parse:>10,.0f} points/s ({parse * 1000:,.0f} ms),"
            f" ratio {taken / parse:,.0f}x"
        )
    return lines


def _postgres_schema(base: str) -> tuple[str, str]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres", default=POSTGRES_URL)
    args = parser.parse_args()
    databases = [args.only] if args.only else ["sqlite", "postgresql"]
    for database in databases:
        for people in args.people:
            print(f"{database}, {people:,} active people, one metrics export each per minute:")
            if database == "sqlite":
                with tempfile.TemporaryDirectory(prefix="capdesk-otlp-") as folder:
                    lines = measure(f"sqlite:///{Path(folder) / 'bench.db'}", people)
            else:
                url, schema = _postgres_schema(args.postgres)
                try:
                    lines = measure(url, people)
                finally:
                    _drop(args.postgres, schema)
            print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
