"""`SlackEmulator`: a local Slack workspace on the sandbox organisation, over real HTTP.

Towards the bot it is slack.com: the Web API under `api_url`, upload URLs and response_urls.
Towards tests and the playground it is a Slack client: it sends the bot signed slash
commands, clicks, modal submissions and events, applies the bot's acks as Slack would, and
keeps everything for inspection.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web

from bot.connectors.sandbox import SANDBOX_ZONE, SandboxOrg, generate_org
from bot.emulation.channels import policy_channels
from bot.emulation.client import Service
from bot.slack.emulator import limits, payloads
from bot.slack.emulator.faults import Faults
from bot.slack.emulator.ids import Stamps
from bot.slack.emulator.methods import WebApiMethods
from bot.slack.emulator.responses import Responder
from bot.slack.emulator.sender import Reply, Sender
from bot.slack.emulator.state import (
    ApiCall,
    Ephemeral,
    Json,
    Message,
    ResponseTarget,
    Trigger,
    UploadedFile,
    View,
    WorkspaceState,
    find_element,
)
from bot.slack.emulator.users import Directory, SlackUser
from bot.slack.emulator.web_api import WebApiRoutes
from workflows.clock import Clock, SystemClock

DEFAULT_BOT_TOKEN = "xoxb-capdesk-emulator"
DEFAULT_SIGNING_SECRET = "capdesk-emulator-signing-secret"
DM_CHANNEL_NAME = "directmessage"


def default_channels(org: SandboxOrg) -> dict[str, str]:
    """The public channels the built-in policy names (admin channel, group channels)."""
    return policy_channels(org, "slack")


class SlackEmulator(Service):
    """A Slack workspace for the bot: `async with SlackEmulator(...) as emu:`.

    `request_url` is where the bot receives Slack's requests (e.g.
    "http://127.0.0.1:3000/slack/events"); it may be set after construction. `clock` tells the
    workspace's time: message timestamps, event times, trigger ids (valid 3 s by it), the
    sandbox org's day. `signing_clock` stamps request signatures: the real time by default.
    """

    def __init__(
        self,
        *,
        org: SandboxOrg | None = None,
        seed: int = 7,
        today: date | None = None,
        clock: Clock | None = None,
        signing_clock: Clock | None = None,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        bot_token: str = DEFAULT_BOT_TOKEN,
        request_url: str | None = None,
        channels: Mapping[str, str] | None = None,
        tz: str = "Europe/Berlin",
        host: str = "127.0.0.1",
        port: int = 0,
        ack_timeout: float = 3.0,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.org = org or generate_org(
            seed, today=today or self.clock.now().astimezone(SANDBOX_ZONE).date()
        )
        self.bot_token = bot_token
        self.directory = Directory(self.org, tz=tz)
        self.state = WorkspaceState(
            channels=dict(channels if channels is not None else default_channels(self.org))
        )
        self._stamps = Stamps()
        self._faults = Faults()
        self._methods = WebApiMethods(
            self.state,
            self.directory,
            self._stamps,
            now=self.clock.now,
            upload_url=lambda token: f"{self.base_url}/upload/v1/{token}",
        )
        self._responder = Responder(self.state, self._methods)
        # Slack signs with the real time, and Bolt checks X-Slack-Request-Timestamp against
        # time.time() (five minutes either way), not against capdesk's clock: a workspace
        # whose day is pinned elsewhere (CAPDESK_NOW, a test's clock) must still sign as of now.
        self.signing_clock: Clock = signing_clock or SystemClock()
        self._sender = Sender(
            signing_secret=signing_secret,
            now=self.signing_clock.now,
            ack_timeout=ack_timeout,
            request_url=request_url,
        )
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None

    # Lifecycle

    async def start(self) -> None:
        """Serves on `host:port` (port 0 picks a free one) and opens the client session."""
        app = web.Application()
        WebApiRoutes(
            state=self.state,
            methods=self._methods,
            responder=self._responder,
            faults=self._faults,
            tokens={self.bot_token},
        ).add_to(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        await self._sender.start()

    async def stop(self) -> None:
        """Stops serving and closes the client session."""
        await self._sender.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def serving(self) -> bool:
        """Whether the emulator is started."""
        return self._runner is not None

    @property
    def api_url(self) -> str:
        """The Web API base, ending in "/api/": SLACK_API_URL, `AsyncWebClient(base_url=...)`."""
        return f"{self.base_url}/api/"

    @property
    def request_url(self) -> str | None:
        """The bot's request URL, where Slack's requests go."""
        return self._sender.request_url

    @request_url.setter
    def request_url(self, url: str | None) -> None:
        self._sender.request_url = url

    # The directory

    def user(self, who: str) -> SlackUser:
        """The member named by a Slack id or an email; `KeyError` if none."""
        return self.directory.resolve(who)

    def user_id(self, email: str) -> str:
        """The Slack id of the member with `email`."""
        return self.directory.resolve(email).id

    def add_user(
        self, email: str, *, real_name: str | None = None, tz: str | None = None
    ) -> SlackUser:
        """Adds someone outside the organisation (a person the policy does not know)."""
        return self.directory.add(email, real_name=real_name, tz=tz)

    # What the bot did

    def dm_of(self, who: str) -> str:
        """The id of the DM between the member and the app (whether opened yet or not)."""
        return self.state.dm_id(self.user(who).id)

    def messages_in(self, channel: str) -> list[Message]:
        """The live messages in a channel or DM, oldest first."""
        return self.state.messages_in(channel)

    def messages_to(self, who: str) -> list[Message]:
        """The live messages in the member's DM with the app, oldest first."""
        return self.state.messages_in(self.dm_of(who))

    def last_message_to(self, who: str) -> Message | None:
        """The latest live message in the member's DM with the app."""
        messages = self.messages_to(who)
        return messages[-1] if messages else None

    def ephemerals_for(self, who: str, channel: str | None = None) -> list[Ephemeral]:
        """The ephemeral messages the member was shown, oldest first."""
        return self.state.ephemerals_for(self.user(who).id, channel)

    def last_ephemeral_for(self, who: str) -> Ephemeral | None:
        """The latest ephemeral the member was shown."""
        shown = self.ephemerals_for(who)
        return shown[-1] if shown else None

    def home_of(self, who: str) -> View | None:
        """The member's published Home tab."""
        return self.state.home_of(self.user(who).id)

    def open_view_of(self, who: str) -> View | None:
        """The modal the member has open (top of their stack)."""
        return self.state.open_view_of(self.user(who).id)

    def views_of(self, who: str) -> list[View]:
        """Every modal and Home view the member was shown, open or closed, oldest first."""
        user_id = self.user(who).id
        return [v for v in self.state.views.values() if v.user == user_id]

    def view(self, view_id: str) -> View:
        """A view by id, open or closed."""
        return self.state.views[view_id]

    @property
    def files(self) -> dict[str, UploadedFile]:
        """Uploaded files by id."""
        return self.state.files

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """The Web API calls received (of `method`, if given), oldest first."""
        return [c for c in self.state.calls if method is None or c.method == method]

    @staticmethod
    def find_button(
        target: Message | Ephemeral | View,
        *,
        action_id: str | None = None,
        value: str | None = None,
    ) -> Json | None:
        """The first interactive element in `target` with this action_id and/or value."""
        found = find_element(target.blocks, action_id=action_id, value=value)
        return found[1] if found else None

    # Fault injection

    def fail(
        self, method: str, *, status: int = 429, retry_after: int | None = 1, times: int = 1
    ) -> None:
        """Makes the next `times` calls of `method` answer `status` (429 or 5xx)."""
        self._faults.add(method, status=status, retry_after=retry_after, times=times)

    def clear_faults(self) -> None:
        """Drops every pending injected failure."""
        self._faults.clear()

    # Acting as Slack towards the bot

    def issue_trigger(self, who: str) -> str:
        """A fresh trigger_id for the member, valid for views.open for 3 s, once."""
        trigger_id = self._stamps.trigger_id(self._now())
        self.state.triggers[trigger_id] = Trigger(self.user(who).id, self._now())
        return trigger_id

    async def slash_command(
        self, who: str, text: str = "", *, command: str = "/capdesk", channel: str | None = None
    ) -> Reply:
        """The member types `command text` in `channel` (default: their DM with the app).

        An ack with a message body is shown to them as Slack shows it (ephemeral unless
        `response_type` is "in_channel").
        """
        user = self.user(who)
        channel_id = channel or self.state.open_dm(user.id)[0]
        target = ResponseTarget(channel=channel_id, user=user.id)
        fields = payloads.slash_command(
            user,
            command=command,
            text=text,
            channel_id=channel_id,
            channel_name=self.state.channels.get(channel_id, DM_CHANNEL_NAME),
            response_url=self._response_url(target),
            trigger_id=self.issue_trigger(user.id),
        )
        reply = await self._sender.send_form(fields)
        if reply.status == 200 and reply.body:
            body = reply.body if isinstance(reply.body, dict) else {"text": str(reply.body)}
            return _with_problems(reply, self._responder.apply(target, body))
        return reply

    def block_actions(
        self,
        who: str,
        target: Message | Ephemeral | View,
        action_id: str,
        value: str | None = None,
    ) -> Json:
        """The `block_actions` payload for the member clicking `action_id` on `target`.

        The target is looked up again, so the click is on what the member sees now; `value`
        picks among buttons sharing an action_id (or the option chosen in a select).
        `LookupError` if the target is gone or has no such element.
        """
        user = self.user(who)
        current = self._current(target)
        found = find_element(current.blocks, action_id=action_id, value=value)
        if found is None:
            # For a select, `value` is the option chosen, not the element's own value.
            found = find_element(current.blocks, action_id=action_id)
            found = None if found is None or found[1]["type"] == "button" else found
        if found is None:
            raise LookupError(f"no element {action_id!r} (value {value!r}) to click")
        block_id, element = found
        action = payloads.action(block_id, element, action_ts=self._ts(), selected=value)
        trigger_id = self.issue_trigger(user.id)
        if isinstance(current, View):
            return payloads.block_actions(
                user,
                action=action,
                container={"type": "view", "view_id": current.id},
                trigger_id=trigger_id,
                view=current.to_api(),
            )
        channel = {
            "id": current.channel,
            "name": self.state.channels.get(current.channel, DM_CHANNEL_NAME),
        }
        ephemeral = isinstance(current, Ephemeral)
        response_url = self._response_url(
            ResponseTarget(current.channel, user.id, current.ts, ephemeral=ephemeral)
        )
        container = {
            "type": "message",
            "message_ts": current.ts,
            "channel_id": current.channel,
            "is_ephemeral": ephemeral,
        }
        return payloads.block_actions(
            user,
            action=action,
            container=container,
            trigger_id=trigger_id,
            channel=channel,
            message=None if isinstance(current, Ephemeral) else current.to_api(),
            response_url=response_url,
        )

    async def click(
        self,
        who: str,
        target: Message | Ephemeral | View,
        action_id: str,
        value: str | None = None,
    ) -> Reply:
        """The member clicks `action_id` (with `value`) on a message, ephemeral or view."""
        return await self.send_interaction(self.block_actions(who, target, action_id, value))

    async def send_interaction(self, payload: Json) -> Reply:
        """Sends an interaction payload as Slack does: form field `payload`, signed."""
        return await self._sender.send_form({"payload": json.dumps(payload)})

    async def shortcut(self, who: str, callback_id: str) -> Reply:
        """The member runs the app's global shortcut `callback_id`."""
        user = self.user(who)
        payload = payloads.shortcut(
            user,
            callback_id=callback_id,
            trigger_id=self.issue_trigger(user.id),
            action_ts=self._ts(),
        )
        return await self.send_interaction(payload)

    async def submit_view(
        self, who: str, values: Mapping[str, Any] | None = None, *, view_id: str | None = None
    ) -> Reply:
        """The member submits their open modal (or `view_id`) filled with `values`.

        `values` is keyed by input action_id (or block_id): strings for text, number and
        date inputs, option values for selects. The bot's `response_action` is applied:
        none closes the modal, "errors" keeps it open with the errors, "update" replaces
        it, "push" stacks a new one, "clear" closes them all.
        """
        user, view = self._modal(who, view_id)
        reply = await self.send_interaction(self._submission(user, view, values))
        if reply.status != 200:
            return reply
        return _with_problems(reply, self._apply_view_response(user.id, view, reply.json))

    def view_submission(
        self, who: str, values: Mapping[str, Any] | None = None, *, view_id: str | None = None
    ) -> Json:
        """The `view_submission` payload of the member submitting their open modal (or
        `view_id`), to send as it is or altered, as a forged submission would be."""
        user, view = self._modal(who, view_id)
        return self._submission(user, view, values)

    def _submission(self, user: SlackUser, view: View, values: Mapping[str, Any] | None) -> Json:
        state_values = payloads.state_values(view, values or {})
        return payloads.view_submission(
            user, view, state_values, trigger_id=self.issue_trigger(user.id)
        )

    def _modal(self, who: str, view_id: str | None) -> tuple[SlackUser, View]:
        user = self.user(who)
        view = self.state.views.get(view_id) if view_id else self.state.open_view_of(user.id)
        if view is None or view.closed:
            raise LookupError(f"{who} has no open modal {view_id or ''}".strip())
        return user, view

    async def event(
        self,
        event: Json,
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> Reply:
        """Delivers an Events API event; with `retry_num`, as Slack's retry of `event_id`."""
        envelope = payloads.event_callback(
            event,
            event_id=event_id or self._stamps.next_id("Ev"),
            event_time=int(self._now()),
        )
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return await self._sender.send_json(envelope, headers=headers)

    async def app_home_opened(self, who: str, *, event_id: str | None = None) -> Reply:
        """The member opens the app's Home tab."""
        user = self.user(who)
        event: Json = {
            "type": "app_home_opened",
            "user": user.id,
            "channel": self.state.open_dm(user.id)[0],
            "tab": "home",
            "event_ts": self._ts(),
        }
        home = self.state.home_of(user.id)
        if home is not None:
            event["view"] = home.to_api()
        return await self.event(event, event_id=event_id)

    async def url_verification(self, challenge: str = "emulator-challenge") -> Reply:
        """The handshake Slack sends when the request URL is saved."""
        return await self._sender.send_json(payloads.url_verification(challenge))

    def signed_headers(self, body: bytes, *, timestamp: int | str | None = None) -> dict[str, str]:
        """Valid signature headers for `body` (stamped now by `signing_clock` unless told)."""
        return self._sender.signed_headers(body, timestamp=timestamp)

    async def send_raw(self, body: bytes | str, headers: Mapping[str, str]) -> Reply:
        """POSTs exactly this body and these headers to the bot: for forged or broken requests."""
        return await self._sender.send_raw(body, headers)

    # Internals

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _ts(self) -> str:
        return self._stamps.ts(self._now())

    def _response_url(self, target: ResponseTarget) -> str:
        token = self._stamps.token("response")
        self.state.response_targets[token] = target
        return f"{self.base_url}/hooks/{token}"

    def _current(self, target: Message | Ephemeral | View) -> Message | Ephemeral | View:
        current: Message | Ephemeral | View | None
        if isinstance(target, View):
            current = self.state.views.get(target.id)
            current = None if current is None or current.closed else current
        elif isinstance(target, Ephemeral):
            current = self.state.ephemeral(target.channel, target.ts)
        else:
            current = self.state.message(target.channel, target.ts)
        if current is None:
            raise LookupError("the message or view is gone")
        return current

    def _apply_view_response(self, user: str, view: View, body: Json) -> list[str]:
        action = body.get("response_action")
        if action == "errors":
            view.errors = {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
            return []
        if action == "clear":
            self.state.close_modal(user, all_views=True)
            return []
        if action in ("update", "push"):
            problems = limits.view_problems(body.get("view"), expected_type="modal")
            if problems:
                return problems
            definition: Json = body["view"]
            if action == "update":
                self._methods.update_view(view, definition)
            else:
                pushed = self._methods.new_view(user, definition, previous=view)
                self.state.modal_stacks.setdefault(user, []).append(pushed.id)
            return []
        if self.state.open_view_of(user) is view:
            self.state.close_modal(user)
        return []


def _with_problems(reply: Reply, problems: list[str]) -> Reply:
    if not problems:
        return reply
    return Reply(reply.status, reply.body, reply.headers, reply.elapsed, problems)
