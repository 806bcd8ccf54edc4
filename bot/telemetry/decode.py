"""OTLP/HTTP request bodies to the domain's data points and events, with the official
`opentelemetry-proto` messages: binary protobuf, or JSON through `google.protobuf.json_format`
on the same messages.

The OTLP specification's JSON encoding differs from protobuf's own mapping in ways the parser
takes as they come: enums as integers (accepted), 64-bit integers as decimal strings
(accepted), unknown fields (ignored, as receivers must). Trace and span ids are hex there, not
base64; capdesk reads neither.

Only the metrics and events capdesk keeps become domain objects; the others are counted, so
the answer accounts for every data point, and let go.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from workflows.telemetry import names
from workflows.telemetry.model import Batch, LogEvent, MetricPoint, Temporality

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_BODY = 16 * 1024 * 1024
"""The most a body may hold after decompression; Claude Code's batches are kilobytes."""

_KEPT_METRICS = frozenset(metric for metric, _ in names.METRIC_FIELDS)


class BadRequest(Exception):
    """A body that is not an OTLP export request; `str()` says why, for the sender."""


class TooLarge(Exception):
    """A body over `MAX_BODY` once decompressed."""


class UnsupportedMedia(Exception):
    """A content type or encoding OTLP/HTTP does not use."""


def encoding_of(content_type: str) -> str:
    """`application/x-protobuf` or `application/json` (parameters such as charset aside)."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media not in (PROTOBUF, JSON):
        raise UnsupportedMedia(
            f"Content-Type {content_type or '(none)'} is not OTLP/HTTP: send {PROTOBUF} or {JSON}"
        )
    return media


def check_encoding(content_encoding: str) -> None:
    """Refuse a Content-Encoding other than gzip or deflate (aiohttp inflates those itself,
    as the body streams in, so a small bomb cannot grow past `MAX_BODY` in memory)."""
    if content_encoding.strip().lower() not in ("", "identity", "gzip", "deflate"):
        raise UnsupportedMedia(f"Content-Encoding {content_encoding} is not gzip or deflate")


def _parse(raw: bytes, media: str, message: Message) -> None:
    try:
        if media == PROTOBUF:
            message.ParseFromString(raw)
        else:
            json_format.Parse(raw.decode("utf-8"), message, ignore_unknown_fields=True)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError, RecursionError) as exc:
        kind = "protobuf" if media == PROTOBUF else "JSON"
        raise BadRequest(f"not an OTLP {kind} export request: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]


def digest(signal: str, raw: bytes) -> str:
    return hashlib.sha256(signal.encode() + b"\0" + raw).hexdigest()


def _text(value: AnyValue) -> str | None:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return str(value.int_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "double_value":
        return repr(value.double_value)
    return None


def attributes(pairs: Iterable[KeyValue]) -> dict[str, str]:
    """Attributes whose values are text, numbers or booleans, as text; lists, maps and bytes
    are left out (capdesk reads none of them)."""
    found = {}
    for pair in pairs:
        text = _text(pair.value)
        if text is not None:
            found[pair.key] = text
    return found


def metrics(raw: bytes, media: str) -> Batch:
    """An `ExportMetricsServiceRequest`: the data points of the sums capdesk keeps."""
    request = ExportMetricsServiceRequest()
    _parse(raw, media, request)
    points: list[MetricPoint] = []
    ignored = 0
    for resource_metrics in request.resource_metrics:
        resource: Mapping[str, str] = attributes(resource_metrics.resource.attributes)
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                if metric.name not in _KEPT_METRICS or kind != "sum":
                    ignored += _data_points(metric, kind)
                    continue
                total = metric.sum
                temporality = _temporality(total.aggregation_temporality)
                for point in total.data_points:
                    value = point.as_double if point.HasField("as_double") else point.as_int
                    points.append(
                        MetricPoint(
                            metric=metric.name,
                            temporality=temporality,
                            monotonic=total.is_monotonic,
                            attributes=attributes(point.attributes),
                            resource=resource,
                            start_ns=point.start_time_unix_nano,
                            time_ns=point.time_unix_nano,
                            value=float(value),
                        )
                    )
    return Batch(digest=digest("metrics", raw), points=tuple(points), ignored=ignored)


def _temporality(value: int) -> Temporality:
    try:
        return Temporality(value)
    except ValueError:
        return Temporality.UNSPECIFIED


def _data_points(metric: object, kind: str | None) -> int:
    data = getattr(metric, kind, None) if kind else None
    return len(getattr(data, "data_points", ()))


def logs(raw: bytes, media: str) -> Batch:
    """An `ExportLogsServiceRequest`: the events capdesk counts (prompts, tool runs)."""
    request = ExportLogsServiceRequest()
    _parse(raw, media, request)
    events: list[LogEvent] = []
    ignored = 0
    for resource_logs in request.resource_logs:
        resource: Mapping[str, str] = attributes(resource_logs.resource.attributes)
        for scope in resource_logs.scope_logs:
            for record in scope.log_records:
                body = record.body.string_value if record.body.HasField("string_value") else ""
                own = attributes(record.attributes)
                found = (record.event_name, body, own.get(names.EVENT_NAME, ""))
                if names.event_field(*(n for n in found if n)) is None:
                    ignored += 1
                    continue
                events.append(
                    LogEvent(
                        names=tuple(n for n in found if n),
                        attributes=own,
                        resource=resource,
                        time_ns=record.time_unix_nano or record.observed_time_unix_nano,
                    )
                )
    return Batch(digest=digest("logs", raw), events=tuple(events), ignored=ignored)
