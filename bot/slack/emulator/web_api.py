"""The emulator's HTTP face: `/api/<method>`, the file upload URLs and the response_urls.

Like slack.com, `/api/<method>` takes GET query parameters, form-encoded or multipart POSTs
and JSON POSTs, authenticates by `Authorization: Bearer <token>` (or a `token` parameter in
a form or query) and answers HTTP 200 with `{"ok": false, "error": ...}` for API errors:
`not_authed` without a token, `invalid_auth` with a wrong one. Only rate limits (429) and
injected server errors (5xx) change the status.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.slack.emulator.faults import Faults
from bot.slack.emulator.methods import MethodError, WebApiMethods
from bot.slack.emulator.responses import Responder
from bot.slack.emulator.state import ApiCall, Json, ResponseUrlPost, WorkspaceState


class WebApiRoutes:
    """Request handlers over the methods, the faults and the state."""

    def __init__(
        self,
        *,
        state: WorkspaceState,
        methods: WebApiMethods,
        responder: Responder,
        faults: Faults,
        tokens: set[str],
    ) -> None:
        self._state = state
        self._methods = methods
        self._responder = responder
        self._faults = faults
        self._tokens = tokens

    def add_to(self, app: web.Application) -> None:
        """Registers the routes on `app`."""
        app.router.add_route("*", "/api/{method}", self.api)
        app.router.add_post("/upload/v1/{token}", self.upload)
        app.router.add_post("/hooks/{token}", self.response_url)

    async def api(self, request: web.Request) -> web.Response:
        """One Web API call."""
        method = request.match_info["method"]
        try:
            params, token = await _read_params(request)
        except ValueError:
            return self._answer(method, {}, 200, {"ok": False, "error": "invalid_json"})
        fault = self._faults.take(method)
        if fault is not None:
            return self._answer(
                method, params, fault.status, self._faults.body(fault), fault.headers
            )
        if not token:
            return self._answer(method, params, 200, {"ok": False, "error": "not_authed"})
        if token not in self._tokens:
            return self._answer(method, params, 200, {"ok": False, "error": "invalid_auth"})
        try:
            answer: Json = {"ok": True, **self._methods.call(method, params)}
        except MethodError as error:
            answer = error.to_api()
        return self._answer(method, params, 200, answer)

    def _answer(
        self,
        method: str,
        params: Json,
        status: int,
        answer: Json,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        self._state.calls.append(ApiCall(method, params, status, answer))
        return web.json_response(answer, status=status, headers=headers)

    async def upload(self, request: web.Request) -> web.Response:
        """Receives a file's bytes at the URL files.getUploadURLExternal handed out."""
        file_id = self._state.uploads.get(request.match_info["token"])
        if file_id is None:
            return web.Response(status=404, text="invalid_upload_url")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            field = next(iter(form.values()), b"")
            content = field.file.read() if isinstance(field, web.FileField) else str(field).encode()
        else:
            content = await request.read()
        self._state.files[file_id].content = content
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def response_url(self, request: web.Request) -> web.Response:
        """A POST to a response_url: an ephemeral, an in-channel message, an edit or a delete."""
        url = str(request.url)
        target = self._state.response_targets.get(request.match_info["token"])
        try:
            body = await request.json()
        except ValueError:
            body = None
        if target is None or not isinstance(body, dict):
            status, text = (404, "expired_url") if target is None else (400, "invalid_payload")
            self._state.response_posts.append(ResponseUrlPost(url, body or {}, status))
            return web.Response(status=status, text=text, content_type="text/plain")
        problems = self._responder.apply(target, body)
        status = 400 if problems else 200
        self._state.response_posts.append(ResponseUrlPost(url, body, status))
        if problems:
            error = "invalid_blocks" if problems[0].startswith("[ERROR]") else problems[0]
            return web.json_response(
                {"ok": False, "error": error, "response_metadata": {"messages": problems}},
                status=400,
            )
        return web.json_response({"ok": True})


async def _read_params(request: web.Request) -> tuple[Json, str | None]:
    """The call's parameters from query and body, and the token it authenticates with."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("a JSON body must be an object")
            params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = params.pop("token", None)
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        token = header.removeprefix("Bearer ").strip()
    return params, str(token) if token else None
