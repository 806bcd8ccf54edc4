"""Month-end spend projected from the month so far, weighting working days.

Method: every day of the month gets a weight, 1 for a working day and `OFF_DAY_WEIGHT` (0.1)
for a weekend day or a holiday of the policy; today counts with the share of its business
hours already gone (of the whole day, on a day off). The spend so far is divided by the weight
gone by, giving the spend per working day, and the month end is the spend so far plus that
rate times the weight still to come:

    projected = spent * (weight gone + weight to come) / weight gone

So a Monday morning after a quiet weekend does not look like a slow month, and a month with a
holiday expects less than one without. Until one working day's worth of the month has passed
there is too little to go on, and no forecast is made (`Projection.ready` is false): the rule
does not fire and the texts say that no projection is made yet (`NOT_YET`), rather than show
the spend so far as the month end.

Every member and group of the org shares one factor for a given moment, so the rule is one
comparison in SQL: `spent * factor > cap`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.alerts.calendar import business_fraction, is_working_day, month_days
from workflows.policy.model import OrgSettings

OFF_DAY_WEIGHT = 0.1
MIN_ELAPSED = 1.0
"""Working days' worth of the month that must have passed before a forecast is made."""
NOT_YET = "no projection yet: less than a working day of the month has passed"
"""What the texts say instead of a month end before one can be projected."""


@dataclass(frozen=True, slots=True)
class Projection:
    """How much of the month's working weight has passed and how much is still to come."""

    elapsed: float
    remaining: float

    @property
    def ready(self) -> bool:
        return self.elapsed >= MIN_ELAPSED

    @property
    def factor(self) -> float:
        """Month-end spend over spend so far; 1 when there is too little to go on."""
        if not self.ready:
            return 1.0
        return (self.elapsed + self.remaining) / self.elapsed

    def project(self, spent_cents: int) -> int | None:
        """The month end at this pace; None while there is too little to go on."""
        return round(spent_cents * self.factor) if self.ready else None


def _weight(day_is_working: bool) -> float:
    return 1.0 if day_is_working else OFF_DAY_WEIGHT


def month_projection(now: datetime, org: OrgSettings) -> Projection:
    """Where `now` stands in its month (org timezone), by working weight."""
    today = now.astimezone(org.zone).date()
    elapsed = remaining = 0.0
    for day in month_days(today):
        weight = _weight(is_working_day(day, org))
        if day < today:
            elapsed += weight
        elif day > today:
            remaining += weight
        else:
            gone = business_fraction(now, org)
            elapsed += weight * gone
            remaining += weight * (1 - gone)
    return Projection(elapsed=elapsed, remaining=remaining)
