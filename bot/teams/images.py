"""Chart pictures for Teams cards, served from capdesk's own host at unguessable URLs.

Teams shows a card image only from an HTTPS URL its clients can fetch without signing in
(see `bot.teams.cards` for why not a `data:` URI), at most 1024 x 1024 pixels. The notifier
draws a message's chart with `teams_png`, keeps it with `ChartImages.put`, and puts
`ChartImages.url(base, token)` into the card; `GET /teams/images/{token}.png` serves it until
it expires. The token is 256 random bits, so a URL is as good as a password for its one picture,
and an unknown, expired or malformed token is a 404 like any other missing page.

The pictures live in this process's memory, within a byte budget (the oldest go first) and for
`ttl` after they were made. A restart loses them, and behind a load balancer only the replica
that made a picture has it: there a card's chart is missing (the image answers 404) until the
next digest brings a new one. Nothing else about the card depends on it.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from workflows.clock import Clock
from workflows.messages import Chart

PATH = "/teams/images/{token}.png"
"""The route of a picture; the token is 43 URL-safe characters."""
MAX_PIXELS = 1024
"""Teams' largest card image, in either direction."""
MAX_PNG_BYTES = 1024 * 1024
"""Teams' largest card image file."""
TTL = timedelta(days=30)
"""How long a digest's chart stays visible in the channel's history."""
BUDGET_BYTES = 64 * 1024 * 1024

_PNG = b"\x89PNG\r\n\x1a\n"
_ROUTE = "/teams/images/{token:[A-Za-z0-9_-]{43}}.png"
"""`PATH` for the router: any other token is a 404 before it is looked up."""
_DPI = 110
"""`render_png`'s own resolution, kept while the chart fits."""


@dataclass(frozen=True, slots=True)
class _Stored:
    png: bytes
    expires_at: datetime


class ChartImages:
    """PNG pictures under random tokens, each for `ttl`, at most `budget_bytes` together."""

    def __init__(
        self, *, clock: Clock, ttl: timedelta = TTL, budget_bytes: int = BUDGET_BYTES
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, not {ttl}")
        self._clock = clock
        self._ttl = ttl
        self._budget = budget_bytes
        self._images: OrderedDict[str, _Stored] = OrderedDict()
        self._bytes = 0
        # The notifier may store from a worker thread while the web server reads.
        self._lock = threading.Lock()

    def put(self, png: bytes) -> str:
        """Keep `png` and return its new token; raises ValueError for anything but a PNG that
        Teams would show."""
        png_size(png)
        if len(png) > min(MAX_PNG_BYTES, self._budget):
            raise ValueError(f"the PNG is {len(png)} bytes; Teams shows at most {MAX_PNG_BYTES}")
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        with self._lock:
            self._expire(now)
            while self._bytes + len(png) > self._budget:
                _, oldest = self._images.popitem(last=False)
                self._bytes -= len(oldest.png)
            self._images[token] = _Stored(png, now + self._ttl)
            self._bytes += len(png)
        return token

    def get(self, token: str) -> bytes | None:
        """The picture under `token`, or None when there is none or it has expired."""
        stored = self._find(token)
        return None if stored is None else stored.png

    @staticmethod
    def url(base_url: str, token: str) -> str:
        """Where Teams fetches the picture: `base_url` is capdesk's public `https://host`."""
        return base_url.rstrip("/") + PATH.format(token=token)

    def routes(self) -> list[web.RouteDef]:
        """`GET /teams/images/{token}.png` (and HEAD), for the web application."""
        return [web.get(_ROUTE, self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        """The picture, cacheable until it expires; 404 for any token that has none."""
        stored = self._find(request.match_info["token"])
        if stored is None:
            raise web.HTTPNotFound(text="no such picture")
        left = int((stored.expires_at - self._clock.now()).total_seconds())
        return web.Response(
            body=stored.png,
            content_type="image/png",
            headers={
                "Cache-Control": f"public, max-age={max(left, 0)}, immutable",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def _find(self, token: str) -> _Stored | None:
        with self._lock:
            stored = self._images.get(token)
        if stored is None or stored.expires_at <= self._clock.now():
            return None
        return stored

    def _expire(self, now: datetime) -> None:
        for token in [t for t, s in self._images.items() if s.expires_at <= now]:
            self._bytes -= len(self._images.pop(token).png)


def teams_png(chart: Chart) -> bytes:
    """The chart as a PNG Teams shows: at most 1024 x 1024 pixels (a tall chart is drawn at a
    lower resolution) and 1 MB."""
    # Matplotlib is imported on the first chart, as `bot.charts` does, not at start-up.
    from bot.charts.png import render_png

    dpi = _DPI
    png = render_png(chart, dpi=dpi)
    while max(png_size(png)) > MAX_PIXELS and dpi > 1:
        dpi = max(1, min(dpi - 1, dpi * MAX_PIXELS // max(png_size(png))))
        png = render_png(chart, dpi=dpi)
    if len(png) > MAX_PNG_BYTES:
        raise ValueError(f"the chart is {len(png)} bytes as a PNG; Teams shows at most 1 MB")
    return png


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG's header."""
    if not png.startswith(_PNG) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
