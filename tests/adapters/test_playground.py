"""The playground of SPEC section 9, driven only through its HTTP JSON API.

capdesk is served with no chat credentials at all, so it starts the playground; every action
below goes from the API through the emulator's signed requests to the real Slack adapter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner, Result

import bot.cli.context
from bot.bootstrap import Capdesk, bootstrap
from bot.cli.main import cli
from bot.presence import SEEN_WITHIN, Presence, delivering_server
from bot.server.runtime import Runtime
from bot.settings import is_loopback, load_settings
from bot.slack.playground import open_playground
from bot.slack.playground.snapshot import storyteller
from tests.adapters.conftest import ANA, DANA, SAM, T0, TOM, serve
from workflows.clock import ManualClock

pytestmark = pytest.mark.anyio

Json = dict[str, Any]


@dataclass
class Site:
    """capdesk serving the playground, and an HTTP client towards it."""

    http: aiohttp.ClientSession
    runtime: Runtime
    app: Capdesk

    async def state(self, who: str) -> Json:
        async with self.http.get(f"/playground/api/people/{who}") as response:
            assert response.status == 200, await response.text()
            body: Json = await response.json()
            return body

    async def act(self, who: str, action: str, body: Json | None = None) -> Json:
        response = await self.post(f"/playground/api/people/{who}/{action}", body or {})
        assert response[0] == 200, response
        return response[1]

    async def post(self, path: str, body: object, **kwargs: Any) -> tuple[int, Json]:
        data = body if isinstance(body, str) else json.dumps(body)
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        async with self.http.post(path, data=data, headers=headers, **kwargs) as response:
            return response.status, await response.json()

    def requests(self) -> int:
        with self.app.uow() as uow:
            return len(uow.requests.list())


@pytest.fixture
def database_file(tmp_path: Path, synced_store: Path) -> Path:
    database = tmp_path / "capdesk.db"
    shutil.copyfile(synced_store, database)
    return database


@pytest.fixture
async def site(database_file: Path) -> AsyncIterator[Site]:
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{database_file}"})
    app = bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True)
    runtime = Runtime(app, scheduled=False)
    port = await runtime.start(host="127.0.0.1", port=0)
    try:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
            yield Site(http, runtime, app)
    finally:
        await runtime.stop()
        app.engine.dispose()


def dm(state: Json) -> list[Json]:
    return next(c["messages"] for c in state["conversations"] if c["kind"] == "dm")


def admin_channel(state: Json) -> list[Json]:
    return next(c["messages"] for c in state["conversations"] if c["admin"])


def text_of(item: Json) -> str:
    return item["text"] + " " + json.dumps(item["blocks"])


def button(item: Json, action_id: str) -> Json:
    return next(
        element
        for block in item["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


async def test_a_raise_asked_and_approved_in_the_playground(site: Site) -> None:
    answer = await site.act(TOM, "command", {"text": "/capdesk raise 150 for 14d release prep"})
    assert answer["bot"]["status"] == 200
    told = [m for m in dm(answer["state"]) if m["kind"] == "ephemeral"]
    assert "Sent to your approvers" in text_of(told[-1])

    card = dm(await site.state(SAM))[-1]
    assert card["kind"] == "message"
    assert "Tom Becker" in text_of(card)
    assert "release prep" in text_of(card)
    approve = button(card, "approve")

    click = {
        "on": "message",
        "channel": card["channel"],
        "ts": card["ts"],
        "action_id": "approve",
        "value": approve.get("value"),
    }
    answer = await site.act(SAM, "click", click)
    assert answer["bot"]["status"] == 200
    decided = next(m for m in dm(answer["state"]) if m["ts"] == card["ts"])
    assert decided["edited"]
    assert "Approved by Sam Ortiz" in text_of(decided)

    outcome = " ".join(text_of(m) for m in dm(await site.state(TOM)) if m["kind"] == "message")
    assert "approved" in outcome.lower()


async def test_the_request_modal_shows_inline_errors_then_sends(site: Site) -> None:
    opened = await site.act(TOM, "command", {"text": "/capdesk raise 150"})
    modal = opened["state"]["modal"]
    assert modal is not None
    assert modal["callback_id"] == "capdesk_request"
    assert {b.get("block_id") for b in modal["blocks"]} >= {"amount", "until", "reason"}

    bad = await site.act(TOM, "submit", {"values": {"amount": "lots", "reason": "release prep"}})
    assert bad["bot"]["response_action"] == "errors"
    assert set(bad["state"]["modal"]["errors"]) == {"amount"}
    assert site.requests() == 0

    good = {"amount": "150", "until": None, "reason": "release prep for the tape-out"}
    sent = await site.act(TOM, "submit", {"values": good})
    assert sent["state"]["modal"] is None
    assert site.requests() == 1
    assert "release prep for the tape-out" in text_of(dm(await site.state(SAM))[-1])


async def test_home_tab_shortcut_and_closing_a_modal(site: Site) -> None:
    home = await site.act(SAM, "home")
    assert home["state"]["home"] is not None
    assert home["state"]["home"]["blocks"]

    shortcut = await site.act(TOM, "shortcut")
    assert shortcut["state"]["modal"]["callback_id"] == "capdesk_request"
    closed = await site.act(TOM, "close")
    assert closed["bot"] is None
    assert closed["state"]["modal"] is None


async def test_people_have_their_group_role_and_channels(site: Site) -> None:
    async with site.http.get("/playground/api/people") as response:
        everyone = {p["email"]: p for p in (await response.json())["people"]}
    assert len(everyone) == len(site.app.connector.list_members())
    assert (everyone[TOM]["group"], everyone[TOM]["role"]) == ("software", "member")
    assert everyone[SAM]["role"] == "owner"
    assert everyone[ANA]["role"] == "admin"
    labels = {email: everyone[email]["label"] for email in (TOM, SAM, DANA, ANA)}
    assert labels == {
        TOM: "employee",
        SAM: "owner of software",
        DANA: "owner of embedded",
        ANA: "admin",
    }

    channels = [c["name"] for c in (await site.state(ANA))["conversations"][1:]]
    assert channels[0] == "capdesk-admins"
    assert not (await site.state(TOM))["conversations"][1:]  # software posts no channel


async def test_the_page_and_its_assets_are_served(site: Site) -> None:
    async with site.http.get("/playground") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert "capdesk playground" in page
    assert "127.0.0.1" in page  # it says it is served on this machine only
    for asset in ("playground.js", "playground.css"):
        async with site.http.get(f"/playground/static/{asset}") as response:
            assert response.status == 200


async def test_an_unknown_person_is_a_404_with_a_clear_error(site: Site) -> None:
    async with site.http.get("/playground/api/people/nobody@example.com") as response:
        assert response.status == 404
        assert "nobody@example.com" in (await response.json())["error"]
    status, body = await site.post(
        "/playground/api/people/nobody@example.com/command", {"text": "/capdesk help"}
    )
    assert status == 404
    assert "no person" in body["error"]


BAD_PAYLOADS = [
    ("command", "not json"),
    ("command", ["a list"]),
    ("command", {}),
    ("command", {"text": "/capdesk help", "extra": 1}),
    ("command", {"text": "/other help"}),
    ("command", {"text": "/capdesk help", "channel": "C0ADMINS"}),  # Tom is no admin
    ("click", {"on": "message", "action_id": "approve"}),
    ("click", {"on": "message", "channel": "D0NOWHERE", "ts": "1.000100", "action_id": "x"}),
    ("click", {"on": "sidebar", "action_id": "approve"}),
    ("click", {"on": "modal", "action_id": "approve"}),
    ("submit", {"values": {"amount": "150"}}),
    ("submit", {"values": "150"}),
    ("close", {}),
]


@pytest.mark.parametrize(("action", "body"), BAD_PAYLOADS)
async def test_a_bad_payload_is_a_400_and_changes_nothing(
    site: Site, action: str, body: object
) -> None:
    before = await site.state(TOM)
    status, answer = await site.post(f"/playground/api/people/{TOM}/{action}", body)
    assert status == 400
    assert answer["error"]
    assert await site.state(TOM) == before
    assert site.requests() == 0


async def test_a_click_on_a_missing_button_or_a_wrong_input_changes_nothing(site: Site) -> None:
    await site.act(TOM, "command", {"text": "/capdesk raise 150 for 14d release prep"})
    card = dm(await site.state(SAM))[-1]
    on_card = {"on": "message", "channel": card["channel"], "ts": card["ts"]}
    status, answer = await site.post(
        f"/playground/api/people/{SAM}/click", {**on_card, "action_id": "launch"}
    )
    assert (status, "launch" in answer["error"]) == (400, True)
    # Tom cannot click on a card in Sam's DM.
    status, _ = await site.post(
        f"/playground/api/people/{TOM}/click", {**on_card, "action_id": "approve"}
    )
    assert status == 400
    assert "Approved" not in text_of(dm(await site.state(SAM))[-1])

    await site.act(TOM, "command", {"text": "/capdesk raise 150"})
    status, answer = await site.post(
        f"/playground/api/people/{TOM}/submit", {"values": {"colour": "blue"}}
    )
    assert status == 400
    assert "colour" in answer["error"]
    assert (await site.state(TOM))["modal"]["errors"] == {}


async def test_only_json_posts_to_the_loopback_name(site: Site) -> None:
    async with site.http.post(
        f"/playground/api/people/{TOM}/home", data="{}", headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.status == 415
    async with site.http.get(
        "/playground/api/people", headers={"Host": "rebound.example.com"}
    ) as response:
        assert response.status == 403
    assert (await site.state(TOM))["home"] is None


async def test_with_slack_credentials_there_is_no_playground(
    tmp_path: Path, synced_store: Path
) -> None:
    async with serve(tmp_path, synced_store) as served:
        assert served.runtime.playground is None
        assert served.emu.request_url is not None
        base = served.emu.request_url.removesuffix("/slack/events")
        async with aiohttp.ClientSession() as http, http.get(f"{base}/playground") as response:
            assert response.status == 404


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "capdesk.example.com"])
async def test_no_playground_off_loopback(tmp_path: Path, host: str) -> None:
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"})
    app = bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True)

    async def settle() -> None:
        """Nothing runs."""

    assert await open_playground(app, host=host, settle=settle) is None
    app.engine.dispose()


def test_loopback_hosts() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "", "example.com", "10.0.0.1"]))


async def test_the_page_starts_on_an_employee_with_owners_in_the_org_timezone(site: Site) -> None:
    async with site.http.get("/playground/api/people") as response:
        body = await response.json()
    assert body["start"] == TOM  # Sam and Lea, his owners, get his requests by DM
    assert body["timezone"] == "Europe/Berlin" == site.app.policy.org.timezone


async def test_the_page_has_an_icon(site: Site) -> None:
    for path in ("/favicon.ico", "/playground/static/favicon.svg"):
        async with site.http.get(path) as response:
            assert response.status == 200, path
            assert response.content_type == "image/svg+xml"


async def test_an_admin_runs_the_alert_rules_and_the_digests_from_the_page(site: Site) -> None:
    assert not admin_channel(await site.state(ANA))

    ran = await site.act(ANA, "alerts")
    assert ran["job"]["fired"] > 0
    assert "alert rules ran" in ran["job"]["text"]
    again = await site.act(ANA, "alerts")
    assert (again["job"]["fired"], again["job"]["held_back"]) == (0, ran["job"]["fired"])

    sent = await site.act(ANA, "digests")
    assert "admin" in [d["channel"] for d in sent["job"]["posted"]]
    posted = admin_channel(sent["state"])
    assert "capdesk digest for the admins" in " ".join(text_of(m) for m in posted)
    charts = [f for m in posted for f in m["files"] if f["name"].endswith(".png")]
    assert charts
    async with site.http.get(charts[0]["url"]) as response:
        assert response.status == 200
        assert response.content_type == "image/png"

    nothing = await site.act(ANA, "digests")
    assert nothing["job"] == {"posted": [], "text": "Nothing to report: no digest sent."}


@pytest.mark.parametrize("job", ["alerts", "digests"])
async def test_someone_who_is_no_admin_cannot_run_the_jobs(site: Site, job: str) -> None:
    def firings() -> int:
        with site.app.engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT count(*) FROM alert_firing").scalar_one())

    await site.act(ANA, "alerts")  # so the digests would have something to post
    before = (firings(), await site.state(SAM), await site.state(ANA))
    status, answer = await site.post(f"/playground/api/people/{SAM}/{job}", {})
    assert status == 403
    assert "Sam Ortiz is no admin" in answer["error"]
    assert (firings(), await site.state(SAM), await site.state(ANA)) == before


def _cli_at_t0(monkeypatch: pytest.MonkeyPatch, database: Path) -> None:
    """`capdesk` commands in this process on `database`, their clock pinned where the site's is."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "CAPDESK_POLICY_FILE", "MICROSOFT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CAPDESK_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setattr(
        bot.cli.context, "bootstrap", functools.partial(bootstrap, clock=ManualClock(T0))
    )


async def _capdesk(*args: str) -> Result:
    result = await asyncio.to_thread(CliRunner(env={"COLUMNS": "250"}).invoke, cli, list(args))
    assert result.exit_code == 0, result.output
    return result


async def test_alerts_run_in_a_terminal_reach_the_playground(
    site: Site, database_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    _cli_at_t0(monkeypatch, database_file)
    assert delivering_server(site.app) == "the playground"

    ran = (await _capdesk("alerts", "run")).output
    assert "to the running capdesk serve, which delivers to the playground" in ran
    assert "DM to " not in ran  # left for the playground, not printed as if delivered
    posted = (await _capdesk("digest", "--channel", "admin")).output
    assert "Posted 1 digest(s)" in posted
    assert "capdesk digest for the admins" not in posted

    await site.runtime.settle()  # the serving process's pump, as its sweep runs it
    texts = " ".join(text_of(m) for m in admin_channel(await site.state(ANA)))
    assert "capdesk digest for the admins" in texts


async def test_a_stopped_server_leaves_the_terminal_to_print_the_messages(
    database_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{database_file}"})
    app = bootstrap(settings, clock=ManualClock(T0), builtin_policy_only=True)
    runtime = Runtime(app, scheduled=False)
    await runtime.start(host="127.0.0.1", port=0)
    assert delivering_server(app) == "the playground"
    await runtime.stop()
    assert delivering_server(app) is None
    app.engine.dispose()

    monkeypatch.chdir(tmp_path)
    _cli_at_t0(monkeypatch, database_file)
    ran = (await _capdesk("alerts", "run")).output
    assert "DM to " in ran
    assert "and delivered " in ran


def test_a_server_counts_while_its_beats_are_recent(database_file: Path) -> None:
    settings = load_settings({"CAPDESK_DATABASE_URL": f"sqlite:///{database_file}"})
    now = ManualClock(T0)
    app = bootstrap(settings, clock=now, builtin_policy_only=True)
    then = ManualClock(T0 - SEEN_WITHIN - timedelta(seconds=1))
    killed = Presence(dataclasses.replace(app, clock=then), "Slack")
    killed.beat()  # its last beat, before it was killed without leaving
    assert delivering_server(app) is None
    then.set(T0 - SEEN_WITHIN + timedelta(seconds=1))
    killed.beat()
    assert delivering_server(app) == "Slack"
    killed.leave()
    assert delivering_server(app) is None
    app.engine.dispose()


async def test_without_its_storyteller_the_page_starts_on_an_employee_with_an_owner(
    site: Site,
) -> None:
    async with site.http.get("/playground/api/people") as response:
        everyone = (await response.json())["people"]
    policy = site.app.policy
    first = storyteller(everyone, policy, preferred="nobody@example.com")
    assert first is not None
    assert next(p for p in everyone if p["email"] == first)["role"] == "member"
    group = policy.group_of(first)
    assert group is not None
    assert group.owners
    assert first not in group.owners
