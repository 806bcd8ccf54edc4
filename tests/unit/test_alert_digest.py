"""The digest: grouped by rule, most urgent first, buttons on items, within chat limits."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.slack.limits import DIGEST
from tests.fakes import org_policy
from workflows.alerts.digest import DigestBudget, compose_digest
from workflows.alerts.records import FiringRecord
from workflows.messages import Action, Bar, BarPanel, Chart, Verb

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
RULES = [
    {"id": "idle", "kind": "idle_seat", "warn_after_days": 14, "reclaim_after_days": 30},
    {"id": "forecast", "kind": "forecast_overrun"},
    {"id": "near", "kind": "cap_near", "threshold_pct": 85},
    {"id": "budget", "kind": "group_budget", "threshold_pct": 90},
]
POLICY = org_policy(rules=RULES, org={"timezone": "Europe/Berlin"})


def _record(
    rule: str, kind: str, n: int, urgency: float, summary: str | None = None
) -> FiringRecord:
    return FiringRecord(
        rule_id=rule,
        subject=f"p{n}@example.com",
        period="2026-11",
        group="embedded",
        fired_at=NOW,
        details={
            "kind": kind,
            "summary": summary or f"{kind} person {n}",
            "urgency": urgency,
            "stage": "",
            "member": f"p{n}@example.com",
            "action": Action(verb=Verb.NUDGE, label="Nudge", value=f"p{n}@example.com").model_dump(
                mode="json"
            ),
        },
    )


def test_nothing_to_say_is_no_message() -> None:
    assert compose_digest([], POLICY, now=NOW, audience="the admins", budget=DIGEST) is None


def test_rules_are_grouped_most_urgent_kind_first_and_items_most_urgent_first() -> None:
    records = [
        _record("idle", "idle_seat", 1, 1.5),
        _record("near", "cap_near", 2, 0.9),
        _record("near", "cap_near", 3, 0.99),
        _record("forecast", "forecast_overrun", 4, 1.2),
        _record("budget", "group_budget", 5, 0.95),
    ]
    message = compose_digest(records, POLICY, now=NOW, audience="the admins", budget=DIGEST)
    assert message is not None
    lines = [(s.heading, s.text) for s in message.sections]
    assert [text for heading, text in lines if heading] == [
        "Near their cap · 2 (near)",
        "Groups near their budget · 1 (budget)",
        "Forecast to overrun · 1 (forecast)",
        "Idle seats · 1 (idle)",
    ]
    items = [s for s in message.sections if not s.heading]
    assert [s.text for s in items[:2]] == ["cap_near person 3", "cap_near person 2"]
    assert all(s.action is not None and s.action.verb is Verb.NUDGE for s in items)
    assert message.text.startswith("5 alerts since the last digest")


def test_a_digest_for_a_big_org_stays_within_block_kit_limits() -> None:
    records = [
        _record(rule, kind, n, n / 1000, summary="x" * 5000 if n == 7 else None)
        for rule, kind in [
            ("near", "cap_near"),
            ("forecast", "forecast_overrun"),
            ("idle", "idle_seat"),
        ]
        for n in range(2000)
    ]
    chart = Chart(title="t", panels=(BarPanel(title="p", bars=(Bar(label="a", value_cents=1),)),))
    message = compose_digest(
        records, POLICY, now=NOW, audience="the admins", budget=DIGEST, chart=chart
    )
    assert message is not None
    assert len(message.sections) <= DIGEST.sections
    assert all(len(s.text) <= DIGEST.text for s in message.sections)
    assert len(message.text) <= DIGEST.text
    assert len(message.title) <= 150
    more = [s.text for s in message.sections if s.text.startswith("…")]
    assert len(more) == 3
    assert all("more" in m for m in more)
    shown = sum(1 for s in message.sections if not s.heading and not s.text.startswith("…"))
    hidden = sum(int(m.split()[2]) for m in more)
    assert shown + hidden == 6000
    assert message.chart == chart


def test_rules_beyond_what_fits_are_summed_up_in_one_line() -> None:
    many = org_policy(
        rules=[{"id": f"r{n}", "kind": "cap_near", "threshold_pct": 50 + n} for n in range(20)],
        org={"timezone": "Europe/Berlin"},
    )
    records = [_record(f"r{n}", "cap_near", n * 100 + i, 0.5) for n in range(20) for i in range(3)]
    message = compose_digest(records, many, now=NOW, audience="the admins", budget=DIGEST)
    assert message is not None
    assert len(message.sections) <= DIGEST.sections
    assert message.sections[-1].text.endswith("more under other rules")


def test_the_budget_of_the_platform_decides_how_much_shows_and_every_rule_still_does() -> None:
    records = [
        _record(rule, kind, n, n / 100)
        for rule, kind in [("near", "cap_near"), ("idle", "idle_seat")]
        for n in range(30)
    ]
    small = DigestBudget(sections=10, text=20)
    message = compose_digest(records, POLICY, now=NOW, audience="the admins", budget=small)
    assert message is not None
    assert len(message.sections) <= 10
    assert all(len(s.text) <= 20 for s in message.sections)
    headings = [s.text for s in message.sections if s.heading]
    assert [h.split(" ·")[0] for h in headings] == ["Near their cap", "Idle seats"]
    assert DigestBudget.tightest([DIGEST, small]) == DigestBudget(sections=10, text=20)
