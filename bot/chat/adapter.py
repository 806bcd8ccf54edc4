"""The seam every chat platform plugs into: one `Platform` each, which builds its adapter.

An adapter brings its routes (where the platform sends its requests), its notifier (how the
outbox posts and updates its messages there), what a digest may hold there, and a start and
a stop. Everything between is shared: its listeners call a `Desk`, its notifier finds people
through a `Directory` and channels through the policy (`Addresses`), and the composition root
puts a `RoutingNotifier` over every configured platform's notifier.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from aiohttp import web

from bot.background import Background
from bot.chat.desk import Core
from bot.settings import Settings
from workflows.alerts.digest import DigestBudget
from workflows.delivery import Notifier
from workflows.messages import Recipient


class PlatformNotifier(Notifier, Protocol):
    """A platform's `Notifier`, which also says whether it can reach someone."""

    @property
    def platform(self) -> str:
        """The platform's key (`slack`, `teams`), as the outbox and the directory record it."""
        ...

    @property
    def name(self) -> str:
        """How people call it (`Slack`, `Teams`), in what they are told."""
        ...

    def reaches(self, recipient: Recipient) -> bool:
        """Whether a message to `recipient` can go out here: a member with an account on the
        platform (looked up if need be), a channel the policy names on it. Raises
        DeliveryError when the platform cannot tell now."""
        ...


class ChatAdapter(Protocol):
    """One chat platform, served by `capdesk serve`."""

    @property
    def notifier(self) -> PlatformNotifier:
        """How the outbox posts and updates messages on this platform."""
        ...

    @property
    def digest_budget(self) -> DigestBudget:
        """What one digest may hold when this platform shows it."""
        ...

    def add_routes(self, web_application: web.Application) -> None:
        """Add the routes the platform sends its requests to."""
        ...

    async def start(self, base_url: str) -> None:
        """Start taking requests, once capdesk's web server listens at `base_url`."""
        ...

    async def stop(self) -> None:
        """Stop taking requests (the outbox may still deliver through the notifier)."""
        ...

    async def close(self) -> None:
        """Close the platform's connections, once the outbox is done with them."""
        ...


class Platform(Protocol):
    """A chat platform capdesk can serve: when it is configured, and how its adapter (or,
    for a one-off command, its notifier alone) is built from the settings."""

    @property
    def key(self) -> str:
        """The platform's key, as its notifier's `platform`."""
        ...

    @property
    def digest_budget(self) -> DigestBudget:
        """What one digest may hold when this platform shows it."""
        ...

    def configured(self, settings: Settings) -> bool:
        """Whether the settings turn this platform on."""
        ...

    def check(self, settings: Settings) -> None:
        """Refuse a configuration of this platform that cannot work: StartupError naming
        the variable."""
        ...

    def adapter(self, settings: Settings, core: Core, *, background: Background) -> ChatAdapter:
        """The platform's adapter, built on the running event loop."""
        ...

    def outbound(
        self, settings: Settings, core: Core
    ) -> AbstractAsyncContextManager[PlatformNotifier]:
        """The platform's notifier alone, open while the context is, on the running loop."""
        ...
