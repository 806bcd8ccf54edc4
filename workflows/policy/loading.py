"""Reading a policy file and turning every problem into a line that names its path and line.

The YAML is composed before it is constructed, so each key and list item keeps the line it
was written on: a problem at `groups[1].owners[0]` is reported on that line, and one at a key
that is missing on the line of the mapping that lacks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.policy.messages import RULE_KINDS, sentence
from workflows.policy.model import Policy


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a policy: where it is (`groups[1].owners[0]`, "" for the whole
    file), what is wrong, and the line of the file when it is known."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def located(self, source: str, *, warning: bool = False) -> str:
        """`capdesk.yaml:7: groups[0].colour: unknown key 'colour'`."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {'warning: ' if warning else ''}{self}"


class PolicyError(Exception):
    """A policy that cannot be used; `problems` has one entry per problem, each with its path."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        super().__init__(f"{source}: " + "; ".join(str(p) for p in problems))
        self.source = source
        self.problems = problems

    def lines(self) -> list[str]:
        """One line per problem, each starting with the file and line it is about."""
        return [problem.located(self.source) for problem in self.problems]


@dataclass(frozen=True)
class PolicyFile:
    """A valid policy and where each of its keys and items is written."""

    policy: Policy
    source: str
    _lines: dict[str, int] = field(default_factory=dict, repr=False)

    def line_of(self, path: str) -> int | None:
        """The line of `path`, or of the nearest enclosing key or item that is written."""
        return _line_of(self._lines, path)

    def locate(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems, each with the line of its path."""
        return [replace(p, line=self.line_of(p.path)) for p in problems]


def _line_of(lines: dict[str, int], path: str) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in RULE_KINDS and out.startswith("rules["):
            continue  # the rule's kind, which pydantic puts in the location
        else:
            out += f".{part}" if out else str(part)
    return out


def _problems(exc: ValidationError, lines: dict[str, int]) -> list[Problem]:
    found = []
    for error in exc.errors(include_url=False):
        path = _path(tuple(error["loc"]))
        found.append(Problem(path or "(top level)", sentence(error), _line_of(lines, path)))
    # From the top of the file down, as an editor goes through them; unplaced ones first.
    return sorted(found, key=lambda p: p.line or 0)


def _compose(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """The YAML's data and the line of each path in it; PolicyError for YAML that is broken."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        column = "" if mark is None else f" at column {mark.column + 1}"
        problem = exc.problem or exc.context or "unreadable"
        raise PolicyError(
            source, [Problem("", f"not valid YAML{column}: {problem}", line)]
        ) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(source, [Problem("", f"not valid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    twice: list[Problem] = []
    if node is not None:
        _walk(node, "", lines, twice)
    if twice:
        raise PolicyError(source, twice)
    return data, lines


def _walk(node: yaml.Node, path: str, lines: dict[str, int], twice: list[Problem]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            child = f"{path}.{key.value}" if path else str(key.value)
            line = key.start_mark.line + 1
            if child in lines:
                twice.append(Problem(child, f"given twice (first on line {lines[child]})", line))
            lines.setdefault(child, line)
            _walk(value, child, lines, twice)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, twice)


def read_policy(text: str, *, source: str = "<policy>") -> PolicyFile:
    """Validate YAML text as a policy, keeping its line numbers; raises PolicyError listing
    every problem."""
    data, lines = _compose(text, source)
    if data is None:
        raise PolicyError(source, [Problem("", "the file is empty; it needs admins and groups")])
    if not isinstance(data, dict):
        raise PolicyError(
            source, [Problem("(top level)", "must be a mapping with org, admins and groups", 1)]
        )
    try:
        return PolicyFile(Policy.model_validate(data), source, lines)
    except ValidationError as exc:
        raise PolicyError(source, _problems(exc, lines)) from exc


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Validate YAML text as a policy; raises PolicyError listing every problem."""
    return read_policy(text, source=source).policy


def open_policy(path: Path) -> PolicyFile:
    """Read and validate a policy file, keeping its line numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            str(path), [Problem("", f"cannot read the file ({exc.strerror})")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise PolicyError(str(path), [Problem("", f"is not UTF-8 text ({exc.reason})")]) from exc
    return read_policy(text, source=str(path))


def load_policy(path: Path) -> Policy:
    """Read and validate a policy file."""
    return open_policy(path).policy
