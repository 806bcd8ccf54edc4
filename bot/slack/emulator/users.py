"""The emulated workspace's people: the sandbox organisation's members, with stable Slack ids.

Ids derive from a hash of the email, so the same seed gives the same `U...` ids in every run:
a test, the playground and a person reading logs can all rely on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.connectors.sandbox import SandboxOrg
from bot.slack.emulator.ids import slack_id

TEAM_ID = "T0CAPDESK"
TEAM_DOMAIN = "capdesk-sandbox"
APP_ID = "A0CAPDESK"
BOT_ID = "B0CAPDESK"
BOT_USER_ID = "U0CAPDESK"
BOT_NAME = "capdesk"


@dataclass(frozen=True, slots=True)
class SlackUser:
    """One member of the emulated workspace, as `users.info` describes them."""

    id: str
    email: str
    real_name: str
    tz: str
    is_bot: bool = False

    @property
    def name(self) -> str:
        """The handle Slack puts in `user_name` and `user.username`: the email's local part."""
        return self.email.split("@", 1)[0] if self.email else BOT_NAME

    def to_api(self, at: datetime) -> dict[str, Any]:
        """The `user` object of `users.info` and `users.lookupByEmail`, its offsets as of `at`."""
        zone = ZoneInfo(self.tz)
        offset = at.astimezone(zone).utcoffset()
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": TEAM_ID,
        }
        if self.email:
            profile["email"] = self.email
        if self.is_bot:
            profile["bot_id"] = BOT_ID
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": at.astimezone(zone).tzname(),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": int(at.timestamp()),
            "profile": profile,
        }


class Directory:
    """Who is in the workspace: the org's people, any extras a test adds, and the bot itself."""

    def __init__(self, org: SandboxOrg, *, tz: str) -> None:
        self._tz = tz
        self._by_id: dict[str, SlackUser] = {}
        self._by_email: dict[str, SlackUser] = {}
        self._put(SlackUser(id=BOT_USER_ID, email="", real_name=BOT_NAME, tz=tz, is_bot=True))
        for person in org.people:
            self.add(person.email, real_name=person.name)

    def add(self, email: str, *, real_name: str | None = None, tz: str | None = None) -> SlackUser:
        """Adds a member (or returns the existing one with that email)."""
        existing = self._by_email.get(email.lower())
        if existing is not None:
            return existing
        user = SlackUser(
            id=slack_id("U", email.lower()),
            email=email.lower(),
            real_name=real_name or email.split("@", 1)[0].replace(".", " ").title(),
            tz=tz or self._tz,
        )
        self._put(user)
        return user

    def _put(self, user: SlackUser) -> None:
        self._by_id[user.id] = user
        if user.email:
            self._by_email[user.email] = user

    def by_id(self, user_id: str) -> SlackUser | None:
        """The member with this Slack id."""
        return self._by_id.get(user_id)

    def by_email(self, email: str) -> SlackUser | None:
        """The member with this email, case-insensitive."""
        return self._by_email.get(email.lower())

    def resolve(self, who: str) -> SlackUser:
        """The member named by a Slack id or an email; `KeyError` if there is none."""
        user = self.by_email(who) if "@" in who else self.by_id(who)
        if user is None:
            raise KeyError(f"no such Slack user: {who}")
        return user

    def members(self) -> tuple[SlackUser, ...]:
        """Everyone, the bot included."""
        return tuple(self._by_id.values())
