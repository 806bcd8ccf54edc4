"""Slack's v0 request signatures, made with slack_sdk's own verifier so both sides agree.

Slack signs `v0:<timestamp>:<raw body>` with HMAC-SHA256 under the signing secret and sends
`X-Slack-Signature: v0=<hex>` with `X-Slack-Request-Timestamp: <unix seconds>`
(docs.slack.dev, "Verifying requests from Slack").
"""

from __future__ import annotations

from slack_sdk.signature import SignatureVerifier


def signed_headers(secret: str, body: bytes, timestamp: int | str) -> dict[str, str]:
    """The two signature headers for `body` sent at `timestamp`."""
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    if signature is None:  # only when the timestamp is None, which the type rules out
        raise ValueError("no signature without a timestamp")
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}
