"""Serves a Slack emulator for people: `python -m bot.slack.emulator --port 3001`.

Point the bot at it with the printed SLACK_API_URL; give `--request-url` to let it reach
the bot (the playground drives it from there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.connectors.sandbox import SANDBOX_ZONE
from bot.settings import SettingsError, load_now_setting
from bot.slack.emulator.server import DEFAULT_BOT_TOKEN, DEFAULT_SIGNING_SECRET, SlackEmulator
from bot.startup import StartupError, clock_for
from workflows.clock import Clock


async def _serve(args: argparse.Namespace, clock: Clock) -> None:
    emulator = SlackEmulator(
        seed=args.seed,
        clock=clock,
        port=args.port,
        signing_secret=args.signing_secret,
        bot_token=args.bot_token,
        request_url=args.request_url,
    )
    async with emulator:
        print(f"SLACK_API_URL={emulator.api_url}")
        print(f"SLACK_BOT_TOKEN={emulator.bot_token}")
        print(f"SLACK_SIGNING_SECRET={args.signing_secret}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.slack.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--seed", type=int, default=7, help="the sandbox organisation's seed")
    parser.add_argument("--signing-secret", default=DEFAULT_SIGNING_SECRET)
    parser.add_argument("--bot-token", default=DEFAULT_BOT_TOKEN)
    parser.add_argument("--request-url", help="the bot's Slack request URL")
    args = parser.parse_args()
    try:
        # On the bot's clock when CAPDESK_NOW pins it, so both tell the same day.
        clock = clock_for(load_now_setting(), SANDBOX_ZONE)
    except (SettingsError, StartupError) as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, clock))


if __name__ == "__main__":
    main()
