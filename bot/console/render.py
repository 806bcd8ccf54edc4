"""Chat-neutral messages drawn for the terminal, as a person would see them in chat.

The rich panels are for people (`capdesk demo`); `plain_text` gives the same content without
colours or borders, for logs and tests.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from workflows.messages import Action, Chart, Fact, Message, Outgoing, Progress, Section
from workflows.money import format_usd

BAR_WIDTH = 20
COMMAND_PREFIX = "/capdesk "
"""How the terminal writes a command in a message: as it is typed in Slack, the demo's story."""

_BUTTON_STYLES = {"primary": "bold green", "danger": "bold red", None: "bold"}


def render_message(message: Message) -> RenderableType:
    """The message as a panel: title, text, facts, bar, buttons, footer."""
    return _panel(message.written_for(COMMAND_PREFIX), title=None)


def render_delivery(outgoing: Outgoing, *, recipient_label: str) -> RenderableType:
    """The message as a panel whose title line says who reads it (`DM to Dana Okafor`)."""
    return _panel(outgoing.message.written_for(COMMAND_PREFIX), title=recipient_label)


def plain_text(message: Message) -> str:
    """The same content as the panel, as plain text; sections are separated by a blank line."""
    message = message.written_for(COMMAND_PREFIX)
    sections = ["\n".join(part for part in (message.title, message.text) if part)]
    if message.sections:
        sections.append("\n".join(_section(s).plain for s in message.sections))
    if message.facts:
        width = max(len(fact.label) for fact in message.facts)
        sections.append("\n".join(f"{f.label.ljust(width)}  {f.value}" for f in message.facts))
    if message.progress is not None:
        sections.append(_bar(message.progress).plain)
    if message.actions:
        sections.append(_buttons(message.actions).plain)
    if message.footer:
        sections.append(message.footer)
    if message.chart is not None:
        sections.append("\n".join(line.plain for line in _chart(message.chart)))
    return "\n\n".join(sections)


def _panel(message: Message, *, title: str | None) -> Panel:
    parts: list[RenderableType] = [Text(message.title, style="bold")]
    if message.text:
        parts.append(Text(message.text))
    if message.sections:
        parts += [Text(), *(_section(s) for s in message.sections)]
    if message.facts:
        parts += [Text(), _facts(message.facts)]
    if message.progress is not None:
        parts += [Text(), _bar(message.progress)]
    if message.actions:
        parts += [Text(), _buttons(message.actions)]
    if message.footer:
        parts += [Text(), Text(message.footer, style="dim")]
    if message.chart is not None:
        parts += [Text(), *_chart(message.chart)]
    return Panel(Group(*parts), title=title, title_align="left")


def _facts(facts: Sequence[Fact]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for fact in facts:
        grid.add_row(fact.label, fact.value)
    return grid


def _bar(progress: Progress) -> Text:
    """`Month to date  ██████████████░░░░░░ 72% of $85`; the bar stops at full, the % does not."""
    bar = Text(f"{progress.label}  ")
    if progress.limit_cents <= 0:
        return bar.append(f"{format_usd(progress.used_cents)}, no limit")
    percent, filled = progress.percent(), progress.cells(BAR_WIDTH)
    colour = "red" if percent >= 100 else "yellow" if percent >= 85 else "green"
    bar.append("█" * filled, style=colour)
    bar.append("░" * (BAR_WIDTH - filled), style="dim")
    return bar.append(f" {percent}% of {format_usd(progress.limit_cents)}")


def _buttons(actions: Sequence[Action]) -> Text:
    buttons = Text()
    for index, action in enumerate(actions):
        if index:
            buttons.append("  ")
        buttons.append(f"[ {action.label} ]", style=_BUTTON_STYLES[action.style])
    return buttons


def _section(section: Section) -> Text:
    """A digest heading in bold, or an item with its button after it."""
    if section.heading:
        return Text(section.text, style="bold underline")
    line = Text(f"• {section.text}")
    if section.action is not None:
        line.append("  ").append_text(_buttons([section.action]))
    return line


def _chart(chart: Chart) -> list[Text]:
    """Each panel as labelled bars against the largest amount; `|` marks a bar's limit."""
    lines = [Text(f"Chart: {chart.title}", style="bold")]
    for panel in chart.panels:
        lines.append(Text(panel.title, style="italic"))
        scale = max([max(b.value_cents, b.limit_cents or 0) for b in panel.bars] or [1]) or 1
        width = max((len(b.label) for b in panel.bars), default=0)
        for bar in panel.bars:
            filled = bar.value_cents * BAR_WIDTH // scale
            cells = ["█" if i < filled else "░" for i in range(BAR_WIDTH)]
            if bar.limit_cents:
                mark = min(BAR_WIDTH - 1, bar.limit_cents * BAR_WIDTH // scale)
                cells[mark] = "|"
            limit = f" of {format_usd(bar.limit_cents)}" if bar.limit_cents else ""
            over = bar.limit_cents is not None and bar.value_cents > bar.limit_cents
            lines.append(
                Text(f"  {bar.label.ljust(width)}  ")
                .append("".join(cells), style="red" if over else "cyan")
                .append(f" {format_usd(bar.value_cents)}{limit}")
            )
    return lines
