"""`capdesk policy check FILE`: validate a policy file before the bot relies on it (SPEC 3, 4)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, Protocol, runtime_checkable

import click

from bot.cli.policy_groups import group_errors
from workflows.policy import PolicyError, check_membership, load_policy


@runtime_checkable
class PolicyCheckContext(Protocol):
    """What `policy check` needs from the composition root, as the click context object."""

    def known_emails(self) -> set[str]:
        """The email addresses of everyone in the organisation."""
        ...


@click.group()
def policy() -> None:
    """Policy files (capdesk.yaml)."""


@policy.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--offline",
    is_flag=True,
    help="Only validate the file; do not look up admins, owners and members in the organisation.",
)
@click.pass_context
def check(ctx: click.Context, file: Path, offline: bool) -> None:
    """Validate FILE; every problem is printed with its path in the file."""
    try:
        loaded = load_policy(file)
    except PolicyError as exc:
        _fail(file, exc.errors)
    if not offline:
        if not isinstance(ctx.obj, PolicyCheckContext):
            raise click.UsageError("the organisation's members are not available; use --offline")
        unknown = check_membership(loaded, ctx.obj.known_emails()) + group_errors(ctx.obj, loaded)
        if unknown:
            _fail(file, unknown)
    click.echo(
        f"{file}: OK ({len(loaded.groups)} groups, {len(loaded.rules)} rules,"
        f" {len(loaded.admins)} admins)"
    )


def _fail(file: Path, errors: Sequence[str]) -> NoReturn:
    for line in errors:
        click.echo(f"{file}: {line}", err=True)
    raise click.exceptions.Exit(1)
