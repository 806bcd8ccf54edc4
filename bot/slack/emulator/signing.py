"""Slack's v0 request signatures, as Slack makes them.

Slack signs `v0:<timestamp>:<raw body>` with HMAC-SHA256 under the signing secret and sends
`X-Slack-Signature: v0=<hex>` with `X-Slack-Request-Timestamp: <unix seconds>`
(docs.slack.dev, "Verifying requests from Slack"). The raw body is signed as bytes, so a
broken body (one that is not UTF-8) can be signed too; slack_sdk's own verifier accepts these
signatures (tests/adapters/test_slack_emulator.py checks it).
"""

from __future__ import annotations

import hashlib
import hmac


def signed_headers(secret: str, body: bytes, timestamp: int | str) -> dict[str, str]:
    """The two signature headers for `body` sent at `timestamp`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}
