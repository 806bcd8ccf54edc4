"""Policy groups drawing their members from the backend's own groups (Claude Enterprise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.policy import Organisation
from bot.cli.policy import policy as policy_command
from tests.fakes import ANA, DANA, T0, FakeConnector, FakeUnitOfWork, World
from workflows.admin import RemoteGroup, RemoteMember
from workflows.errors import Refusal
from workflows.policy import Policy
from workflows.policy.backend_groups import check_backend_groups
from workflows.sync import sync

EVE, IVO, PAT = "eve@example.com", "ivo@example.com", "pat@firmware.example.com"


def policy_with(**embedded: Any) -> Policy:
    return Policy.model_validate(
        {
            "admins": [ANA],
            "groups": [
                {
                    "name": "embedded",
                    "owners": [DANA],
                    "default_cap_usd": 85,
                    "max_cap_usd": 400,
                    **embedded,
                },
                {
                    "name": "firmware",
                    "owners": [ANA],
                    "members": [IVO, "*@firmware.example.com"],
                    "default_cap_usd": 50,
                    "max_cap_usd": 200,
                },
            ],
        }
    )


class GroupsConnector(FakeConnector):
    """A backend with groups of its own."""

    def __init__(self, groups: list[RemoteGroup], emails: list[str]) -> None:
        super().__init__(
            members=[RemoteMember(e, e.split("@")[0].title(), None, None) for e in emails]
        )
        self.groups = groups

    def list_groups(self) -> list[RemoteGroup]:
        return self.groups


def test_a_listing_wins_over_a_backend_group_which_wins_over_a_pattern() -> None:
    policy = policy_with(anthropic_group="Embedded")
    in_embedded = ("rbac_group_01", "Embedded")

    assert policy.group_of(EVE) is None
    assert policy.group_of(EVE, in_embedded).name == "embedded"  # type: ignore[union-attr]
    assert policy.group_of(IVO, in_embedded).name == "firmware"  # type: ignore[union-attr]
    assert policy.group_of(PAT, in_embedded).name == "embedded"  # type: ignore[union-attr]
    assert policy.group_of(PAT).name == "firmware"  # type: ignore[union-attr]
    # By id as well as by name, in any case.
    assert policy_with(anthropic_group="RBAC_GROUP_01").group_of(EVE, in_embedded) is not None


def test_members_come_from_the_backend_group_at_every_sync_and_leave_with_it() -> None:
    policy = policy_with(anthropic_group="Embedded")
    embedded = RemoteGroup("rbac_group_01", "Embedded", (EVE, DANA))
    connector = GroupsConnector([embedded], [ANA, DANA, EVE, IVO])
    uow = FakeUnitOfWork(members=[])

    sync(uow.factory, connector, policy, today=T0.date())

    eve = uow.members.get(EVE)
    assert eve is not None
    assert eve.backend_groups == ("rbac_group_01", "Embedded")
    assert eve.tier == "standard"  # the backend did not say: the policy's first tier
    assert uow.mirrored_group("embedded").members == (DANA, EVE)
    world = World(policy, members=uow.members.list())
    request = world.ask(EVE, "raise 20 release prep")
    assert request.group == "embedded"

    connector.groups = [RemoteGroup("rbac_group_01", "Embedded", (DANA,))]
    sync(uow.factory, connector, policy, today=T0.date())

    eve = uow.members.get(EVE)
    assert eve is not None
    assert (eve.backend_groups, policy.group_of_member(eve)) == ((), None)
    assert uow.mirrored_group("embedded").members == (DANA,)


def test_a_member_who_left_the_group_cannot_ask_through_it() -> None:
    policy = policy_with(anthropic_group="Embedded")
    connector = GroupsConnector([RemoteGroup("rbac_group_01", "Embedded", ())], [ANA, DANA, EVE])
    uow = FakeUnitOfWork(members=[])
    sync(uow.factory, connector, policy, today=T0.date())
    world = World(policy, members=uow.members.list())

    with pytest.raises(Refusal, match="not in any group"):
        world.ask(EVE, "raise 20 release prep")


def test_the_check_names_a_group_that_does_not_exist_or_is_ambiguous() -> None:
    groups = [
        RemoteGroup("rbac_group_01", "Embedded", ()),
        RemoteGroup("rbac_group_02", "Embedded", ()),
        RemoteGroup("rbac_group_03", "Systems", ()),
    ]

    def check(policy: Policy, found: list[RemoteGroup] | None, backend: str) -> list[str]:
        return [str(p) for p in check_backend_groups(policy, found, backend=backend)]

    assert check(policy_with(anthropic_group="rbac_group_02"), groups, "anthropic") == []
    assert check(policy_with(anthropic_group="Embeded"), groups, "x") == [
        "groups[0].anthropic_group: the organisation has no group 'Embeded' "
        "(it has: Embedded, Systems)"
    ]
    assert check(policy_with(anthropic_group="embedded"), groups, "x") == [
        "groups[0].anthropic_group: 2 groups are named 'embedded'; "
        "name one by its id (rbac_group_01, rbac_group_02)"
    ]
    assert check(policy_with(anthropic_group="Embedded"), None, "litellm") == [
        "groups[0].anthropic_group: the litellm backend has no groups of its own"
    ]


class Org:
    """The organisation as the composition root offers it to `policy check`."""

    def organisation(self) -> Organisation:
        people = frozenset({ANA, DANA, IVO})
        return Organisation(
            name="the anthropic backend",
            people=people,
            active=people,
            backend="anthropic",
            groups=(RemoteGroup("rbac_group_03", "Systems", (IVO,)),),
        )


def test_policy_check_reports_a_named_group_that_does_not_exist(tmp_path: Path) -> None:
    path = tmp_path / "capdesk.yaml"
    path.write_text(
        """\
admins: [ana@example.com]
groups:
  - {name: embedded, owners: [dana@example.com], anthropic_group: Embedded,
     default_cap_usd: 85, max_cap_usd: 400}
""",
        encoding="utf-8",
    )

    result = CliRunner().invoke(policy_command, ["check", str(path)], obj=Org())

    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": warning: " not in line]
    assert errors == [
        f"{path}:3: groups[0].anthropic_group: the organisation has no group 'Embedded' "
        "(it has: Systems)"
    ]
