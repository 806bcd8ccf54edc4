"""Which chat platform each message of the outbox goes to, when capdesk serves several.

A member gets a message where their earlier version of it is (an update replaces it in
place), else on the platform they used capdesk on last, else on the first platform (in the
order they are configured) that finds them by email. A channel gets it on every platform the
policy names a channel for it on: one outbox row each, so a failure on one is retried there
alone. One person can be on Slack and another on Teams in the same organisation.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from bot.chat.adapter import PlatformNotifier
from workflows.delivery import DeliveryError, Notifier
from workflows.messages import Recipient
from workflows.ports import UnitOfWork


class RoutingNotifier:
    """The outbox's `Platforms`: every configured platform's notifier, in order."""

    def __init__(
        self, notifiers: Sequence[PlatformNotifier], uow: Callable[[], UnitOfWork]
    ) -> None:
        if not notifiers:
            raise ValueError("routing needs at least one platform")
        self._notifiers = {n.platform: n for n in notifiers}
        self._uow = uow

    @property
    def platforms(self) -> list[str]:
        """The platforms served, in the order they were configured."""
        return list(self._notifiers)

    def platforms_for(self, recipient: Recipient, *, holding: Collection[str]) -> Sequence[str]:
        """Where a message to `recipient` goes (see the module docstring); DeliveryError,
        not worth retrying, when no platform reaches them."""
        if len(self._notifiers) == 1:
            # Nothing to choose: the platform's own delivery says why it cannot, if it cannot.
            return list(self._notifiers)
        if recipient.kind == "channel":
            found = [p for p, n in self._notifiers.items() if n.reaches(recipient)]
        else:
            found = self._member(recipient, holding)
        if not found:
            raise DeliveryError(self._unreachable(recipient), transient=False)
        return found

    def notifier(self, platform: str) -> Notifier:
        """The notifier of `platform`; DeliveryError (retried, perhaps by a replica that
        serves it) when this process does not."""
        found = self._notifiers.get(platform)
        if found is None:
            raise DeliveryError(f"no {platform} adapter runs in this process", transient=True)
        return found

    def _member(self, recipient: Recipient, holding: Collection[str]) -> list[str]:
        kept = [p for p in self._notifiers if p in holding]
        if kept:
            return kept
        with self._uow() as uow:
            used = [
                p for p in uow.identities.platforms_of(recipient.address) if p in self._notifiers
            ]
        # The platforms they used first, the one used last first; then the others in order.
        for platform in [*used, *(p for p in self._notifiers if p not in used)]:
            if self._notifiers[platform].reaches(recipient):
                return [platform]
        return []

    def _unreachable(self, recipient: Recipient) -> str:
        names = " or ".join(n.name for n in self._notifiers.values())
        if recipient.kind == "member":
            return f"no {names} user has the email {recipient.address}"
        return f"the policy names no {names} channel for {recipient.address}"
