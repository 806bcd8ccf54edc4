"""Chart pictures for Teams: kept under random tokens, served over real HTTP until they expire,
and drawn within the size Teams shows."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web
from PIL import Image

from bot.teams.cards import message_card
from bot.teams.images import MAX_PIXELS, ChartImages, png_size, teams_png
from tests.unit.sample_messages import CHART, DIGEST
from tests.unit.teams_checks import check_card, walk
from workflows.clock import ManualClock
from workflows.messages import Bar, BarPanel, Chart

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _png(width: int = 4, height: int = 3, size: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return buffer.getvalue() + b"\0" * size


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def test_a_picture_is_kept_under_a_new_unguessable_token(clock: ManualClock) -> None:
    images = ChartImages(clock=clock)
    png = _png()

    first, second = images.put(png), images.put(png)

    assert first != second
    assert len(first) == 43
    assert first.replace("-", "").replace("_", "").isalnum()
    assert images.get(first) == png
    assert images.get("x" * 43) is None


def test_a_picture_expires_after_its_ttl(clock: ManualClock) -> None:
    images = ChartImages(clock=clock, ttl=timedelta(days=2))
    token = images.put(_png())

    clock.advance(timedelta(days=2) - timedelta(seconds=1))
    assert images.get(token) is not None
    clock.advance(timedelta(seconds=1))
    assert images.get(token) is None


def test_the_oldest_pictures_go_when_the_budget_is_full(clock: ManualClock) -> None:
    png = _png(size=400)
    images = ChartImages(clock=clock, budget_bytes=3 * len(png))

    tokens = [images.put(png) for _ in range(5)]

    assert [images.get(t) is not None for t in tokens] == [False, False, True, True, True]


def test_expired_pictures_free_their_room(clock: ManualClock) -> None:
    png = _png(size=400)
    images = ChartImages(clock=clock, ttl=timedelta(hours=1), budget_bytes=2 * len(png))
    old = images.put(png)
    clock.advance(timedelta(hours=2))

    new = [images.put(png), images.put(png)]

    assert images.get(old) is None
    assert all(images.get(t) == png for t in new)


@pytest.mark.parametrize(
    ("png", "error"),
    [
        (b"GIF89a not a png", "not a PNG"),
        (b"", "not a PNG"),
        (_png(size=1024 * 1024), "Teams shows at most 1048576"),
    ],
)
def test_only_a_png_teams_would_show_is_kept(clock: ManualClock, png: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        ChartImages(clock=clock).put(png)


def test_a_ttl_must_be_positive(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="ttl must be positive"):
        ChartImages(clock=clock, ttl=timedelta(0))


def test_the_url_is_on_capdesks_host() -> None:
    for base in ("https://capdesk.example.com", "https://capdesk.example.com/"):
        assert ChartImages.url(base, "abc") == "https://capdesk.example.com/teams/images/abc.png"


def test_a_digest_card_shows_its_chart_from_there(clock: ManualClock) -> None:
    images = ChartImages(clock=clock)
    png = teams_png(CHART)
    url = ChartImages.url("https://capdesk.example.com", images.put(png))

    card = message_card(DIGEST, chart_url=url)

    check_card(card)
    [image] = [e for e in walk(card) if e.get("type") == "Image"]
    assert image["url"] == url
    token = url.removesuffix(".png").rsplit("/", 1)[1]
    assert images.get(token) == png


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Served:
    images: ChartImages
    base: str
    http: aiohttp.ClientSession


@pytest.fixture
async def served(clock: ManualClock) -> AsyncIterator[Served]:
    images = ChartImages(clock=clock, ttl=timedelta(days=30))
    app = web.Application()
    app.add_routes(images.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    async with aiohttp.ClientSession() as http:
        yield Served(images, f"http://{host}:{port}", http)
    await runner.cleanup()


@pytest.mark.anyio
async def test_a_picture_is_served_until_it_expires(served: Served, clock: ManualClock) -> None:
    png = _png()
    url = ChartImages.url(served.base, served.images.put(png))

    async with served.http.get(url) as answer:
        assert answer.status == 200
        assert answer.content_type == "image/png"
        assert await answer.read() == png
        assert answer.headers["Cache-Control"] == "public, max-age=2592000, immutable"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    async with served.http.head(url) as answer:
        assert answer.status == 200
    clock.advance(timedelta(days=29))
    async with served.http.get(url) as answer:
        assert answer.headers["Cache-Control"] == "public, max-age=86400, immutable"
    clock.advance(timedelta(days=1))
    async with served.http.get(url) as answer:
        assert answer.status == 404


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path",
    [
        "/teams/images/" + "A" * 43 + ".png",
        "/teams/images/" + "A" * 42 + ".png",
        "/teams/images/" + "A" * 44 + ".png",
        "/teams/images/" + "A" * 43,
        "/teams/images/..%2F..%2Fetc%2Fpasswd.png",
        "/teams/images/" + "%00" * 43 + ".png",
        "/teams/images/" + "A" * 5000 + ".png",
        "/teams/images/",
    ],
)
async def test_any_other_token_is_a_404(served: Served, path: str) -> None:
    served.images.put(_png())

    async with served.http.get(served.base + path) as answer:
        assert answer.status == 404


@pytest.mark.anyio
async def test_a_picture_cannot_be_written(served: Served) -> None:
    url = ChartImages.url(served.base, served.images.put(_png()))

    async with served.http.post(url, data=b"x") as answer:
        assert answer.status == 405


# --------------------------------------------------------------------------- drawing


def test_a_digest_chart_is_drawn_at_full_resolution() -> None:
    png = teams_png(CHART)

    assert png_size(png) == Image.open(io.BytesIO(png)).size
    width, height = png_size(png)
    assert width == 880
    assert height <= MAX_PIXELS


def test_a_tall_chart_is_drawn_smaller_to_stay_within_what_teams_shows() -> None:
    bars = tuple(Bar(label=f"group {i}", value_cents=i * 1000) for i in range(80))
    tall = Chart(title="Spend", panels=(BarPanel(title="All", bars=bars),) * 2)

    png = teams_png(tall)

    width, height = Image.open(io.BytesIO(png)).size
    assert max(width, height) <= MAX_PIXELS
    assert height > width


def test_png_size_reads_only_pngs() -> None:
    assert png_size(_png(7, 5)) == (7, 5)
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
