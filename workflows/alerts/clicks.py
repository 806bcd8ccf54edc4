"""The alert buttons that act on a plain click (registered in `workflows.clicks.HANDLERS`).

`Raise cap` and `Request more` open a form first (`workflows.alerts.forms`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from workflows.alerts.calendar import local_today, month_start
from workflows.alerts.forecast import month_projection
from workflows.alerts.nudges import read_nudge
from workflows.alerts.records import NewFiring
from workflows.alerts.seats import keep_seat, reclaim_seat, release_seat
from workflows.alerts.texts import after_hours_note, spend_note
from workflows.errors import Refusal
from workflows.messages import Fact, Message
from workflows.model import RequestStatus
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.requests.announce import name_of, tell
from workflows.requests.texts import what

if TYPE_CHECKING:
    from workflows.clicks import Click

NUDGES = "~nudge"
"""The firing key's rule id for nudges: one per member a day, whoever clicks."""


def _may_watch(policy: Policy, actor: str, group_name: str | None) -> None:
    group = policy.group(group_name) if group_name else None
    if policy.is_admin(actor) or (group is not None and actor.lower() in group.owners):
        return
    raise Refusal("Only an admin or the group's owners can do that.")


def nudge(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    """Send the member a note on what the alert was about: their spend this month (with a
    Request more button), or an after-hours spike on their seat."""
    about = read_nudge(click.value)
    email = about.email
    today = local_today(click.now, policy.org)
    with uow_factory() as uow:
        member = uow.members.get(email)
        group = policy.group_of(email, member.backend_groups if member else ())
        _may_watch(policy, click.actor, group.name if group else None)
        if member is None or not member.active:
            raise Refusal(f"{email} has no seat that capdesk knows of.")
        # One nudge a member a day on each topic, whoever clicks.
        period = today.isoformat() if about.hour is None else f"{today.isoformat()} {about.topic}"
        first = uow.alerts.claim(
            [NewFiring(NUDGES, email, period, None, {"by": click.actor})],
            now=click.now,
            again_after=None,
        )
        if not first:
            return Message(kind="nudged", title=f"{member.name} was nudged today already")
        by = name_of(uow, click.actor)
        if about.hour is None:
            spent = uow.usage.spend_since(email, month_start(today))
            projected = month_projection(click.now, policy.org).project(spent)
            note = spend_note(by, spent=spent, projected=projected, cap=member.cap_cents)
        else:
            spikes = uow.alerts.hourly_spikes([about.hour], min_commands=0, min_spend_cents=None)
            spike = next((s for s in spikes if s.email == email), None)
            note = after_hours_note(
                by,
                hour=about.hour,
                commands=spike.commands if spike else None,
                spent=spike.spend_cents if spike else None,
                org=policy.org,
                today=today,
            )
        tell(uow, email, note, click.now)
        uow.commit()
    return Message(kind="nudged", title=f"Nudged {member.name}")


def open_requests(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    """The group's pending requests, for its owners and the admins."""
    group = policy.group(click.value)
    if group is None:
        raise Refusal(f"There is no group {click.value!r}.")
    _may_watch(policy, click.actor, group.name)
    with uow_factory() as uow:
        pending = [
            r for r in uow.requests.list(status=RequestStatus.PENDING) if r.group == group.name
        ]
        facts = tuple(
            Fact(label=f"Request {r.ref}", value=f"{name_of(uow, r.requester)}: {what(r)}")
            for r in pending
        )
    return Message(
        kind="open_requests",
        title=f"{len(pending)} open request{'s' if len(pending) != 1 else ''} in {group.name}",
        text="" if pending else "Nothing waits for a decision.",
        facts=facts,
    )


def keep(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    return keep_seat(uow_factory(), policy, actor=click.actor, email=click.value, now=click.now)


def release(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    return release_seat(uow_factory(), policy, actor=click.actor, email=click.value, now=click.now)


def reclaim(uow_factory: Callable[[], UnitOfWork], policy: Policy, click: Click) -> Message:
    return reclaim_seat(uow_factory(), policy, actor=click.actor, email=click.value, now=click.now)
