"""What the receiver hands the domain, and what the domain hands the store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum


class Temporality(IntEnum):
    """OTLP's `AggregationTemporality`, by its wire values."""

    UNSPECIFIED = 0
    DELTA = 1
    CUMULATIVE = 2


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One data point of a sum, with its attributes and its resource's (values as text)."""

    metric: str
    temporality: Temporality
    monotonic: bool
    attributes: Mapping[str, str]
    resource: Mapping[str, str]
    start_ns: int
    time_ns: int
    value: float


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One log record: the names it goes by (event name, body), its attributes, its time."""

    names: tuple[str, ...]
    attributes: Mapping[str, str]
    resource: Mapping[str, str]
    time_ns: int


@dataclass(frozen=True, slots=True)
class Batch:
    """One export request, decoded. `digest` names its body: the same body sent again is the
    same batch. `ignored`: its data points and records of kinds capdesk does not keep."""

    digest: str
    points: tuple[MetricPoint, ...] = ()
    events: tuple[LogEvent, ...] = ()
    ignored: int = 0

    @property
    def size(self) -> int:
        return len(self.points) + len(self.events) + self.ignored


@dataclass(frozen=True, slots=True)
class SeriesState:
    """Where a series (a metric's attribute set, or a session's events) was last seen.

    `position`: the end time of the last data point (ns), or the last event's sequence number;
    0 for a series never seen. `start_ns` and `value`: a cumulative series' start and total.
    """

    start_ns: int = 0
    position: int = 0
    value: float = 0.0

    @property
    def new(self) -> bool:
        return self.position == 0


NEW_SERIES = SeriesState()


@dataclass(slots=True)
class HourFigures:
    """One person's telemetry in one hour (UTC start), in whole units (`names.FIELDS`)."""

    email: str
    hour: datetime
    values: dict[str, int] = field(default_factory=dict)

    @property
    def day(self) -> date:
        return self.hour.date()


@dataclass(slots=True)
class Unmatched:
    """Telemetry from an e-mail no member has (`""`: none given) on one day, and the group a
    resource attribute puts it in, if any."""

    email: str
    day: date
    group: str | None
    points: int = 0
    cost_micros: int = 0


@dataclass(frozen=True, slots=True)
class UnmatchedReport:
    """What the admins are told about an e-mail no member has, since they were last told."""

    email: str
    group: str | None
    points: int
    cost_micros: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one batch: its data points (and events) taken, and those refused, with
    the reasons in one line for the sender's `partial_success`."""

    accepted: int
    rejected: int = 0
    message: str = ""
    duplicate: bool = False
