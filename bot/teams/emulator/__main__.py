"""Serves a Bot Framework emulator for people: `python -m bot.teams.emulator --port 3002`.

Point capdesk at it with the printed settings; give `--messaging-endpoint` (the bot's
`.../api/messages`) to let it reach the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.teams.emulator.server import DEFAULT_APP_PASSWORD, TeamsEmulator
from bot.teams.emulator.users import DEFAULT_APP_ID


async def _serve(args: argparse.Namespace) -> None:
    emulator = TeamsEmulator(
        seed=args.seed,
        port=args.port,
        app_id=args.app_id,
        app_password=args.app_password,
        messaging_endpoint=args.messaging_endpoint,
    )
    async with emulator:
        for name, value in emulator.settings().items():
            print(f"{name}={value}")
        print(f"service URL {emulator.service_url}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.teams.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=3002)
    parser.add_argument("--seed", type=int, default=7, help="the sandbox organisation's seed")
    parser.add_argument("--app-id", default=DEFAULT_APP_ID)
    parser.add_argument("--app-password", default=DEFAULT_APP_PASSWORD)
    parser.add_argument("--messaging-endpoint", help="the bot's .../api/messages")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
