"""The playground's HTTP face: the page, its assets and the JSON API under `/playground/api/`.

| route | what |
|---|---|
| `GET /playground` | the page |
| `GET /playground/api/people` | everyone (group, role, label), whom to start on, the timezone |
| `GET /playground/api/people/{who}` | what the person sees (`who`: email or Slack id) |
| `POST /playground/api/people/{who}/command` | `{"text": "/capdesk ...", "channel"?}` |
| `POST /playground/api/people/{who}/click` | `{"on", "action_id", "value"?, "channel"?, "ts"?}` |
| `POST /playground/api/people/{who}/submit` | `{"values": {block_id: value}}` |
| `POST /playground/api/people/{who}/close` | closes the open modal |
| `POST /playground/api/people/{who}/home` | opens the Home tab |
| `POST /playground/api/people/{who}/shortcut` | runs the global shortcut |
| `POST /playground/api/people/{who}/alerts` | an admin runs the alert rules now |
| `POST /playground/api/people/{who}/digests` | an admin posts the digests now |
| `GET /favicon.ico`, `GET /playground/static/...` | the page's icon and assets |
| `GET /playground/api/files/{id}` | a file the bot uploaded (charts) |

An action answers once its consequences are in the workspace (the runtime has settled):
`{"bot": {"status", "response_action", "problems"}, "state": ...}`; the admins' jobs answer
`{"job": {"text", ...}, "state": ...}`. Errors are `{"error": "..."}`: 400 for a bad payload
(nothing was sent), 403 for a job run by someone who is no admin, 404 for an unknown person.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from pydantic import ValidationError

from bot.settings import is_loopback
from bot.slack.emulator import AckTimeout, Reply, SlackEmulator, SlackUser
from bot.slack.playground.actions import (
    Actions,
    BadAction,
    ClickPayload,
    CommandPayload,
    SubmitPayload,
)
from bot.slack.playground.jobs import AdminJobs
from bot.slack.playground.snapshot import people, person_state, storyteller
from workflows.policy import Policy

STATIC = Path(__file__).parent / "static"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Payload = TypeVar("Payload", CommandPayload, ClickPayload, SubmitPayload)


class PlaygroundApi:
    """Request handlers over the emulator; `settle` waits until the bot's work is done.

    `start` is whom the page starts on when they are in the workspace.
    """

    def __init__(
        self,
        emulator: SlackEmulator,
        policy: Policy,
        settle: Callable[[], Awaitable[None]],
        *,
        jobs: AdminJobs,
        start: str | None = None,
    ) -> None:
        self._emulator = emulator
        self._policy = policy
        self._settle = settle
        self._jobs = jobs
        self._start = start
        self._actions = Actions(emulator, policy)

    def add_to(self, app: web.Application) -> None:
        """Registers the routes on `app`."""
        router = app.router
        router.add_get("/playground", _local(self.page))
        router.add_get("/favicon.ico", _local(self.icon))
        router.add_static("/playground/static", STATIC)
        router.add_get("/playground/api/people", _local(self.people))
        router.add_get("/playground/api/people/{who}", _local(self.state))
        router.add_post("/playground/api/people/{who}/{action}", _local(self.act))
        router.add_get("/playground/api/files/{file_id}", _local(self.file))

    async def page(self, _: web.Request) -> web.StreamResponse:
        """The playground page."""
        return web.FileResponse(STATIC / "index.html")

    async def icon(self, _: web.Request) -> web.StreamResponse:
        """The page's icon, also where browsers look for it without being told."""
        return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml"})

    async def people(self, _: web.Request) -> web.StreamResponse:
        """Everyone who can be picked, whom to start on, and the org's timezone for times."""
        everyone = people(self._emulator, self._policy)
        return web.json_response(
            {
                "people": everyone,
                "start": storyteller(everyone, self._policy, self._start),
                "timezone": self._policy.org.timezone,
            }
        )

    async def state(self, request: web.Request) -> web.StreamResponse:
        """What one person sees now."""
        user = self._user(request)
        return web.json_response(person_state(self._emulator, self._policy, user))

    async def act(self, request: web.Request) -> web.StreamResponse:
        """One action as a person; answers with what they see once the bot is done."""
        user = self._user(request)
        action = request.match_info["action"]
        body = await _json_object(request)
        if action in ("alerts", "digests"):
            return await self._job(user, action)
        reply: Reply | None = None
        try:
            if action == "command":
                reply = await self._actions.command(user, _parse(CommandPayload, body))
            elif action == "click":
                reply = await self._actions.click(user, _parse(ClickPayload, body))
            elif action == "submit":
                reply = await self._actions.submit(user, _parse(SubmitPayload, body))
            elif action == "close":
                self._actions.close(user)
            elif action == "home":
                reply = await self._actions.home(user)
            elif action == "shortcut":
                reply = await self._actions.shortcut(user)
            else:
                raise _error(web.HTTPNotFound, f"no action {action!r}")
        except BadAction as exc:
            raise _error(web.HTTPBadRequest, str(exc)) from None
        except AckTimeout:
            await self._settle()
            raise _error(
                web.HTTPGatewayTimeout, "capdesk did not answer within Slack's 3 seconds"
            ) from None
        await self._settle()
        return web.json_response(
            {
                "bot": None if reply is None else _bot(reply),
                "state": person_state(self._emulator, self._policy, user),
            }
        )

    async def _job(self, user: SlackUser, job: str) -> web.StreamResponse:
        if not self._policy.is_admin(user.email):
            what = "run the alert rules" if job == "alerts" else "send the digests"
            raise _error(web.HTTPForbidden, f"{user.real_name} is no admin: only admins {what}")
        # What another action started is delivered first, so the job's messages come after it.
        await self._settle()
        done = await (self._jobs.alerts() if job == "alerts" else self._jobs.digests())
        await self._settle()
        return web.json_response(
            {"job": done, "state": person_state(self._emulator, self._policy, user)}
        )

    async def file(self, request: web.Request) -> web.StreamResponse:
        """A file the bot uploaded, e.g. a chart shown under a message."""
        file = self._emulator.files.get(request.match_info["file_id"])
        if file is None or file.content is None:
            raise _error(web.HTTPNotFound, "no such file")
        kind = mimetypes.guess_type(file.filename)[0] or "application/octet-stream"
        return web.Response(body=file.content, content_type=kind)

    def _user(self, request: web.Request) -> SlackUser:
        who = request.match_info["who"]
        try:
            user = self._emulator.user(who)
        except KeyError:
            raise _error(web.HTTPNotFound, f"no person {who!r} in the sandbox org") from None
        if user.is_bot:
            raise _error(web.HTTPNotFound, f"{who!r} is the bot, not a person")
        return user


def _local(handler: Handler) -> Handler:
    """Refuses requests addressed to another host name, and POSTs that are not JSON.

    The server listens on loopback only, but a web page elsewhere could still reach it through
    the browser: by a DNS name rebound to 127.0.0.1 (its Host header gives it away) or by a
    cross-site form post (which cannot send `application/json` without the preflight this
    server never grants).
    """

    async def guarded(request: web.Request) -> web.StreamResponse:
        if not is_loopback(request.url.host or ""):
            raise _error(web.HTTPForbidden, "the playground answers on 127.0.0.1 only")
        if request.method == "POST" and request.content_type != "application/json":
            raise _error(web.HTTPUnsupportedMediaType, "send JSON (Content-Type: application/json)")
        return await handler(request)

    return guarded


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise _error(web.HTTPBadRequest, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object")
    return body


def _parse(model: type[Payload], body: dict[str, Any]) -> Payload:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        ]
        raise BadAction("; ".join(problems)) from None


def _bot(reply: Reply) -> dict[str, Any]:
    return {
        "status": reply.status,
        "response_action": reply.json.get("response_action"),
        "problems": reply.problems,
    }


def _error(kind: type[web.HTTPError], message: str) -> web.HTTPError:
    return kind(text=json.dumps({"error": message}), content_type="application/json")
