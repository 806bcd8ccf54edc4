"""The emulated Bot Connector REST API under the service URL: the routes the bot calls.

| route | what |
|---|---|
| `POST /v3/conversations` | create (or find) the 1:1 chat with one member: 201 `{"id"}` |
| `POST /v3/conversations/{id}/activities` | post: 201 `{"id"}` |
| `POST /v3/conversations/{id}/activities/{activityId}` | reply: 201 `{"id"}` |
| `PUT /v3/conversations/{id}/activities/{activityId}` | update the bot's activity: 200 `{"id"}` |
| `GET /v3/conversations/{id}/members` | the members, as `TeamsChannelAccount`s |
| `GET /v3/conversations/{id}/members/{userId}` | one member, by Teams id, AAD object id or UPN |
| `GET /v3/conversations/{id}/pagedmembers` | `{"members", "continuationToken"}`, pages of 50-500 |

Every call needs `Authorization: Bearer <token>` with a token the login side issued and that
has not expired (else 401, `{"message": "Authorization has been denied for this request."}`);
with `allow_anonymous`, a call without the header passes, as the Bot Framework Emulator lets a
bot without an app id through.
Errors carry the connector's `{"error": {"code", "message"}}`: 400 `BadSyntax`/`BadArgument`,
403 `BotNotInConversationRoster` for someone the bot cannot reach, 404
`ConversationNotFound`/`ActivityNotFound`/`MemberNotFoundInConversation`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.teams.emulator.faults import Faults
from bot.teams.emulator.ids import MessageIds, personal_conversation_id
from bot.teams.emulator.state import (
    ConnectorCall,
    ConnectorState,
    Conversation,
    Json,
    PostedActivity,
)
from bot.teams.emulator.users import Directory, TeamsUser

DENIED = {"message": "Authorization has been denied for this request."}
PAGE_SIZES = (50, 500)
DEFAULT_PAGE_SIZE = 200

Answer = tuple[int, Any]
Operation = Callable[[web.Request, Any], Awaitable[Answer]]


class ConnectorError(Exception):
    """A refusal with the Bot Connector's error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code

    def answer(self) -> Answer:
        """The status and body to send."""
        return self.status, {"error": {"code": self.code, "message": str(self)}}


class ConnectorRoutes:
    """The handlers of the Bot Connector side, mounted under `prefix` (the service URL's path)."""

    def __init__(
        self,
        *,
        state: ConnectorState,
        directory: Directory,
        faults: Faults,
        message_ids: MessageIds,
        tenant_id: str,
        bot_id: str,
        now: Callable[[], datetime],
        prefix: str,
        allow_anonymous: bool,
    ) -> None:
        self._state = state
        self._directory = directory
        self._faults = faults
        self._ids = message_ids
        self._tenant_id = tenant_id
        self._bot_id = bot_id
        self._now = now
        self._prefix = prefix.rstrip("/")
        self._allow_anonymous = allow_anonymous

    def add_to(self, app: web.Application) -> None:
        """Registers the routes on `app`."""
        base = f"{self._prefix}/v3/conversations"
        activity = base + "/{conversation}/activities/{activity}"
        routes: list[tuple[str, str, str, Operation]] = [
            ("POST", base, "create_conversation", self._create_conversation),
            ("POST", base + "/{conversation}/activities", "send_to_conversation", self._send),
            ("POST", activity, "reply_to_activity", self._send),
            ("PUT", activity, "update_activity", self._update),
            ("GET", base + "/{conversation}/members", "get_members", self._members),
            ("GET", base + "/{conversation}/members/{member}", "get_member", self._member),
            ("GET", base + "/{conversation}/pagedmembers", "paged_members", self._paged_members),
        ]
        for method, path, name, operation in routes:
            app.router.add_route(method, path, self._route(name, operation))

    def _route(self, name: str, operation: Operation) -> Callable[[web.Request], Awaitable[Any]]:
        async def handle(request: web.Request) -> web.Response:
            body: Json | None = None
            headers: dict[str, str] = {}
            fault = await self._faults.intercept(name)
            if fault is not None:
                status, answer = ConnectorError(
                    fault.status,
                    "Throttled" if fault.status == 429 else "ServiceError",
                    f"HTTP {fault.status} (injected)",
                ).answer()
                headers = fault.headers
            elif not self._authorized(request):
                status, answer = 401, DENIED
            else:
                try:
                    body = await _json_body(request)
                    status, answer = await operation(request, body)
                except ConnectorError as error:
                    status, answer = error.answer()
            self._state.record_call(
                ConnectorCall(name, request.method, request.path, body, status, answer)
            )
            return web.json_response(answer, status=status, headers=headers)

        return handle

    def _authorized(self, request: web.Request) -> bool:
        if self._allow_anonymous and "Authorization" not in request.headers:
            return True
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        with self._state.locked():
            expiry = self._state.tokens.get(token)
        return scheme == "Bearer" and expiry is not None and self._now().timestamp() < expiry

    # Operations

    async def _create_conversation(self, _: web.Request, body: Any) -> Answer:
        parameters = _object(body)
        members = _field(parameters, "members")
        if not isinstance(members, list) or len(members) != 1 or not isinstance(members[0], dict):
            raise ConnectorError(400, "BadArgument", "exactly one member is required")
        if _field(parameters, "isGroup"):
            raise ConnectorError(400, "BadArgument", "group conversations cannot be created")
        channel_data = _field(parameters, "channelData")
        tenant = _field(parameters, "tenantId") or (_field(_field(channel_data, "tenant"), "id"))
        if not tenant:
            raise ConnectorError(400, "BadArgument", "tenantId is required")
        if tenant != self._tenant_id:
            raise ConnectorError(403, "Forbidden", f"the bot is not installed in tenant {tenant}")
        bot = _field(parameters, "bot")
        if _field(bot, "id") not in (None, self._bot_id):
            raise ConnectorError(400, "BadArgument", f"the bot is {self._bot_id}, not another")
        user = self._directory.find(str(_field(members[0], "id") or ""))
        if user is None:
            raise ConnectorError(400, "BadArgument", "the member is not in this tenant")
        conversation = self._state.add_conversation(
            Conversation(personal_conversation_id(user.id), "personal", tenant, [user.id])
        )
        self._check_reachable(conversation)
        answer: Json = {"id": conversation.id}
        activity = _field(parameters, "activity")
        if isinstance(activity, dict):
            answer["activityId"] = self._post(conversation.id, activity, None).id
        return 201, answer

    async def _send(self, request: web.Request, body: Any) -> Answer:
        conversation = self._conversation(request)
        self._check_reachable(conversation)
        activity = _object(body)
        if not isinstance(activity.get("type"), str) or not activity["type"]:
            raise ConnectorError(400, "BadSyntax", "the activity has no type")
        if activity["type"] == "message" and not (
            activity.get("text") or activity.get("attachments")
        ):
            raise ConnectorError(400, "BadArgument", "a message needs text or attachments")
        posted = self._post(
            request.match_info["conversation"], activity, request.match_info.get("activity")
        )
        return 201, {"id": posted.id}

    async def _update(self, request: web.Request, body: Any) -> Answer:
        self._conversation(request)
        activity = _object(body)
        activity_id = request.match_info["activity"]
        with self._state.locked():
            posted = self._state.find_posted(request.match_info["conversation"], activity_id)
            if posted is None:
                raise ConnectorError(404, "ActivityNotFound", f"no activity {activity_id}")
            posted.history.append(posted.activity)
            posted.activity = {**activity, "id": activity_id}
        return 200, {"id": activity_id}

    async def _members(self, request: web.Request, _: Any) -> Answer:
        return 200, [user.to_api() for user in self._users_of(self._conversation(request))]

    async def _member(self, request: web.Request, _: Any) -> Answer:
        conversation = self._conversation(request)
        user = self._directory.find(request.match_info["member"])
        if user is None or user.id not in conversation.members:
            raise ConnectorError(
                404, "MemberNotFoundInConversation", "The member was not found in the conversation."
            )
        return 200, user.to_api()

    async def _paged_members(self, request: web.Request, _: Any) -> Answer:
        users = self._users_of(self._conversation(request))
        try:
            size = int(request.query.get("pageSize") or DEFAULT_PAGE_SIZE)
            start = _offset(request.query.get("continuationToken"))
        except ValueError:
            raise ConnectorError(400, "BadArgument", "bad pageSize or continuationToken") from None
        size = min(max(size, PAGE_SIZES[0]), PAGE_SIZES[1])
        page: Json = {"members": [user.to_api() for user in users[start : start + size]]}
        if start + size < len(users):
            page["continuationToken"] = _token(start + size)
        return 200, page

    # Helpers

    def _conversation(self, request: web.Request) -> Conversation:
        conversation_id = request.match_info["conversation"]
        conversation = self._state.conversation(conversation_id)
        if conversation is None:
            raise ConnectorError(404, "ConversationNotFound", f"no conversation {conversation_id}")
        return conversation

    def _check_reachable(self, conversation: Conversation) -> None:
        if conversation.type != "personal":
            return
        user = self._directory.find(conversation.members[0])
        if user is None or not self._directory.reachable(user):
            raise ConnectorError(
                403, "BotNotInConversationRoster", "The bot is not part of the conversation roster."
            )

    def _users_of(self, conversation: Conversation) -> list[TeamsUser]:
        found = (self._directory.find(member) for member in conversation.members)
        return [user for user in found if user is not None]

    def _post(self, conversation_id: str, activity: Json, reply_to: str | None) -> PostedActivity:
        activity_id = self._ids.next(int(self._now().timestamp() * 1000))
        return self._state.post(
            PostedActivity(conversation_id, activity_id, {**activity, "id": activity_id}, reply_to)
        )


async def _json_body(request: web.Request) -> Json | None:
    if request.method not in ("POST", "PUT"):
        return None
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise ConnectorError(400, "BadSyntax", "the body is not JSON") from None
    return _object(body)


def _object(body: Any) -> Json:
    if not isinstance(body, dict):
        raise ConnectorError(400, "BadSyntax", "the body is not a JSON object")
    return body


def _field(document: Any, name: str) -> Any:
    """`document[name]`, matching the name in any case, as the connector's JSON reader does
    (botbuilder sends `tenantID` where Teams documents `tenantId`)."""
    if not isinstance(document, dict):
        return None
    lowered = name.lower()
    return next((v for k, v in document.items() if k.lower() == lowered), None)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise ValueError("bad continuation token") from None
    if kind != "offset":
        raise ValueError("bad continuation token")
    return int(value)
