"""Pydantic's validation errors of a policy file, said the way a person editing it needs.

"must be 0 or more, got -5" instead of "Input should be greater than or equal to 0", and a
"did you mean" for a misspelt key, kind or choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from workflows.policy.model import AlertRule, Policy
from workflows.policy.spelling import did_you_mean

RULE_KINDS: tuple[str, ...] = tuple(
    get_args(rule.model_fields["kind"].annotation)[0] for rule in get_args(get_args(AlertRule)[0])
)

# What each `pattern=` of the model means, in words.
_PATTERNS = {
    r"^[a-z0-9][a-z0-9_-]*$": "must be lowercase letters, digits, - and _, "
    "starting with a letter or digit",
}
_QUOTED = re.compile(r"'([^']*)'")


def _shown(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value: object) -> str:
    return str(value.normalize()) if isinstance(value, Decimal) else str(value)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one}" if n == 1 else f"{n} {many}"


def _too_short(ctx: dict[str, Any]) -> str:
    least = int(ctx["min_length"])
    if ctx.get("field_type") == "List":
        return "must not be empty" if least == 1 else f"must list at least {least} entries"
    return "must not be empty" if least == 1 else f"must be at least {least} characters"


def _too_long(ctx: dict[str, Any]) -> str:
    most = int(ctx["max_length"])
    if ctx.get("field_type") == "List":
        return f"must list at most {_count(most, 'entry', 'entries')}"
    return f"must be at most {_count(most, 'character', 'characters')}"


def _choices(ctx: dict[str, Any], value: object) -> str:
    expected = str(ctx["expected"])
    return f"must be {expected}, got {_shown(value)}" + did_you_mean(
        value, _QUOTED.findall(expected)
    )


_FIXED = {
    "missing": "is required",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "decimal_parsing": "must be a number",
    "decimal_type": "must be a number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "decimal_max_digits": "is too large",
    "decimal_whole_digits": "is too large",
    "string_type": "must be text (put it in quotes if it looks like a number)",
    "list_type": "must be a list, such as [a, b] or one '- item' per line",
    "model_type": "must be a mapping of keys and values",
    "dict_type": "must be a mapping of keys and values",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "date_parsing": "must be a date such as 2026-12-24",
    "date_type": "must be a date such as 2026-12-24",
    "date_from_datetime_parsing": "must be a date such as 2026-12-24",
    "date_from_datetime_inexact": "must be a date such as 2026-12-24, without a time",
}
"""Errors whose sentence needs nothing from the error but the value it got."""

_WORDED: dict[str, Callable[[dict[str, Any]], str]] = {
    "greater_than_equal": lambda ctx: f"must be {_number(ctx['ge'])} or more",
    "greater_than": lambda ctx: f"must be more than {_number(ctx['gt'])}",
    "less_than_equal": lambda ctx: f"must be {_number(ctx['le'])} or less",
    "less_than": lambda ctx: f"must be less than {_number(ctx['lt'])}",
    "decimal_max_places": lambda ctx: (
        f"must have at most {_count(int(ctx['decimal_places']), 'decimal place', 'decimal places')}"
    ),
    "string_pattern_mismatch": lambda ctx: _PATTERNS.get(
        str(ctx["pattern"]), f"must match the pattern {ctx['pattern']}"
    ),
}
"""Errors whose sentence takes the limit from the error's context, followed by the value."""

_UNSHOWN = frozenset({"missing"})


def sentence(error: ErrorDetails) -> str:
    """What is wrong at `error['loc']`, for a person editing the file."""
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error["input"]
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        key = error["loc"][-1]
        return f"unknown key {key!r}" + did_you_mean(key, keys_at(tuple(error["loc"][:-1])))
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        return (
            f"unknown kind {tag!r}{did_you_mean(tag, RULE_KINDS)}; "
            f"use one of {', '.join(RULE_KINDS)}"
        )
    if kind == "union_tag_not_found":
        return f"needs a kind: one of {', '.join(RULE_KINDS)}"
    if kind == "literal_error":
        return _choices(ctx, value)
    if kind == "too_short":
        return _too_short(ctx)
    if kind == "too_long":
        return _too_long(ctx)
    if kind in _FIXED:
        said = _FIXED[kind]
    elif kind in _WORDED:
        said = _WORDED[kind](ctx)
    else:
        message = str(error["msg"])
        said = message[:1].lower() + message[1:]
    if kind in _UNSHOWN or isinstance(value, dict | list):
        return said
    return f"{said}, got {_shown(value)}"


def keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the policy allows in the mapping at `loc` (a pydantic location)."""
    shape: Any = Policy
    for part in loc:
        shape = _step(shape, part)
        if shape is None:
            return []
    models = [m for m in _alternatives(shape) if isinstance(m, type) and issubclass(m, BaseModel)]
    return [name for model in models for name in model.model_fields]


def _step(shape: Any, part: int | str) -> Any:
    """The type one step down `shape`: a field of a model, an item of a list or a mapping, a
    rule kind."""
    for option in _alternatives(shape):
        if isinstance(part, int) and get_origin(option) is list:
            return get_args(option)[0]
        if isinstance(part, str) and get_origin(option) is dict:
            return get_args(option)[1]
        if not (isinstance(part, str) and isinstance(option, type)):
            continue
        if not issubclass(option, BaseModel):
            continue
        if part in option.model_fields:
            return option.model_fields[part].annotation
        kind = option.model_fields.get("kind")
        if kind is not None and part in get_args(kind.annotation):
            return option  # pydantic puts the rule's kind in the location
    return None


def _alternatives(shape: Any) -> list[Any]:
    """`shape` without Annotated and None, as the list of types it may be."""
    if get_origin(shape) is Annotated:
        return _alternatives(get_args(shape)[0])
    if get_origin(shape) in (Union, UnionType):
        return [a for arg in get_args(shape) if arg is not type(None) for a in _alternatives(arg)]
    return [shape]
