"""One campaign: live count panels per type, the availability charts, low-stock warnings and actions."""

from __future__ import annotations

from typing import Iterable

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Static
from textual.worker import Worker

from code_console.core.models import LOCAL_OPERATOR, CodeType
from code_console.ui.dialogs.codes import CodesDialog
from code_console.ui.dialogs.outcome import OutcomeScreen
from code_console.ui.dialogs.reserve import ReserveDialog, ReserveOutcome
from code_console.ui.dialogs.reserved import ReservedScreen
from code_console.ui.fit import Part
from code_console.core.service import Window
from code_console.ui.messages import AlertsLoaded, CodesUpdated, CountsLoaded, UsageLoaded
from code_console.ui.outcomes import summary, unchanged_count
from code_console.ui.polling import Poller
from code_console.ui.saving import file_name
from code_console.ui.screens.activity import ActivityScreen
from code_console.ui.screens.base import PollingScreen
from code_console.ui.widgets.counts import CountPanel
from code_console.ui.widgets.header import ConsoleHeader
from code_console.ui.widgets.status import StatusLine

ME = LOCAL_OPERATOR
REFRESH = Binding.Group("Refresh")
# Fits 80 columns on one line; the footer keeps its keys (e and w are listed here and in help).
HINT = "v reserve · a assign · x release · u upload · e export · w window · l lookup"
WINDOWS = list(Window)


class CampaignScreen(PollingScreen):
    POLL_GROUPS = frozenset({"counts"})
    BINDINGS = [
        Binding("escape", "back", "Back", id="campaign.back", tooltip="back to the campaigns (everywhere: back, close)"),
        Binding("v", "reserve", "Reserve", id="campaign.reserve", tooltip="reserve N codes of a type (shown, can be saved)"),
        Binding("a", "assign", "Assign", id="campaign.assign", tooltip="assign codes, pasted or read from a file"),
        Binding("x", "release", "Release", id="campaign.release", tooltip="release codes, pasted or read from a file"),
        Binding("u", "upload", "Upload", id="campaign.upload", tooltip="upload wizard for this campaign"),
        Binding(
            "h", "activity", "Activity", show=False, id="campaign.activity", tooltip="the campaign's live activity (history): who changed what, newest first"
        ),
        Binding(
            "r", "refresh", "Refresh", show=False, id="campaign.refresh", group=REFRESH, tooltip="refresh the counts now, pause or resume the timed refresh"
        ),
        Binding(
            "e", "export", "Export", show=False, id="campaign.export", tooltip="export this campaign's codes of a type (a status) to a CSV or JSON lines file"
        ),
        Binding("w", "window", "Window", show=False, id="campaign.window", tooltip="rates over the last 1 h, 24 h or 7 days"),
        Binding("p", "pause", "Pause", show=False, id="campaign.pause", group=REFRESH),
        Binding("p", "resume", "Resume", show=False, id="campaign.resume", group=REFRESH),
    ]

    def __init__(self, campaign: str) -> None:
        super().__init__()
        self.campaign = campaign
        self.poller: Poller | None = None
        self.last_type = CodeType.TM
        self.window = Window.DAY

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        yield StatusLine(id="campaign-title", classes="status title")
        with Horizontal(id="panels"):
            for code_type in CodeType:
                yield CountPanel(code_type, self.console.low_stock[code_type])
        yield Static(HINT, id="last-result", classes="result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.poller = Poller(self, self.load_counts, self.console.refresh_seconds)
        self.poller.now()
        self.show_title()

    def show_poll_state(self) -> None:
        self.show_title()

    def show_title(self) -> None:
        poll = self.poller.describe() if self.poller else ""
        stale = self.stale_text()
        paused = self.poller is not None and self.poller.paused
        self.query_one("#campaign-title", StatusLine).show(
            Part(Text(self.campaign, style="bold"), 10),
            Part(Text(stale, style="bold red"), 9) if stale else Part("", 0),
            Part(f"rates over {self.window.value}", 6, short=self.window.value),
            Part("w window", 1),
            Part(poll, 5),
            Part("r refresh now", 2),
            Part("p resume" if paused else "p pause", 3),
        )
        for panel in self.query(CountPanel):
            panel.mark_stale(self.stale)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "resume") and self.poller is not None:
            return self.poller.paused == (action == "resume")
        return True

    def action_resume(self) -> None:
        self.action_pause()

    # -- polling --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts")
    def load_counts(self) -> None:
        self.console.ensure_ready()
        # One counts command and one aggregation: the usage carries the counts.
        usage = self.service.usage(self.me, self.campaign, self.window)
        self.post_message(CountsLoaded(self.campaign, usage.summary().counts))
        self.post_message(UsageLoaded(self.campaign, usage))
        self.post_message(AlertsLoaded(self.service.alerts(self.me)))

    def poll_finished(self, worker: Worker) -> None:
        if self.poller is not None:
            self.poller.finished()

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        self.mark_refreshed()
        for code_type, counts in message.counts.items():
            history = self.console.record_available(self.campaign, code_type, counts.available)
            self.query_one(f"#panel-{code_type.value}", CountPanel).show(counts, history)

    def on_usage_loaded(self, message: UsageLoaded) -> None:
        if message.usage.window is not self.window:
            return  # a poll from before the window changed: the next one is on its way
        for code_type, usage in message.usage.types.items():
            self.query_one(f"#panel-{code_type.value}", CountPanel).show_usage(usage)

    def on_alerts_loaded(self, message: AlertsLoaded) -> None:
        self.console.show_alerts(message.records)
        for panel in self.query(CountPanel):
            mine = [r for r in message.records if r.low and r.campaign_id == self.campaign and r.code_type == panel.code_type.value]
            panel.show_alert(mine[0] if mine else None)

    def action_window(self) -> None:
        """Rates over the next window: 1 h, 24 h, 7 d, then 1 h again."""
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self.show_title()
        self.action_refresh()

    def action_export(self) -> None:
        from code_console.ui.dialogs.export import ExportDialog

        self.app.push_screen(ExportDialog(self.campaign, self.last_type, self.console.save_dir), self._exported)

    def _exported(self, outcome: str | None) -> None:
        if outcome:
            self.show_result(escape(outcome))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_upload(self) -> None:
        self.console.open_upload(self.campaign)

    def action_activity(self) -> None:
        self.app.push_screen(ActivityScreen(self.campaign))

    def show_result(self, text: str) -> None:
        self.query_one("#last-result", Static).update(text)

    # -- reserve --------------------------------------------------------------------------

    def action_reserve(self) -> None:
        dialog = ReserveDialog(self.campaign, self.last_type, self.service.reserve_max_count)
        self.app.push_screen(dialog, self._reserved)

    def _reserved(self, outcome: ReserveOutcome | None) -> None:
        if outcome is None:
            return
        reservation = outcome.reservation
        self.last_type = outcome.code_type
        got = len(reservation.codes)
        if got:
            self.show_result(
                f"reserved {got:,} of {outcome.requested:,} {outcome.code_type.value} codes"
                + ("" if got == outcome.requested else " (the pool ran out)")
                + f"\nreserveId [b]{escape(reservation.reserve_id)}[/]"
            )
        else:
            self.show_result(f"no {outcome.code_type.value} codes available: nothing reserved")
        self.action_refresh()
        default = self.console.save_dir / file_name("reserved", self.campaign, outcome.code_type.value, reservation.reserve_id)
        self.app.push_screen(ReservedScreen(outcome, default), lambda path: self._saved(path, got, reservation.reserve_id))

    def _saved(self, path: str | None, count: int, reserve_id: str) -> None:
        if path:
            self.notify(f"saved {count:,} codes to {path}", timeout=4)
            self.show_result(f"saved {count:,} reserved codes to {escape(path)}\nreserveId [b]{escape(reserve_id)}[/]")

    # -- assign / release -----------------------------------------------------------------

    def action_assign(self) -> None:
        self.app.push_screen(CodesDialog("assign", self.campaign), self._updated)

    def action_release(self) -> None:
        self.app.push_screen(CodesDialog("release", self.campaign), self._updated)

    def _updated(self, message: CodesUpdated | None) -> None:
        if message is None:
            return
        self.show_result(escape(summary(message.action, message.result)))
        self.action_refresh()
        if unchanged_count(message.result):
            default = self.console.save_dir / file_name("unchanged", message.action, self.campaign, f"{self.console.wall_clock():%Y%m%d-%H%M%S}")
            self.app.push_screen(OutcomeScreen(message.action, self.campaign, message.result, default))

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Reserve codes", f"Reserve N codes of a type in {self.campaign}", self.action_reserve)
        yield SystemCommand("Assign codes", "Assign codes, pasted or from a file", self.action_assign)
        yield SystemCommand("Release codes", "Release reserved codes, pasted or from a file", self.action_release)
        yield SystemCommand("Refresh counts", "Reload the counts now", self.action_refresh)
        yield SystemCommand("Pause or resume refresh", "Stop or restart the timed refresh", self.action_pause)
        yield SystemCommand("Upload codes", f"Open the upload wizard for {self.campaign}", self.action_upload)
        yield SystemCommand("Activity", f"Who changed what in {self.campaign}, live", self.action_activity)
        yield SystemCommand("Export codes", f"Write {self.campaign}'s codes of a type (a status) to a file", self.action_export)
        yield SystemCommand("Change the rate window", "Rates and time to empty over 1 h, 24 h or 7 days", self.action_window)
        yield SystemCommand("Back to campaigns", "Return to the campaign browser", self.action_back)
