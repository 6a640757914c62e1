"""Assignments per hour as bars: a zero baseline, a labelled value axis and a labelled time axis.

Give it counts per bucket (oldest first), how long a bucket is and what the series covers; it
draws

    assigned per hour, last 24 h
     20┤        ▃ █
       │  ▅     █ █
      0└──────────────
       -24 h       now

with the bars fitted to its width: when there are more buckets than columns, neighbouring
buckets are added together (a bar then covers 2 h, 6 h, ... and the caption says so), the
newest at the right. A zero draws no bar, so the baseline shows it; any other count shows at
least a sliver.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from code_console.ui.fit import Part, fit
from code_console.ui.widgets.chart import EIGHTHS, nice_ceiling, short_number


def span_text(span: timedelta) -> str:
    """1 h, 6 h, 24 h, 7 d, 1 min, 5 min."""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours <= 24 or hours % 24:
        return f"{hours} h"
    return f"{hours // 24} d"


def bucket_noun(span: timedelta) -> str:
    """per hour, per minute, per 6 h."""
    if span == timedelta(hours=1):
        return "per hour"
    if span == timedelta(minutes=1):
        return "per minute"
    return f"per {span_text(span)}"


def binned(values: Sequence[int], columns: int) -> tuple[list[int], int]:
    """`values` added together in groups of k so that at most `columns` remain (the newest group
    is whole: an incomplete one is the oldest); returns the groups and k."""
    if columns <= 0 or not values:
        return [], 1
    k = max(1, math.ceil(len(values) / columns))
    groups = []
    end = len(values)
    while end > 0:
        groups.append(sum(values[max(0, end - k) : end]))
        end -= k
    return groups[::-1], k


class ActivityChart(Widget):
    DEFAULT_CSS = """
    ActivityChart {
        height: 1fr;
        min-height: 4;
    }
    ActivityChart > .activity--caption {
        color: $text-muted;
    }
    ActivityChart > .activity--axis {
        color: $text-muted;
    }
    ActivityChart > .activity--bar {
        color: $accent;
    }
    """
    COMPONENT_CLASSES = {"activity--caption", "activity--axis", "activity--bar"}

    data: reactive[tuple[int, ...]] = reactive(tuple)

    def __init__(self, *, noun: str = "assigned", id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.noun = noun
        self.bucket = timedelta(hours=1)

    def show(self, values: Sequence[int], bucket: timedelta) -> None:
        """Counts per bucket of length `bucket`, oldest first, ending now."""
        self.bucket = bucket
        self.data = tuple(max(0, int(v)) for v in values)
        self.refresh()

    @property
    def covered(self) -> timedelta:
        return self.bucket * len(self.data)

    def bar_layout(self) -> tuple[list[int], int, int]:
        """(bars, buckets per bar, width of the value labels) for the current size."""
        top_guess = nice_ceiling(max(self.data, default=0))
        label = max(len(short_number(top_guess)), 1)
        bars, k = binned(self.data, self.size.width - label - 1)
        top = nice_ceiling(max(bars, default=0))
        return bars, k, max(len(short_number(top)), 1)

    def caption(self, k: int) -> list[Part]:
        if not self.data:
            return [Part(f"{self.noun}: waiting for the first refresh", 1, short="waiting for data")]
        per = bucket_noun(self.bucket * k)
        last = span_text(self.covered)
        if not any(self.data):
            return [Part(f"{self.noun} {per}", 2), Part(f"none in the last {last}", 3, short="none")]
        return [Part(f"{self.noun} {per}", 2), Part(f"last {last}", 1)]

    @property
    def caption_text(self) -> str:
        bars, k, _ = self.bar_layout()
        return ", ".join(p.plain for p in self.caption(k))

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        caption_style = self.get_component_rich_style("activity--caption")
        axis_style = self.get_component_rich_style("activity--axis")
        bar_style = self.get_component_rich_style("activity--bar")
        bars, k, label = self.bar_layout()
        out = fit(self.caption(k), width, separator=", ")
        out.stylize(caption_style)
        if not self.data or height < 3:
            return out
        with_times = height >= 5
        rows = max(height - 2 - (1 if with_times else 0), 1)
        top = max(nice_ceiling(max(bars, default=0)), 1)  # an axis from 0 to 1 when nothing happened
        plot = width - label - 1
        # Few buckets on a wide panel: each bar two or three columns wide, so they read as bars.
        each = max(1, min(3, plot // max(len(bars), 1)))
        for row in range(rows):
            level = rows - 1 - row  # 0 is the bottom row
            tick = short_number(top) if row == 0 else ""
            out.append("\n")
            out.append(f"{tick:>{label}}" + ("┤" if row == 0 else "│"), style=axis_style)
            line = []
            for value in bars:
                filled = value / top * rows if top else 0.0
                if filled >= level + 1:
                    cell = EIGHTHS[8]
                elif filled > level:
                    eighths = int((filled - level) * 8)
                    cell = EIGHTHS[max(eighths, 1 if level == 0 else 0)]
                else:
                    cell = " "
                line.append(cell * each)
            out.append(" " * (plot - len(bars) * each) + "".join(line), style=bar_style)
        out.append("\n")
        out.append(f"{'0':>{label}}└" + "─" * plot, style=axis_style)
        if with_times:
            start, end = f"-{span_text(self.covered)}", "now"
            gap = max(plot - len(bars) * each, 0)
            left = " " * (label + 1 + gap) + start
            times = left + " " * max(width - len(left) - len(end), 1) + end
            out.append("\n")
            out.append(times[:width], style=axis_style)
        return out
