"""A bar chart of available codes over the last refreshes, on a zero-based scale it names.

Self-contained: give it a list of non-negative counts (oldest first) and it draws its own
caption ("available codes, last N refreshes, scale 0 to 20k") and one bar per sample, the
newest at the right. A 0.2 % drop stays a 0.2 % change in bar height, an empty pool draws
no bars at all, and one sample is one bar, not a block across the panel.
"""

from __future__ import annotations

import math
from typing import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from code_console.ui.fit import Part, fit

EIGHTHS = " ▁▂▃▄▅▆▇█"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 2.5, 5 x 10^k at or above `value` (0 stays 0)."""
    if value <= 0:
        return 0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return int(step * power)
    return 10 * power  # pragma: no cover - the loop always returns


def short_number(value: int) -> str:
    """20000 -> 20k, 2500 -> 2.5k, 1000000 -> 1M, 950 -> 950."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= size:
            return f"{value / size:.3g}{suffix}"
    return str(value)


class AvailabilityChart(Widget):
    DEFAULT_CSS = """
    AvailabilityChart {
        height: 1fr;
        min-height: 3;
    }
    AvailabilityChart > .chart--caption {
        color: $text-muted;
    }
    AvailabilityChart > .chart--bar {
        color: $success;
    }
    """
    COMPONENT_CLASSES = {"chart--caption", "chart--bar"}

    data: reactive[tuple[int, ...]] = reactive(tuple)

    def __init__(self, *, noun: str = "available codes", id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.noun = noun

    def show(self, samples: Sequence[int]) -> None:
        self.data = tuple(max(0, int(s)) for s in samples)

    def shown(self) -> tuple[int, ...]:
        """The samples that fit the width: one column each, the newest at the right."""
        width = self.size.width
        return self.data[-width:] if width else self.data

    @property
    def scale_top(self) -> int:
        return nice_ceiling(max(self.shown(), default=0))

    def caption(self) -> list[Part]:
        samples = self.shown()
        if not samples:
            return [Part(f"{self.noun}: waiting for the first refresh", 1, short="waiting for data")]
        n = len(samples)
        over = "the last refresh" if n == 1 else f"the last {n} refreshes"
        if self.scale_top == 0:
            return [Part(f"{self.noun} over {over}: none", 2, short=f"{self.noun}: none")]
        # What the chart shows outlasts its scale on a narrow panel: the bars start at 0 anyway.
        return [
            Part(f"{self.noun} over {over}", 2, short=f"available, {n} refresh{'es' if n != 1 else ''}"),
            Part(f"scale 0 to {self.scale_top:,}", 1, short=f"0 to {short_number(self.scale_top)}"),
        ]

    @property
    def caption_text(self) -> str:
        return ", ".join(p.plain for p in self.caption())

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        caption_style = self.get_component_rich_style("chart--caption")
        bar_style = self.get_component_rich_style("chart--bar")
        out = fit(self.caption(), width, separator=", ")
        out.stylize(caption_style)
        rows = max(height - 1, 0)
        top = self.scale_top
        samples = self.shown() if width else ()
        for row in range(rows):
            level = rows - 1 - row  # 0 is the bottom row
            line = []
            for value in samples:
                filled = value / top * rows if top else 0.0
                if filled >= level + 1:
                    line.append(EIGHTHS[8])
                elif filled > level:
                    eighths = int((filled - level) * 8)
                    # A pool that still has codes always shows a sliver on the bottom row.
                    line.append(EIGHTHS[max(eighths, 1 if level == 0 else 0)])
                else:
                    line.append(" ")
            out.append("\n")
            out.append(" " * (width - len(samples)) + "".join(line), style=bar_style)
        return out
