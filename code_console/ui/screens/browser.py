"""The campaign browser: every campaign with its per-type counts; filter, sort, open."""

from __future__ import annotations

from typing import Any, Callable, Iterable
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker

from code_console.core.models import LOCAL_OPERATOR, CampaignSummary, CodeType
from code_console.ui.fit import Part, plural
from code_console.core.service import Window, describe_time_to_empty
from code_console.ui.messages import AlertsLoaded, CampaignsLoaded, CampaignsUsageLoaded
from code_console.ui.policy import StoreState
from code_console.ui.polling import Poller
from code_console.ui.screens.base import PollingScreen
from code_console.ui.stock import low_stock
from code_console.ui.widgets.header import ConsoleHeader
from code_console.ui.widgets.inputs import FormInput
from code_console.ui.widgets.status import StatusLine
from code_console.ui.widgets.tables import RowTable

if TYPE_CHECKING:
    from code_console.core.usage import Usage

ME = LOCAL_OPERATOR
SORT = Binding.Group("Sort")
REFRESH = Binding.Group("Refresh")

# (label, value of a summary, the type whose stock the column shows); the value is the sort key.
COLUMNS: list[tuple[str, Callable[[CampaignSummary], Any], CodeType | None]] = [
    ("campaign", lambda s: s.campaign_id, None),
    ("tm avail", lambda s: s.for_type(CodeType.TM).available, CodeType.TM),
    ("tm resv", lambda s: s.for_type(CodeType.TM).reserved, None),
    ("tm asgn", lambda s: s.for_type(CodeType.TM).assigned, None),
    ("ext avail", lambda s: s.for_type(CodeType.EXTERNAL).available, CodeType.EXTERNAL),
    ("ext resv", lambda s: s.for_type(CodeType.EXTERNAL).reserved, None),
    ("ext asgn", lambda s: s.for_type(CodeType.EXTERNAL).assigned, None),
]
# Time to empty at the last 24 h's rate, the type that runs out first (sorted by when): second,
# so that it shows at 80 columns, where the last columns scroll.
COLUMNS.insert(1, ("empty in", lambda s: soonest_empty(s), None))
USAGE_WINDOW = Window.DAY


@dataclass(frozen=True)
class CampaignRow(CampaignSummary):
    """A campaign's counts and, once loaded, its usage over the browser's window."""

    usage: Usage | None = None


def soonest_empty(row: CampaignSummary) -> tuple[float, str]:
    """(seconds, text) of the type that runs out first at its recent rate: `tm 9 d 18 h`, `ext 2 h`;
    infinity and "no recent use" when nothing was assigned in the window."""
    usage = getattr(row, "usage", None)
    if usage is None:
        return math.inf, ""
    best: tuple[float, str] = (math.inf, describe_time_to_empty(None))
    for code_type, u in usage.types.items():
        if row.for_type(code_type).total == 0 or u.time_to_empty is None:
            continue
        seconds = u.time_to_empty.total_seconds()
        if seconds < best[0]:
            short = "ext" if code_type is CodeType.EXTERNAL else code_type.value  # as the column labels say
            best = (seconds, f"{short} {describe_time_to_empty(u.time_to_empty)}")
    return best


def _cell(value, low: bool = False) -> Text:
    if isinstance(value, tuple):  # (sort key, text)
        return Text(value[1], style="dim" if value[0] == math.inf else "")
    if isinstance(value, int):
        # Marked as well as coloured: a monochrome terminal shows it too.
        return Text(f"{value:,}!" if low else f"{value:,} ", justify="right", style="bold red" if low else "")
    return Text(str(value))


class BrowserScreen(PollingScreen):
    POLL_GROUPS = frozenset({"campaigns"})
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="browser.filter", tooltip="filter campaigns as you type (enter or escape to leave)"),
        Binding("s", "sort_next", "Sort", id="browser.sort", group=SORT, tooltip="sort by the next column, reverse the order (or click a header)"),
        Binding("S", "sort_reverse", "Reverse", show=False, id="browser.reverse", group=SORT),
        Binding("enter", "open_selected", "Open", show=False, id="browser.open", tooltip="open the selected campaign"),
        Binding(
            "r", "refresh", "Refresh", show=False, id="browser.refresh", group=REFRESH, tooltip="refresh the counts now, pause or resume the timed refresh"
        ),
        Binding("p", "pause", "Pause", show=False, id="browser.pause", group=REFRESH),
        Binding("p", "resume", "Resume", show=False, id="browser.resume", group=REFRESH),
        Binding("u", "upload", "Upload", id="browser.upload", tooltip="upload wizard, for the selected campaign"),
        Binding("l", "app.lookup", "Lookup", id="browser.lookup"),
        Binding("t", "app.traffic_pause", "Traffic", id="browser.traffic"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="browser.clear", tooltip="clear the filter"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summaries: dict[str, CampaignSummary] = {}
        self.usage: dict = {}
        self.loaded = False
        self.sort_column = 0
        self.sort_reverse = False
        self.poller: Poller | None = None

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        yield FormInput(placeholder="filter campaigns (/)", id="filter")
        yield RowTable(id="campaigns", zebra_stripes=True)
        yield Static("", id="browser-empty", classes="empty")
        yield StatusLine(id="browser-status", classes="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for index, (label, _, _) in enumerate(COLUMNS):
            table.add_column(label, key=str(index))
        table.focus()
        self.poller = Poller(self, self.load_campaigns, self.console.refresh_seconds)
        self.poller.now()
        self.show_status()

    # -- store calls ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="campaigns")
    def load_campaigns(self) -> None:
        self.console.ensure_ready()
        # One counts command and one aggregation: the usage carries the counts.
        usage = self.service.campaigns_usage(self.me, USAGE_WINDOW)
        self.post_message(CampaignsUsageLoaded(usage))
        self.post_message(CampaignsLoaded([u.summary() for u in usage.values()]))
        self.post_message(AlertsLoaded(self.service.alerts(self.me)))

    def poll_finished(self, worker: Worker) -> None:
        if self.poller is not None:
            self.poller.finished()
        self.show_status()

    def on_campaigns_loaded(self, message: CampaignsLoaded) -> None:
        self.summaries = {s.campaign_id: CampaignRow(s.campaign_id, s.counts, self.usage.get(s.campaign_id)) for s in message.campaigns}
        self.loaded = True
        self.mark_refreshed()
        self.render_rows()

    def on_alerts_loaded(self, message: AlertsLoaded) -> None:
        self.console.show_alerts(message.records)

    def on_campaigns_usage_loaded(self, message: CampaignsUsageLoaded) -> None:
        self.usage = message.usage  # the rows are drawn with it when CampaignsLoaded follows

    # -- rendering ------------------------------------------------------------------------

    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value.strip()

    def visible_summaries(self) -> list[CampaignSummary]:
        text = self.filter_text().lower()
        rows = [s for s in self.summaries.values() if text in s.campaign_id.lower()]
        key = COLUMNS[self.sort_column][1]
        return sorted(rows, key=lambda s: (key(s), s.campaign_id), reverse=self.sort_reverse)

    def cells(self, summary: CampaignSummary) -> list[Text]:
        out = []
        for _, value, stock_type in COLUMNS:
            low = stock_type is not None and low_stock(summary.for_type(stock_type), self.console.low_stock[stock_type])
            out.append(_cell(value(summary), low))
        return out

    def low_campaigns(self) -> int:
        return sum(
            1 for s in self.summaries.values() if any(low_stock(s.for_type(t), self.console.low_stock[t]) for t in CodeType)
        )

    def render_rows(self) -> None:
        """Keyed updates: change only the cells that changed unless the row order did."""
        table = self.query_one(DataTable)
        rows = self.visible_summaries()
        wanted = [s.campaign_id for s in rows]
        current = [key.value for key in table.rows]
        if wanted == current:
            for summary in rows:
                for index, text in enumerate(self.cells(summary)):
                    if table.get_cell(summary.campaign_id, str(index)) != text:
                        table.update_cell(summary.campaign_id, str(index), text, update_width=True)
        else:
            selected = current[table.cursor_row] if current and 0 <= table.cursor_row < len(current) else None
            with self.app.batch_update():
                table.clear()
                for summary in rows:
                    table.add_row(*self.cells(summary), key=summary.campaign_id)
                if selected in wanted:
                    table.move_cursor(row=wanted.index(selected))
        self.label_columns()
        self.show_status()

    def label_columns(self) -> None:
        table = self.query_one(DataTable)
        for index, (label, _, _) in enumerate(COLUMNS):
            arrow = (" ▼" if self.sort_reverse else " ▲") if index == self.sort_column else ""
            table.ordered_columns[index].label = Text(label + arrow)
        table.refresh()

    def show_poll_state(self) -> None:
        self.show_status()

    def empty_text(self) -> str:
        """What stands in for the table when it has no rows: why, and what to do."""
        if self.summaries and not self.visible_summaries():
            return f"No campaign matches '{escape(self.filter_text())}': escape clears the filter."
        if self.summaries:
            return ""
        if self.console.store_state is StoreState.UNREACHABLE:
            return f"[b]Cannot reach the store[/] ({escape(self.console.backends.store)}).\nThe console keeps trying; campaigns appear when it answers."
        if self.console.store_state is StoreState.SLOW:
            return "[b]The store is slow to answer[/] (busy, not down).\nThe console keeps trying; campaigns appear when it answers."
        if self.loaded:
            return "No campaigns yet: press u to upload codes."
        return "Loading campaigns…"

    def show_status(self) -> None:
        shown = len(self.visible_summaries())
        empty = self.empty_text()
        note = self.query_one("#browser-empty", Static)
        note.update(empty)
        note.display = bool(empty)
        self.query_one(DataTable).display = not empty or bool(self.summaries and shown)
        poll = self.poller.describe() if self.poller else ""
        stale = self.stale_text()
        status = self.query_one("#browser-status", StatusLine)
        if not self.summaries:
            status.show(Part(stale, 9), Part(poll, 3))
            return
        low = self.low_campaigns()
        count = f"{shown:,} of {plural(len(self.summaries), 'campaign')}" if self.filter_text() else plural(len(self.summaries), "campaign")
        status.show(
            Part(Text(stale, style="bold red"), 9) if stale else Part("", 0),
            Part(count, 8),
            Part(Text(f"{low} low on stock (!)", style="bold red"), 7) if low else Part("", 0),
            Part(f"sorted by {COLUMNS[self.sort_column][0]}{' (reversed)' if self.sort_reverse else ''}", 4),
            Part(poll, 5),
            Part("enter opens", 2),
        )

    # -- actions --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "resume") and self.poller is not None:
            return self.poller.paused == (action == "resume")
        return True

    def action_resume(self) -> None:
        self.action_pause()

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.render_rows()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected, "#campaigns")
    def open_campaign(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.console.open_campaign(event.row_key.value)

    @on(DataTable.HeaderSelected, "#campaigns")
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        if event.column_index == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column = event.column_index
        self.render_rows()

    def selected_campaign(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.rows:
            return None
        return table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value

    def action_open_selected(self) -> None:
        campaign = self.selected_campaign()
        if campaign:
            self.console.open_campaign(campaign)

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_clear_filter(self) -> None:
        self.query_one("#filter", Input).value = ""
        self.query_one(DataTable).focus()

    def action_sort_next(self) -> None:
        self.sort_column = (self.sort_column + 1) % len(COLUMNS)
        self.render_rows()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self.render_rows()

    def action_upload(self) -> None:
        self.console.open_upload(self.selected_campaign())

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Filter campaigns", "Type to filter the campaign list", self.action_filter)
        yield SystemCommand("Sort by next column", "Cycle the column the campaigns are sorted by", self.action_sort_next)
        yield SystemCommand("Reverse sort", "Reverse the sort order", self.action_sort_reverse)
        yield SystemCommand("Refresh campaigns", "Reload the counts now", self.action_refresh)
        yield SystemCommand("Pause or resume refresh", "Stop or restart the timed refresh", self.action_pause)
        yield SystemCommand("Upload codes", "Open the upload wizard for the selected campaign", self.action_upload)
        campaign = self.selected_campaign()
        if campaign:
            yield SystemCommand(f"Open {campaign}", "Open the selected campaign", lambda: self.console.open_campaign(campaign))
