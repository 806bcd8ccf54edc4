"""Refusals: what a person is told when the bot will not do what they asked."""


class Refusal(Exception):
    """A request the domain declines; `str()` is one clear sentence for the person, and
    nothing was written."""
