"""Code lookup for support staff: find a code (or a reservation) and release it."""

from __future__ import annotations

from functools import partial
from typing import Iterable

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from code_console.core.models import LOCAL_OPERATOR, CodeRecord, Status
from code_console.ui.messages import CodesUpdated, LookupFound, ReservationLoaded
from code_console.ui.screens.base import ConsoleScreen
from code_console.ui.screens.dialogs import ConfirmScreen

ME = LOCAL_OPERATOR


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "–"


class LookupScreen(ConsoleScreen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="lookup.back"),
        Binding("x", "release_code", "Release code", id="lookup.release"),
        Binding("X", "release_reservation", "Release reservation", id="lookup.release_reservation"),
        Binding("slash", "search_box", "Search", id="lookup.search"),
    ]
    COLUMNS = ("campaign", "type", "code", "status", "saved", "reserved", "assigned", "reserveId")

    def __init__(self, campaign: str | None = None) -> None:
        super().__init__()
        self.campaign = campaign or ""
        self.records: list[CodeRecord] = []
        self.last_query: tuple[str, str] | None = None
        self.by_reservation = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="field"):
            yield Label("code ")
            yield Input(id="lookup-code", placeholder="a code, or a reserveId with a campaign")
        with Horizontal(classes="field"):
            yield Label("campaign ")
            yield Input(self.campaign, id="lookup-campaign", placeholder="optional")
        yield DataTable(id="lookup-results", cursor_type="row")
        yield Static("enter searches · x releases the code · X releases its whole reservation", id="lookup-status", classes="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.COLUMNS)
        self.query_one("#lookup-code", Input).focus()

    @on(Input.Submitted)
    def submitted(self) -> None:
        code = self.query_one("#lookup-code", Input).value.strip()
        if not code:
            self.query_one("#lookup-code", Input).focus()
            return
        campaign = self.query_one("#lookup-campaign", Input).value.strip()
        self.last_query = (code, campaign)
        self.query_one("#lookup-status", Static).update(f"looking up {code}…")
        self.lookup(code, campaign)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lookup")
    def lookup(self, query: str, campaign: str, note: str = "") -> None:
        records = self.service.lookup(ME, query, campaign or None)
        if not records and campaign:
            # Not a code of this campaign: perhaps a reserveId.
            reservation = self.service.reservation(ME, campaign, query)
            if reservation:
                self.post_message(LookupFound(query, reservation, by_reservation=True, note=note))
                return
        self.post_message(LookupFound(query, records, note=note))

    def on_lookup_found(self, message: LookupFound) -> None:
        self.by_reservation = message.by_reservation
        self.records = sorted(message.records, key=lambda r: (r.campaign_id, r.code))
        table = self.query_one(DataTable)
        table.clear()
        for r in self.records:
            table.add_row(
                r.campaign_id, r.code_type.value, r.code, r.status.value,
                _when(r.saved), _when(r.reserved), _when(r.assigned), r.reserve_id or "–",
                key=f"{r.campaign_id}/{r.code}",
            )
        status = self.query_one("#lookup-status", Static)
        if not self.records:
            status.update(f"no code {message.query!r} found" + ("" if self.last_query and self.last_query[1] else " (give a campaign to search a reserveId)"))
            self.query_one("#lookup-code", Input).focus()
            return
        what = f"reservation {message.query}" if message.by_reservation else f"code {message.query}"
        status.update(message.note or f"{len(self.records)} record{'s' if len(self.records) != 1 else ''} for {what} · x release code · X release reservation")
        table.focus()

    def selected(self) -> CodeRecord | None:
        table = self.query_one(DataTable)
        if not self.records or not 0 <= table.cursor_row < len(self.records):
            return None
        return self.records[table.cursor_row]

    def action_search_box(self) -> None:
        self.query_one("#lookup-code", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- release one code -----------------------------------------------------------------

    def action_release_code(self) -> None:
        record = self.selected()
        if record is None:
            self.notify("look up a code first", severity="warning")
            return
        if record.status is not Status.RESERVED:
            self.notify(f"{record.code} is {record.status.value}: only reserved codes can be released", severity="warning")
            return
        body = f"Release {record.code} in {record.campaign_id} ({record.code_type.value}).\nIt goes back to available and loses reserveId {record.reserve_id}."
        self.app.push_screen(ConfirmScreen("Release code?", body, "Release"), partial(self._release_confirmed, record))

    def _release_confirmed(self, record: CodeRecord, confirmed: bool | None) -> None:
        if confirmed:
            self.release_codes(record.campaign_id, [record.code])

    @work(thread=True, exclusive=False, exit_on_error=False, group="action")
    def release_codes(self, campaign: str, codes: list[str]) -> None:
        self.post_message(CodesUpdated("release", campaign, self.service.release(ME, campaign, codes)))

    # -- release a reservation ------------------------------------------------------------

    def action_release_reservation(self) -> None:
        record = self.selected()
        if record is None or not record.reserve_id:
            self.notify("select a code that has a reserveId", severity="warning")
            return
        self.load_reservation(record.campaign_id, record.reserve_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="reservation")
    def load_reservation(self, campaign: str, reserve_id: str) -> None:
        self.post_message(ReservationLoaded(campaign, reserve_id, self.service.reservation(ME, campaign, reserve_id)))

    def on_reservation_loaded(self, message: ReservationLoaded) -> None:
        held = [r for r in message.records if r.status is Status.RESERVED]
        body = (
            f"Release reservation {message.reserve_id} in {message.campaign}: "
            f"{len(message.records):,} codes carry it, {len(held):,} of them reserved and unassigned.\n"
            "Those go back to available; assigned codes are never released."
        )
        self.app.push_screen(
            ConfirmScreen("Release reservation?", body, "Release all"),
            partial(self._reservation_confirmed, message.campaign, message.reserve_id),
        )

    def _reservation_confirmed(self, campaign: str, reserve_id: str, confirmed: bool | None) -> None:
        if confirmed:
            self.release_reservation(campaign, reserve_id)

    @work(thread=True, exclusive=False, exit_on_error=False, group="action")
    def release_reservation(self, campaign: str, reserve_id: str) -> None:
        self.post_message(CodesUpdated("release", campaign, self.service.release_reservation(ME, campaign, reserve_id)))

    def on_codes_updated(self, message: CodesUpdated) -> None:
        r = message.result
        text = f"released {r.updated:,} of {r.in_:,} codes (in: {r.in_:,}, updated: {r.updated:,})"
        self.notify(text)
        self.query_one("#lookup-status", Static).update(text)
        if self.by_reservation:
            # The released codes no longer carry the reserveId: look the code up again instead.
            self.query_one("#lookup-code", Input).value = self.records[0].code if self.records else ""
        code = self.query_one("#lookup-code", Input).value.strip()
        if code:
            self.last_query = (code, self.query_one("#lookup-campaign", Input).value.strip())
            self.lookup(*self.last_query, note=text)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Release selected code", "Release the selected code if it is reserved", self.action_release_code)
        yield SystemCommand("Release whole reservation", "Release every code of the selected code's reservation", self.action_release_reservation)
        yield SystemCommand("Back", "Close the lookup", self.action_back)
