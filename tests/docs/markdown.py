"""Reading the project's Markdown as the docs tests need it: sections, table rows, links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_CODE = re.compile(r"`([^`]+)`")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Row:
    """One body row of a table: its cells, the first one's code span as its key."""

    key: str
    cells: tuple[str, ...]

    def codes(self, column: int) -> set[str]:
        """The code spans of one cell: `a`, `b` → {"a", "b"}."""
        return set(_CODE.findall(self.cells[column]))


def without_code_blocks(text: str) -> str:
    """The text with its fenced code blocks blanked out (a `#` in them is no heading)."""
    return _FENCE.sub("", text)


def sections(text: str) -> dict[str, str]:
    """Each heading's text, without its `#`s, and the body up to the next heading."""
    found: dict[str, str] = {}
    title, body = "", []
    for line in without_code_blocks(text).splitlines():
        match = _HEADING.match(line)
        if match:
            found[title] = "\n".join(body)
            title, body = match.group(2), []
        else:
            body.append(line)
    found[title] = "\n".join(body)
    return found


def rows(body: str) -> list[Row]:
    """The rows of the tables in `body` whose first cell starts with a code span."""
    found = []
    for line in body.splitlines():
        if not line.startswith("| `"):
            continue
        cells = tuple(cell.strip() for cell in line.strip().strip("|").split("|"))
        key = _CODE.match(cells[0])
        assert key is not None, line
        found.append(Row(key=key.group(1), cells=cells))
    return found


def slug(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading: lowercase, punctuation dropped."""
    text = re.sub(r"[^\w\- ]", "", heading.lower())
    return text.strip().replace(" ", "-")
