"""capdesk under load and under faults, next to a bare Bolt app doing the same flows.

What runs, all on this machine:

* the Slack Web API emulator (`bot.slack.emulator`), which signs its requests as Slack does,
  and a fake admin backend speaking capdesk's generic HTTP contract
  (`manifests/admin-api.openapi.yaml`), both in this process, which also drives the load;
* `capdesk serve` as a child process (the real CLI; SQLite in a temporary folder, or a
  PostgreSQL schema made for the run and dropped after it), with `CAPDESK_ADMIN_BACKEND=http`
  on the fake and a policy of one group: `--people` members, `--owners` owners;
* the floor: a bare Bolt app (`benchmarks/loadrun/floor_app.py`) that acks, answers through the
  `response_url` with a card, and on Approve makes the one backend write and answers that it
  is in force, driven by the same people in the same way, without faults.

Each person types `/capdesk raise 10 for 14d load test`, waits until the request is in
force, and asks again, for `--seconds`; the owner whose turn it is clicks Approve on each card
the moment it arrives. Then nobody asks any more and the run waits up to `--drain` seconds
for the flows under way. With `--fail-share` that share of the backend's writes fails (429
and 503 with Retry-After, 500), `--hangs` writes spread over the load hang past the
connector's 30 s read timeout (then take effect), and `--kill` SIGKILLs `capdesk serve` at
random moments (`--seed`) and starts it again.

It prints p50 / p99 / max of request -> owner's card (the command sent -> the card's
chat.postMessage seen by the emulator), Approve -> applied (the click -> the write taking
effect at the backend) and Approve -> the requester's "in force" DM; whole flows per second
(finished within the load time); and the counts: lost, duplicated (by Idempotency-Key and by
effect on the final caps), stuck (not finished at the end). Progress goes to stderr, the table
(or `--json`) to stdout. The defaults take about two and a half minutes, both runs included.

    python benchmarks/load.py
    python benchmarks/load.py --database postgresql
    python benchmarks/load.py --fail-share 0.3 --hangs 3 --kill 2 --drain 400
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

# Run as a script, the repository root is not on the path: the driver shares the test fakes.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.engine import make_url

from benchmarks.loadrun.run import CAPDESK, FLOOR, Options, Outcome, run
from benchmarks.slack_ack import percentiles
from tests.postgres import POSTGRES_URL

FIGURES = {
    "card": "request -> owner's card",
    "applied": "Approve -> applied",
    "in force": 'Approve -> "in force" DM',
}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def summary(samples: list[float]) -> dict[str, float] | None:
    if not samples:
        return None
    p50, p99, worst = percentiles(samples)
    return {"p50_s": p50 / 1000, "p99_s": p99 / 1000, "max_s": worst / 1000, "n": len(samples)}


def as_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "latencies": {name: summary(s) for name, s in outcome.latencies.items()},
        "flows_per_second": outcome.per_second,
        "flows_started": outcome.started,
        "flows_finished": outcome.finished,
        "counts": asdict(outcome.counts),
        "stuck": sum(outcome.stuck.values()),
        "stuck_waiting_for": dict(outcome.stuck),
        "tally": {**asdict(outcome.tally), "errors": dict(outcome.tally.errors)},
        "backend": {
            "writes": outcome.writes,
            "injected": dict(outcome.injected),
            "hung": outcome.hung,
            "replayed": outcome.replayed,
        },
        "server_cpu_s": outcome.server_cpu,
        "driver_cpu_s": outcome.driver_cpu,
        "elapsed_s": outcome.elapsed,
    }


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def render(results: dict[str, Outcome], options: Options, loads: tuple[str, str]) -> str:
    capdesk, floor = results[CAPDESK], results[FLOOR]

    def latency(outcome: Outcome, name: str) -> str:
        found = summary(outcome.latencies[name])
        if found is None:
            return "-"
        return " / ".join(seconds(found[k]) for k in ("p50_s", "p99_s", "max_s"))

    def both(label: str, cell: Any) -> list[str]:
        return [label, str(cell(capdesk)), str(cell(floor))]

    def stuck(outcome: Outcome) -> str:
        total = sum(outcome.stuck.values())
        if not total:
            return "0"
        waiting = ", ".join(f"{n} for {what}" for what, n in outcome.stuck.most_common())
        return f"{total} (waiting: {waiting})"

    rows = [
        ["", CAPDESK, "floor (bare Bolt app)"],
        *(
            both(f"{label}, p50 / p99 / max", lambda o, n=name: latency(o, n))
            for name, label in FIGURES.items()
        ),
        both("whole flows per second", lambda o: f"{o.per_second:.1f}"),
        both("flows started / finished", lambda o: f"{o.started} / {o.finished}"),
        both(
            "approved / applied at the backend",
            lambda o: f"{o.counts.approved} / {o.counts.applied}",
        ),
        both("lost", lambda o: o.counts.lost),
        both(
            "duplicated: by key / by effect",
            lambda o: f"{o.counts.duplicated_by_key} / {o.counts.duplicated_by_effect}",
        ),
        both("raises missing from the final caps", lambda o: o.counts.short_by_effect),
        both("stuck at the end", stuck),
        both("  of which approved, still queued", lambda o: o.counts.queued),
        both("  of which failed (given to the admins)", lambda o: o.counts.failed),
        both("backend writes", lambda o: o.writes),
        both(
            "  failed by the fake: 429 / 500 / 503",
            lambda o: " / ".join(str(o.injected[status]) for status in (429, 500, 503)),
        ),
        both("  hung / replayed (key already applied)", lambda o: f"{o.hung} / {o.replayed}"),
        both("SIGKILLs", lambda o: o.tally.kills),
        both("acks over Slack's 3 s", lambda o: o.tally.ack_timeouts),
        both("refused (server down)", lambda o: o.tally.refused),
        both("other error statuses", lambda o: sum(o.tally.errors.values())),
        both(
            "commands typed again / clicks again",
            lambda o: f"{o.tally.retyped} / {o.tally.reclicked}",
        ),
        both(
            "server CPU (share of one core)",
            lambda o: f"{o.server_cpu:.0f} s ({o.server_cpu / o.elapsed:.0%})",
        ),
        both(
            "this process's CPU (driver, emulator, backend)",
            lambda o: f"{o.driver_cpu:.0f} s ({o.driver_cpu / o.elapsed:.0%})",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    faults = []
    if options.fail_share:
        faults.append(f"{options.fail_share:.0%} of the backend writes fail")
    if options.hangs:
        faults.append(f"{options.hangs} writes hang")
    if options.kills:
        faults.append(f"{options.kills} x SIGKILL")
    database = "PostgreSQL" if options.database == "postgresql" else "SQLite"
    lines = [
        f"capdesk load: {options.people} people, {options.owners} owners, "
        f"{options.seconds:.0f} s of load (+ up to {options.drain:.0f} s to drain), {database}; "
        f"faults: {', '.join(faults) or 'none'} (the floor runs without)",
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{loads[0]} at the start, {loads[1]} at the end",
        "",
        *(
            "  ".join(
                [r[0].ljust(widths[0]), r[1].rjust(widths[1]), r[2].rjust(widths[2])]
            ).rstrip()
            for r in rows
        ),
        "",
        *verdicts(capdesk, options),
    ]
    return "\n".join(lines)


def verdicts(outcome: Outcome, options: Options) -> list[str]:
    """The issue's targets that this run can judge."""

    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = []
    card = summary(outcome.latencies["card"])
    if card is not None:
        ok = card["p50_s"] <= 0.3 and card["p99_s"] <= 1.0
        lines.append(f"target request -> card p50 <= 300 ms, p99 <= 1 s: {mark(ok)}")
    applied = summary(outcome.latencies["applied"])
    faults = options.fail_share or options.hangs or options.kills
    if applied is not None and not faults:
        lines.append(f"target Approve -> applied p50 <= 300 ms: {mark(applied['p50_s'] <= 0.3)}")
    lines.append(f"target >= 50 whole flows per second: {mark(outcome.per_second >= 50)}")
    lines.append(
        f"nothing lost or applied twice: {mark(intact(outcome))}; "
        f"nothing stuck at the end: {mark(not sum(outcome.stuck.values()))}"
    )
    return lines


async def main(args: argparse.Namespace) -> int:
    options = Options(**{k: v for k, v in vars(args).items() if k != "json"})
    before = load_average()
    # The floor first, so nothing of capdesk's is still running during its load.
    results = {target: await run(target, options, progress) for target in (FLOOR, CAPDESK)}
    after = load_average()
    if args.json:
        shown = {**asdict(options), "postgres_url": hide_password(options.postgres_url)}
        report = {
            "options": shown,
            "load_average": {"start": before, "end": after},
            **{target: as_json(outcome) for target, outcome in results.items()},
        }
        print(json.dumps(report, indent=2))
    else:
        print(render(results, options, (before, after)))
    broken = [target for target, outcome in results.items() if not intact(outcome)]
    for target in broken:
        progress(f"{target} lost an approved change or applied one twice: see the counts")
    return 1 if broken else 0


def intact(outcome: Outcome) -> bool:
    """Every approved change applied at most once, and none dropped."""
    counts = outcome.counts
    return not (
        counts.lost
        or counts.duplicated_by_key
        or counts.duplicated_by_effect
        or counts.short_by_effect
    )


def hide_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def ranged(
    kind: type[int] | type[float], low: float, high: float = math.inf, *, above: bool = False
) -> Callable[[str], float]:
    """An argparse type: a number of `kind` from `low` (or above it) to `high`."""
    wanted = f"above {low:g}" if above else f"{low:g} or more"
    if high != math.inf:
        wanted = f"from {low:g} to {high:g}"

    def parse(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if number < low or number > high or (above and number == low):
            raise argparse.ArgumentTypeError(f"{value} is not {wanted}")
        return number

    return parse


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--people", type=ranged(int, 0, above=True), default=40, help="people asking (default 40)"
    )
    parser.add_argument(
        "--owners", type=ranged(int, 0, above=True), default=2, help="owners approving (default 2)"
    )
    parser.add_argument(
        "--seconds", type=ranged(float, 0, above=True), default=60.0, help="load time (default 60)"
    )
    parser.add_argument(
        "--drain",
        type=ranged(float, 0, above=True),
        default=90.0,
        help="longest wait for the flows under way (default 90)",
    )
    parser.add_argument(
        "--fail-share",
        type=ranged(float, 0, 1),
        default=0.0,
        help="share of backend writes that fail",
    )
    parser.add_argument("--hangs", type=ranged(int, 0), default=0, help="backend writes that hang")
    parser.add_argument(
        "--kill",
        dest="kills",
        metavar="N",
        type=ranged(int, 0),
        default=0,
        help="SIGKILLs of capdesk serve",
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="the PostgreSQL server (a schema is made on it for the run)",
    )
    parser.add_argument("--seed", type=int, default=1, help="of the faults and kill moments")
    parser.add_argument("--json", action="store_true", help="the figures as JSON")
    sys.exit(asyncio.run(main(parser.parse_args())))
