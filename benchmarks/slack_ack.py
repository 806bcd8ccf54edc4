"""How fast `capdesk serve` acknowledges Slack button clicks, next to a Bolt app that only acks.

Slack shows the person an error when an interaction is not acknowledged within 3 seconds, so
the figure that matters is the ack latency under load, not the work done after it.

What runs, all on this machine:

* the Slack Web API emulator (`bot.slack.emulator`) in this process, as the bot's Slack;
* `capdesk serve` as a child process (the real CLI, SQLite in a temporary folder, the sandbox
  org, `SLACK_API_URL` pointing at the emulator);
* the baseline: a bare `slack_bolt` `AsyncApp` on the same aiohttp adapter whose only listener
  calls `ack()`, as a second child process. Like `capdesk serve`, it freezes its start-up heap
  out of the garbage collector (`gc.freeze()`), so both are measured with the same runtime.

Set-up (untimed): Tom asks for a raise and Sam approves it, so the store holds a decided request.
The load is then the `block_actions` payload of Sam's Approve button on that card, signed as
Slack signs it, each with a trigger_id of its own as Slack gives every click (capdesk would
take a repeated one for a replay and skip its work): capdesk acks at once, then in the
background records the trigger id, resolves the user, loads the request, refuses ("already
approved by Sam Ortiz") and answers through the `response_url`, so the measured acks compete
with that work for the CPU, as they would in production.

`--clients` concurrent clients each send requests back to back until `--requests` have been
sent; the first `--warmup` of each server are not counted. Latency is measured in this
process, from sending the request to reading the whole response. The script prints p50, p99
and max for both servers, the ratio of capdesk's p99 to the baseline's, and the resident
memory of `capdesk serve` when idle after start-up (VmRSS from /proc) — targets: p99 within
1.5x of the baseline's and far under 3 s; idle RSS at most 150 MB.

Run it from the repository root::

    python benchmarks/slack_ack.py                     # 2,000 clicks, 20 clients
    python benchmarks/slack_ack.py --requests 5000 --clients 50
    python benchmarks/slack_ack.py --database postgresql://...   # empty, after `capdesk db upgrade`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import quote

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.slack.emulator import SlackEmulator

SECRET = "bench-signing-secret"
TOM, SAM = "tom.becker@example.com", "sam.ortiz@example.com"
TRIGGER = "TRIGGER-ID"
"""Stands for the trigger_id in the load's body; each request gets a fresh one."""

BARE_APP = """
import gc, re, sys
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_sdk.web.async_client import AsyncWebClient

client = AsyncWebClient(token=sys.argv[2], base_url=sys.argv[3])
bolt = AsyncApp(client=client, signing_secret=sys.argv[4])

@bolt.action(re.compile(".*"))
async def only_ack(ack):
    await ack()

async def handle(request):
    return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

app = web.Application()
app.router.add_post("/slack/events", handle)
gc.collect()
gc.freeze()
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"server exited with {process.returncode} before it was ready")
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {timeout:.0f} s")


async def drained(metrics_url: str) -> float:
    """Seconds until capdesk has finished the work it acknowledged (its background backlog)."""
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(metrics_url) as response:
                text = await response.text()
            if "capdesk_background_tasks 0.0" in text:
                return time.monotonic() - started
            await asyncio.sleep(0.05)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(url: str, body: str, *, requests: int, clients: int) -> list[float]:
    """Send `requests` signed copies of `body` from `clients` concurrent clients, each with a
    trigger_id of its own in place of `TRIGGER`."""
    signer = SignatureVerifier(SECRET)
    latencies: list[float] = []
    sent = 0
    statuses: dict[int, int] = {}

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        while sent < requests:
            sent += 1
            stamp = str(int(time.time()))
            click = body.replace(TRIGGER, f"{stamp}.{os.getpid()}{sent}.{sent:032x}")
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signer.generate_signature(timestamp=stamp, body=click),
            }
            started = time.perf_counter()
            async with session.post(url, data=click, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected answers from {url}: {statuses}")
    return latencies


def load_in_child(url: str, body: str, requests: int, clients: int) -> list[float]:
    """The load from a process of its own, so the emulator's work is not counted as latency."""
    return asyncio.run(load(url, body, requests=requests, clients=clients))


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return p50 * 1000, p99 * 1000, ordered[-1] * 1000


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="capdesk-bench-"))
    async with SlackEmulator(seed=7, signing_secret=SECRET, port=free_port()) as emu:
        capdesk_port, bare_port = free_port(), free_port()
        env = {
            **os.environ,
            "CAPDESK_DATABASE_URL": args.database or f"sqlite:///{folder / 'capdesk.db'}",
            "CAPDESK_HTTP_PORT": str(capdesk_port),
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": emu.api_url,
        }
        capdesk = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli.main import cli; cli()", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare = subprocess.Popen(
            [sys.executable, "-c", BARE_APP, str(bare_port), emu.bot_token, emu.api_url, SECRET],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{capdesk_port}/readyz", capdesk)
            await wait_ready(f"http://127.0.0.1:{bare_port}/slack/events", bare)
            await asyncio.sleep(2)  # let start-up allocations settle before reading RSS
            idle_rss = rss_mib(capdesk.pid)

            capdesk_url = f"http://127.0.0.1:{capdesk_port}/slack/events"
            emu.request_url = capdesk_url
            await emu.slash_command(TOM, "raise 150 for 14d release prep")
            deadline = time.monotonic() + 30
            while not emu.messages_to(SAM) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            if not emu.messages_to(SAM):
                raise SystemExit("capdesk never posted the approval card")
            card = emu.messages_to(SAM)[-1]
            payload = emu.block_actions(SAM, card, "approve")
            await emu.send_interaction(payload)

            payload["trigger_id"] = TRIGGER
            body = "payload=" + quote(json.dumps(payload), safe="")
            figures = {}
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            loop = asyncio.get_running_loop()
            # The baseline first, so capdesk's backlog never runs during its load.
            for name, target in (
                ("bare AsyncApp", f"http://127.0.0.1:{bare_port}/slack/events"),
                ("capdesk serve", capdesk_url),
            ):
                for count in (args.warmup, args.requests):
                    started = time.monotonic()
                    samples = await loop.run_in_executor(
                        pool, load_in_child, target, body, count, args.clients
                    )
                    elapsed = time.monotonic() - started
                    if target == capdesk_url:
                        backlog = await drained(f"http://127.0.0.1:{capdesk_port}/metrics")
                figures[name] = percentiles(samples)
                print(f"{name}: {len(samples)} acks measured", file=sys.stderr)
            work_rate = args.requests / (elapsed + backlog)
            pool.shutdown()
            busy_rss = rss_mib(capdesk.pid)
        finally:
            for process in (capdesk, bare):
                process.terminate()
                # Waited for off the loop: capdesk finishes its work in hand against the emulator.
                await asyncio.to_thread(process.wait, 300)

    print(f"\nSlack ack latency, {args.requests:,} signed block_actions, {args.clients} clients")
    print(f"{'':16} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, (p50, p99, worst) in figures.items():
        print(f"{name:16} {p50:8.1f} {p99:8.1f} {worst:8.1f}")
    ratio = figures["capdesk serve"][1] / figures["bare AsyncApp"][1]
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"p99 ratio capdesk / bare: {ratio:.2f} (target <= 1.5: {verdict})")
    print(
        f"capdesk work after the acks: {backlog:.1f} s of backlog after the last ack; "
        f"{work_rate:.0f} clicks fully handled per second"
    )
    print(
        f"capdesk serve RSS: {idle_rss:.0f} MiB idle (target <= 150: "
        f"{'met' if idle_rss <= 150 else 'NOT met'}), {busy_rss:.0f} MiB after the load"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--database",
        help="an empty database at the current migration (`capdesk db upgrade`) for capdesk; "
        "default: SQLite in a temporary folder",
    )
    asyncio.run(main(parser.parse_args()))
