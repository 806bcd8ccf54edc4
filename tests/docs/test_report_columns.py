"""docs/reports.md names every column of every report and every key of `capdesk seats --json`:
the names are a contract with spreadsheets and scripts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.cli.seats import _json
from tests.docs.markdown import DOCS, rows, sections
from tests.fakes import org_policy
from workflows.pool.records import IdleHolder
from workflows.pool.standing import TierPool
from workflows.reports.access import access_query, access_report
from workflows.reports.chargeback import chargeback_report
from workflows.reports.periods import parse_month, parse_quarter
from workflows.reports.records import AccessData, ReviewData
from workflows.reports.review import review_report
from workflows.reports.tables import Report

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
POLICY = org_policy()
REVIEW = review_report(
    POLICY, ReviewData((), (), (), (), (), ()), span=parse_quarter("2026Q4"), now=NOW
)
CHARGEBACK = chargeback_report(POLICY, [], span=parse_month("2026-11"), now=NOW, by="cost_center")
QUERY = access_query(POLICY, now=NOW, days=90)
ACCESS = access_report(POLICY, AccessData((), ()), QUERY, days=90)


def documented(heading: str) -> set[str]:
    body = sections((DOCS / "reports.md").read_text(encoding="utf-8")).get(heading)
    assert body is not None, f"docs/reports.md has no section {heading!r}"
    return {row.key for row in rows(body)}


@pytest.mark.parametrize(
    ("report", "table", "heading"),
    [
        *((REVIEW, t.name, f"`{t.name}`") for t in REVIEW.tables),
        (ACCESS, "holders", "`holders`"),
        (ACCESS, "elevations", "`elevations`"),
    ],
)
def test_every_column_is_documented(report: Report, table: str, heading: str) -> None:
    assert {c.name for c in report.table(table).columns} == documented(heading)


def test_chargebacks_columns_are_documented_with_one_per_tier() -> None:
    names = {c.name for c in CHARGEBACK.table("chargeback").columns}
    tiers = {f"seats_{t}" for t in POLICY.tier_names}
    assert tiers <= names
    assert names - tiers | {"seats_<tier>"} == documented("`capdesk report chargeback`")


def test_every_key_of_seats_json_is_documented() -> None:
    pool = TierPool(
        "premium",
        10,
        12500,
        10,
        1,
        1,
        (IdleHolder("a@x.com", "A", date(2026, 10, 1), True),),
        NOW.date(),
    )
    keys = set(_json(pool)) | {"idle_after_days"}
    assert keys == documented("`capdesk seats`") | {"idle_after_days"}
    assert set(_json(pool)["idle_holders"][0]) == {  # type: ignore[index]
        "email",
        "name",
        "last_active",
        "idle_days",
        "temporary",
    }
