"""`policy init`'s starter policy: valid as written, and passing the online check."""

from __future__ import annotations

from datetime import date

import pytest

from workflows.admin import RemoteGroup, RemoteMember
from workflows.policy import check_membership, parse_policy
from workflows.policy.backend_groups import check_backend_groups
from workflows.policy.starter import starter_policy

TODAY = date(2026, 11, 24)


def member(email: str, cap: int | None = 8500, *, admin: bool = False) -> RemoteMember:
    return RemoteMember(email, email, "standard", cap, admin=admin)


PEOPLE = [
    member("ana@example.com", admin=True),
    member("dana@example.com", 15000),
    member("eve@example.com"),
    member("ivo@firmware.example.com", None),
    RemoteMember("gone@example.com", "Gone", "standard", 8500, active=False),
]


def passes_the_check(text: str, groups: list[RemoteGroup] | None, backend: str) -> None:
    policy = parse_policy(text, source="starter")
    known = {m.email for m in PEOPLE if m.active}
    assert check_membership(policy, known) == []
    assert check_backend_groups(policy, groups, backend=backend) == []


def test_with_backend_groups_each_becomes_a_group_and_the_rest_another() -> None:
    groups = [
        RemoteGroup("rbac_group_01", "Embedded Team", ("dana@example.com", "eve@example.com")),
        RemoteGroup("rbac_group_02", "embedded team", ("eve@example.com",)),
        RemoteGroup("rbac_group_03", "Empty", ()),
    ]

    text = starter_policy(PEOPLE, groups, backend="anthropic", today=TODAY)

    passes_the_check(text, groups, "anthropic")
    policy = parse_policy(text)
    assert [(g.name, g.anthropic_group, g.members) for g in policy.groups] == [
        ("embedded-team", "rbac_group_01", []),
        ("embedded-team-2", "rbac_group_02", []),
        ("others", None, ["*@example.com", "*@firmware.example.com"]),
    ]
    embedded = policy.groups[0]
    assert (embedded.default_cap_usd, embedded.max_cap_usd) == (150, 600)
    assert policy.admins == ["ana@example.com"]
    assert policy.groups[2].owners == ["ana@example.com"]
    assert "TODO: the people who approve this group's requests" in text
    assert "gone@example.com" not in text
    assert policy.group_of("ana@example.com").name == "others"  # type: ignore[union-attr]


def test_without_backend_groups_one_group_takes_everyone() -> None:
    text = starter_policy(PEOPLE, None, backend="litellm", today=TODAY)

    passes_the_check(text, None, "litellm")
    (group,) = parse_policy(text).groups
    assert (group.name, group.default_cap_usd) == ("everyone", 85)


def test_a_backend_that_tells_no_admins_gets_a_marked_placeholder() -> None:
    people = [member("zoe@example.com", None), member("bob@example.com", None)]

    text = starter_policy(people, None, backend="http", today=TODAY)

    policy = parse_policy(text)
    assert policy.admins == ["bob@example.com"]
    assert "TODO: http does not say who its admins are" in text
    assert policy.groups[0].default_cap_usd == 100


def test_no_members_is_said_in_a_sentence() -> None:
    with pytest.raises(ValueError, match="the http backend has no members"):
        starter_policy([], None, backend="http", today=TODAY)
