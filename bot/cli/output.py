"""How the commands print for people: laid out for the terminal, or whole lines for a file.

On a terminal rich fits tables and messages to its width. Piped or redirected, rich would
assume 80 columns and fold rule names and e-mails over several lines; there each table and
each message is printed at its natural width instead, so every row stays on one line for
`grep`, `diff` and the next program. `--json` output never goes through here.
"""

from __future__ import annotations

from typing import IO

from rich.console import Console, RenderableType
from rich.measure import Measurement

_UNWRAPPED = 1_000_000
"""The width of a console that writes to a file: wider than any row capdesk prints."""


class Output:
    """Where a command prints: stdout (or stderr) as a terminal or as a file."""

    def __init__(self, *, stderr: bool = False, file: IO[str] | None = None) -> None:
        console = Console(stderr=stderr, file=file)
        if not console.is_terminal:
            console = Console(stderr=stderr, file=file, width=_UNWRAPPED)
        self.console = console

    def print(self, renderable: RenderableType) -> None:
        """Print a table, a message or a line: fitted to a terminal, unwrapped to a file."""
        if self.console.is_terminal:
            self.console.print(renderable)
            return
        options = self.console.options
        width = Measurement.get(self.console, options, renderable).maximum
        self.console.print(renderable, width=max(1, width))
