"""What the HTTP admin connectors share: timeouts, quick retries, rate limits, errors, pages.

Where retries live. A connector retries a failed call itself a few times, quickly
(exponential backoff with full jitter, honouring `Retry-After`), to ride out a blip. It does
not wait long in-process: when the backend asks for more than `RetryBudget.max_wait`, or the
quick tries are spent, the call raises `TransientConnectorError` carrying the server's
`Retry-After`, and the outbox worker schedules the next attempt with its own backoff (minutes
apart, surviving restarts). One outbox attempt therefore costs at most `RetryBudget.attempts`
calls, and a backend that is down for an hour sees a handful of calls, not a storm. Reads
(sync, polling) have no outbox behind them: the quick retries are all they get, then the
caller sees the error.

Timeouts. A write waits `WRITE_READ_TIMEOUT` (10 s) for its answer, a read 30 s, and a write
that times out is not tried again in-process: the outbox tries it again later with the same
idempotency key, so a backend that hangs holds a worker thread for seconds, not for three
30-second tries, while the other threads go on with other people's changes.

Secrets: credentials live only in the client's default headers. Nothing here logs headers
or bodies, and error sentences name the setting that holds a key, never the key.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from workflows.admin import ConnectorError, PermanentConnectorError, TransientConnectorError

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=10.0, pool=5.0)
WRITE_READ_TIMEOUT = 10.0
"""Seconds a write (anything but GET) waits for the answer, at most."""
_READS = frozenset({"GET", "HEAD"})

# 408 and 425 are the server asking for another try; 529 is Anthropic's "overloaded".
_TRANSIENT = frozenset({408, 425, 429})


class _TimedOut(TransientConnectorError):
    """The backend did not answer in time."""


def write_timeout(timeout: httpx.Timeout | float) -> httpx.Timeout:
    """`timeout` with its read part cut to `WRITE_READ_TIMEOUT`."""
    full = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    read = WRITE_READ_TIMEOUT if full.read is None else min(full.read, WRITE_READ_TIMEOUT)
    return httpx.Timeout(connect=full.connect, read=read, write=full.write, pool=full.pool)


@dataclass(frozen=True, slots=True)
class RetryBudget:
    """How hard one call tries before handing the problem to its caller."""

    attempts: int = 3
    base: float = 0.5
    """Seconds; the ceiling of the n-th wait is base * 2**(n-1), capped at `cap`."""
    cap: float = 4.0
    max_wait: float = 10.0
    """The longest single wait taken in-process; a longer Retry-After goes to the caller."""

    def wait(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after the `attempt`-th failure (full jitter, at least Retry-After)."""
        wait = rng.uniform(0, min(self.cap, self.base * 2 ** (attempt - 1)))
        return wait if retry_after is None else max(wait, retry_after)


class RateLimiter:
    """At most `calls` calls in any `per` seconds, across threads; callers wait their turn.

    In-process only: several replicas share the backend's limit, and its 429 covers the rest.
    """

    def __init__(
        self,
        calls: int,
        per: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._calls = calls
        self._per = per
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: deque[float] = deque()

    def acquire(self) -> None:
        """Wait until one more call keeps within the limit, and count it."""
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self._per:
                    self._sent.popleft()
                if len(self._sent) < self._calls:
                    self._sent.append(now)
                    return
                wait = self._per - (now - self._sent[0])
            log.debug("rate limit reached; waiting %.1f s", wait)
            self._sleep(wait)


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer: its status, its JSON body (None when empty) and any `Retry-After`, in seconds."""

    status: int
    body: Any
    retry_after: float | None = None


class JsonApi:
    """A JSON HTTP API on httpx with timeouts, quick retries and admin-facing error sentences.

    `service` names the backend in sentences ("the Anthropic Admin API"); `credential` names
    the setting that holds its key ("ANTHROPIC_ADMIN_KEY"); `refusals` tells a refusal with a
    stable error code (`error.details.error_code`) by its own sentence.
    """

    def __init__(
        self,
        base_url: str,
        *,
        service: str,
        credential: str,
        headers: Mapping[str, str],
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        limits: Callable[[str], RateLimiter | None] | None = None,
        transport: httpx.BaseTransport | None = None,
        refusals: Mapping[str, str] | None = None,
    ) -> None:
        self.service = service
        self._refusals = dict(refusals or {})
        self._credential = credential
        self._retry = retry or RetryBudget()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._limits = limits or (lambda _path: None)
        self._timeout = timeout
        self._write_timeout = write_timeout(timeout)
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"JsonApi({self.service!r}, {str(self._client.base_url)!r})"

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def get(self, path: str, *, params: Any = None, scope: str | None = None) -> Any:
        """GET a JSON body; raises ConnectorError for anything but a 2xx."""
        return self.call("GET", path, params=params, scope=scope).body

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        scope: str | None = None,
        accept: Collection[int] = (),
    ) -> Reply:
        """One call with quick retries. A 2xx, or a status in `accept`, is returned.

        `scope` names the permission the call needs, for the 403 sentence.
        """
        limiter = self._limits(path)
        for attempt in range(1, self._retry.attempts + 1):
            if limiter is not None:
                limiter.acquire()
            error = self._try(method, path, params=params, json=json, headers=headers)
            if isinstance(error, Reply):
                reply = error
                if reply.status < 300 or reply.status in accept:
                    return reply
                error = self.error(method, path, reply, scope)
            if not isinstance(error, TransientConnectorError) or attempt == self._retry.attempts:
                raise error
            if isinstance(error, _TimedOut) and method not in _READS:
                raise error  # the outbox tries again later, with the same idempotency key
            wait = self._retry.wait(attempt, error.retry_after, self._rng)
            if wait > self._retry.max_wait:
                raise error
            # Routine: the caller reports the failure if the tries run out (`-v` shows these).
            log.info(
                "%s %s: %s; retrying in %.1f s (try %d of %d)",
                method,
                path,
                error,
                wait,
                attempt + 1,
                self._retry.attempts,
            )
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def parse(self, model: type[M], body: Any, what: str) -> M:
        """`body` as `model`; a body of the wrong shape is an error for the admins, not a crash."""
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            raise PermanentConnectorError(
                f"{self.service} answered {what} with something capdesk cannot read "
                f"({where}: {first['msg']}); is the URL right, and is the API the expected one?"
            ) from None

    def _try(
        self,
        method: str,
        path: str,
        *,
        params: Any,
        json: Any,
        headers: Mapping[str, str] | None,
    ) -> Reply | ConnectorError:
        started = time.monotonic()
        timeout = self._timeout if method in _READS else self._write_timeout
        try:
            response = self._client.request(
                method, path, params=params, json=json, headers=headers, timeout=timeout
            )
        except httpx.TimeoutException:
            return _TimedOut(
                f"{self.service} did not answer {method} {path} in time "
                f"(timeout {_seconds(timeout)})."
            )
        except httpx.TransportError as exc:
            return TransientConnectorError(
                f"{self.service} could not be reached for {method} {path} "
                f"({type(exc).__name__}); is the URL right and the service up?"
            )
        log.debug(
            "%s %s -> %d in %.0f ms",
            method,
            path,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return self._reply(method, path, response)

    def _reply(self, method: str, path: str, response: httpx.Response) -> Reply | ConnectorError:
        status = response.status_code
        retry_after = retry_after_header(response.headers.get("retry-after"))
        if not response.content:
            return Reply(status, None, retry_after)
        try:
            body = response.json()
        except ValueError:
            if status >= 400:
                return Reply(status, None, retry_after)  # an HTML error page says nothing more
            return PermanentConnectorError(
                f"{self.service} answered {method} {path} with a body that is not JSON; "
                "is the URL right?"
            )
        return Reply(status, body, retry_after)

    def error(self, method: str, path: str, reply: Reply, scope: str | None) -> ConnectorError:
        """The error a refused call raises, as a sentence for the admins."""
        status = reply.status
        detail = error_detail(reply.body)
        said = f": {detail}" if detail else ""
        code = error_code(reply.body)
        if code in self._refusals and status < 500:
            return PermanentConnectorError(
                f"{self._refusals[code]} ({status} from {self.service}{said})."
            )
        if status == 401:
            return PermanentConnectorError(
                f"{self.service} refused the key in {self._credential} (401{said}); "
                "check that it is current and complete."
            )
        if status == 403:
            needs = f"lacks {scope}" if scope else f"may not {method} {path}"
            return PermanentConnectorError(
                f"The key in {self._credential} {needs} (403 from {self.service}{said})."
            )
        if status in _TRANSIENT or status >= 500:
            return TransientConnectorError(
                f"{self.service} answered {method} {path} with {status}{said}.",
                retry_after=reply.retry_after,
            )
        return PermanentConnectorError(f"{self.service} refused {method} {path} ({status}{said}).")


def error_detail(body: Any) -> str | None:
    """The message in an error body, in the shapes the backends use.

    Anthropic `{"type": "error", "error": {"type", "message"}}`, LiteLLM and the generic
    contract `{"error": {"message"}}`, FastAPI `{"detail": ...}`, or `{"message": ...}`.
    """
    if not isinstance(body, dict):
        return None
    found: Any = None
    inner = body.get("error")
    if isinstance(inner, dict):
        found = inner.get("message")
    elif isinstance(inner, str):
        found = inner
    if found is None:
        found = body.get("detail", body.get("message"))
    if found is None:
        return None
    text = " ".join(str(found).split())
    return text[:300] + ("…" if len(text) > 300 else "")


def error_code(body: Any) -> str | None:
    """The stable code of an Anthropic error (`error.details.error_code`), if it has one."""
    inner = body.get("error") if isinstance(body, dict) else None
    details = inner.get("details") if isinstance(inner, dict) else None
    code = details.get("error_code") if isinstance(details, dict) else None
    return code if isinstance(code, str) else None


def retry_after_header(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds from a `Retry-After` header: delay-seconds or an HTTP date; None if absent."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    # The server dated it by the real clock, so the wait is measured on the real clock too,
    # not on capdesk's, which CAPDESK_NOW may have moved by days.
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def paginate(
    fetch: Callable[[str | None], tuple[Sequence[T], str | None]], *, service: str
) -> Iterator[T]:
    """Every item of a paged list: `fetch(cursor)` gives a page and the next cursor (None: end).

    A server that hands out a cursor it gave before would loop for ever; that is an error.
    """
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        items, following = fetch(cursor)
        yield from items
        if following is None:
            return
        if following in seen:
            raise PermanentConnectorError(
                f"{service} returned the same page cursor twice; stopping instead of looping."
            )
        seen.add(following)
        cursor = following


def _seconds(timeout: httpx.Timeout | float) -> str:
    if isinstance(timeout, int | float):
        return f"{timeout:g} s"
    return f"{timeout.read:g} s" if timeout.read is not None else "none"
