"""A panel's usage lines: time to empty, and the rates it is based on, fitted to the width."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widget import Widget

from code_console.core.service import describe_rate, describe_time_to_empty
from code_console.ui.fit import Part, fit

if TYPE_CHECKING:
    from code_console.core.usage import TypeUsage


def usage_parts(usage: TypeUsage | None) -> tuple[list[Part], list[Part]]:
    """(the time-to-empty line, the rates line) as parts for `fit`."""
    if usage is None:
        return [Part("time to empty: waiting for the first refresh", 1, short="waiting for data")], []
    window = usage.window.value
    tte = describe_time_to_empty(usage.time_to_empty)
    if usage.time_to_empty is None:
        first = [Part("time to empty:", 1, short="empty in:"), Part(Text(tte, style="bold"), 2)]
    elif usage.available <= 0:
        first = [Part(Text("no codes available", style="bold"), 2)]
    else:
        first = [Part("empty in", 2), Part(Text(tte, style="bold"), 3), Part(f"at {describe_rate(usage.assign_rate)}", 1)]
    rates = [
        Part(f"{describe_rate(usage.reserve_rate)} reserved", 3),
        Part(f"{describe_rate(usage.assign_rate)} assigned", 2),
        Part(f"over {window}", 1),
    ]
    return first, rates


class UsageLines(Widget):
    DEFAULT_CSS = """
    UsageLines {
        height: 2;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.usage: TypeUsage | None = None

    def show(self, usage: TypeUsage) -> None:
        self.usage = usage
        self.refresh()

    @property
    def plain(self) -> str:
        first, rates = usage_parts(self.usage)
        return "\n".join(fit(parts, self.size.width or 200, separator=sep).plain for parts, sep in ((first, " "), (rates, " · ")))

    def render(self) -> Text:
        first, rates = usage_parts(self.usage)
        out = fit(first, self.size.width, separator=" ")
        out.append("\n")
        out.append_text(fit(rates, self.size.width, separator=" · "))
        return out
