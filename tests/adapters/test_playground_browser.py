"""The playground in a real browser: Debian's headless Chromium, driven by Playwright.

capdesk is served for real (its runtime, on a free loopback port, on a copy of the synced
sandbox store, its clock pinned), and the page is used as a person would: pick, type, click,
switch people. Any JavaScript error, console error, failed request or HTTP error answer (a
missing favicon included) fails the test.

The test also takes the README's screenshot: to a temporary folder, or to `docs/playground.png`
with `CAPDESK_UPDATE_SCREENSHOT=1`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.bootstrap import bootstrap
from bot.server.runtime import Runtime
from bot.settings import load_settings
from tests.adapters.conftest import ANA, SAM, T0, TOM, LoopThread
from workflows.clock import ManualClock

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
# This machine has no internet: nothing of Chromium's own may try to reach it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).parents[2] / "docs" / "playground.png"
RAISE = "/capdesk raise 150 for 14d release prep"


@pytest.fixture
def playground(tmp_path: Path, synced_store: Path) -> Iterator[str]:
    """`capdesk serve` with no chat credentials, at its base URL."""
    if not CHROMIUM.is_file():
        # A developer may lack it; CI installs it (.ci/run), and there the test must run.
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {CHROMIUM}: apt-get install chromium")
        pytest.skip(f"needs {CHROMIUM}: apt-get install chromium")
    database = tmp_path / "capdesk.db"
    shutil.copyfile(synced_store, database)
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{database}"})
    app = bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True)
    loop = LoopThread()
    runtime = Runtime(app, scheduled=False)
    try:
        port = loop.run(runtime.start(host="127.0.0.1", port=0))
        assert runtime.playground is not None
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.run(runtime.stop())
        loop.close()
        app.engine.dispose()


def watch(page: Page, problems: list[str]) -> None:
    """Record every JavaScript error, console error and failed or refused request."""
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and problems.append(f"console error: {message.text} ({message.location['url']})")
        ),
    )
    page.on(
        "requestfailed",
        lambda request: problems.append(f"failed: {request.url} ({request.failure})"),
    )
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and problems.append(f"HTTP {response.status}: {response.url}")
        ),
    )


def act_as(page: Page, email: str) -> None:
    page.select_option("#person", email)
    expect(page.locator("#person")).to_have_value(email)


def ask_and_approve(page: Page) -> None:
    """Tom asks, his owner Sam approves from the card in his DM, Tom hears the outcome."""
    messages = page.locator("#messages")
    expect(page.locator("#person")).to_have_value(TOM)  # the page starts on him
    expect(page.locator("#role")).to_contain_text("employee")
    page.fill("#command", RAISE)
    page.press("#command", "Enter")
    expect(messages).to_contain_text("Sent to your approvers")
    shown = messages.locator(".message time").last
    at = datetime.fromisoformat(str(shown.get_attribute("datetime")).replace("Z", "+00:00"))
    # The browser runs in New York; the org, and so the page, in Berlin.
    expect(shown).to_have_text(at.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M"))
    expect(shown).to_have_attribute("title", re.compile(r"\(Europe/Berlin\)$"))

    act_as(page, SAM)
    card = messages.locator(".message", has_text="Tom Becker asks for +$150")
    card.get_by_role("button", name="Approve").click()
    expect(card).to_contain_text("Approved by Sam Ortiz")

    act_as(page, TOM)
    expect(messages).to_contain_text("approved by Sam Ortiz")
    expect(messages).to_contain_text("is in force")


def fill_the_modal(page: Page) -> None:
    """The bot's inline error, then only the errors of the last answer, then the request."""
    page.fill("#command", "/capdesk raise 100000")
    page.press("#command", "Enter")
    dialog = page.locator("dialog#modal")
    expect(dialog).to_be_visible()
    page.fill("#input-reason", "release prep")
    page.click("#modal-submit")
    amount = dialog.locator('.input[data-block="amount"] .error')
    reason = dialog.locator('.input[data-block="reason"] .error')
    expect(amount).to_contain_text("above your group's maximum")

    page.fill("#input-amount", "150")
    page.fill("#input-reason", "")
    page.click("#modal-submit")  # the browser's own check stops it: a reason is required
    expect(reason).not_to_be_empty()
    expect(amount).to_be_empty()
    page.wait_for_timeout(2_500)  # a poll of the page's state comes and goes meanwhile
    expect(amount).to_be_empty()

    page.fill("#input-reason", "release prep for the tape-out")
    page.click("#modal-submit")
    expect(dialog).to_be_hidden()
    expect(page.locator("#messages")).to_contain_text("Request #2")


def run_the_alerts(page: Page) -> None:
    """Ana, an admin, runs the alert rules and the digests, and reads hers with its chart."""
    messages = page.locator("#messages")
    act_as(page, ANA)
    expect(page.locator("#admin-jobs")).to_be_visible()
    page.click("#run-alerts")
    expect(page.locator("#status")).to_contain_text("The alert rules ran")
    page.click("#send-digests")
    expect(page.locator("#status")).to_contain_text("Digests posted")
    expect(page.locator("#title")).to_have_text("# capdesk-admins")
    expect(messages).to_contain_text("capdesk digest for the admins")
    chart = messages.locator(".files img").last
    expect(chart).to_be_visible()
    assert chart.evaluate("image => image.complete && image.naturalWidth > 0"), "no chart"
    page.wait_for_timeout(300)  # the page scrolls to the chart once it has its size


def test_the_story_in_a_real_browser(playground: str, tmp_path: Path) -> None:
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1280, "height": 860}, timezone_id="America/New_York"
            )
            page.set_default_timeout(15_000)
            expect.set_options(timeout=15_000)
            watch(page, problems)
            page.goto(f"{playground}/playground")
            ask_and_approve(page)
            fill_the_modal(page)
            run_the_alerts(page)
            update = os.environ.get("CAPDESK_UPDATE_SCREENSHOT") == "1"
            page.screenshot(path=str(SCREENSHOT if update else tmp_path / "playground.png"))
            assert problems == []
        finally:
            browser.close()
