"""`POST /api/messages`: where the Bot Framework delivers Teams activities to the bot.

capdesk's own handler, because botbuilder 4.17.1's `CloudAdapter.process` crashes on every
invoke response (it serializes the already serialized body again: `'dict' object has no
attribute 'is_xml_model'`). It reads the body, parses the `Activity`, calls
`adapter.process_activity(auth_header, activity, logic)`, which authenticates first (through
`CapdeskAuthentication`), and writes the invoke response itself.

| answer | when |
|---|---|
| the invoke response's status and JSON body | an invoke the bot answered |
| 200, empty | any other activity, once the bot's turn is done |
| 400 | a body that is not a JSON object, or not an activity (type, channelId, serviceUrl) |
| 401 | no valid Bot Framework token: the bot never sees the activity |
| 413 | a body over `max_body_bytes` |
| 415 | a content type other than JSON |
| 503 | the signing keys cannot be read yet: nothing was handled; `Retry-After` says when to |
| 500 | the bot failed: the log has the traceback, the answer does not |
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext, serializer_helper
from botbuilder.schema import Activity
from msrest.serialization import Model

from bot.teams.auth import KeysUnavailable, Unauthorized
from bot.teams.auth.keys import RETRY_AFTER_FAILURE

log = logging.getLogger(__name__)

# Teams activities are a few KiB; card submissions carry the card's inputs, not the card.
MAX_BODY_BYTES = 256 * 1024

Logic = Callable[[TurnContext], Awaitable[Any]]
Handler = Callable[[web.Request], Awaitable[web.Response]]


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def messages_handler(
    adapter: Any, logic: Logic, *, max_body_bytes: int = MAX_BODY_BYTES
) -> Handler:
    """The handler for `POST /api/messages` over a botbuilder `CloudAdapter` built with
    `CapdeskAuthentication`; `logic` is the bot's turn (`bot.on_turn`)."""

    async def handle(request: web.Request) -> web.Response:
        """One activity from the Bot Framework."""
        try:
            activity = _activity(await _json_body(request, max_body_bytes))
        except _Refused as refusal:
            return web.json_response({"error": str(refusal)}, status=refusal.status)
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke_response = await adapter.process_activity(auth_header, activity, logic)
        except Unauthorized as refusal:
            log.info("refused a Bot Framework request: %s", refusal)
            return web.json_response(
                {"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"}
            )
        except KeysUnavailable as error:
            log.warning("could not authenticate a Bot Framework request: %s", error)
            return web.json_response(
                {"error": "signing keys unavailable"},
                status=503,
                headers={"Retry-After": str(int(RETRY_AFTER_FAILURE.total_seconds()))},
            )
        except Exception:
            log.exception("the bot failed on a %s activity", activity.type)
            return web.json_response({"error": "internal error"}, status=500)
        if invoke_response is None:
            return web.Response(status=200)
        body = invoke_response.body
        # botbuilder's handlers hand back the body serialized; a bot's own may hand a model.
        if isinstance(body, Model):
            body = serializer_helper(body)
        if body is None:
            return web.Response(status=invoke_response.status)
        return web.json_response(body, status=invoke_response.status)

    return handle


async def _json_body(request: web.Request, limit: int) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise _Refused(415, "the body must be application/json")
    if request.content_length is not None and request.content_length > limit:
        raise _Refused(413, f"the body is over {limit} bytes")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise _Refused(413, f"the body is over {limit} bytes")
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise _Refused(400, "the body is not JSON") from None
    if not isinstance(document, dict):
        raise _Refused(400, "the body is not a JSON object")
    return document


def _activity(document: dict[str, Any]) -> Activity:
    try:
        activity = Activity().deserialize(document)
    except Exception:
        # msrest raises its DeserializationError, but also TypeError and friends on odd shapes.
        raise _Refused(400, "the body is not a Bot Framework activity") from None
    for name, value in (
        ("type", activity.type),
        ("channelId", activity.channel_id),
        ("serviceUrl", activity.service_url),
    ):
        if not isinstance(value, str) or not value:
            raise _Refused(400, f"the activity has no {name}")
    if not activity.service_url.startswith(("https://", "http://")):
        raise _Refused(400, "the activity's serviceUrl is not a URL")
    return activity
