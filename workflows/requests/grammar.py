"""The capdesk command grammar, shared by every chat surface (SPEC section 8).

status | help | requests | cancel ID
raise [to] AMOUNT [for Nd|until DATE] [reason]
upgrade [TIER] [for Nd|until DATE] [reason]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.errors import Refusal
from workflows.forms.model import FieldName
from workflows.messages import command
from workflows.model import Period, RequestKind
from workflows.money import parse_usd

HELP = "\n".join(
    (
        f"{command('status')} — your tier, cap and spend this month",
        f"{command('raise 150 for 14d release prep')} — ask for $150 more a month, for 14 days",
        f"{command('raise to 300 until 2026-12-12 tape-out')} — ask for a cap of $300 until a date",
        f"{command('upgrade premium for 30d profiling work')} — ask for a better seat",
        f"{command('requests')} — your requests and, for owners, those waiting for you",
        f"{command('cancel 42')} — withdraw a pending request",
    )
)

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_FOR = re.compile(r"^(\d+)\s*(d|day|days|w|week|weeks)$", re.I)
_COUNT_DIGITS = 6
"""More digits than any grant's length needs (and far fewer than `int` refuses)."""

SHORTEST = (
    "A temporary grant lasts at least a day: write for 1d or more, or leave the duration out "
    "for a permanent change."
)
_TIER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class CommandError(Refusal):
    """The text is not a command the bot understands."""


def too_long(longest_days: int, asked: str) -> str:
    """The refusal of a grant longer than the policy's `requests.max_duration_days`."""
    return f"A temporary grant may last at most {longest_days} days; {asked}."


@dataclass(frozen=True, slots=True)
class Status:
    """Show my tier, cap, spend and pending requests."""


@dataclass(frozen=True, slots=True)
class Help:
    """Show the commands."""


@dataclass(frozen=True, slots=True)
class ListRequests:
    """Show my requests and the ones waiting for me."""


@dataclass(frozen=True, slots=True)
class Cancel:
    """Withdraw a pending request."""

    request_id: int


@dataclass(frozen=True, slots=True)
class RequestDraft:
    """What a person asks for; the reason may still be empty (a form asks for it then)."""

    kind: RequestKind
    reason: str = ""
    add_cents: int | None = None
    new_cap_cents: int | None = None
    tier: str | None = None
    ends_at: datetime | None = None
    period: Period = Period.MONTHLY
    current_cents: int | None = None
    """The cap in force at `period` where that is not the member's monthly cap (a native
    request on a weekly limit); None: their monthly cap."""


Command = Status | Help | ListRequests | Cancel | RequestDraft


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """A grant `until` a day lasts through that day in the org's zone."""
    try:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    except OverflowError as exc:  # 9999-12-31 has no next day
        raise CommandError(f"{day.isoformat()} is too far away; pick a nearer date.") from exc


def parse_day(text: str, *, today: date) -> date:
    """`2026-12-12`, `12 Dec`, `Dec 12`; a date without a year is the next one to come."""
    cleaned = text.strip().lower().rstrip(".,")
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        pass
    match = re.match(r"^(?:(\d{1,2})\s+([a-z]{3})[a-z]*|([a-z]{3})[a-z]*\s+(\d{1,2}))$", cleaned)
    if match:
        day_text = match.group(1) or match.group(4)
        month = _MONTHS.get(match.group(2) or match.group(3) or "")
        if month is not None:
            for year in (today.year, today.year + 1):
                try:
                    candidate = date(year, month, int(day_text))
                except ValueError:
                    break
                if candidate >= today:
                    return candidate
    raise CommandError(f"{text.strip()!r} is not a date; write it as 2026-12-12 or 12 Dec.")


def _for(count: str, unit: str, *, now: datetime, longest_days: int) -> datetime:
    """The end of a grant `for` `count` days or weeks, within the policy's longest."""
    weeks = unit.lower().startswith("w")
    days = int(count) * (7 if weeks else 1) if len(count) <= _COUNT_DIGITS else None
    if days == 0:
        raise CommandError(SHORTEST, field=FieldName.UNTIL)
    if days is None or days > longest_days:
        asked = f"{int(count)} {'weeks' if weeks else 'days'}" if days is not None else "that"
        raise CommandError(too_long(longest_days, f"{asked} is longer"), field=FieldName.UNTIL)
    return now + timedelta(days=days)


def _duration(
    words: list[str], *, now: datetime, zone: ZoneInfo, longest_days: int
) -> tuple[datetime | None, list[str]]:
    """Take a leading `for Nd` / `until DATE` off `words`."""
    if len(words) >= 2 and words[0].lower() == "for":
        rest = words[1:]
        joined = " ".join(rest[:2])
        for taken, text in ((2, joined), (1, rest[0])):
            match = _FOR.match(text)
            if match:
                count, unit = match.groups()
                return _for(count, unit, now=now, longest_days=longest_days), rest[taken:]
        raise CommandError(f"'for {rest[0]}' is not a duration; write it as for 14d or for 2w.")
    if len(words) >= 2 and words[0].lower() == "until":
        today = now.astimezone(zone).date()
        for taken in (2, 1):
            if len(words) > taken:
                try:
                    day = parse_day(" ".join(words[1 : taken + 1]), today=today)
                except CommandError:
                    continue
                return end_of_day(day, zone), words[taken + 1 :]
        day = parse_day(words[1], today=today)
        return end_of_day(day, zone), words[2:]
    return None, words


def parse_command(text: str, *, now: datetime, zone: ZoneInfo, longest_days: int) -> Command:
    """Parse a command's text (after `/capdesk` in Slack); raises CommandError with a sentence
    for the person.

    `longest_days` is the policy's longest temporary grant (`requests.max_duration_days`),
    which a `for Nd` must not pass; a date `until` is checked against it with the request.
    """
    words = text.split()
    if not words or words[0].lower() in {"help", "?"}:
        return Help()
    verb, args = words[0].lower(), words[1:]
    if verb == "status" and not args:
        return Status()
    if verb in {"requests", "list"} and not args:
        return ListRequests()
    if verb == "cancel":
        number = args[0].lstrip("#") if len(args) == 1 else ""
        if number.isdecimal() and len(number) <= 18:
            return Cancel(int(number))
        raise CommandError(f"Say which request to cancel, e.g. {command('cancel 42')}.")
    if verb == "raise":
        return _parse_raise(args, now=now, zone=zone, longest_days=longest_days)
    if verb == "upgrade":
        return _parse_upgrade(args, now=now, zone=zone, longest_days=longest_days)
    raise CommandError(f"I don't know `{words[0][:40]}`. Try:\n{HELP}")


def _parse_raise(
    args: list[str], *, now: datetime, zone: ZoneInfo, longest_days: int
) -> RequestDraft:
    to_cap = bool(args) and args[0].lower() == "to"
    if to_cap:
        args = args[1:]
    if not args:
        raise CommandError(f"Say how much, e.g. {command('raise 150 for 14d release prep')}.")
    try:
        cents = parse_usd(args[0])
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    ends_at, rest = _duration(args[1:], now=now, zone=zone, longest_days=longest_days)
    reason = " ".join(rest)
    if to_cap:
        return RequestDraft(RequestKind.CAP_INCREASE, reason, new_cap_cents=cents, ends_at=ends_at)
    return RequestDraft(RequestKind.CAP_INCREASE, reason, add_cents=cents, ends_at=ends_at)


def _parse_upgrade(
    args: list[str], *, now: datetime, zone: ZoneInfo, longest_days: int
) -> RequestDraft:
    tier = None
    if args and args[0].lower() not in {"for", "until"}:
        if not _TIER.match(args[0].lower()):
            raise CommandError(f"{args[0][:40]!r} is not a seat tier.")
        tier, args = args[0].lower(), args[1:]
    ends_at, rest = _duration(args, now=now, zone=zone, longest_days=longest_days)
    return RequestDraft(RequestKind.SEAT_UPGRADE, " ".join(rest), tier=tier, ends_at=ends_at)
