"""The Slack Web API client, with slack_sdk's own retry handlers.

Every call that can wait for a retry runs after Slack has been answered (in the background or
in the outbox), so a 429's `Retry-After` never eats into the 3-second ack.
"""

from __future__ import annotations

from aiohttp import ClientSession
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient


def web_client(
    *, token: str, base_url: str, session: ClientSession | None = None, retries: int = 2
) -> AsyncWebClient:
    """A client that retries rate limits (honouring `Retry-After`), 5xx and dropped connections.

    One `session` for every call keeps connections alive between them.
    Few retries on purpose: what still fails goes back to the notifications outbox, which
    retries for longer without holding a task.
    """
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=10,
        session=session,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=retries),
            AsyncServerErrorRetryHandler(max_retry_count=retries),
            AsyncConnectionErrorRetryHandler(max_retry_count=retries),
        ],
    )
