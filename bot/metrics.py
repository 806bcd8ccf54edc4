"""Prometheus metrics for `GET /metrics`: traffic, decisions, outbox depth, platform errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from workflows.model import OperationStatus
from workflows.ports import UnitOfWork

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _OutboxDepth(Collector):
    """Read at scrape time, so every replica reports the shared outboxes' true depth."""

    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self._uow = uow

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "capdesk_outbox_depth", "Items waiting in an outbox", labels=["outbox"]
        )
        with self._uow() as uow:
            family.add_metric(["operations"], uow.operations.count(OperationStatus.PENDING))
            family.add_metric(["notifications"], uow.notifications.depth())
        yield family


class _Backlog(Collector):
    """Work acknowledged to a platform and not yet done, in this process."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "capdesk_background_tasks", "Acknowledged requests still being worked on"
        )
        family.add_metric([], self._count())
        yield family


class Metrics:
    """The counters the adapters bump, in a registry of their own (one per app)."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork] | None = None,
        *,
        backlog: Callable[[], int] | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "capdesk_requests",
            "Requests received from chat platforms",
            ["platform", "kind"],
            registry=self.registry,
        )
        self._decisions = Counter(
            "capdesk_decisions", "Approvals and denials made", ["verdict"], registry=self.registry
        )
        self._api_errors = Counter(
            "capdesk_slack_api_errors",
            "Slack Web API calls that failed",
            ["method", "error"],
            registry=self.registry,
        )
        if uow is not None:
            self.registry.register(_OutboxDepth(uow))
        if backlog is not None:
            self.registry.register(_Backlog(backlog))

    def request(self, platform: str, kind: str) -> None:
        self._requests.labels(platform, kind).inc()

    def decision(self, verdict: str) -> None:
        self._decisions.labels(verdict).inc()

    def slack_api_error(self, method: str, error: str) -> None:
        self._api_errors.labels(method, error).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)
