"""`--at`: run a command as if it were another time, written as CAPDESK_NOW is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from bot.cli.context import CliContext
from workflows.clock import INSTANT_FORMAT, parse_instant

F = TypeVar("F", bound=Callable[..., Any])


class Instant(click.ParamType[datetime]):
    """`2026-12-01T08:30`, or with an offset (`Z`, `+01:00`); without one it stays naive, to be
    read in the organisation's timezone once the policy is known."""

    name = "instant"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_instant(str(value))
        except ValueError as exc:
            self.fail(f"{value!r}: {exc}", param, ctx)


def at_option(command: F) -> F:
    """`--at`: the command runs at that one instant, overriding CAPDESK_NOW."""

    def remember(ctx: click.Context, _param: click.Parameter, value: datetime | None) -> None:
        if value is not None:
            ctx.ensure_object(CliContext).at = value

    return click.option(
        "--at",
        type=Instant(),
        metavar=INSTANT_FORMAT,
        expose_value=False,
        callback=remember,
        help=(
            "Run as if it were this time, read in the organisation's timezone (the policy's"
            " org.timezone) unless an offset follows: 2026-12-01T08:30, 2026-12-01T07:30Z."
            " The same --at gives the same answer. Default: now, or CAPDESK_NOW."
        ),
    )(command)
