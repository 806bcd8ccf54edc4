"""What `POST /slack/events` lets through to Bolt: signed bodies of the shapes Slack sends.

Bolt parses a body before it dispatches it, and answers 500 when it cannot (a `payload` that
is not JSON, or is JSON `null`); it also runs anything with a `command` field as a slash
command, whatever the encoding. Slack sends three shapes (docs.slack.dev, "Verifying requests
from Slack", "Handling user interaction", "The Events API"): an Events API envelope as a JSON
object, a slash command as a form, an interaction as a form whose `payload` field is a JSON
object. The edge checks the signature over the raw bytes, then the shape, and refuses the rest
before Bolt sees it: 401 for a signature that does not hold, 400 for a signed body of another
shape, or one without what its listener reads (the models of `bot.slack.payloads`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel
from slack_sdk.signature import Clock

from bot.slack.payloads import (
    EventCallback,
    PayloadError,
    SlashCommand,
    checked,
    interaction_model,
)

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_AGE = 5 * 60
"""Seconds a signature stays good (Slack's own window, and Bolt's)."""

_EVENT_TYPES = frozenset({"url_verification", "event_callback", "app_rate_limited"})


class BadBody(Exception):
    """A signed body that is not one Slack sends; the message says what is wrong with it."""


class Signature:
    """Slack's v0 signature, computed over the raw bytes as Slack computes it.

    slack_sdk's verifier decodes the body first and raises on one that is not UTF-8; checking
    the bytes lets such a body be told apart: unsigned (401) or signed and broken (400). The
    age is judged on slack_sdk's clock, the wall clock Bolt's own check uses.
    """

    def __init__(self, secret: str, clock: Clock | None = None) -> None:
        self._secret = secret.encode()
        self._clock = clock or Clock()

    def holds(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether `body` was signed with the secret less than five minutes ago."""
        stamp = headers.get("X-Slack-Request-Timestamp", "").strip()
        signature = headers.get("X-Slack-Signature", "")
        if not stamp.isdigit() or abs(self._clock.now() - int(stamp)) > MAX_AGE:
            return False
        digest = hmac.new(self._secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)


def read_body(body: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """The body as text and as the fields Bolt's listeners read; BadBody when Slack would not
    have sent it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody("the body is not UTF-8") from exc
    if content_type == JSON:
        return text, _envelope(_json_object(text, "the JSON body"))
    if content_type == FORM:
        return text, _form(text)
    raise BadBody(f"the content type is {content_type or 'missing'}, not one Slack sends")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise BadBody(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise BadBody(f"{what} is JSON {type(value).__name__}, not an object")
    return value


def _envelope(body: dict[str, Any]) -> dict[str, Any]:
    kind = body.get("type")
    if kind not in _EVENT_TYPES:
        raise BadBody(f"a JSON body of type {_shown(kind)} is not an Events API envelope")
    if kind == "event_callback":
        _read(EventCallback, body, "an event_callback")
    return body


def _form(text: str) -> dict[str, Any]:
    # Bolt reads any body that starts with "{" as JSON, whatever its content type.
    if text.lstrip().startswith("{"):
        raise BadBody("a form body that is JSON")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in fields:
        return _interaction(_json_object(fields["payload"], "the payload field"))
    if "command" in fields:
        _read(SlashCommand, fields, "a slash command")
        return fields
    if "ssl_check" in fields:
        return fields
    raise BadBody("a form with neither a slash command nor an interaction payload")


def _interaction(payload: dict[str, Any]) -> dict[str, Any]:
    kind = payload.get("type")
    if not isinstance(kind, str):
        raise BadBody(f"an interaction payload of type {_shown(kind)}")
    model = interaction_model(kind)
    if model is not None:
        _read(model, payload, f"a {kind} payload")
    return payload


def _read(model: type[BaseModel], fields: dict[str, Any], what: str) -> None:
    try:
        checked(model, fields, what)
    except PayloadError as exc:
        raise BadBody(str(exc)) from None


def _shown(value: object) -> str:
    return repr(value)[:40]
