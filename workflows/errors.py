"""Refusals: what a person is told when the bot will not do what they asked."""

from __future__ import annotations

from typing import Literal

Field = Literal["amount", "tier", "until", "reason"]
"""A field of the request form; a form shows the refusal next to it."""


class Refusal(Exception):
    """A request the domain declines; `str()` is one clear sentence for the person, and
    nothing was written. `field` names the form field at fault, when there is one."""

    def __init__(self, message: str, *, field: Field | None = None) -> None:
        super().__init__(message)
        self.field = field
