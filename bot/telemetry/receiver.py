"""`POST /v1/metrics` and `POST /v1/logs`: OTLP/HTTP as the OpenTelemetry Protocol
specification has it, for Claude Code (or a Collector in front of it).

- Protobuf (`application/x-protobuf`) or JSON (`application/json`), gzip or deflate (aiohttp
  inflates them as the body streams in, within the same limit); the answer
  is in the request's encoding. 200 with an `Export…ServiceResponse`, whose `partial_success`
  counts the data points (or records) refused and says why; 400 for a body that is not an
  export request, 413 for one too large, 415 for another content type or encoding, each with a
  `google.rpc.Status` naming the cause, and nothing counted.
- Authentication: `Authorization: Bearer <CAPDESK_OTLP_TOKEN>` (exporters send it through
  `OTEL_EXPORTER_OTLP_HEADERS`), else 401. Without a token set, only loopback peers are served.
- Backpressure: batches wait in a bounded queue in front of the database, and one worker counts
  what waits in one transaction. A full queue is a 429, a database that fails a 503, both with
  `Retry-After`, so exporters back off and send again instead of dropping data; a batch counted
  before is recognised when it comes again.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from sqlalchemy.exc import SQLAlchemyError

from bot.bootstrap import Capdesk
from bot.settings import is_loopback
from bot.telemetry import decode
from workflows.telemetry.ingest import counted_anything, ingest
from workflows.telemetry.model import Batch, Outcome

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
"""Batches that may wait for the database; Claude Code sends one a minute per person, and
retries a refused one after `Retry-After`."""
GROUP = 64
"""The most batches counted in one transaction."""
RETRY_AFTER = 5
"""Seconds an exporter is asked to wait when capdesk cannot take its batch now."""
_INLINE = 64 * 1024
"""Bodies up to this size are decoded on the event loop; larger ones in a worker thread."""


class _Unavailable(Exception):
    """The database could not count a batch; the sender should try again."""


@dataclass(frozen=True, slots=True)
class _Job:
    batch: Batch
    done: asyncio.Future[Outcome]


class TelemetryReceiver:
    """The receiver's routes and its ingestion worker: `add_routes`, `start()`, `close()`."""

    def __init__(
        self,
        app: Capdesk,
        *,
        on_counted: Callable[[], None] | None = None,
        queue_size: int = QUEUE_SIZE,
        retry_after: int = RETRY_AFTER,
    ) -> None:
        self._app = app
        token = app.settings.otlp_token
        self._token = None if token is None else token.get_secret_value()
        self._on_counted = on_counted or (lambda: None)
        self._queue: asyncio.Queue[_Job] = asyncio.Queue(maxsize=max(1, queue_size))
        self._retry_after = retry_after
        self._worker: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """Batches waiting for the database."""
        return self._queue.qsize()

    def add_routes(self, web_app: web.Application) -> None:
        """Serve `POST /v1/metrics` and `POST /v1/logs` on `web_app`."""
        web_app.router.add_post("/v1/metrics", self.metrics)
        web_app.router.add_post("/v1/logs", self.logs)

    async def start(self) -> None:
        """Start counting what arrives."""
        self._worker = asyncio.create_task(self._work(), name="telemetry ingestion")

    async def close(self) -> None:
        """Stop counting; batches still waiting are answered 503, so their senders retry."""
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.done.done():
                job.done.set_exception(_Unavailable("capdesk is shutting down"))

    async def metrics(self, request: web.Request) -> web.Response:
        """Count an `ExportMetricsServiceRequest`."""
        return await self._receive(request, "metrics")

    async def logs(self, request: web.Request) -> web.Response:
        """Count an `ExportLogsServiceRequest`."""
        return await self._receive(request, "logs")

    async def _receive(self, request: web.Request, signal: str) -> web.Response:
        try:
            media = decode.encoding_of(request.headers.get("Content-Type", ""))
        except decode.UnsupportedMedia as exc:
            return _status(415, code_pb2.INVALID_ARGUMENT, str(exc), decode.PROTOBUF)
        refusal = self._refusal(request, media)
        if refusal is not None:
            return refusal
        if self._queue.full():
            return self._busy(media, 429, "capdesk has more telemetry waiting than it takes")
        try:
            decode.check_encoding(request.headers.get("Content-Encoding", ""))
            body = await _read(request)
            batch = await _decode(signal, body, media)
        except decode.TooLarge as exc:
            return _status(413, code_pb2.INVALID_ARGUMENT, str(exc), media)
        except decode.UnsupportedMedia as exc:
            return _status(415, code_pb2.INVALID_ARGUMENT, str(exc), media)
        except decode.BadRequest as exc:
            log.warning("refused a telemetry batch on /v1/%s: %s", signal, exc)
            return _status(400, code_pb2.INVALID_ARGUMENT, str(exc), media)
        job = _Job(batch, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            return self._busy(media, 429, "capdesk has more telemetry waiting than it takes")
        try:
            outcome = await job.done
        except _Unavailable as exc:
            return self._busy(media, 503, str(exc))
        return _answer(signal, media, outcome)

    def _refusal(self, request: web.Request, media: str) -> web.Response | None:
        if self._token is None:
            if is_loopback(request.remote or ""):
                return None
            return _status(
                403,
                code_pb2.PERMISSION_DENIED,
                "capdesk takes telemetry from other hosts only with a token:"
                " set CAPDESK_OTLP_TOKEN",
                media,
            )
        sent = request.headers.get("Authorization", "")
        scheme, _, credentials = sent.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), self._token.encode()
        ):
            return None
        response = _status(
            401,
            code_pb2.UNAUTHENTICATED,
            "missing or wrong bearer token (OTEL_EXPORTER_OTLP_HEADERS="
            "Authorization=Bearer <CAPDESK_OTLP_TOKEN>)",
            media,
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="capdesk telemetry"'
        return response

    def _busy(self, media: str, status: int, why: str) -> web.Response:
        response = _status(status, code_pb2.UNAVAILABLE, f"{why}; try again later", media)
        response.headers["Retry-After"] = str(self._retry_after)
        return response

    async def _work(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < GROUP and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                outcomes = await asyncio.to_thread(self._count, [j.batch for j in jobs])
            except SQLAlchemyError as exc:
                log.warning("could not count %d telemetry batch(es): %s", len(jobs), exc)
                for job in jobs:
                    if not job.done.done():
                        job.done.set_exception(_Unavailable("capdesk's database failed"))
                continue
            for job, outcome in zip(jobs, outcomes, strict=True):
                if not job.done.done():
                    job.done.set_result(outcome)
            if counted_anything(outcomes):
                self._on_counted()

    def _count(self, batches: list[Batch]) -> list[Outcome]:
        with self._app.uow() as uow:
            outcomes = ingest(uow, self._app.policy, batches, now=self._app.clock.now())
            uow.commit()
        return outcomes


async def _decode(signal: str, body: bytes, media: str) -> Batch:
    def run() -> Batch:
        return decode.metrics(body, media) if signal == "metrics" else decode.logs(body, media)

    return run() if len(body) <= _INLINE else await asyncio.to_thread(run)


async def _read(request: web.Request) -> bytes:
    """The body, refusing one over the limit without reading it all."""
    if request.content_length is not None and request.content_length > decode.MAX_BODY:
        raise decode.TooLarge(f"the body is over {decode.MAX_BODY // (1024 * 1024)} MiB")
    try:
        body = await _read_at_most(request, decode.MAX_BODY + 1)
    except (HttpProcessingError, RequestPayloadError) as exc:
        raise decode.BadRequest(f"the body cannot be read: {_one_line(exc)}") from None
    if len(body) > decode.MAX_BODY:
        raise decode.TooLarge(f"the body is over {decode.MAX_BODY // (1024 * 1024)} MiB")
    return body


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await request.content.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _encoded(message: Message, media: str) -> bytes:
    if media == decode.JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()


def _status(status: int, code: int, message: str, media: str) -> web.Response:
    body = _encoded(status_pb2.Status(code=code, message=message), media)
    return web.Response(status=status, body=body, content_type=media)


def _answer(signal: str, media: str, outcome: Outcome) -> web.Response:
    response: Message
    if signal == "metrics":
        metrics = ExportMetricsServiceResponse()
        if outcome.rejected:
            metrics.partial_success.rejected_data_points = outcome.rejected
            metrics.partial_success.error_message = outcome.message
        response = metrics
    else:
        logs = ExportLogsServiceResponse()
        if outcome.rejected:
            logs.partial_success.rejected_log_records = outcome.rejected
            logs.partial_success.error_message = outcome.message
        response = logs
    return web.Response(status=200, body=_encoded(response, media), content_type=media)
