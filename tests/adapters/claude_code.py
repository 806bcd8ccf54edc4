"""Claude Code as the OpenTelemetry SDK stands in for it: the same metric and event names,
units and attributes (`workflows/telemetry/names.py` cites where they come from), exported by
the SDK's own OTLP/HTTP exporters (protobuf, gzip) to a running capdesk.

Times are the test's clock, given to the SDK's data model and log records explicitly, so no
test reads the real clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

METER = "com.anthropic.claude_code"
RESOURCE = Resource(
    {
        "service.name": "claude-code",
        "service.version": "2.1.230",
        "os.type": "linux",
        "host.arch": "amd64",
    }
)
UNITS = {"claude_code.cost.usage": "USD", "claude_code.token.usage": "tokens"}
UNITS["claude_code.active_time.total"] = "s"


def nanos(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000


@dataclass
class Interval:
    """What one person did between two exports (Claude Code exports every 60 s)."""

    cost_usd: float = 0.0
    tokens: Mapping[str, int] = field(default_factory=dict)
    sessions: int = 0
    lines_added: int = 0
    lines_removed: int = 0
    commits: int = 0
    pull_requests: int = 0
    active_user_s: float = 0.0
    active_cli_s: float = 0.0

    def values(self) -> list[tuple[str, dict[str, str], float]]:
        """(metric, its own attributes, value) as Claude Code records them."""
        model = {"model": "claude-sonnet-5"}
        found: list[tuple[str, dict[str, str], float]] = [
            ("claude_code.cost.usage", {**model, "query_source": "main"}, self.cost_usd),
            ("claude_code.session.count", {"start_type": "fresh"}, self.sessions),
            ("claude_code.lines_of_code.count", {**model, "type": "added"}, self.lines_added),
            ("claude_code.lines_of_code.count", {**model, "type": "removed"}, self.lines_removed),
            ("claude_code.commit.count", {}, self.commits),
            ("claude_code.pull_request.count", {}, self.pull_requests),
            ("claude_code.active_time.total", {"type": "user"}, self.active_user_s),
            ("claude_code.active_time.total", {"type": "cli"}, self.active_cli_s),
        ]
        found += [
            ("claude_code.token.usage", {**model, "type": kind, "query_source": "main"}, n)
            for kind, n in sorted(self.tokens.items())
        ]
        return found


@dataclass
class ClaudeCode:
    """One Claude Code session of one person, exporting through the SDK to `endpoint`."""

    endpoint: str
    email: str
    session: str
    started: datetime
    token: str | None = "otlp-secret"
    temporality: AggregationTemporality = AggregationTemporality.DELTA
    resource: Resource = RESOURCE
    _totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)
    _last: datetime | None = None
    _sequence: int = 0

    def standard(self) -> dict[str, str]:
        """The standard attributes of every metric and event."""
        return {
            "user.email": self.email,
            "organization.id": "7c1e2d3f-0000-4000-8000-00000000c0de",
            "session.id": self.session,
            "user.id": "9f86d081884c7d659a2feaa0c55ad015",
            "user.account_uuid": "0b2f7a2e-1111-4222-8333-444455556666",
            "terminal.type": "tmux",
            **{str(k): str(v) for k, v in self.resource.attributes.items() if "." not in str(k)},
        }

    def _headers(self) -> dict[str, str]:
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def metric_exporter(self, *, timeout: float = 10) -> OTLPMetricExporter:
        return OTLPMetricExporter(
            endpoint=f"{self.endpoint}/v1/metrics",
            headers=self._headers(),
            compression=Compression.Gzip,
            timeout=timeout,
        )

    def metrics(self, interval: Interval, at: datetime) -> MetricsData:
        """The export at `at` after `interval`, in this session's temporality."""
        start = self._last or self.started
        self._last = at
        by_name: dict[str, list[NumberDataPoint]] = {}
        cumulative = self.temporality is AggregationTemporality.CUMULATIVE
        for name, own, value in interval.values():
            attributes = {**self.standard(), **own}
            key = (name, tuple(sorted(attributes.items())))
            total = self._totals[key] = self._totals.get(key, 0.0) + value
            by_name.setdefault(name, []).append(
                NumberDataPoint(
                    attributes=attributes,
                    start_time_unix_nano=nanos(self.started if cumulative else start),
                    time_unix_nano=nanos(at),
                    value=total if cumulative else value,
                )
            )
        metrics = [
            Metric(
                name=name,
                description="",
                unit=UNITS.get(name, ""),
                data=Sum(
                    data_points=points,
                    aggregation_temporality=self.temporality,
                    is_monotonic=True,
                ),
            )
            for name, points in by_name.items()
        ]
        scope = ScopeMetrics(
            scope=InstrumentationScope(METER, "2.1.230"), metrics=metrics, schema_url=""
        )
        return MetricsData(
            resource_metrics=[
                ResourceMetrics(resource=self.resource, scope_metrics=[scope], schema_url="")
            ]
        )

    def export(self, interval: Interval, at: datetime) -> MetricExportResult:
        exporter = self.metric_exporter()
        try:
            return exporter.export(self.metrics(interval, at))
        finally:
            exporter.shutdown()

    def events(self, prompts: int, tool_runs: int, at: datetime, *, secret: str = "") -> bool:
        """`claude_code.user_prompt` and `claude_code.tool_result` events, through the SDK's
        log pipeline; `secret` goes where an organisation that opted in would see prompt text
        and tool input. True when the SDK exported them."""
        exporter = OTLPLogExporter(
            endpoint=f"{self.endpoint}/v1/logs",
            headers=self._headers(),
            compression=Compression.Gzip,
            timeout=10,
        )
        provider = LoggerProvider(resource=self.resource)
        provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
        logger = provider.get_logger("com.anthropic.claude_code.events")
        time = nanos(at)
        for kind, count in (("user_prompt", prompts), ("tool_result", tool_runs)):
            for _ in range(count):
                self._sequence += 1
                attributes = {
                    **self.standard(),
                    "event.name": kind,
                    "event.timestamp": at.isoformat(),
                    "event.sequence": self._sequence,
                    "prompt.id": f"prompt-{self._sequence}",
                }
                if kind == "user_prompt":
                    attributes |= {"prompt_length": len(secret), "prompt": secret}
                else:
                    attributes |= {
                        "tool_name": "Bash",
                        "success": "true",
                        "duration_ms": 120,
                        "tool_input": secret,
                    }
                logger.emit(
                    timestamp=time,
                    observed_timestamp=time,
                    body=f"claude_code.{kind}",
                    attributes=attributes,
                )
        flushed = provider.force_flush()
        provider.shutdown()
        return flushed
