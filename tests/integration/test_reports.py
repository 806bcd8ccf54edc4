"""The three reports on a small org built through the workflow (`small_org`), on SQLite and
PostgreSQL: every figure against the count done by hand in that module's docstring, and every
format a report is printed in."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine

from bot.reports.formats import BOM, to_csv, to_json, to_markdown, to_rich
from store.engine import make_engine
from store.migrate import upgrade
from tests.integration.small_org import (
    DANA,
    EVE,
    LEA,
    MAX,
    NOW,
    SAM,
    TOM,
    SmallOrg,
    berlin,
    build,
)
from tests.postgres import fresh_schema
from workflows.reports.access import access_query, access_report
from workflows.reports.chargeback import By, chargeback_report
from workflows.reports.periods import parse_month, parse_quarter
from workflows.reports.review import review_query, review_report
from workflows.reports.tables import Report

HOUR = 3600


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def org(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SmallOrg]:
    """The small org, built once per database: the reports only read it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'capdesk.db'}"
        engine = make_engine(url)
        yield _built(engine)
        engine.dispose()
        return
    server: Engine = request.getfixturevalue("postgres_server")
    with fresh_schema(server, "capdesk_reports") as (_, url):
        engine = make_engine(url)
        yield _built(engine)
        engine.dispose()


def _built(engine: Engine) -> SmallOrg:
    upgrade(engine)
    return build(engine)


def review(org: SmallOrg, group: str | None = None, quarter: str = "2026Q4") -> Report:
    span = parse_quarter(quarter)
    with org.uow() as uow:
        data = uow.reports.review(review_query(org.policy, span, NOW, group))
    return review_report(org.policy, data, span=span, now=NOW, group=group)


def chargeback(org: SmallOrg, month: str, *, by: By = "cost_center", now: Any = NOW) -> Report:
    span = parse_month(month)
    with org.uow() as uow:
        rows = uow.reports.chargeback(span.window(org.policy.org.zone, now))
    return chargeback_report(org.policy, rows, span=span, now=now, by=by)


def access(org: SmallOrg, days: int = 90) -> Report:
    query = access_query(org.policy, now=NOW, days=days)
    with org.uow() as uow:
        data = uow.reports.access(query)
    return access_report(org.policy, data, query, days=days)


def by(rows: list[dict[str, Any]], *keys: str) -> dict[Any, dict[str, Any]]:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


# --------------------------------------------------------------------------- the review


def test_the_review_counts_requests_decisions_and_waits_per_group(org: SmallOrg) -> None:
    groups = by(review(org).table("groups").records(), "group")
    assert list(groups) == ["embedded", "software"]
    embedded, software = groups["embedded"], groups["software"]
    # embedded: #1 approved by Dana after 2h, #2 by the policy, #5 by Dana after 1h, #6 cancelled.
    assert embedded | {"stands_out": ""} == {
        "group": "embedded",
        "requests": 4,
        "approved": 3,
        "denied": 0,
        "cancelled": 1,
        "expired": 0,
        "pending": 0,
        "approval_pct": 100,
        "median_hours_to_decision": 1.5 * HOUR,
        "p90_hours_to_decision": 2 * HOUR,
        "auto_approved": 1,
        "self_approvals_refused": 0,
        "grants_due": 2,
        "grants_on_time": 2,
        "grants_late": 0,
        "grants_ended_early": 0,
        "use_cases_asked": 3,
        "use_cases_answered": 2,
        "use_cases_skipped": 0,
        "spent_usd": 4000 + 2500 + 500,
        "stands_out": "",
    }
    # software: #3 approved after 4h, #4 denied after 24h, #7 approved after 30m, #8 pending;
    # 2 of 3 decided approved (66%, rounded down); the median of 30m, 4h, 24h is 4h, and the
    # 90th percentile by nearest rank (the 3rd of 3) is 24h.
    assert software["requests"] == 4
    assert (software["approved"], software["denied"], software["pending"]) == (2, 1, 1)
    assert software["approval_pct"] == 66
    assert software["median_hours_to_decision"] == 4 * HOUR
    assert software["p90_hours_to_decision"] == 24 * HOUR
    assert software["auto_approved"] == 0
    assert software["self_approvals_refused"] == 1
    assert (software["grants_due"], software["grants_on_time"], software["grants_late"]) == (
        1,
        0,
        1,
    )
    assert (software["use_cases_asked"], software["use_cases_skipped"]) == (1, 1)
    assert software["spent_usd"] == 15000 + 2000 + 1000 + 300
    # Two groups only: neither is compared with "the others".
    assert software["stands_out"] == ""


def test_the_review_lists_approvers_grants_use_cases_and_who_stood_in(org: SmallOrg) -> None:
    report = review(org)
    approvers = by(report.table("approvers").records(), "group", "approver")
    assert {k: (v["approved"], v["denied"], v["as_delegate"]) for k, v in approvers.items()} == {
        ("embedded", DANA): (2, 0, 0),
        ("software", LEA): (0, 1, 1),
        ("software", SAM): (2, 0, 0),
    }
    grants = by(report.table("grants").records(), "request")
    assert {k: (v["email"], v["change"], v["end"]) for k, v in grants.items()} == {
        1: (EVE, "cap +100 a month", "on_time"),
        3: (TOM, "cap +200 a month", "late"),
        5: (EVE, "premium seat", "on_time"),
    }
    # Due on 14 October at 10:00, reverted on the 16th at 09:00.
    assert grants[3]["late_by_hours"] == 47 * HOUR
    assert grants[3]["reverted_at"] == berlin(10, 16, 9)
    assert grants[1]["late_by_hours"] is None
    use_cases = by(report.table("use_cases").records(), "email")
    assert use_cases[EVE] | {"name": None} == {
        "group": "embedded",
        "email": EVE,
        "name": None,
        "role": "member",
        "asked": 3,
        "answered": 2,
        "skipped": 0,
        "unanswered": 1,
        "use_cases": "firmware debugging; release prep",
    }
    assert (use_cases[TOM]["asked"], use_cases[TOM]["skipped"]) == (1, 1)
    [away] = report.table("delegations").records()
    assert (away["group"], away["delegator"], away["delegate"]) == ("software", SAM, LEA)
    assert (away["from"], away["until"]) == (berlin(10, 8, 12), berlin(10, 10, 12))
    assert away["ended_early"] is True
    assert away["decisions"] == 1
    assert report.notes == [
        "software: Tom Becker's grant from request #3 was not reverted on time."
    ]


def test_the_review_has_spend_against_cap_per_member_and_month_with_grants_marked(
    org: SmallOrg,
) -> None:
    spend = by(review(org).table("spend").records(), "email", "month")
    assert len(spend) == 6 * 2  # six members in groups, October and November so far
    # Eve's cap is $110 now ($100 and #2's permanent $10), in force in both months.
    assert spend[(EVE, "2026-10")] | {"name": ""} == {
        "group": "embedded",
        "email": EVE,
        "name": "",
        "month": "2026-10",
        "spent_usd": 4000,
        "cap_usd": 11000,
        "used_pct": 36,
        "grant_periods": "2026-10-05/2026-10-19 cap +100 a month",
    }
    assert spend[(EVE, "2026-11")]["grant_periods"] == "2026-11-02/2026-11-12 premium seat"
    # Lea's permanent $40 came in November: her October cap was $100.
    assert (spend[(LEA, "2026-10")]["cap_usd"], spend[(LEA, "2026-11")]["cap_usd"]) == (
        10000,
        14000,
    )
    assert spend[(TOM, "2026-10")]["used_pct"] == 150
    assert spend[(TOM, "2026-11")]["grant_periods"] == ""
    assert spend[(DANA, "2026-11")]["spent_usd"] == 0


def test_the_review_of_one_group_has_only_that_group(org: SmallOrg) -> None:
    report = review(org, group="embedded")
    assert report.period["group"] == "embedded"
    for table in report.tables:
        assert {r["group"] for r in table.records()} <= {"embedded"}, table.name
    assert [r["request"] for r in report.table("grants").records()] == [1, 5]


def test_an_earlier_quarter_has_nothing_but_what_happened_then(org: SmallOrg) -> None:
    report = review(org, quarter="2026Q3")
    groups = report.table("groups").records()
    assert {g["group"]: g["requests"] for g in groups} == {"embedded": 0, "software": 0}
    assert report.table("grants").rows == []
    assert report.table("spend").rows != []  # one row per member and month, all of $0
    assert {r["spent_usd"] for r in report.table("spend").records()} == {0}


# --------------------------------------------------------------------------- chargeback


def test_chargeback_per_cost_centre(org: SmallOrg) -> None:
    table = chargeback(org, "2026-11").table("chargeback")
    rows = by(table.records(), "cost_center")
    # Seats at the report's time: Max and Sam premium, everyone else standard; Ana is in no
    # group. Seat cost: 2 x $25 + 1 x $125. Eve's premium upgrade was in force in November.
    assert rows["ENG-HW"] == {
        "cost_center": "ENG-HW",
        "groups": "embedded",
        "seats_standard": 2,
        "seats_premium": 1,
        "seats": 3,
        "seat_cost_usd": 17500,
        "active_users": 1,
        "spend_usd": 2500,
        "grants_in_force": 1,
        "total_usd": 20000,
    }
    assert rows["ENG-SW"] == rows["ENG-SW"] | {
        "seats_standard": 2,
        "seats_premium": 1,
        "seat_cost_usd": 17500,
        "active_users": 3,
        "spend_usd": 1000 + 2000 + 300,
        "grants_in_force": 0,
        "total_usd": 17500 + 3300,
    }
    assert rows[None]["groups"] == "(no group)"
    assert (rows[None]["seats_standard"], rows[None]["total_usd"]) == (1, 2500 + 700)
    assert list(rows) == ["ENG-HW", "ENG-SW", None]
    assert table.total == ["total", "", 5, 2, 7, 37500, 5, 6500, 1, 44000]


def test_chargeback_counts_seats_at_the_tier_they_had_then(org: SmallOrg) -> None:
    # On 5 November Eve's temporary premium seat was in force...
    during = by(
        chargeback(org, "2026-11", now=berlin(11, 5, 12)).table("chargeback").records(),
        "cost_center",
    )
    assert (during["ENG-HW"]["seats_standard"], during["ENG-HW"]["seats_premium"]) == (1, 2)
    # ...and at the end of October she had not had it yet.
    october = by(chargeback(org, "2026-10").table("chargeback").records(), "cost_center")
    assert (october["ENG-HW"]["seats_standard"], october["ENG-HW"]["seats_premium"]) == (2, 1)
    # October's grants: Eve's #1 and Tom's #3; its spend: Eve $40 and Max $5, Tom $150.
    assert (october["ENG-HW"]["grants_in_force"], october["ENG-SW"]["grants_in_force"]) == (1, 1)
    assert (october["ENG-HW"]["spend_usd"], october["ENG-SW"]["spend_usd"]) == (4500, 15000)
    assert october["ENG-HW"]["active_users"] == 2


def test_chargeback_per_group(org: SmallOrg) -> None:
    rows = by(chargeback(org, "2026-11", by="group").table("chargeback").records(), "group")
    assert list(rows) == ["embedded", "software", None]
    assert "groups" not in rows["embedded"]
    assert rows["embedded"]["total_usd"] == 20000


# --------------------------------------------------------------------------- access


def test_the_access_review(org: SmallOrg) -> None:
    report = access(org)
    holders = by(report.table("holders").records(), "email")
    assert len(holders) == 7
    # Eve's cap comes from #2 (the policy approved it); #1 and her premium seat were reverted.
    assert holders[EVE] | {"name": ""} == {
        "email": EVE,
        "name": "",
        "group": "embedded",
        "tier": "standard",
        "cap_usd": 11000,
        "tier_since": date(2026, 10, 10),
        "tier_request": None,
        "tier_approved_by": None,
        "cap_since": date(2026, 10, 6),
        "cap_request": 2,
        "cap_approved_by": "policy",
        "last_active": date(2026, 11, 10),
        "inactive_days": 13,
        "inactive_30d": False,
    }
    assert (holders[LEA]["cap_request"], holders[LEA]["cap_approved_by"]) == (7, SAM)
    assert holders[LEA]["cap_since"] == date(2026, 11, 4)
    # Max last used his premium seat on 1 October; Dana never used hers.
    assert (holders[MAX]["inactive_days"], holders[MAX]["inactive_30d"]) == (53, True)
    assert (holders[DANA]["last_active"], holders[DANA]["inactive_30d"]) == (None, True)
    assert holders[SAM]["inactive_30d"] is False
    elevations = report.table("elevations").records()
    assert [(e["request"], e["email"], e["approved_by"], e["temporary"]) for e in elevations] == [
        (1, EVE, DANA, True),
        (2, EVE, "policy", False),
        (3, TOM, SAM, True),
        (5, EVE, DANA, True),
        (7, LEA, SAM, False),
    ]
    assert elevations[0]["applied_at"] == berlin(10, 5, 11)
    assert elevations[0]["until"] == date(2026, 10, 19)
    assert elevations[2]["reverted_at"] == berlin(10, 16, 9)
    assert report.notes == ["2 of 7 holders have not used their seat for 30 days or more."]


def test_the_access_review_of_fewer_days_lists_fewer_elevations(org: SmallOrg) -> None:
    # The last 20 days from 23 November: from 3 November on, only Lea's raise.
    assert [e["request"] for e in access(org, days=20).table("elevations").records()] == [7]


# --------------------------------------------------------------------------- formats


def _csv(report: Report, table: str) -> tuple[str, list[dict[str, str]]]:
    text = to_csv(report.table(table))
    assert text.startswith(BOM)
    body = text.removeprefix(BOM)
    assert "\r\n" in body
    assert all(line.endswith("\r") for line in body.split("\n")[:-1])
    return body, list(csv.DictReader(io.StringIO(body, newline="")))


def test_every_format_of_the_review(org: SmallOrg) -> None:
    report = review(org)
    body, rows = _csv(report, "groups")
    assert body.splitlines()[0].startswith("group,requests,approved,denied,")
    software = by(rows, "group")["software"]
    assert software["approval_pct"] == "66"
    assert software["median_hours_to_decision"] == "4.00"
    assert software["p90_hours_to_decision"] == "24.00"
    assert software["spent_usd"] == "183.00"
    assert software["stands_out"] == ""
    _body, grants = _csv(report, "grants")
    assert by(grants, "request")["3"]["reverted_at"] == "2026-10-16T09:00:00+02:00"
    assert by(grants, "request")["3"]["late_by_hours"] == "47.00"
    _body, spend = _csv(report, "spend")
    eve = by(spend, "email", "month")[(EVE, "2026-10")]
    assert (eve["spent_usd"], eve["cap_usd"], eve["used_pct"]) == ("40.00", "110.00", "36")

    document = json.loads(to_json(report, report.tables))
    assert document["report"] == "review"
    assert document["period"] == {
        "quarter": "2026Q4",
        "from": "2026-10-01",
        "to": "2026-12-31",
        "through": "2026-11-23",
        "group": None,
    }
    assert set(document["tables"]) == {
        "groups",
        "approvers",
        "grants",
        "use_cases",
        "spend",
        "delegations",
    }
    groups = by(document["tables"]["groups"], "group")
    assert groups["embedded"]["median_hours_to_decision"] == 1.5
    assert groups["software"]["spent_usd"] == 183.0
    assert document["tables"]["delegations"][0]["ended_early"] is True

    markdown = to_markdown(report, report.tables)
    assert markdown.startswith("# Quarterly review 2026Q4 · all groups\n")
    assert "| group | requests | approved |" in markdown
    assert "| software | 4 | 2 | 1 | 0 | 0 | 1 | 66% | 4h | 24h |" in markdown
    assert "- software: Tom Becker's grant from request #3 was not reverted on time." in markdown

    shown = _rendered(report)
    assert "Quarterly review 2026Q4 · all groups" in shown
    assert "Decisions per approver" in shown
    assert "$183" in shown


def test_every_format_of_chargeback(org: SmallOrg) -> None:
    report = chargeback(org, "2026-11")
    body, rows = _csv(report, "chargeback")
    assert body.splitlines()[0] == (
        "cost_center,groups,seats_standard,seats_premium,seats,seat_cost_usd,active_users,"
        "spend_usd,grants_in_force,total_usd"
    )
    assert rows[0] == {
        "cost_center": "ENG-HW",
        "groups": "embedded",
        "seats_standard": "2",
        "seats_premium": "1",
        "seats": "3",
        "seat_cost_usd": "175.00",
        "active_users": "1",
        "spend_usd": "25.00",
        "grants_in_force": "1",
        "total_usd": "200.00",
    }
    assert [r["cost_center"] for r in rows] == ["ENG-HW", "ENG-SW", ""]  # no totals row
    document = json.loads(to_json(report, report.tables))
    assert document["tables"]["chargeback"][2]["cost_center"] is None
    assert document["tables"]["chargeback"][0]["total_usd"] == 200.0
    markdown = to_markdown(report, report.tables)
    assert "| ENG-HW | embedded | 2 | 1 | 3 | $175 | 1 | $25 | 1 | $200 |" in markdown
    assert "| total |  | 5 | 2 | 7 | $375 | 5 | $65 | 1 | $440 |" in markdown
    assert "$440" in _rendered(report)


def test_every_format_of_the_access_review(org: SmallOrg) -> None:
    report = access(org)
    _body, holders = _csv(report, "holders")
    eve = by(holders, "email")[EVE]
    assert (eve["cap_usd"], eve["cap_since"], eve["inactive_30d"]) == (
        "110.00",
        "2026-10-06",
        "false",
    )
    assert by(holders, "email")[MAX]["inactive_30d"] == "true"
    assert eve["tier_request"] == ""
    _body, elevations = _csv(report, "elevations")
    assert elevations[0]["change"] == "+$100 a month ($100 → $200)"
    assert elevations[0]["applied_at"] == "2026-10-05T11:00:00+02:00"
    document = json.loads(to_json(report, [report.table("holders")]))
    assert list(document["tables"]) == ["holders"]
    assert by(document["tables"]["holders"], "email")[EVE]["cap_usd"] == 110.0
    markdown = to_markdown(report, report.tables)
    assert "| eve@example.com | Eve Novak | embedded | standard | $110 |" in markdown
    assert "2 of 7 holders" in _rendered(report)


def _rendered(report: Report) -> str:
    console = Console(file=io.StringIO(), width=400, color_system=None)
    console.print(to_rich(report, report.tables))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output
