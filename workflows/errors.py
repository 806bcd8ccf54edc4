"""Refusals: what a person is told when the bot will not do what they asked."""

from __future__ import annotations

from workflows.forms.model import FieldName

INVALID_BUTTON = "This button is not valid: it is not one capdesk made, so nothing was done."
"""The refusal of a click whose value capdesk cannot have written."""


class Refusal(Exception):
    """A request the domain declines; `str()` is one clear sentence for the person, and
    nothing was written. `field` names the form field at fault, when there is one."""

    def __init__(self, message: str, *, field: FieldName | None = None) -> None:
        super().__init__(message)
        self.field = field
