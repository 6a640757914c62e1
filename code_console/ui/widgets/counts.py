"""The live status-count panel of one code type: counts, the availability chart and the stock line."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from code_console.core.models import CodeType, StatusCounts
from code_console.ui.stock import low_stock
from code_console.ui.widgets.activity import ActivityChart
from code_console.ui.widgets.chart import AvailabilityChart
from code_console.ui.widgets.usage import UsageLines

if TYPE_CHECKING:
    from code_console.core.usage import TypeUsage


class CountPanel(Vertical):
    DEFAULT_CLASSES = "count-panel"

    def __init__(self, code_type: CodeType, threshold: int) -> None:
        super().__init__(id=f"panel-{code_type.value}")
        self.code_type = code_type
        self.threshold = threshold
        self.counts: StatusCounts | None = None
        self.border_title = f"{code_type.value} codes"

    def compose(self) -> ComposeResult:
        yield Static("loading…", classes="counts")
        yield UsageLines(classes="usage")
        yield AvailabilityChart(classes="chart")
        yield ActivityChart(classes="activity")
        yield Static("", classes="stock")

    @property
    def low(self) -> bool:
        return self.counts is not None and low_stock(self.counts, self.threshold)

    def show(self, counts: StatusCounts, history: Sequence[int]) -> None:
        self.counts = counts
        self.query_one(".counts", Static).update(
            f"[b]available[/]  {counts.available:>9,}\n"
            f"[b]reserved[/]   {counts.reserved:>9,}\n"
            f"[b]assigned[/]   {counts.assigned:>9,}\n"
            f"[dim]total[/]      {counts.total:>9,}"
        )
        self.query_one(AvailabilityChart).show(history)
        self.show_stock()

    def show_stock(self) -> None:
        counts = self.counts
        if counts is None:
            return
        stock = self.query_one(".stock", Static)
        alert = getattr(self, "alert", None)
        # An alert recorded by `watch` or `serve` (their thresholds may differ from this console's).
        note = "" if alert is None else (" · alert sent" if alert.delivered else " · alert recorded")
        if counts.total == 0:
            stock.update("[dim]no codes of this type[/]")
        elif self.low:
            stock.update(f"LOW STOCK: {counts.available:,} left (< {self.threshold:,}){note}")
        elif alert is not None:
            stock.update(f"ALERT: {alert.detail.get('message', alert.kind)}")
        else:
            stock.update(f"[dim]stock ok (warning below {self.threshold:,})[/]")
        self.set_class(self.low or alert is not None, "low-stock")

    def show_alert(self, record) -> None:
        """The active alert of this campaign and type, or None (CodeService.alerts)."""
        self.alert = record
        self.show_stock()

    def mark_stale(self, stale: bool) -> None:
        """The store stopped answering: the numbers stay, dimmed, until the next refresh."""
        self.set_class(stale, "stale")

    def show_usage(self, usage: TypeUsage) -> None:
        """Time to empty, the rates, and assignments per hour (per minute over a 1 h window)."""
        self.query_one(UsageLines).show(usage)
        if usage.window.hours == 1:
            self.query_one(ActivityChart).show(usage.assigned_per_minute, timedelta(minutes=1))
        else:
            self.query_one(ActivityChart).show(usage.assigned_per_hour, timedelta(hours=1))
