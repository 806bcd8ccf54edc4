"""The floor of the load run: a bare Bolt app that does the least each step of a flow needs.

    python benchmarks/loadrun/floor_app.py CONFIG_JSON

On `/capdesk ...` it acks, numbers the request and answers through the `response_url` with a
card that has an Approve button. On Approve it acks, sets the requester's cap at the admin
backend (one `PUT /members/{email}/cap` with an `Idempotency-Key`) and answers through the
`response_url` that the request is in force. No database, no outbox, no retries: what it
takes is the cost of the driver, the emulator, HTTP and Bolt themselves, for the same flows
as capdesk's. Like `capdesk serve` it keeps its start-up heap out of the garbage collector.

CONFIG_JSON: port, signing_secret, bot_token, api_url, backend_url, backend_token,
emails (Slack user id -> email), start_cap_cents, amount_cents.
"""

from __future__ import annotations

import gc
import itertools
import json
import sys
from typing import Any
from urllib.parse import quote

from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def card(number: int, amount_cents: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"Request #{number}: +${amount_cents // 100}"},
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": str(number),
                }
            ],
        },
    ]


def build(config: dict[str, Any]) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token=config["bot_token"], base_url=config["api_url"]),
        signing_secret=config["signing_secret"],
    )
    emails: dict[str, str] = config["emails"]
    amount: int = config["amount_cents"]
    caps = dict.fromkeys(emails.values(), int(config["start_cap_cents"]))
    numbers = itertools.count(1)
    requester: dict[int, str] = {}
    backend = config["backend_url"].rstrip("/")
    auth = {"Authorization": f"Bearer {config['backend_token']}"}
    sessions: list[ClientSession] = []

    async def open_session(_: web.Application) -> None:
        sessions.append(ClientSession())

    async def close_session(_: web.Application) -> None:
        await sessions[0].close()

    async def answer(url: str, body: dict[str, Any]) -> None:
        async with sessions[0].post(url, json=body) as response:
            response.raise_for_status()

    @bolt.command("/capdesk")
    async def ask(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()
        number = next(numbers)
        requester[number] = emails[command["user_id"]]
        text = f"Request #{number}: +${amount // 100}"
        await answer(command["response_url"], {"text": text, "blocks": card(number, amount)})

    @bolt.action("approve")
    async def approve(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        number = int(body["actions"][0]["value"])
        email = requester[number]
        caps[email] += amount
        async with sessions[0].put(
            f"{backend}/members/{quote(email, safe='@')}/cap",
            json={"monthly_cap_cents": caps[email]},
            headers={**auth, "Idempotency-Key": f"request-{number}-apply"},
        ) as response:
            response.raise_for_status()
        text = f"Request #{number} is in force: your monthly cap is now ${caps[email] // 100}."
        await answer(body["response_url"], {"text": text, "replace_original": False})

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    return app


def main() -> None:
    config = json.loads(sys.argv[1])
    app = build(config)
    gc.collect()
    gc.freeze()
    web.run_app(app, host="127.0.0.1", port=int(config["port"]), print=None)


if __name__ == "__main__":
    main()
