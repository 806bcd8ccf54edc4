"""The emulated Microsoft login: the Bot Framework's OpenID metadata and keys, and the token
endpoint the bot gets its own token from.

`GET /v1/.well-known/openidconfiguration` answers the metadata document whose `jwks_uri` names
`GET /v1/.well-known/keys`, the JWKS (docs: Bot Connector authentication, "Connector to Bot").
`POST /{tenant}/oauth2/v2.0/token` takes the client-credentials grant (v2 form:
`grant_type=client_credentials`, `client_id`, `client_secret`,
`scope=https://api.botframework.com/.default`) and answers
`{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": ...}`, or
Azure AD's error shape (`error`, `error_description` with its `AADSTS` code, `error_codes`):
401 `invalid_client` for a wrong secret, 400 for an unknown app, tenant, scope or grant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from aiohttp import web

from bot.emulation.faults import Fault
from bot.teams.emulator.faults import Faults
from bot.teams.emulator.signing import ISSUER, SigningKey
from bot.teams.emulator.state import ConnectorCall, ConnectorState, Json, TokenRequest

SCOPE = "https://api.botframework.com/.default"
TOKEN_LIFETIME = timedelta(seconds=3599)
# Multi-tenant bots ask the Bot Framework's own tenant.
BOT_FRAMEWORK_TENANT = "botframework.com"


class LoginRoutes:
    """The handlers of the login side."""

    def __init__(
        self,
        *,
        state: ConnectorState,
        faults: Faults,
        keys: Callable[[], list[SigningKey]],
        base_url: Callable[[], str],
        app_id: str,
        password: str,
        tenant_id: str,
        now: Callable[[], datetime],
    ) -> None:
        self._state = state
        self._faults = faults
        self._keys = keys
        self._base_url = base_url
        self._app_id = app_id
        self._password = password
        self._tenant_id = tenant_id
        self._now = now

    def add_to(self, app: web.Application) -> None:
        """Registers the routes on `app`."""
        app.router.add_get("/v1/.well-known/openidconfiguration", self.openid)
        app.router.add_get("/v1/.well-known/keys", self.jwks)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)

    async def openid(self, request: web.Request) -> web.Response:
        """The OpenID metadata document."""
        return await self._document(
            request,
            "openid",
            {
                "issuer": ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self._base_url()}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            },
        )

    async def jwks(self, request: web.Request) -> web.Response:
        """The signing keys, with their endorsements."""
        return await self._document(request, "keys", {"keys": [k.jwk() for k in self._keys()]})

    async def _document(self, request: web.Request, route: str, document: Json) -> web.Response:
        fault = await self._faults.intercept(route)
        status, answer = (200, document) if fault is None else _fault_body(fault)
        self._state.record_call(ConnectorCall(route, "GET", request.path, None, status, answer))
        return web.json_response(answer, status=status, headers=fault.headers if fault else None)

    async def token(self, request: web.Request) -> web.Response:
        """The client-credentials grant."""
        tenant = request.match_info["tenant"]
        fault = await self._faults.intercept("token")
        if fault is not None:
            error = "temporarily_unavailable"
            body = _aad_error(error, "AADSTS50196: The server terminated an operation.", 50196)
            return web.json_response(body, status=fault.status, headers=fault.headers)
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        status, body = self._grant(tenant, form)
        shown = {k: v for k, v in form.items() if k != "client_secret"}
        if "client_secret" in form:
            shown["client_secret"] = "right" if form["client_secret"] == self._password else "wrong"
        self._state.record_token_request(TokenRequest(tenant, shown, status))
        return web.json_response(body, status=status)

    def _grant(self, tenant: str, form: dict[str, str]) -> tuple[int, Json]:
        if tenant not in (self._tenant_id, BOT_FRAMEWORK_TENANT):
            return 400, _aad_error(
                "invalid_request", f"AADSTS90002: Tenant '{tenant}' not found.", 90002
            )
        if form.get("grant_type") != "client_credentials":
            return 400, _aad_error(
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type.",
                70003,
            )
        if form.get("client_id") != self._app_id:
            return 400, _aad_error(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not"
                " found in the directory.",
                700016,
            )
        if form.get("client_secret") != self._password:
            return 401, _aad_error(
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in"
                " the request is the client secret value, not the client secret ID.",
                7000215,
            )
        if form.get("scope") != SCOPE:
            return 400, _aad_error(
                "invalid_scope",
                f"AADSTS70011: The provided value for the input parameter 'scope' is not valid."
                f" The scope {form.get('scope')} is not valid.",
                70011,
            )
        now = self._now()
        with self._state.locked():
            count = len(self._state.tokens)
            token = "emu." + hashlib.sha256(f"token:{count}:{now.isoformat()}".encode()).hexdigest()
            self._state.tokens[token] = (now + TOKEN_LIFETIME).timestamp()
        seconds = int(TOKEN_LIFETIME.total_seconds())
        return 200, {
            "token_type": "Bearer",
            "expires_in": seconds,
            "ext_expires_in": seconds,
            "access_token": token,
        }


def _aad_error(error: str, description: str, code: int) -> Json:
    return {
        "error": error,
        "error_description": f"{description}\r\nTrace ID: 00000000-0000-0000-0000-000000000000",
        "error_codes": [code],
    }


def _fault_body(fault: Fault) -> tuple[int, Json]:
    return fault.status, {
        "error": {"code": "ServiceError", "message": f"HTTP {fault.status} (injected)"}
    }
