"""Turning data points into increments, and seeing what was counted already.

Delta points carry their own increment; a point ending no later than the last one seen of its
series was counted already (a resend). Cumulative points carry a running total since
`start_ns`: the increment is the difference to the last total seen; a new start time (the
process restarted) or a total that went down is a reset, and the total counts from zero again.
A series seen for the first time counts in full. Events of one session count once each, by
their `event.sequence`.
"""

from __future__ import annotations

from workflows.telemetry.model import MetricPoint, SeriesState, Temporality


def increment(point: MetricPoint, state: SeriesState) -> tuple[float, SeriesState] | None:
    """The amount `point` adds and the series' state after it; None when it adds nothing new
    (sent before, or older than what was seen)."""
    if point.temporality is Temporality.DELTA:
        if not state.new and point.time_ns <= state.position:
            return None
        return point.value, SeriesState(start_ns=point.start_ns, position=point.time_ns)
    after = SeriesState(start_ns=point.start_ns, position=point.time_ns, value=point.value)
    if state.new:
        return point.value, after
    if point.start_ns != state.start_ns:
        # A series from before the last restart, arriving late, says nothing new.
        if point.start_ns < state.start_ns:
            return None
        return point.value, after
    if point.time_ns <= state.position:
        return None
    if point.value < state.value:
        return point.value, after
    return point.value - state.value, after


def next_in_sequence(sequence: int | None, state: SeriesState) -> SeriesState | None:
    """The session's state after an event numbered `sequence`; None when it was counted before.

    An event without a number counts each time: only an identical resend of its whole batch
    (the batch's digest) is recognised.
    """
    if sequence is None:
        return state
    # Positions are kept one past the sequence, so that 0 still means "never seen".
    if sequence < state.position:
        return None
    return SeriesState(position=sequence + 1)
