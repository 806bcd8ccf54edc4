"""How the reports shape the store's rows: grant ends, groups that stand out, chargeback per
cost centre, and how each format writes a cell."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.reports.formats import BOM, to_csv, to_json, to_markdown
from tests.fakes import org_policy
from workflows.model import Request, RequestKind, RequestStatus
from workflows.reports.chargeback import chargeback_report
from workflows.reports.periods import parse_month, parse_quarter
from workflows.reports.records import GrantSpell, GroupMonth, RequestFigures, ReviewData
from workflows.reports.review import duration, grant_end, group_reviews, role_of
from workflows.reports.tables import Column, Kind, Report, Table

T = datetime(2026, 11, 23, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)


def spell(ends_at: datetime, reverted_at: datetime | None) -> GrantSpell:
    request = Request(
        id=1,
        requester="eve@example.com",
        group="embedded",
        kind=RequestKind.CAP_INCREASE,
        reason="release",
        status=RequestStatus.APPLIED,
        created_at=T - 10 * HOUR,
        updated_at=T,
        approvals_required=1,
        cap_before_cents=8500,
        tier_before="standard",
        amount_cents=15000,
        ends_at=ends_at,
    )
    return GrantSpell("embedded", request, "Eve", T - 9 * HOUR, ends_at, reverted_at)


@pytest.mark.parametrize(
    ("ends", "reverted", "end"),
    [
        (T - 5 * HOUR, T - 5 * HOUR + 59 * timedelta(minutes=1), "on_time"),
        (T - 5 * HOUR, T - 5 * HOUR + HOUR, "on_time"),
        (T - 5 * HOUR, T - 3 * HOUR, "late"),
        (T - 2 * HOUR, None, "late"),
        (T - timedelta(minutes=30), None, "ending"),
        (T + HOUR, None, "in_force"),
        (T + HOUR, T - HOUR, "ended_early"),
    ],
)
def test_a_grant_ends_on_time_within_the_hour(
    ends: datetime, reverted: datetime | None, end: str
) -> None:
    assert grant_end(spell(ends, reverted), T) == end


def figures(group: str, approved: int, denied: int, wait_hours: float) -> RequestFigures:
    return RequestFigures(
        group, approved + denied, approved, denied, 0, 0, 0, 0, 0, wait_hours * 3600, None
    )


def review_of(*groups: RequestFigures) -> ReviewData:
    return ReviewData(
        requests=groups, approvers=(), grants=(), use_cases=(), members=(), delegations=()
    )


def test_a_group_that_approves_or_decides_very_differently_stands_out() -> None:
    policy = org_policy()
    data = review_of(
        figures("embedded", 9, 1, 2),
        figures("software", 1, 3, 3),
        figures("hardware", 8, 2, 30),
    )
    marks = {r.group: r.stands_out for r in group_reviews(policy, data, group=None, now=T)}
    assert marks == {
        "embedded": "",
        "software": "approves 25% (the groups' median: 80%)",
        "hardware": "decides in 30h (the groups' median: 3h)",
    }


def test_two_groups_or_too_few_decisions_are_not_compared() -> None:
    policy = org_policy()
    two = review_of(figures("embedded", 9, 1, 2), figures("software", 1, 3, 3))
    assert {r.stands_out for r in group_reviews(policy, two, group=None, now=T)} == {""}
    few = review_of(
        figures("embedded", 9, 1, 2), figures("software", 1, 1, 3), figures("hardware", 8, 2, 2)
    )
    assert {r.stands_out for r in group_reviews(policy, few, group=None, now=T)} == {""}


def test_every_group_of_the_policy_is_in_the_review_even_without_requests() -> None:
    reviews = group_reviews(org_policy(), review_of(), group=None, now=T)
    assert [(r.group, r.requests.requests, r.approval_pct) for r in reviews] == [
        ("embedded", 0, None),
        ("software", 0, None),
        ("hardware", 0, None),
    ]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(59, "0m"), (25 * 60, "25m"), (3600, "1h"), (5 * 3600 + 600, "5h 10m"), (76 * 3600, "3d 4h")],
)
def test_waits_read_as_minutes_hours_or_days(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_roles_show_whether_seniors_answer_too() -> None:
    policy = org_policy()
    assert [
        role_of(policy, e) for e in ("ana@example.com", "dana@example.com", "bob@example.com")
    ] == [
        "admin",
        "owner",
        "member",
    ]


def test_chargeback_adds_up_the_groups_of_a_cost_centre() -> None:
    policy = org_policy(
        embedded={"cost_center": "ENG"},
        seat_tiers={"standard": {"monthly_usd": 25}, "premium": {"monthly_usd": 125.5}, "max": {}},
    )
    policy = policy.model_copy(
        update={
            "groups": [
                policy.groups[0],
                policy.groups[1].model_copy(update={"cost_center": "ENG"}),
                policy.groups[2],
            ]
        }
    )
    rows = [
        GroupMonth("embedded", {"standard": 3, "premium": 1}, 3, 10000, 1),
        GroupMonth("software", {"standard": 1, "max": 1}, 2, 550, 0),
        GroupMonth("hardware", {"standard": 2}, 1, 100, 2),
        GroupMonth(None, {"standard": 1, "legacy": 1}, 0, 0, 0),
    ]
    report = chargeback_report(policy, rows, span=parse_month("2026-11"), now=T, by="cost_center")
    table = report.table("chargeback")
    assert [c.name for c in table.columns][2:6] == [
        "seats_standard",
        "seats_premium",
        "seats_max",
        "seats_legacy",
    ]
    eng, none = table.records()
    assert eng == {
        "cost_center": "ENG",
        "groups": "embedded, software",
        "seats_standard": 4,
        "seats_premium": 1,
        "seats_max": 1,
        "seats_legacy": 0,
        "seats": 6,
        "seat_cost_usd": 4 * 2500 + 12550,
        "active_users": 5,
        "spend_usd": 10550,
        "grants_in_force": 1,
        "total_usd": 4 * 2500 + 12550 + 10550,
    }
    assert (none["cost_center"], none["groups"]) == (None, "(no group), hardware")
    assert none["seat_cost_usd"] == 3 * 2500
    assert report.notes == ["No monthly price for max, legacy seats: they cost nothing here."]
    by_group = chargeback_report(policy, rows, span=parse_month("2026-11"), now=T, by="group")
    assert [r["group"] for r in by_group.table("chargeback").records()] == [
        "embedded",
        "software",
        "hardware",
        None,
    ]


def awkward() -> Report:
    table = Table(
        "people",
        "People",
        (
            Column("name", "Name"),
            Column("spent_usd", "Spent", Kind.USD),
            Column("wait_hours", "Wait", Kind.HOURS),
            Column("day", "Day", Kind.DAY),
            Column("inactive", "Inactive", Kind.FLAG),
        ),
        [
            ['Okafor, "Dana" | owner\nof embedded', 123456, 5400.0, date(2026, 11, 23), True],
            ["Björn", None, None, None, False],
        ],
    )
    return Report("test", "A test", T, {"quarter": parse_quarter("2026Q4").label}, [table])


def test_csv_is_what_a_spreadsheet_opens_as_it_is() -> None:
    text = to_csv(awkward().table("people"))
    assert text.startswith(BOM + "name,spent_usd,wait_hours,day,inactive\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))
    assert rows[1] == [
        'Okafor, "Dana" | owner\nof embedded',
        "1234.56",
        "1.50",
        "2026-11-23",
        "true",
    ]
    assert rows[2] == ["Björn", "", "", "", "false"]
    assert '"Okafor, ""Dana"" | owner\nof embedded"' in text


def test_json_and_markdown_write_the_same_cells_for_programs_and_people() -> None:
    report = awkward()
    document = json.loads(to_json(report, report.tables))
    assert document["tables"]["people"][0] == {
        "name": 'Okafor, "Dana" | owner\nof embedded',
        "spent_usd": 1234.56,
        "wait_hours": 1.5,
        "day": "2026-11-23",
        "inactive": True,
    }
    assert document["tables"]["people"][1]["spent_usd"] is None
    markdown = to_markdown(report, report.tables)
    assert (
        '| Okafor, "Dana" \\| owner of embedded | $1,234.56 | 1h 30m | 2026-11-23 | yes |'
        in markdown
    )
    assert "| Björn |  |  |  | no |" in markdown
