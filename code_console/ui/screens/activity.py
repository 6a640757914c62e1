"""A campaign's live activity: its recorded changes, newest first, refreshed on the console's
timer (who reserved, assigned, released or uploaded what, through which front end)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.widgets import DataTable, Footer
from textual.worker import Worker

from code_console.ui.fit import Part, plural
from code_console.ui.messages import ActivityLoaded
from code_console.ui.polling import Poller
from code_console.ui.screens.base import PollingScreen
from code_console.ui.widgets.header import ConsoleHeader
from code_console.ui.widgets.status import StatusLine
from code_console.ui.widgets.tables import RowTable

if TYPE_CHECKING:
    from code_console.core.audit import EventRecord

# Events kept on screen (the newest); older ones are in `code-console history`.
FEED_SIZE = 200


def what(e: EventRecord) -> str:
    """One cell: the change's substance, e.g. `3 of 5 under R`, `1 of 2 assigned · reserveId R · C1 and 1 more`
    or `batch1.csv, 1,000 codes (sha256 1a2b3c4d)`."""
    d = e.details
    if e.kind == "uploaded":
        return f"{d.get('source')}, {plural(d.get('in', 0), 'code')} (sha256 {str(d.get('sha256') or '')[:8]})"
    if e.kind == "reserved":
        return f"{d.get('given', 0):,} of {d.get('asked', 0):,} under {e.reserve_id}"
    verb = "assigned" if e.kind == "assigned" else "released"
    changed = sum(1 for o in e.outcomes if o == verb)
    parts = [f"{changed:,} of {d.get('in', len(e.codes)):,} {verb}"]
    if e.reserve_id:
        parts.append(f"reserveId {e.reserve_id}")
    if len(e.codes) == 1:
        outcome = e.outcomes[0]
        parts.append(e.codes[0] + ("" if outcome == verb else f": {outcome.replace('_', ' ')}"))
    elif e.codes:
        parts.append(f"{e.codes[0]} and {len(e.codes) - 1:,} more")
    return " · ".join(parts)


class ActivityScreen(PollingScreen):
    POLL_GROUPS = frozenset({"activity"})
    COLUMNS = ("time", "change", "actor", "via", "what")
    BINDINGS = [
        Binding("escape", "back", "Back", id="activity.back"),
        Binding("r", "refresh", "Refresh", show=False, id="activity.refresh", tooltip="read the activity now"),
        Binding("p", "pause", "Pause", show=False, id="activity.pause", tooltip="pause or resume the live feed"),
    ]

    def __init__(self, campaign: str) -> None:
        super().__init__()
        self.campaign = campaign
        self.events: list[EventRecord] = []

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        yield StatusLine(id="activity-title", classes="status title")
        yield RowTable(id="activity-feed")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*self.COLUMNS)
        self.poller = Poller(self, self.load_activity, self.console.refresh_seconds)
        self.poller.now()
        self.show_title()

    def show_poll_state(self) -> None:
        self.show_title()

    def show_title(self) -> None:
        stale = self.stale_text()
        self.query_one("#activity-title", StatusLine).show(
            Part(Text(f"{self.campaign} activity", style="bold"), 10),
            Part(Text(stale, style="bold red"), 9) if stale else Part("", 0),
            Part(f"the latest {FEED_SIZE:,} changes" if len(self.events) >= FEED_SIZE else plural(len(self.events), "change"), 6),
            Part(self.poller.describe() if self.poller else "", 5),
            Part("p pause", 3),
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="activity")
    def load_activity(self) -> None:
        self.console.ensure_ready()
        page = self.service.history(self.me, self.campaign, limit=FEED_SIZE)
        self.post_message(ActivityLoaded(self.campaign, page.events))

    def poll_finished(self, worker: Worker) -> None:
        if self.poller is not None:
            self.poller.finished()

    def on_activity_loaded(self, message: ActivityLoaded) -> None:
        self.mark_refreshed()
        newest = self.events[0].id if self.events else ""
        if message.events and message.events[0].id != newest:
            self.events = message.events
            table = self.query_one(DataTable)
            table.clear()
            for e in self.events:
                table.add_row(
                    e.at.strftime("%Y-%m-%d %H:%M:%S"), e.kind.replace("_", " "), e.actor, e.channel, what(e), key=e.id
                )
        self.show_title()

    def action_back(self) -> None:
        self.app.pop_screen()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Refresh activity", "Read the campaign's changes now", self.action_refresh)
        yield SystemCommand("Back", "Return to the campaign", self.action_back)
