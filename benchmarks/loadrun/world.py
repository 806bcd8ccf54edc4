"""The organisation of the load run: people who ask, owners who approve, an admin, a policy.

One group holds every person; its owners get each approval card by DM (the group has no
channel). Nothing is approved by the policy itself (`auto_approve_under_usd: 0`), and the
maximum cap is far above what a run can reach, so every request waits for an owner and none
is refused for its size.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.emulator import SlackEmulator
from bot.slack.emulator.state import WorkspaceState
from tests.connectors.fake_contract import FakeContract

ADMIN = "admin@example.com"
AMOUNT_USD = 10
AMOUNT_CENTS = AMOUNT_USD * 100
START_CAP_USD = 100
START_CAP_CENTS = START_CAP_USD * 100
COMMAND = f"raise {AMOUNT_USD} for 14d load test"
"""What each person types after `/capdesk`: a temporary raise with a reason, no modal."""


@dataclass(frozen=True)
class Org:
    """Who takes part, by email."""

    people: tuple[str, ...]
    owners: tuple[str, ...]

    @classmethod
    def of(cls, people: int, owners: int) -> Org:
        return cls(
            people=tuple(f"person{n:03}@load.example.com" for n in range(1, people + 1)),
            owners=tuple(f"owner{n}@example.com" for n in range(1, owners + 1)),
        )

    def decider(self, request: int) -> str:
        """The owner who clicks Approve on a request: they take turns."""
        return self.owners[request % len(self.owners)]

    def policy(self) -> str:
        """The policy file's text."""
        owners = ", ".join(self.owners)
        return (
            "org: {timezone: Europe/Berlin}\n"
            f"admins: [{ADMIN}]\n"
            "groups:\n"
            "  - name: load\n"
            f"    owners: [{owners}]\n"
            '    members: ["*@load.example.com"]\n'
            f"    default_cap_usd: {START_CAP_USD}\n"
            "    max_cap_usd: 1000000\n"
            "    auto_approve_under_usd: 0\n"
        )

    def seat_everyone(self, backend: FakeContract) -> None:
        """Everyone holds a seat at the backend, the people at the starting cap."""
        for number, email in enumerate(self.people, 1):
            backend.add_member(email, f"Person {number:03}", cap=START_CAP_CENTS)
        for number, email in enumerate(self.owners, 1):
            backend.add_member(email, f"Owner {number}", cap=START_CAP_CENTS)
        backend.add_member(ADMIN, "Admin", cap=START_CAP_CENTS)

    def join(self, emu: SlackEmulator) -> dict[str, str]:
        """Adds everyone to the workspace; returns each one's DM channel id with the app."""
        dms: dict[str, str] = {}
        for email in (*self.people, *self.owners, ADMIN):
            user = emu.add_user(email)
            dms[WorkspaceState.dm_id(user.id)] = email
        return dms
