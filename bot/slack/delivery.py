"""Delivering the outbox to Slack from a one-off command (`capdesk digest`, `alerts run`)."""

from __future__ import annotations

import asyncio

from aiohttp import ClientSession

from bot.background import DomainThreads
from bot.bootstrap import Capdesk
from bot.charts import render_png
from bot.metrics import Metrics
from bot.slack.client import web_client
from bot.slack.directory import SlackDirectory
from bot.slack.notifier import SlackNotifier
from workflows.delivery import DeliveryReport, deliver_pending


def deliver_through_slack(app: Capdesk, token: str) -> DeliveryReport:
    """One pass of the notifications outbox through the Slack Web API, on a loop of its own."""
    return asyncio.run(_deliver(app, token))


async def _deliver(app: Capdesk, token: str) -> DeliveryReport:
    async with ClientSession() as session:
        client = web_client(token=token, base_url=app.settings.slack_api_url, session=session)
        notifier = SlackNotifier(
            client=client,
            directory=SlackDirectory(client, app.uow, run=DomainThreads()),
            policy=app.policy,
            loop=asyncio.get_running_loop(),
            metrics=Metrics(),
            chart_png=render_png,
        )
        return await asyncio.to_thread(deliver_pending, app.uow, notifier, app.clock)
