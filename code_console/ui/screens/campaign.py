"""One campaign: live count panels per type, the session chart, low-stock warnings and actions."""

from __future__ import annotations

from functools import partial
from typing import Iterable

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from code_console.core.models import LOCAL_OPERATOR, CodeType
from code_console.ui.messages import CodesRead, CodesSaved, CodesUpdated, CountsLoaded, Reserved
from code_console.ui.polling import Poller
from code_console.ui.screens.actions import CodesDialog, CodesRequest, ReserveDialog, ReservedScreen, ReserveRequest
from code_console.ui.screens.base import PollingScreen
from code_console.ui.screens.dialogs import ConfirmScreen
from code_console.ui.widgets.counts import CountPanel

ME = LOCAL_OPERATOR

WHAT_CHANGES = {
    "assign": "They become assigned for good: assigned codes can never be released or reserved again.",
    "release": "Those that are reserved and not assigned go back to available; others are left as they are.",
}


class CampaignScreen(PollingScreen):
    POLL_GROUPS = frozenset({"counts"})
    BINDINGS = [
        Binding("escape", "back", "Back", id="campaign.back"),
        Binding("r", "refresh", "Refresh", id="campaign.refresh"),
        Binding("p", "pause", "Pause", id="campaign.pause"),
        Binding("v", "reserve", "Reserve", id="campaign.reserve"),
        Binding("a", "assign", "Assign", id="campaign.assign"),
        Binding("x", "release", "Release", id="campaign.release"),
        Binding("u", "upload", "Upload", id="campaign.upload"),
    ]

    def __init__(self, campaign: str) -> None:
        super().__init__()
        self.campaign = campaign
        self.poller: Poller | None = None
        self.last_reserved: list[str] = []
        self.last_type = CodeType.TM

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.campaign, id="campaign-title", classes="status")
        with Horizontal(id="panels"):
            for code_type in CodeType:
                yield CountPanel(code_type, self.console.low_stock[code_type])
        yield Static("v reserve · a assign · x release · u upload · l look up a code", id="last-result", classes="result")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.poller = Poller(self, self.load_counts, self.console.refresh_seconds)
        self.poller.now()
        self.show_title()

    def show_poll_state(self) -> None:
        self.show_title()

    def show_title(self) -> None:
        poll = self.poller.describe() if self.poller else ""
        self.query_one("#campaign-title", Static).update(f"[b]{self.campaign}[/] · {poll} · r refresh now · p pause")

    # -- polling --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts")
    def load_counts(self) -> None:
        self.console.ensure_ready()
        counts = self.service.campaign_counts(ME, self.campaign)
        self.post_message(CountsLoaded(self.campaign, counts))

    def poll_finished(self, worker: Worker) -> None:
        if self.poller is not None:
            self.poller.finished()

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        for code_type, counts in message.counts.items():
            history = self.console.record_available(self.campaign, code_type, counts.available)
            self.query_one(f"#panel-{code_type.value}", CountPanel).show(counts, history)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_upload(self) -> None:
        self.console.open_upload(self.campaign)

    def show_result(self, text: str) -> None:
        self.query_one("#last-result", Static).update(text)

    # -- reserve --------------------------------------------------------------------------

    def action_reserve(self) -> None:
        self.app.push_screen(ReserveDialog(self.campaign, self.last_type), self._reserve_chosen)

    def _reserve_chosen(self, request: ReserveRequest | None) -> None:
        if request is None:
            return
        body = (
            f"Reserve {request.count:,} {request.code_type.value} codes in {self.campaign}.\n"
            f"They move from available to reserved under one new reserveId for "
            f"{self.console.ttl_text}, unless assigned or released before."
        )
        self.app.push_screen(ConfirmScreen("Reserve codes?", body, "Reserve"), partial(self._reserve_confirmed, request))

    def _reserve_confirmed(self, request: ReserveRequest, confirmed: bool | None) -> None:
        if confirmed:
            self.reserve(request)

    @work(thread=True, exclusive=False, exit_on_error=False, group="action")
    def reserve(self, request: ReserveRequest) -> None:
        codes = self.service.reserve(ME, self.campaign, request.code_type, request.count).codes
        self.post_message(Reserved(self.campaign, request.code_type, request.count, codes))

    def on_reserved(self, message: Reserved) -> None:
        self.last_reserved = message.codes
        self.last_type = message.code_type
        self.show_result(
            f"reserved {len(message.codes):,} of {message.requested:,} {message.code_type.value} codes"
            + ("" if len(message.codes) == message.requested else " (the pool ran out)")
        )
        self.action_refresh()
        default = str(self.console.save_dir / f"reserved-{self.campaign}-{message.code_type.value}-{len(message.codes)}.txt")
        self.app.push_screen(
            ReservedScreen(self.campaign, message.code_type, message.requested, message.codes, default),
            partial(self._save_chosen, message.codes),
        )

    def _save_chosen(self, codes: list[str], path: str | None) -> None:
        if path:
            self.save_codes(path, codes)

    @work(thread=True, exclusive=False, exit_on_error=False, group="file")
    def save_codes(self, path: str, codes: list[str]) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(codes) + "\n")
        self.post_message(CodesSaved(path, len(codes)))

    def on_codes_saved(self, message: CodesSaved) -> None:
        self.notify(f"saved {message.count:,} codes to {message.path}")
        self.show_result(f"saved {message.count:,} reserved codes to {message.path}")

    # -- assign / release -----------------------------------------------------------------

    def action_assign(self) -> None:
        self.app.push_screen(CodesDialog("assign", self.campaign, self.last_reserved), partial(self._codes_chosen, "assign"))

    def action_release(self) -> None:
        self.app.push_screen(CodesDialog("release", self.campaign, self.last_reserved), partial(self._codes_chosen, "release"))

    def _codes_chosen(self, action: str, request: CodesRequest | None) -> None:
        if request is None:
            return
        if request.path:
            self.read_codes(action, request.path)
        else:
            self.confirm_update(action, request.codes)

    @work(thread=True, exclusive=False, exit_on_error=False, group="file")
    def read_codes(self, action: str, path: str) -> None:
        codes = self.service.read_code_list(path)
        self.post_message(CodesRead(action, path, codes))

    def on_codes_read(self, message: CodesRead) -> None:
        if not message.codes:
            self.notify(f"{message.path} holds no codes", severity="warning")
            return
        self.confirm_update(message.action, message.codes, message.path)

    def confirm_update(self, action: str, codes: list[str], path: str | None = None) -> None:
        source = f" from {path}" if path else ""
        sample = ", ".join(codes[:3]) + (f" and {len(codes) - 3:,} more" if len(codes) > 3 else "")
        body = f"{action.capitalize()} {len(codes):,} codes{source} in {self.campaign}: {sample}.\n{WHAT_CHANGES[action]}"
        self.app.push_screen(
            ConfirmScreen(f"{action.capitalize()} codes?", body, action.capitalize(), danger=action == "assign"),
            partial(self._update_confirmed, action, codes),
        )

    def _update_confirmed(self, action: str, codes: list[str], confirmed: bool | None) -> None:
        if confirmed:
            self.update_codes(action, codes)

    @work(thread=True, exclusive=False, exit_on_error=False, group="action")
    def update_codes(self, action: str, codes: list[str]) -> None:
        call = self.service.assign if action == "assign" else self.service.release
        self.post_message(CodesUpdated(action, self.campaign, call(ME, self.campaign, codes)))

    def on_codes_updated(self, message: CodesUpdated) -> None:
        done = "assigned" if message.action == "assign" else "released"
        text = f"{done} {message.result.updated:,} of {message.result.in_:,} codes (in: {message.result.in_:,}, updated: {message.result.updated:,})"
        self.show_result(text)
        self.notify(text)
        self.action_refresh()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Reserve codes", f"Reserve N codes of a type in {self.campaign}", self.action_reserve)
        yield SystemCommand("Assign codes", "Assign codes, pasted or from a file", self.action_assign)
        yield SystemCommand("Release codes", "Release reserved codes, pasted or from a file", self.action_release)
        yield SystemCommand("Refresh counts", "Reload the counts now", self.action_refresh)
        yield SystemCommand("Pause or resume refresh", "Stop or restart the timed refresh", self.action_pause)
        yield SystemCommand("Upload codes", f"Open the upload wizard for {self.campaign}", self.action_upload)
        yield SystemCommand("Back to campaigns", "Return to the campaign browser", self.action_back)
