"""The campaign browser: every campaign with its per-type counts; filter, sort, open."""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Input, Static
from textual.worker import Worker

from code_console.core.models import LOCAL_OPERATOR, CampaignSummary, CodeType
from code_console.ui.messages import CampaignsLoaded
from code_console.ui.polling import Poller
from code_console.ui.screens.base import PollingScreen

ME = LOCAL_OPERATOR

# (label, value of a summary); the value is also the sort key.
COLUMNS: list[tuple[str, object]] = [
    ("campaign", lambda s: s.campaign_id),
    ("tm avail", lambda s: s.for_type(CodeType.TM).available),
    ("tm resv", lambda s: s.for_type(CodeType.TM).reserved),
    ("tm asgn", lambda s: s.for_type(CodeType.TM).assigned),
    ("ext avail", lambda s: s.for_type(CodeType.EXTERNAL).available),
    ("ext resv", lambda s: s.for_type(CodeType.EXTERNAL).reserved),
    ("ext asgn", lambda s: s.for_type(CodeType.EXTERNAL).assigned),
]


def _cell(value) -> Text:
    if isinstance(value, int):
        return Text(f"{value:,}", justify="right")
    return Text(str(value))


class BrowserScreen(PollingScreen):
    POLL_GROUPS = frozenset({"campaigns"})
    BINDINGS = [
        Binding("slash", "filter", "Filter", id="browser.filter"),
        Binding("s", "sort_next", "Sort", id="browser.sort"),
        Binding("S", "sort_reverse", "Reverse", show=False, id="browser.reverse"),
        Binding("r", "refresh", "Refresh", id="browser.refresh"),
        Binding("p", "pause", "Pause", id="browser.pause"),
        Binding("u", "upload", "Upload", id="browser.upload"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="browser.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.summaries: dict[str, CampaignSummary] = {}
        self.sort_column = 0
        self.sort_reverse = False
        self.poller: Poller | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="filter campaigns (/)", id="filter")
        yield DataTable(id="campaigns", cursor_type="row", zebra_stripes=True)
        yield Static("", id="browser-status", classes="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for index, (label, _) in enumerate(COLUMNS):
            table.add_column(label, key=str(index))
        table.focus()
        self.poller = Poller(self, self.load_campaigns, self.console.refresh_seconds)
        self.poller.now()

    # -- store calls ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="campaigns")
    def load_campaigns(self) -> None:
        self.console.ensure_ready()
        self.post_message(CampaignsLoaded(self.service.campaigns(ME)))

    def poll_finished(self, worker: Worker) -> None:
        if self.poller is not None:
            self.poller.finished()
        self.show_status()

    def on_campaigns_loaded(self, message: CampaignsLoaded) -> None:
        self.summaries = {s.campaign_id: s for s in message.campaigns}
        self.render_rows()

    # -- rendering ------------------------------------------------------------------------

    def visible(self) -> list[CampaignSummary]:
        text = self.query_one("#filter", Input).value.strip().lower()
        rows = [s for s in self.summaries.values() if text in s.campaign_id.lower()]
        key = COLUMNS[self.sort_column][1]
        return sorted(rows, key=lambda s: (key(s), s.campaign_id), reverse=self.sort_reverse)

    def render_rows(self) -> None:
        """Keyed updates: change only the cells that changed unless the row order did."""
        table = self.query_one(DataTable)
        rows = self.visible()
        wanted = [s.campaign_id for s in rows]
        current = [key.value for key in table.rows]
        if wanted == current:
            for summary in rows:
                for index, (_, value) in enumerate(COLUMNS):
                    text = _cell(value(summary))
                    if table.get_cell(summary.campaign_id, str(index)).plain != text.plain:
                        table.update_cell(summary.campaign_id, str(index), text)
        else:
            selected = current[table.cursor_row] if current and 0 <= table.cursor_row < len(current) else None
            with self.app.batch_update():
                table.clear()
                for summary in rows:
                    table.add_row(*(_cell(value(summary)) for _, value in COLUMNS), key=summary.campaign_id)
                if selected in wanted:
                    table.move_cursor(row=wanted.index(selected))
        self.label_columns()
        self.show_status()

    def label_columns(self) -> None:
        table = self.query_one(DataTable)
        for index, (label, _) in enumerate(COLUMNS):
            arrow = (" ▼" if self.sort_reverse else " ▲") if index == self.sort_column else ""
            table.ordered_columns[index].label = Text(label + arrow)
        table.refresh()

    def show_poll_state(self) -> None:
        self.show_status()

    def show_status(self) -> None:
        shown = len(self.query_one(DataTable).rows)
        poll = self.poller.describe() if self.poller else ""
        if not self.summaries and self.poller is not None and self.poller.polls and not self.poller.running:
            self.query_one("#browser-status", Static).update(f"no campaigns yet: press u to upload codes · {poll}")
            return
        self.query_one("#browser-status", Static).update(
            f"{shown} of {len(self.summaries)} campaigns · sorted by {COLUMNS[self.sort_column][0]}"
            f"{' (reversed)' if self.sort_reverse else ''} · {poll} · enter opens"
        )

    # -- actions --------------------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.render_rows()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected, "#campaigns")
    def open_campaign(self, event: DataTable.RowSelected) -> None:
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
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

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
