"""The emulated tenant's people: the sandbox organisation's members, with stable Teams ids.

Each has a Teams user id (`29:...`), an Azure AD object id, an e-mail and a user principal name.
The UPN is on the tenant's `onmicrosoft.com` domain, not the e-mail's, as it often is in real
tenants; a guest may have no e-mail at all. `to_api` is the `TeamsChannelAccount` the roster
routes answer (docs: "Get single member details"), with the object id both as `aadObjectId`
(which botbuilder reads) and `objectId` (which Teams' own samples show).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from bot.connectors.sandbox import SandboxOrg
from bot.teams.emulator.ids import guid, user_id

TENANT_ID = "6d5c4b3a-2f1e-4d0c-9b8a-7e6f5d4c3b2a"
TENANT_DOMAIN = "capdesksandbox.onmicrosoft.com"
DEFAULT_APP_ID = "0c8a4f2e-7b1d-4e3c-a5f6-9d2b8c1e4a70"
BOT_NAME = "capdesk"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TeamsUser:
    """One person of the tenant."""

    id: str
    aad_object_id: str
    name: str
    email: str | None
    user_principal_name: str

    @property
    def given_name(self) -> str:
        """The first word of the name."""
        return self.name.split(" ", 1)[0]

    @property
    def surname(self) -> str:
        """The rest of the name."""
        return self.name.split(" ", 1)[1] if " " in self.name else ""

    def account(self) -> Json:
        """The `from` (or `membersAdded` entry) of the activities Teams sends."""
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id}

    def to_api(self) -> Json:
        """The member object of `GET .../members` and `.../members/{id}`."""
        member: Json = {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "objectId": self.aad_object_id,
            "givenName": self.given_name,
            "surname": self.surname,
            "userPrincipalName": self.user_principal_name,
            "tenantId": TENANT_ID,
            "userRole": "user",
        }
        if self.email is not None:
            member["email"] = self.email
        return member


class Directory:
    """Who is in the tenant, and whether the bot may open a 1:1 chat with them."""

    def __init__(self, org: SandboxOrg) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, TeamsUser] = {}
        self._unreachable: set[str] = set()
        for person in org.people:
            self.add(person.email, name=person.name)

    def add(
        self,
        email: str | None,
        *,
        name: str | None = None,
        upn: str | None = None,
    ) -> TeamsUser:
        """Adds a person (or returns the one with that e-mail or UPN); `email=None` for a guest
        Teams shows no e-mail for, who then needs `upn`."""
        if email is None and upn is None:
            raise ValueError("a person needs an e-mail or a user principal name")
        local = (email or upn or "").split("@", 1)[0].lower()
        principal = (upn or f"{local}@{TENANT_DOMAIN}").lower()
        with self._lock:
            existing = self._find(email or principal)
            if existing is not None:
                return existing
            user = TeamsUser(
                id=user_id(email.lower() if email else principal),
                aad_object_id=guid("aad:" + (email or principal).lower()),
                name=name or local.replace(".", " ").title(),
                email=email.lower() if email else None,
                user_principal_name=principal,
            )
            self._by_id[user.id] = user
            return user

    def resolve(self, who: str) -> TeamsUser:
        """The person named by a Teams id, an AAD object id, an e-mail or a UPN (any case);
        `KeyError` if there is none."""
        with self._lock:
            user = self._find(who)
        if user is None:
            raise KeyError(f"no such Teams user: {who}")
        return user

    def find(self, who: str) -> TeamsUser | None:
        """The person named by any of their ids, or None."""
        with self._lock:
            return self._find(who)

    def _find(self, who: str) -> TeamsUser | None:
        if who in self._by_id:
            return self._by_id[who]
        lowered = who.lower()
        return next(
            (
                user
                for user in self._by_id.values()
                if lowered in (user.email, user.user_principal_name, user.aad_object_id)
            ),
            None,
        )

    def members(self) -> list[TeamsUser]:
        """Everyone, in the order they were added."""
        with self._lock:
            return list(self._by_id.values())

    def set_reachable(self, who: str, reachable: bool) -> None:
        """Whether the bot may open a 1:1 chat with the person (false: the app is not installed
        for them and they share no team with it)."""
        user = self.resolve(who)
        with self._lock:
            if reachable:
                self._unreachable.discard(user.id)
            else:
                self._unreachable.add(user.id)

    def reachable(self, user: TeamsUser) -> bool:
        """Whether the bot may open a 1:1 chat with `user`."""
        with self._lock:
            return user.id not in self._unreachable
