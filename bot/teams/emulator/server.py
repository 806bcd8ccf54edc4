"""`TeamsEmulator`: the Bot Framework and Microsoft's login for one tenant, over real HTTP.

Towards the bot it is Microsoft: the OpenID metadata and keys that sign its inbound requests
(`openid_url`), the token endpoint for its own token (`token_url`), and the Bot Connector REST
API under the service URL (`service_url`). Towards tests (and, later, the playground) it is
Teams: it sends the bot signed activities (messages, card clicks, installations) and keeps
everything the bot posted.

The HTTP server runs on an event loop of its own, in its own thread, as Microsoft's servers are
elsewhere: a bot that blocks its loop while it fetches keys (botbuilder does) then stalls
instead of deadlocking a test, and the emulator still answers. Activities are sent from the
caller's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web

from bot.connectors.sandbox import SandboxOrg, generate_org
from bot.emulation.channels import policy_channels
from bot.emulation.client import Service
from bot.teams.emulator import activities
from bot.teams.emulator.activities import Envelope, Team
from bot.teams.emulator.connector import ConnectorRoutes
from bot.teams.emulator.faults import Faults, Stall
from bot.teams.emulator.ids import MessageIds, channel_id, guid, personal_conversation_id
from bot.teams.emulator.login import LoginRoutes
from bot.teams.emulator.sender import Reply, Sender
from bot.teams.emulator.signing import SigningKey, channel_claims
from bot.teams.emulator.state import (
    ADAPTIVE_CARD,
    ConnectorCall,
    ConnectorState,
    Conversation,
    Json,
    PostedActivity,
    TokenRequest,
)
from bot.teams.emulator.users import (
    DEFAULT_APP_ID,
    TENANT_ID,
    Directory,
    TeamsUser,
)
from workflows.clock import Clock, SystemClock

DEFAULT_APP_PASSWORD = "capdesk-emulator-app-password"
DEFAULT_KID = "capdesk-emulator-key-1"
SERVICE_PATH = "/teams/"
TEAM_NAME = "capdesk sandbox"
GENERAL = "General"


def default_channels(org: SandboxOrg) -> dict[str, str]:
    """The Teams channels the built-in policy names (admin channel, group channels), by id."""
    return policy_channels(org, "teams")


class TeamsEmulator(Service):
    """A Teams tenant for the bot: `async with TeamsEmulator(...) as emu:`.

    `messaging_endpoint` is the bot's `.../api/messages`; it may be set after construction.
    `clock` stamps activities, signs tokens (valid an hour by it) and expires access tokens.
    Everyone of the organisation is in one team whose channels are the policy's Teams channels
    and its General channel. `allow_anonymous` lets the bot call the connector without a token,
    as the Bot Framework Emulator does for a bot without an app id (capdesk's dev mode).
    """

    def __init__(
        self,
        *,
        org: SandboxOrg | None = None,
        seed: int = 7,
        today: date | None = None,
        clock: Clock | None = None,
        app_id: str = DEFAULT_APP_ID,
        app_password: str = DEFAULT_APP_PASSWORD,
        tenant_id: str = TENANT_ID,
        messaging_endpoint: str | None = None,
        channels: Mapping[str, str] | None = None,
        tz: str = "Europe/Berlin",
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 15.0,
        allow_anonymous: bool = False,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.org = org or generate_org(seed, today=today or self.clock.now().date())
        self.app_id, self.app_password, self.tenant_id = app_id, app_password, tenant_id
        self.bot_id = f"28:{app_id}"
        self.tz = tz
        self.directory = Directory(self.org)
        self.team = Team(channel_id("team:" + TEAM_NAME), TEAM_NAME, guid("team:" + TEAM_NAME))
        self.keys: list[SigningKey] = [SigningKey(DEFAULT_KID)]
        self.faults = Faults()
        self._message_ids = MessageIds()
        named = dict(channels if channels is not None else default_channels(self.org))
        self.state = ConnectorState(
            [self._channel(self.team.id, GENERAL)]
            + [self._channel(cid, name) for cid, name in named.items()]
        )
        self._sender = Sender(messaging_endpoint=messaging_endpoint, timeout=timeout)
        self._host, self._port = host, port
        self._allow_anonymous = allow_anonymous
        self._server: _ServerThread | None = None

    def _channel(self, conversation_id: str, name: str) -> Conversation:
        members = [user.id for user in self.directory.members()]
        return Conversation(conversation_id, "channel", self.tenant_id, members, name, self.team.id)

    # Lifecycle

    async def start(self) -> None:
        """Serves on `host:port` (port 0 picks a free one) in its own thread, and opens the
        sender's session on the calling loop."""
        app = web.Application()
        LoginRoutes(
            state=self.state,
            faults=self.faults,
            keys=lambda: list(self.keys),
            base_url=lambda: self.base_url,
            app_id=self.app_id,
            password=self.app_password,
            tenant_id=self.tenant_id,
            now=self.clock.now,
        ).add_to(app)
        ConnectorRoutes(
            state=self.state,
            directory=self.directory,
            faults=self.faults,
            message_ids=self._message_ids,
            tenant_id=self.tenant_id,
            bot_id=self.bot_id,
            now=self.clock.now,
            prefix=SERVICE_PATH,
            allow_anonymous=self._allow_anonymous,
        ).add_to(app)
        self._server = _ServerThread(app, self._host, self._port)
        self._port = await asyncio.to_thread(self._server.start)
        await self._sender.start()

    async def stop(self) -> None:
        """Releases stalled calls, stops serving and closes the sender's session."""
        self.faults.clear()
        await self._sender.close()
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)
            self._server = None

    # Where things are

    def serving(self) -> bool:
        """Whether the emulator is started."""
        return self._server is not None

    @property
    def openid_url(self) -> str:
        """The OpenID metadata document: CAPDESK_TEAMS_OPENID_URL."""
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        """The tenant's token endpoint: CAPDESK_TEAMS_TOKEN_URL."""
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def service_url(self) -> str:
        """The Bot Connector's base, ending in "/": every activity's `serviceUrl`."""
        return f"{self.base_url}{SERVICE_PATH}"

    @property
    def messaging_endpoint(self) -> str | None:
        """The bot's `.../api/messages`, where activities go."""
        return self._sender.messaging_endpoint

    @messaging_endpoint.setter
    def messaging_endpoint(self, url: str | None) -> None:
        self._sender.messaging_endpoint = url

    def settings(self) -> dict[str, str]:
        """The environment that points capdesk at this emulator."""
        return {
            "MICROSOFT_APP_ID": self.app_id,
            "MICROSOFT_APP_PASSWORD": self.app_password,
            "MICROSOFT_APP_TENANT_ID": self.tenant_id,
            "CAPDESK_TEAMS_OPENID_URL": self.openid_url,
            "CAPDESK_TEAMS_TOKEN_URL": self.token_url,
        }

    # The tenant

    def user(self, who: str) -> TeamsUser:
        """The person named by a Teams id, AAD object id, e-mail or UPN; `KeyError` if none."""
        return self.directory.resolve(who)

    def add_user(
        self, email: str | None, *, name: str | None = None, upn: str | None = None
    ) -> TeamsUser:
        """Adds someone to the tenant (not to the team): a person the policy may not know, or a
        guest with no e-mail (`email=None`, `upn=...`)."""
        return self.directory.add(email, name=name, upn=upn)

    def set_reachable(self, who: str, reachable: bool) -> None:
        """Whether the bot may open a 1:1 chat with the person (false: `POST /v3/conversations`
        and posts to their chat answer 403 BotNotInConversationRoster)."""
        self.directory.set_reachable(who, reachable)

    def personal_conversation(self, who: str) -> Conversation:
        """The person's 1:1 chat with the bot (it exists once they or the bot used it)."""
        user = self.user(who)
        return self.state.add_conversation(
            Conversation(personal_conversation_id(user.id), "personal", self.tenant_id, [user.id])
        )

    def channel(self, name_or_id: str) -> Conversation:
        """A channel of the team, by name or id; `KeyError` if none."""
        for conversation in self.state.conversations():
            if conversation.type == "channel" and name_or_id in (
                conversation.id,
                conversation.name,
            ):
                return conversation
        raise KeyError(f"no such channel: {name_or_id}")

    # The keys that sign

    @property
    def signing_key(self) -> SigningKey:
        """The key that signs by default (the first listed)."""
        return self.keys[0]

    def add_signing_key(self, kid: str, *, endorsements: tuple[str, ...]) -> SigningKey:
        """Lists another key in the JWKS, endorsed for `endorsements`."""
        key = SigningKey(kid, endorsements)
        self.keys.append(key)
        return key

    # What the bot did

    def posted(self, conversation: Conversation | None = None) -> list[PostedActivity]:
        """The bot's activities (in one conversation, or all), oldest first."""
        return self.state.posted(None if conversation is None else conversation.id)

    def posted_to(self, who: str) -> list[PostedActivity]:
        """The bot's activities in the person's 1:1 chat."""
        return self.posted(self.personal_conversation(who))

    def calls(self, route: str | None = None) -> list[ConnectorCall]:
        """The Bot Connector calls the bot made (of one route, or all)."""
        return self.state.calls(route)

    def token_requests(self) -> list[TokenRequest]:
        """The token requests the bot made."""
        return self.state.token_requests()

    # Trouble

    def fail(
        self, route: str, *, status: int = 429, retry_after: int | None = None, times: int = 1
    ) -> None:
        """The next `times` calls of `route` answer `status` (429 or 5xx, with `Retry-After`)."""
        self.faults.add(route, status=status, retry_after=retry_after, times=times)

    def stall(self, route: str) -> Stall:
        """Holds the answers of `route` until the returned stall is released."""
        return self.faults.stall(route)

    # Sending the bot activities

    def channel_token(
        self,
        *,
        key: SigningKey | None = None,
        service_url: str | None = None,
        claims: Mapping[str, Any] | None = None,
        headers: Mapping[str, Any] | None = None,
    ) -> str:
        """A channel token as the Bot Framework signs it, issued now; `claims` and `headers`
        override its claims and header fields (None removes one), for forgeries."""
        payload: Json = channel_claims(
            app_id=self.app_id, service_url=service_url or self.service_url, now=self.clock.now()
        )
        for name, value in (claims or {}).items():
            if value is None:
                payload.pop(name, None)
            else:
                payload[name] = value
        return (key or self.signing_key).sign(payload, headers=dict(headers or {}))

    async def send(self, activity: Json, *, authorization: str | None = "") -> Reply:
        """Sends `activity` to the bot; `authorization` is the header (default: a fresh, valid
        channel token for the activity's serviceUrl; None: no header)."""
        if authorization == "":
            token = self.channel_token(service_url=str(activity.get("serviceUrl") or ""))
            authorization = f"Bearer {token}"
        return await self._sender.send(activity, authorization)

    async def send_raw(self, body: bytes | str, headers: Mapping[str, str]) -> Reply:
        """POSTs exactly this body and these headers to the bot: for broken requests."""
        return await self._sender.send_raw(body, headers)

    def message_activity(
        self, who: str, text: str, *, conversation: Conversation | None = None
    ) -> Json:
        """The activity of the person writing `text` (in their 1:1 chat unless told)."""
        user = self.user(who)
        return activities.message(
            self._envelope(), user, conversation or self.personal_conversation(who), text
        )

    async def message(
        self, who: str, text: str, *, conversation: Conversation | None = None
    ) -> Reply:
        """The person writes `text` to the bot (in their 1:1 chat unless told)."""
        return await self.send(self.message_activity(who, text, conversation=conversation))

    def click_activity(
        self, who: str, posted: PostedActivity, verb: str, inputs: Mapping[str, Any] | None = None
    ) -> Json:
        """The invoke of the person clicking the `Action.Execute` with `verb` on the card of
        `posted` (as they see it), its inputs set to `inputs`; `LookupError` if there is none."""
        user = self.user(who)
        card = posted.card_seen_by(user.id)
        action = find_action(card or {}, verb)
        if action is None:
            raise LookupError(f"no Action.Execute {verb!r} on the card of activity {posted.id}")
        conversation = self.state.conversation(posted.conversation_id)
        if conversation is None:
            raise LookupError(f"no conversation {posted.conversation_id}")
        return activities.card_action(
            self._envelope(),
            user,
            conversation,
            action=action,
            inputs=dict(inputs or {}),
            reply_to_id=posted.id,
        )

    async def click(
        self, who: str, posted: PostedActivity, verb: str, inputs: Mapping[str, Any] | None = None
    ) -> Reply:
        """The person clicks `verb` on the card of `posted`; a card in the invoke response
        replaces the card for them, as Teams shows it."""
        reply = await self.send(self.click_activity(who, posted, verb, inputs))
        answer = reply.json
        if (
            reply.status == 200
            and answer.get("statusCode") == 200
            and answer.get("type") == ADAPTIVE_CARD
            and isinstance(answer.get("value"), dict)
        ):
            with self.state.locked():
                live = self.state.find_posted(posted.conversation_id, posted.id)
                if live is not None:
                    live.seen_by[self.user(who).id] = answer["value"]
        return reply

    async def install_personal(self, who: str) -> list[Reply]:
        """The person adds the app for themselves: `installationUpdate` then the
        `conversationUpdate` with the bot and them added, as Teams sends both."""
        user = self.user(who)
        conversation = self.personal_conversation(who)
        installed = activities.installation_update(
            self._envelope(), user, conversation, action="add", team=None
        )
        added = activities.members_added(
            self._envelope(),
            user,
            conversation,
            added=[{"id": self.bot_id}, user.account()],
            team=None,
        )
        return [await self.send(installed), await self.send(added)]

    async def install_in_team(self, who: str, *, channel: str = GENERAL) -> list[Reply]:
        """The person adds the app to the team, choosing `channel`: `installationUpdate` then
        the `conversationUpdate` with the bot added."""
        user = self.user(who)
        conversation = self.channel(channel)
        installed = activities.installation_update(
            self._envelope(), user, conversation, action="add", team=self.team
        )
        added = activities.members_added(
            self._envelope(), user, conversation, added=[{"id": self.bot_id}], team=self.team
        )
        return [await self.send(installed), await self.send(added)]

    def _envelope(self) -> Envelope:
        now = self.clock.now()
        return Envelope(
            id=self._message_ids.next(int(now.timestamp() * 1000)),
            at=now,
            tz=self.tz,
            service_url=self.service_url,
            bot_id=self.bot_id,
        )


def find_action(card: Any, verb: str) -> Json | None:
    """The first `Action.Execute` with `verb` anywhere in `card` (actions, action sets, show
    cards), or None."""
    if isinstance(card, dict):
        if card.get("type") == "Action.Execute" and card.get("verb") == verb:
            return card
        children: Any = card.values()
    elif isinstance(card, list):
        children = card
    else:
        return None
    for child in children:
        found = find_action(child, verb)
        if found is not None:
            return found
    return None


class _ServerThread:
    """An aiohttp application served by an event loop on a thread of its own."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self._app, self._host, self._port = app, host, port
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="teams-emulator", daemon=True
        )

    def start(self) -> int:
        """Starts serving; the port it listens on."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=30)
        return int(self._runner.addresses[0][1])

    async def _serve(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()

    def stop(self) -> None:
        """Stops serving and ends the thread."""
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()
