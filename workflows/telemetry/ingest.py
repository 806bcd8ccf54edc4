"""Counting export batches into the store: per person per hour, each data point and event once.

One call takes several batches in one transaction (the receiver groups what arrived together),
locks the series they touch, and adds each batch's increments to the hourly figures of the
members they belong to. Telemetry from an e-mail no member has is counted apart, for the
admins, under the group a resource attribute names (`telemetry.groups` in the policy). Nothing
of a record is kept but its counts: no prompt text, tool input or other attribute.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.telemetry import names
from workflows.telemetry.counting import increment, next_in_sequence
from workflows.telemetry.model import (
    NEW_SERIES,
    Batch,
    HourFigures,
    LogEvent,
    MetricPoint,
    Outcome,
    SeriesState,
    Temporality,
    Unmatched,
)

AHEAD = timedelta(minutes=10)
"""How far in the future a timestamp may be (clocks drift) before the point is refused."""
EMAIL_LENGTH = 320


def series_key(point: MetricPoint) -> str:
    """A data point's series: its metric, its attributes and its resource's."""
    return _key("m", point.metric, point.attributes, point.resource)


def stream_key(event: LogEvent, email: str) -> str | None:
    """The session whose `event.sequence` numbers an event, if it names one."""
    session = event.attributes.get(names.SESSION_ID) or event.resource.get(names.SESSION_ID)
    return None if not session else _key("e", email, {"s": session}, {})


def _key(kind: str, name: str, attributes: Mapping[str, str], resource: Mapping[str, str]) -> str:
    text = "\x1e".join(
        [kind, name]
        + [f"{k}\x1f{v}" for k, v in sorted(attributes.items())]
        + ["\x1d"]
        + [f"{k}\x1f{v}" for k, v in sorted(resource.items())]
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def hour_of(time_ns: int) -> datetime:
    return datetime.fromtimestamp(time_ns // 3_600_000_000_000 * 3600, UTC)


def _attribute(point: MetricPoint | LogEvent, name: str) -> str | None:
    return point.attributes.get(name) or point.resource.get(name) or None


@dataclass
class _Counts:
    """One batch's tally while it is counted."""

    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)

    def outcome(self, *, duplicate: bool = False) -> Outcome:
        rejected = sum(self.refused.values())
        reasons = "; ".join(f"{why} ({n})" for why, n in sorted(self.refused.items()))
        message = f"{rejected} refused: {reasons}" if rejected else ""
        return Outcome(
            accepted=self.accepted, rejected=rejected, message=message, duplicate=duplicate
        )


@dataclass
class _Ledger:
    """The increments of every batch of one call, by member and hour, and of unknown e-mails."""

    policy: Policy
    members: set[str]
    states: dict[str, SeriesState]
    changed: set[str] = field(default_factory=set)
    hours: dict[tuple[str, datetime], HourFigures] = field(default_factory=dict)
    unmatched: dict[tuple[str, object, str | None], Unmatched] = field(default_factory=dict)

    def identity(self, point: MetricPoint | LogEvent) -> str:
        for name in self.policy.telemetry.email_attributes:
            found = _attribute(point, name)
            if found:
                return found.strip().lower()[:EMAIL_LENGTH]
        return ""

    def group(self, point: MetricPoint | LogEvent) -> str | None:
        attribute = self.policy.telemetry.group_attribute
        value = None if attribute is None else _attribute(point, attribute)
        return None if value is None else self.policy.telemetry.groups.get(value)

    def add(self, point: MetricPoint | LogEvent, hour: datetime, field_: str, units: int) -> None:
        email = self.identity(point)
        if email in self.members:
            figures = self.hours.get((email, hour))
            if figures is None:
                figures = self.hours[(email, hour)] = HourFigures(email=email, hour=hour)
            figures.values[field_] = figures.values.get(field_, 0) + units
            return
        group = self.group(point)
        key = (email, hour.date(), group)
        unmatched = self.unmatched.get(key)
        if unmatched is None:
            unmatched = self.unmatched[key] = Unmatched(email=email, day=hour.date(), group=group)
        unmatched.points += 1
        if field_ == "cost_micros":
            unmatched.cost_micros += units

    def move(self, key: str, state: SeriesState) -> None:
        self.states[key] = state
        self.changed.add(key)


def _refusal(point: MetricPoint, latest_ns: int) -> str | None:
    """Why a data point of a kept metric cannot be counted, if it cannot."""
    if point.temporality is Temporality.UNSPECIFIED:
        return "aggregation temporality unspecified"
    if not point.monotonic:
        return "not a monotonic sum"
    if not math.isfinite(point.value) or point.value < 0:
        return "value not a finite number of at least 0"
    if point.time_ns <= 0:
        return "no timestamp"
    if point.time_ns > latest_ns:
        return "timestamp in the future"
    return None


def _count_points(ledger: _Ledger, batch: Batch, counts: _Counts, latest_ns: int) -> None:
    for point in batch.points:
        target = names.metric_field(point.metric, point.attributes.get(names.TYPE, ""))
        if target is None:
            counts.accepted += 1
            continue
        why = _refusal(point, latest_ns)
        if why is not None:
            counts.refused[why] += 1
            continue
        counts.accepted += 1
        key = series_key(point)
        step = increment(point, ledger.states.get(key, NEW_SERIES))
        if step is None:
            continue
        amount, after = step
        ledger.move(key, after)
        units = round(amount * target[1])
        if units:
            ledger.add(point, hour_of(point.time_ns), target[0], units)


def _count_events(ledger: _Ledger, batch: Batch, counts: _Counts, now: datetime) -> None:
    now_ns = int(now.timestamp() * 1_000_000_000)
    # Within a batch, a session's events are taken in their order.
    for event in sorted(batch.events, key=_sequence_or_zero):
        target = names.event_field(*event.names)
        if target is None:
            counts.accepted += 1
            continue
        time_ns = event.time_ns or now_ns
        if time_ns > now_ns + int(AHEAD.total_seconds() * 1e9):
            counts.refused["timestamp in the future"] += 1
            continue
        counts.accepted += 1
        key = stream_key(event, ledger.identity(event))
        if key is not None:
            after = next_in_sequence(_sequence(event), ledger.states.get(key, NEW_SERIES))
            if after is None:
                continue
            ledger.move(key, after)
        ledger.add(event, hour_of(time_ns), target, 1)


def _sequence(event: LogEvent) -> int | None:
    raw = event.attributes.get(names.EVENT_SEQUENCE)
    try:
        return None if raw is None else int(raw)
    except ValueError:
        return None


def _sequence_or_zero(event: LogEvent) -> int:
    return _sequence(event) or 0


def _keys(policy: Policy, batches: Sequence[Batch]) -> tuple[set[str], set[str]]:
    """The e-mails and series the batches name, read before anything is counted."""
    probe = _Ledger(policy=policy, members=set(), states={})
    emails: set[str] = set()
    keys: set[str] = set()
    for batch in batches:
        for point in batch.points:
            emails.add(probe.identity(point))
            if names.metric_field(point.metric, point.attributes.get(names.TYPE, "")):
                keys.add(series_key(point))
        for event in batch.events:
            email = probe.identity(event)
            emails.add(email)
            key = stream_key(event, email)
            if key is not None and names.event_field(*event.names):
                keys.add(key)
    emails.discard("")
    return emails, keys


def ingest(
    uow: UnitOfWork, policy: Policy, batches: Sequence[Batch], *, now: datetime
) -> list[Outcome]:
    """Count the batches in `uow` (the caller commits); one outcome per batch, in order.

    A batch whose digest was seen before is acknowledged and not counted again.
    """
    fresh = [uow.telemetry.first_time(b.digest, at=now) for b in batches]
    todo = [b for b, new in zip(batches, fresh, strict=True) if new]
    emails, keys = _keys(policy, todo)
    ledger = _Ledger(
        policy=policy,
        members=uow.telemetry.member_emails(emails) if emails else set(),
        states=uow.telemetry.lock_series(sorted(keys)) if keys else {},
    )
    latest_ns = int((now + AHEAD).timestamp() * 1_000_000_000)
    outcomes = []
    for batch, new in zip(batches, fresh, strict=True):
        counts = _Counts(accepted=batch.ignored)
        if not new:
            counts.accepted = batch.size
            outcomes.append(counts.outcome(duplicate=True))
            continue
        _count_points(ledger, batch, counts, latest_ns)
        _count_events(ledger, batch, counts, now)
        outcomes.append(counts.outcome())
    if ledger.changed:
        uow.telemetry.save_series({k: ledger.states[k] for k in ledger.changed}, at=now)
    if ledger.hours:
        uow.telemetry.add_hours(list(ledger.hours.values()), at=now)
    if ledger.unmatched:
        uow.telemetry.note_unmatched(list(ledger.unmatched.values()), at=now)
    return outcomes


def counted_anything(outcomes: Sequence[Outcome]) -> bool:
    """Whether any batch was new: then the rules that read usage have something to look at."""
    return any(not o.duplicate and o.accepted for o in outcomes)


BATCHES_KEPT = timedelta(hours=1)
"""How long a batch's digest is kept: exporters resend within seconds or minutes."""
SERIES_KEPT = timedelta(days=2)
"""How long a silent series is remembered: a live cumulative series is exported every minute,
so one silent for this long has ended (its process stopped)."""


def forget_seen(uow: UnitOfWork, *, now: datetime) -> int:
    """Drop what no resend can need any more; the caller commits."""
    return uow.telemetry.forget(batches_before=now - BATCHES_KEPT, series_before=now - SERIES_KEPT)
