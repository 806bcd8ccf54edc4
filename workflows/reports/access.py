"""The access review: who holds which tier and cap, since when and on whose approval, what was
raised in the period, and who has not used their seat for 30 days: the evidence a SOC 2 or
ISO 27001 access review asks for."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.policy import Policy
from workflows.reports.periods import last_covered, local, local_date
from workflows.reports.records import AccessData, AccessQuery, Elevation, Holding
from workflows.reports.tables import Cell, Column, Kind, Report, Table
from workflows.requests.texts import what

INACTIVE_DAYS = 30


def access_query(policy: Policy, *, now: datetime, days: int) -> AccessQuery:
    today = now.astimezone(policy.org.zone).date()
    return AccessQuery(
        since=now - timedelta(days=days),
        now=now,
        inactive_since=today - timedelta(days=INACTIVE_DAYS),
    )


def _holder(h: Holding, zone: ZoneInfo, today: date, inactive_since: date) -> list[Cell]:
    seen = h.last_active or h.first_seen
    return [
        h.email,
        h.name,
        h.group,
        h.tier,
        h.cap_cents,
        local_date(h.tier_since, zone) if h.tier_request else h.first_seen,
        None if h.tier_request is None else h.tier_request.id,
        None if h.tier_request is None else h.tier_request.decided_by,
        local_date(h.cap_since, zone) if h.cap_request else h.first_seen,
        None if h.cap_request is None else h.cap_request.id,
        None if h.cap_request is None else h.cap_request.decided_by,
        h.last_active,
        None if seen is None else (today - seen).days,
        # A seat never used, as far as capdesk knows, is inactive unless it is new.
        seen is None or seen <= inactive_since,
    ]


def _elevation(e: Elevation, zone: ZoneInfo, now: datetime) -> list[Cell]:
    r = e.request
    return [
        local(e.applied_at, zone),
        r.requester,
        e.name,
        r.group,
        r.id,
        r.kind.value,
        what(r),
        r.ends_at is not None,
        None if r.ends_at is None else last_covered(r.ends_at, zone),
        local(e.reverted_at, zone),
        local(r.created_at, zone),
        r.decided_by,
        local(r.decided_at, zone),
        r.reason,
    ]


def access_report(policy: Policy, data: AccessData, query: AccessQuery, *, days: int) -> Report:
    """Tables `holders` (every active seat) and `elevations` (raises and upgrades applied in
    the last `days` days)."""
    zone = policy.org.zone
    now = query.now
    today = now.astimezone(zone).date()
    holders = [_holder(h, zone, today, query.inactive_since) for h in data.holdings]
    inactive = sum(1 for row in holders if row[-1])
    return Report(
        name="access",
        title=f"Access review, the last {days} days",
        at=now.astimezone(zone),
        period={"days": days, "from": local_date(query.since, zone), "to": today},
        tables=[
            Table(
                "holders",
                "Who holds which tier and cap, since when, approved by whom",
                (
                    Column("email", "Email"),
                    Column("name", "Name"),
                    Column("group", "Group"),
                    Column("tier", "Tier"),
                    Column("cap_usd", "Monthly cap", Kind.USD),
                    Column("tier_since", "Tier since", Kind.DAY),
                    Column("tier_request", "Tier request", Kind.COUNT),
                    Column("tier_approved_by", "Tier approved by"),
                    Column("cap_since", "Cap since", Kind.DAY),
                    Column("cap_request", "Cap request", Kind.COUNT),
                    Column("cap_approved_by", "Cap approved by"),
                    Column("last_active", "Last active", Kind.DAY),
                    Column("inactive_days", "Days inactive", Kind.COUNT),
                    Column(f"inactive_{INACTIVE_DAYS}d", f"Inactive {INACTIVE_DAYS}d+", Kind.FLAG),
                ),
                holders,
            ),
            Table(
                "elevations",
                f"Raises and upgrades applied in the last {days} days",
                (
                    Column("applied_at", "Applied", Kind.INSTANT),
                    Column("email", "Email"),
                    Column("name", "Name"),
                    Column("group", "Group"),
                    Column("request", "Request", Kind.COUNT),
                    Column("kind", "Kind"),
                    Column("change", "Change"),
                    Column("temporary", "Temporary", Kind.FLAG),
                    Column("until", "Until", Kind.DAY),
                    Column("reverted_at", "Reverted", Kind.INSTANT),
                    Column("requested_at", "Requested", Kind.INSTANT),
                    Column("approved_by", "Approved by"),
                    Column("approved_at", "Approved", Kind.INSTANT),
                    Column("reason", "Reason"),
                ),
                [_elevation(e, zone, now) for e in data.elevations],
            ),
        ],
        notes=[
            f"{inactive} of {len(holders)} holders have not used their seat for"
            f" {INACTIVE_DAYS} days or more."
        ],
    )
