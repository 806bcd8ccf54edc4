"""Reading a policy file and turning every problem into a line that names its path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.policy.model import Policy


class PolicyError(Exception):
    """A policy that cannot be used; `errors` has one line per problem, each with its path."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(errors))
        self.source = source
        self.errors = errors


def _path(loc: tuple[int | str, ...], tags: frozenset[str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in tags:
            continue  # the discriminator's value, which pydantic puts in the location
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


_RULE_KINDS = frozenset(
    {"cap_near", "after_hours_spike", "idle_seat", "group_budget", "forecast_overrun"}
)


def format_errors(exc: ValidationError) -> list[str]:
    """`groups[2].owners[0]: 'x' is not an email address` for each error."""
    lines = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "union_tag_invalid":
            message = f"unknown kind; use one of {', '.join(sorted(_RULE_KINDS))}"
        lines.append(f"{_path(tuple(error['loc']), _RULE_KINDS)}: {message}")
    return lines


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Validate YAML text as a policy; raises PolicyError listing every problem."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", exc)
        raise PolicyError(source, [f"{where}: not valid YAML ({problem})"]) from exc
    if not isinstance(data, dict):
        raise PolicyError(source, ["(top level): expected a mapping with org, admins, groups"])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(source, format_errors(exc)) from exc


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), [f"cannot read the file ({exc.strerror})"]) from exc
    return parse_policy(text, source=str(path))
