"""Where a message goes on one platform: a member's account there, or the channel the policy
names for the address on it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.chat.directory import Directory
from workflows.delivery import DeliveryError
from workflows.messages import Recipient
from workflows.policy import Policy


@dataclass(frozen=True, slots=True)
class Address:
    """A recipient on one platform: a member's account id, or a channel's id."""

    kind: str
    id: str


class Addresses:
    """The recipients of one platform (`directory.platform`), named `name` in errors."""

    def __init__(self, directory: Directory, policy: Policy, *, name: str) -> None:
        self._directory = directory
        self._policy = policy
        self._name = name

    async def reaches(self, recipient: Recipient) -> bool:
        """Whether `recipient` has an address on this platform."""
        if recipient.kind == "member":
            return await self._directory.account_of(recipient.address) is not None
        return self.channel_of(recipient) is not None

    async def of(self, recipient: Recipient) -> Address:
        """The recipient's address here; DeliveryError (not worth retrying) when it has none."""
        if recipient.kind == "member":
            account = await self._directory.account_of(recipient.address)
            if account is None:
                raise DeliveryError(
                    f"no {self._name} user has the email {recipient.address}", transient=False
                )
            return Address("member", account)
        channel = self.channel_of(recipient)
        if channel is None:
            raise DeliveryError(
                f"the policy names no {self._name} channel for {recipient.address}",
                transient=False,
            )
        return Address("channel", channel)

    def channel_of(self, recipient: Recipient) -> str | None:
        """The channel the policy names for a channel address on this platform."""
        return self._policy.channel_ref(recipient.address, self._directory.platform)
