"""A digest's sections and chart on the terminal and as a PNG; the digest's cron schedule."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.charts import render_png
from bot.console import plain_text
from bot.scheduling.crontab import cron_trigger
from tests.unit.sample_messages import CHART
from workflows.messages import Action, Message, Section, Verb

DIGEST = Message(
    kind="digest",
    title="capdesk digest",
    sections=(
        Section(text="Idle seats · 1 (idle-seat)", heading=True),
        Section(
            text="Rafael Keller: idle for 38 days",
            action=Action(verb=Verb.RECLAIM_SEAT, label="Reclaim seat", value="r@x.com"),
        ),
    ),
    chart=CHART,
)


def test_the_console_shows_items_with_their_buttons_and_the_chart_as_bars() -> None:
    text = plain_text(DIGEST)
    assert "• Rafael Keller: idle for 38 days  [ Reclaim seat ]" in text
    assert "software" in text
    assert "$4,500 of $4,250" in text
    assert "Top spenders against their cap" in text


def test_the_chart_renders_as_a_png() -> None:
    png = render_png(CHART)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000


@pytest.mark.parametrize(
    ("expression", "fires"),
    [
        ("0 9 * * MON-FRI", "2026-11-23 09:00"),  # from Saturday 21 Nov: Monday
        ("0 9 * * 1-5", "2026-11-23 09:00"),  # cron's 1 is Monday
        ("30 8 * * 0", "2026-11-22 08:30"),  # cron's 0 is Sunday
        ("0 9 * * 7", "2026-11-22 09:00"),
        ("0 9 * * */3", "2026-11-22 09:00"),  # Sunday, Wednesday, Saturday
    ],
)
def test_the_digest_schedule_means_what_cron_means_in_the_org_timezone(
    expression: str, fires: str
) -> None:
    zone = ZoneInfo("Europe/Berlin")
    saturday = datetime(2026, 11, 21, 10, tzinfo=zone)
    next_run = cron_trigger(expression, zone).get_next_fire_time(None, saturday)
    assert next_run.strftime("%Y-%m-%d %H:%M") == fires
    assert next_run.utcoffset() == zone.utcoffset(next_run.replace(tzinfo=None))
