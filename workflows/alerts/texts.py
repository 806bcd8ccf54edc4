"""What the alert rules say: to the member concerned, and to admins and owners at once."""

from __future__ import annotations

from datetime import date, datetime

from workflows.alerts.forecast import NOT_YET
from workflows.alerts.rules import RECLAIM, Firing
from workflows.messages import Action, Message, Progress, Verb
from workflows.model import RequestKind
from workflows.money import format_usd, percent_of
from workflows.policy.model import OrgSettings
from workflows.timefmt import day_label

HEADINGS = {
    "cap_near": "Near their cap",
    "after_hours_spike": "After-hours spikes",
    "group_budget": "Groups near their budget",
    "forecast_overrun": "Forecast to overrun",
    "idle_seat": "Idle seats",
}


def request_more() -> Action:
    """Opens the request form, prefilled (see `workflows.alerts.forms.suggested_request`)."""
    return Action(
        verb=Verb.REQUEST_MORE,
        label="Request more",
        value=RequestKind.CAP_INCREASE,
        style="primary",
    )


def keep_or_release(email: str) -> tuple[Action, ...]:
    return (
        Action(verb=Verb.KEEP_SEAT, label="Keep my seat", value=email, style="primary"),
        Action(verb=Verb.RELEASE_SEAT, label="Release it", value=email, style="danger"),
    )


def to_member(firing: Firing, *, today: date) -> Message | None:
    """The direct message to the member a firing is about, or None when there is nothing to say.

    `today` is the org's local day, against which days are written with or without a year.
    """
    f = firing.figures

    def day(iso: str) -> str:
        return day_label(date.fromisoformat(iso), today=today)

    if firing.kind == "cap_near":
        return Message(
            kind="alert_cap_near",
            title=f"You've used {percent_of(f['spent'], f['cap'])}% of your monthly cap",
            text=f"{format_usd(f['spent'])} of {format_usd(f['cap'])} so far this month. "
            "If you need more before the month ends, ask now: your approvers get it at once.",
            progress=Progress(
                label="Spent this month", used_cents=f["spent"], limit_cents=f["cap"]
            ),
            actions=(request_more(),),
        )
    if firing.kind == "forecast_overrun":
        return Message(
            kind="alert_forecast",
            title="At this pace you'll pass your cap this month",
            text=f"You've spent {format_usd(f['spent'])}; working days left considered, that is"
            f" about {format_usd(f['projected'])} by the month end, over your"
            f" {format_usd(f['cap'])} cap.",
            progress=Progress(
                label="Spent this month", used_cents=f["spent"], limit_cents=f["cap"]
            ),
            actions=(request_more(),),
        )
    if firing.kind == "idle_seat":
        if firing.stage == RECLAIM:
            return None  # the seat's removal tells the holder (workflows.alerts.seats)
        return Message(
            kind="alert_idle_seat",
            title="Do you still need your AI-assistant seat?",
            text=f"You haven't used it for {f['days']} days (since {day(f['since'])}). "
            "Seats cost money whether they are used or not; release it if you can do without.",
            actions=keep_or_release(firing.subject),
        )
    if firing.kind == "after_hours_spike":
        return Message(
            kind="alert_after_hours",
            title="Heavy use outside business hours on your seat",
            text=f"{f['commands']} commands ({format_usd(f['spent'])}) in the hour from"
            f" {f['hour'][11:16]} on {day(f['hour'][:10])}. If that wasn't you, tell an admin"
            " at once.",
        )
    return None


def alert_card(firing: Firing) -> Message:
    """A firing posted at once (`mode: immediate`) to the admins or a group's owners."""
    heading = HEADINGS.get(firing.kind, firing.kind)
    return Message(
        kind="alert",
        title=f"{heading}: {firing.summary}",
        text=f"Rule {firing.rule.id}.",
        actions=() if firing.action is None else (firing.action,),
    )


def spend_note(by: str, *, spent: int, projected: int | None, cap: int) -> Message:
    """The nudge about the month's spend: where it stands and, when it can, where it heads."""
    outlook = (
        f"it is too early to say where the month ends ({NOT_YET})"
        if projected is None
        else f"you are on course for {format_usd(projected)}"
    )
    return Message(
        kind="nudge",
        title="A look at your AI-assistant usage",
        text=f"{by} asked me to check in with you: you've spent {format_usd(spent)} this month"
        f" against your {format_usd(cap)} cap, and {outlook}. If you need more, ask;"
        " if something runs that shouldn't, stop it.",
        progress=Progress(label="Spent this month", used_cents=spent, limit_cents=cap),
        actions=(request_more(),),
    )


def after_hours_note(
    by: str,
    *,
    hour: datetime,
    commands: int | None,
    spent: int | None,
    org: OrgSettings,
    today: date,
) -> Message:
    """The nudge about an after-hours spike: which hour, and how much, if still on record."""
    local = hour.astimezone(org.zone)
    when = f"the hour from {local:%H:%M} on {day_label(local.date(), today=today)}"
    what = (
        f"{commands} commands ({format_usd(spent)}) in {when}"
        if commands is not None and spent is not None
        else f"the use in {when}"
    )
    return Message(
        kind="nudge",
        title="About heavy use of your seat outside business hours",
        text=f"{by} asked me to check in with you about {what}, outside business hours. If that"
        " was you, there is nothing to do; if it wasn't, tell an admin at once, as someone else"
        " may be using your seat.",
    )
