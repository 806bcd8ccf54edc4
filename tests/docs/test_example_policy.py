"""`capdesk.example.yaml` loads with the real loader and sets every key there is."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from click.testing import CliRunner
from pydantic import BaseModel

from bot.cli.main import cli
from bot.connectors.sandbox import generate_org
from tests.docs.markdown import ROOT
from tests.docs.test_docs import BASE_RULE_KEYS, RULE_KINDS, policy_models
from workflows.policy import Policy, check_membership, load_policy

EXAMPLE = ROOT / "capdesk.example.yaml"


def keys_set(policy: Policy) -> dict[type[BaseModel], set[str]]:
    """For each model, the keys the file writes out in at least one of its instances."""
    found: dict[type[BaseModel], set[str]] = defaultdict(set)

    def walk(value: object) -> None:
        if isinstance(value, BaseModel):
            found[type(value)] |= value.model_fields_set
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(policy)
    return found


def test_the_example_sets_every_key_of_every_part() -> None:
    written = keys_set(load_policy(EXAMPLE))
    for model in policy_models() - set(RULE_KINDS):
        assert written[model] == set(model.model_fields), model.__name__
    for kind in RULE_KINDS:
        own = set(kind.model_fields) - BASE_RULE_KEYS
        assert own | {"kind"} <= written[kind], f"no {kind.__name__} with every key of its own"
    assert set.union(*(written[kind] for kind in RULE_KINDS)) >= BASE_RULE_KEYS


def test_the_example_works_with_the_sandbox_org_as_it_is() -> None:
    org = generate_org(7, today=date(2026, 11, 23))
    assert check_membership(load_policy(EXAMPLE), [p.email for p in org.people]) == []


def test_policy_check_accepts_the_example() -> None:
    result = CliRunner().invoke(cli, ["policy", "check", str(EXAMPLE), "--offline"])
    assert result.exit_code == 0, result.output
    assert "OK (3 groups, 5 rules, 1 admin)" in result.output
