"""Code lookup for support staff: find a code or a whole reservation, see every field of the
selected code (the reserveId whole, copyable), and release a code or the reservation.

A reservation view stays a reservation view: after a release it reads the reservation again,
and codes that left it are kept in the list, marked as released.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Iterable

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Input, Label

from code_console.core.models import LOCAL_OPERATOR, CodeRecord, Status
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.dialogs.outcome import OutcomeScreen
from code_console.ui.fit import Part, plural
from code_console.ui.messages import CodesUpdated, LookupFound, ReservationLoaded
from code_console.ui.outcomes import summary, unchanged_count
from code_console.ui.reservations import update_codes
from code_console.ui.saving import file_name
from code_console.ui.screens.base import ConsoleScreen
from code_console.ui.widgets.header import ConsoleHeader
from code_console.ui.widgets.inputs import FormInput
from code_console.ui.widgets.record import RecordDetail
from code_console.ui.widgets.status import StatusLine
from code_console.ui.widgets.tables import RowTable

ME = LOCAL_OPERATOR
RELEASED = "released"


@dataclass(frozen=True)
class View:
    """What the table shows: one code (in every campaign, or one), or one reservation."""

    query: str
    campaign: str
    reserve_id: str | None = None  # set: the view is this reservation

    @property
    def by_reservation(self) -> bool:
        return self.reserve_id is not None


class LookupScreen(ConsoleScreen):
    COLUMNS = ("code", "status", "type", "campaign")
    BINDINGS = [
        Binding("escape", "back", "Back", id="lookup.back"),
        Binding("slash", "search_box", "Search", show=False, id="lookup.search", tooltip="type a code, or a reserveId with its campaign"),
        Binding("enter", "open_reservation", "Reservation", show=False, id="lookup.reservation", tooltip="list the selected code's whole reservation"),
        Binding("x", "release_code", "Release", id="lookup.release", tooltip="release the selected code"),
        Binding("X", "release_reservation", "Release all", id="lookup.release_reservation", tooltip="release every code of its reservation"),
        Binding("c", "copy_reserve_id", "Copy id", id="lookup.copy", tooltip="copy the selected code's reserveId"),
    ]

    def __init__(self, campaign: str | None = None) -> None:
        super().__init__()
        self.campaign = campaign or ""
        self.records: list[CodeRecord] = []
        self.left: set[str] = set()  # codes that left the reservation shown (released here)
        self.view: View | None = None
        self.last_result = ""  # what the last release did, shown until the next search
        self.releasing: list[CodeRecord] = []  # the reservation being released, as it was

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        with Horizontal(classes="field"):
            yield Label("code ")
            yield FormInput(id="lookup-code", placeholder="a code, or a reserveId with a campaign")
        with Horizontal(classes="field"):
            yield Label("campaign ")
            yield FormInput(self.campaign, id="lookup-campaign", placeholder="optional; needed for a reserveId")
        yield RowTable(id="lookup-results")
        yield RecordDetail(id="lookup-detail")
        yield StatusLine("enter searches", "x releases the code", "X its whole reservation", id="lookup-status", classes="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*self.COLUMNS)
        self.query_one("#lookup-code", Input).focus()

    @property
    def by_reservation(self) -> bool:
        return self.view is not None and self.view.by_reservation

    def status(self, *parts: Part | str) -> None:
        self.query_one("#lookup-status", StatusLine).show(*parts)

    # -- search ---------------------------------------------------------------------------

    @on(Input.Submitted)
    def submitted(self) -> None:
        code = self.query_one("#lookup-code", Input).value.strip()
        if not code:
            self.query_one("#lookup-code", Input).focus()
            return
        campaign = self.query_one("#lookup-campaign", Input).value.strip()
        self.left = set()
        self.last_result = ""
        self.search(View(code, campaign))

    def search(self, view: View) -> None:
        self.status(Part(f"looking up {view.query}…"))
        self.lookup(view)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lookup")
    def lookup(self, view: View) -> None:
        if view.reserve_id is not None:
            records = self.service.reservation(ME, view.campaign, view.reserve_id)
            self.post_message(LookupFound(view.query, records, by_reservation=True, campaign=view.campaign))
            return
        records = self.service.lookup(ME, view.query, view.campaign or None)
        if not records and view.campaign:
            # Not a code of this campaign: perhaps a reserveId.
            reservation = self.service.reservation(ME, view.campaign, view.query)
            if reservation:
                self.post_message(LookupFound(view.query, reservation, by_reservation=True, campaign=view.campaign))
                return
        self.post_message(LookupFound(view.query, records, campaign=view.campaign))

    def on_lookup_found(self, message: LookupFound) -> None:
        previous = self.view
        self.view = View(message.query, message.campaign, message.query if message.by_reservation else None)
        found = sorted(message.records, key=lambda r: (r.campaign_id, r.code))
        if self.by_reservation and previous is not None and previous.reserve_id == self.view.reserve_id:
            # Codes released here no longer carry the reserveId: keep them in view, marked.
            still = {r.code for r in found}
            kept = [r for r in self.records if r.code in self.left and r.code not in still]
            found = sorted(found + kept, key=lambda r: (r.campaign_id, r.code))
        else:
            self.left = set()
        self.records = found
        self.render_rows()
        if not self.records:
            hint = "" if message.campaign else " (give a campaign to search a reserveId)"
            self.status(Part(f"no code {message.query!r} found{hint}", 5))
            self.console.move_focus(self.query_one("#lookup-code", Input))
            return
        self.show_status()
        self.console.move_focus(self.query_one(DataTable))

    def render_rows(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for r in self.records:
            status = Text(RELEASED, style="dim") if r.code in self.left else Text(r.status.value if r.status else "fits no status")
            table.add_row(r.code, status, r.code_type.value, r.campaign_id, key=f"{r.campaign_id}/{r.code}")
        if self.records:
            table.move_cursor(row=min(max(row, 0), len(self.records) - 1))
        self.show_detail()

    def show_status(self) -> None:
        if self.view is None:
            return
        n = len(self.records)
        if self.by_reservation:
            held = sum(1 for r in self.records if r.code not in self.left and r.status is Status.RESERVED)
            what = Part(f"reservation {self.view.reserve_id}: {plural(n, 'code')}, {held:,} reserved", 9)
        else:
            what = Part(f"{plural(n, 'record')} for code {self.view.query}", 9)
        done = Part(self.last_result, 10) if self.last_result else Part("", 0)
        self.status(done, what, Part("enter lists its reservation", 2), Part("c copies the reserveId", 3))

    def selected(self) -> CodeRecord | None:
        table = self.query_one(DataTable)
        if not self.records or not 0 <= table.cursor_row < len(self.records):
            return None
        return self.records[table.cursor_row]

    @on(DataTable.RowHighlighted, "#lookup-results")
    def show_detail(self) -> None:
        record = self.selected()
        self.query_one(RecordDetail).show(record, released=record is not None and record.code in self.left)

    @on(DataTable.RowSelected, "#lookup-results")
    def row_selected(self) -> None:
        self.action_open_reservation()

    def action_open_reservation(self) -> None:
        record = self.selected()
        if record is None or not record.reserve_id or record.code in self.left:
            self.notify("the selected code holds no reservation", severity="warning", timeout=3)
            return
        if self.by_reservation and self.view is not None and self.view.reserve_id == record.reserve_id:
            return
        self.query_one("#lookup-code", Input).value = record.reserve_id
        self.query_one("#lookup-campaign", Input).value = record.campaign_id
        self.left = set()
        self.search(View(record.reserve_id, record.campaign_id, record.reserve_id))

    def action_search_box(self) -> None:
        self.query_one("#lookup-code", Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_copy_reserve_id(self) -> None:
        record = self.selected()
        if record is None or not record.reserve_id:
            self.notify("the selected code has no reserveId", severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard(record.reserve_id)
        self.notify(f"copied reserveId {record.reserve_id}", timeout=4)

    # -- release one code -----------------------------------------------------------------

    def action_release_code(self) -> None:
        record = self.selected()
        if record is None:
            self.notify("look up a code first", severity="warning", timeout=3)
            return
        if record.status is Status.ASSIGNED:
            self.notify(f"{record.code} is assigned: assigned codes are never released", severity="warning", timeout=4)
            return
        held = f"\nIt goes back to available and loses reserveId {record.reserve_id}." if record.reserve_id else ""
        body = escape(f"Release {record.code} in {record.campaign_id} ({record.code_type.value}).{held}")
        self.app.push_screen(ConfirmScreen("Release code?", body, "Release"), partial(self._release_confirmed, record))

    def _release_confirmed(self, record: CodeRecord, confirmed: bool | None) -> None:
        if confirmed:
            self.release_codes(record.campaign_id, [record.code], record.reserve_id)

    @work(thread=True, exclusive=False, exit_on_error=False, group="action")
    def release_codes(self, campaign: str, codes: list[str], reserve_id: str | None) -> None:
        # The reservation the user saw guards the release (ui/reservations.py).
        result = update_codes(self.service, ME, "release", campaign, codes, reserve_id=reserve_id)
        self.post_message(CodesUpdated("release", campaign, result, codes, reserve_id))

    # -- release a reservation ------------------------------------------------------------

    def action_release_reservation(self) -> None:
        record = self.selected()
        if record is None or not record.reserve_id or record.code in self.left:
            self.notify("select a code that has a reserveId", severity="warning", timeout=3)
            return
        self.load_reservation(record.campaign_id, record.reserve_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="reservation")
    def load_reservation(self, campaign: str, reserve_id: str) -> None:
        self.post_message(ReservationLoaded(campaign, reserve_id, self.service.reservation(ME, campaign, reserve_id)))

    def on_reservation_loaded(self, message: ReservationLoaded) -> None:
        held = [r for r in message.records if r.status is Status.RESERVED]
        body = escape(
            f"Release reservation {message.reserve_id} in {message.campaign}: "
            f"{plural(len(message.records), 'code')} carry it, {len(held):,} of them reserved and unassigned.\n"
            "Those go back to available; assigned codes are never released."
        )
        self.app.push_screen(
            ConfirmScreen("Release reservation?", body, "Release all"),
            partial(self._reservation_confirmed, message),
        )

    def _reservation_confirmed(self, loaded: ReservationLoaded, confirmed: bool | None) -> None:
        if confirmed:
            self.releasing = loaded.records
            self.release_reservation(loaded.campaign, loaded.reserve_id, [r.code for r in loaded.records if r.status is Status.RESERVED])

    @work(thread=True, exclusive=False, exit_on_error=False, group="action")
    def release_reservation(self, campaign: str, reserve_id: str, held: list[str]) -> None:
        result = self.service.release_reservation(ME, campaign, reserve_id)
        self.post_message(CodesUpdated("release", campaign, result, held, reserve_id, whole_reservation=True))

    def on_codes_updated(self, message: CodesUpdated) -> None:
        text = summary("release", message.result)
        self.notify(text, timeout=4)
        self.last_result = text
        if message.reserve_id is not None and (self.by_reservation or message.whole_reservation):
            # Stay on (or move to) the reservation, read again; what left it stays listed.
            if not (self.view is not None and self.view.reserve_id == message.reserve_id):
                self.records = self.releasing if message.whole_reservation else []
            self.left |= set(message.codes) - {c for codes in message.result.unchanged.values() for c in codes}
            self.query_one("#lookup-code", Input).value = message.reserve_id
            self.query_one("#lookup-campaign", Input).value = message.campaign
            self.view = View(message.reserve_id, message.campaign, message.reserve_id)
            self.search(self.view)
        elif self.view is not None:
            self.search(View(self.view.query, self.view.campaign))
        if unchanged_count(message.result):
            default = self.console.save_dir / file_name("unchanged", "release", message.campaign, f"{self.console.wall_clock():%Y%m%d-%H%M%S}")
            self.app.push_screen(OutcomeScreen("release", message.campaign, message.result, default))

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("Release selected code", "Release the selected code if it is reserved", self.action_release_code)
        yield SystemCommand("Release whole reservation", "Release every code of the selected code's reservation", self.action_release_reservation)
        yield SystemCommand("Show the reservation", "List every code of the selected code's reservation", self.action_open_reservation)
        yield SystemCommand("Copy reserveId", "Copy the selected code's reserveId", self.action_copy_reserve_id)
        yield SystemCommand("Back", "Close the lookup", self.action_back)
