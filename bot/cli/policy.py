"""`capdesk policy check FILE`: validate a policy file before the bot relies on it (SPEC 3, 4).

It checks FILE alone (never `CAPDESK_POLICY_FILE` or `./capdesk.yaml`) and opens no database:
the organisation's people come straight from the configured backend. Each problem is one line,
`FILE:LINE: path: what is wrong`. Errors fail the check (exit 1); warnings (a member whom no
group covers) are told and pass, since an organisation may leave some people out on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, Protocol, runtime_checkable

import click

from workflows.admin import RemoteGroup
from workflows.policy import (
    Policy,
    PolicyError,
    Problem,
    check_membership,
    open_policy,
    ungrouped_members,
)
from workflows.policy.backend_groups import check_backend_groups


@dataclass(frozen=True)
class Organisation:
    """The people a policy is checked against, and what to call them in messages."""

    name: str
    """`the sandbox org (seed 7)`, `the anthropic backend`."""
    people: frozenset[str]
    """Every email the backend knows, seats removed or not."""
    active: frozenset[str]
    """The emails of those who hold a seat now."""
    backend: str
    """The connector's name (`anthropic`), for messages about its groups."""
    groups: tuple[RemoteGroup, ...] | None = None
    """The backend's own groups (Claude Enterprise groups); None for a backend without any."""

    def memberships(self) -> dict[str, tuple[str, ...]]:
        """Email -> the ids and names of the backend groups the person is in."""
        found: dict[str, list[str]] = {}
        for group in self.groups or ():
            for email in group.members:
                found.setdefault(email.lower(), []).extend((group.id, group.name))
        return {email: tuple(refs) for email, refs in found.items()}

    def described(self) -> str:
        return f"the {len(self.active)} people of {self.name}"


@runtime_checkable
class PolicyCheckContext(Protocol):
    """What `policy check` needs from the composition root, as the click context object."""

    def organisation(self) -> Organisation:
        """The organisation as the configured backend has it."""
        ...


@dataclass(frozen=True)
class Check:
    """One check of a valid policy against the organisation."""

    run: Callable[[Policy, Organisation], list[Problem]]
    fatal: bool = True
    """Whether its problems fail the check, or are warnings."""


CHECKS: Sequence[Check] = (
    Check(lambda policy, org: check_membership(policy, org.people, organisation=org.name)),
    Check(lambda policy, org: check_backend_groups(policy, org.groups, backend=org.backend)),
    Check(
        lambda policy, org: ungrouped_members(policy, org.active, org.memberships()),
        fatal=False,
    ),
)
"""What `policy check` looks at beyond the file itself, in order."""


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
    """Validate FILE; every problem is printed with its line and its path in the file.

    Without --offline, the people it names are looked up in the configured backend
    (CAPDESK_ADMIN_BACKEND), and members whom no group covers are reported as warnings.
    """
    try:
        loaded = open_policy(file)
    except PolicyError as exc:
        _fail(exc.lines())
    counts = (
        f"{_count(len(loaded.policy.groups), 'group')}, {_count(len(loaded.policy.rules), 'rule')},"
        f" {_count(len(loaded.policy.admins), 'admin')}"
    )
    if offline:
        click.echo(f"{file}: OK ({counts}); not checked against the organisation (--offline)")
        return
    if not isinstance(ctx.obj, PolicyCheckContext):
        raise click.UsageError("the organisation's members are not available; use --offline")
    org = ctx.obj.organisation()
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for each in CHECKS:
        found = loaded.locate(each.run(loaded.policy, org))
        (errors if each.fatal else warnings).extend(found)
    for problem in warnings:
        click.echo(problem.located(str(file), warning=True), err=True)
    if errors:
        _fail([p.located(str(file)) for p in errors])
    said = f"; {_count(len(warnings), 'warning')}" if warnings else ""
    click.echo(f"{file}: OK ({counts}), checked against {org.described()}{said}")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _fail(lines: Sequence[str]) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    raise click.exceptions.Exit(1)
