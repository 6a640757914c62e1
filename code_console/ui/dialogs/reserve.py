"""Reserve N codes of a type: validated in the form against the service's real limit, confirmed
in a dialog on top (cancelling it keeps the form), run from here, errors said in the form.

Each request carries a reservation key, so "Retry" after a lost answer returns the codes the
first attempt reserved instead of reserving more (the key is the reserveId: a dashed UUID v4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioSet, Static

from code_console.core.models import LOCAL_OPERATOR, CodeType, Reservation
from code_console.ui.dialogs.base import ConsoleDialog
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.messages import Reserved
from code_console.ui.policy import Verdict
from code_console.ui.widgets.inputs import FormInput, TypeChoice

ME = LOCAL_OPERATOR
WHOLE_NUMBER = re.compile(r"\d{1,3}(,\d{3})+|\d+")


@dataclass(frozen=True)
class ReserveOutcome:
    campaign: str
    code_type: CodeType
    requested: int
    reservation: Reservation


def parse_count(raw: str, maximum: int) -> tuple[int | None, str]:
    """The count typed, or None and why not: whole numbers from 1 to `maximum` (commas allowed)."""
    text = raw.strip().replace("_", "")
    if not text:
        return None, "enter how many codes to reserve"
    if not WHOLE_NUMBER.fullmatch(text):
        return None, f"enter a whole number from 1 to {maximum:,} (not {raw.strip()[:20]!r})"
    count = int(text.replace(",", ""))
    if count < 1:
        return None, f"enter a whole number from 1 to {maximum:,}"
    if count > maximum:
        return None, f"at most {maximum:,} codes per reservation"
    return count, ""


class ReserveDialog(ConsoleDialog[ReserveOutcome | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="reserve.cancel", tooltip="close a form or a list (nothing changes)"),
    ]

    def __init__(self, campaign: str, code_type: CodeType = CodeType.TM, maximum: int = 10_000) -> None:
        super().__init__()
        self.campaign = campaign
        self.code_type = code_type
        self.maximum = maximum
        self.running = False
        # The key of the attempt in flight or last failed: reused by a retry of the same request.
        self.attempt: tuple[CodeType, int, str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(f"Reserve codes in {self.campaign}", classes="dialog-title")
            yield Label("type")
            yield TypeChoice(self.code_type, id="reserve-type")
            yield Label(f"how many (1 to {self.maximum:,})")
            yield FormInput("", id="reserve-count", placeholder="number of codes", max_length=40)
            yield Static("", id="reserve-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Reserve", id="ok", variant="primary", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reserve-count", Input).focus()

    def current(self) -> tuple[int | None, str]:
        return parse_count(self.query_one("#reserve-count", Input).value, self.maximum)

    @on(Input.Changed, "#reserve-count")
    def count_changed(self) -> None:
        count, problem = self.current()
        typed = bool(self.query_one("#reserve-count", Input).value.strip())
        self.query_one("#reserve-error", Static).update(escape(problem) if typed else "")
        ok = self.query_one("#ok", Button)
        ok.disabled = count is None or self.running
        ok.label = "Reserve"

    @on(Input.Submitted, "#reserve-count")
    def count_submitted(self) -> None:
        self.submit()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.submit()
        else:
            self.action_cancel()

    def submit(self) -> None:
        if self.running:
            return
        count, problem = self.current()
        if count is None:
            self.query_one("#reserve-error", Static).update(escape(problem))
            self.query_one("#reserve-count", Input).focus()
            return
        code_type = self.query_one(TypeChoice).code_type
        body = (
            f"Reserve {count:,} {code_type.value} codes in {self.campaign}.\n"
            f"They move from available to reserved under one new reserveId for "
            f"{self.console.ttl_text}, unless assigned or released before."
        )
        self.app.push_screen(ConfirmScreen("Reserve codes?", body, "Reserve"), lambda yes: self._confirmed(code_type, count, yes))

    def _confirmed(self, code_type: CodeType, count: int, confirmed: bool | None) -> None:
        if not confirmed:
            self.query_one("#reserve-count", Input).focus()
            return
        if self.attempt is None or self.attempt[:2] != (code_type, count):
            self.attempt = (code_type, count, self.console.new_reservation_key())
        self.running = True
        self.query_one("#reserve-error", Static).update(f"reserving {count:,} {code_type.value} codes…")
        self.query_one("#ok", Button).disabled = True
        self.reserve(code_type, count, self.attempt[2])

    @work(thread=True, exclusive=True, exit_on_error=False, group="action")
    def reserve(self, code_type: CodeType, count: int, key: str) -> None:
        reservation = self.service.reserve(self.me, self.campaign, code_type, count, key=key)
        self.post_message(Reserved(self.campaign, code_type, count, reservation))

    def on_reserved(self, message: Reserved) -> None:
        self.running = False
        self.dismiss(ReserveOutcome(message.campaign, message.code_type, message.requested, message.reservation))

    def show_error(self, verdict: Verdict) -> None:
        self.running = False
        super().show_error(verdict)
        ok = self.query_one("#ok", Button)
        ok.label = "Retry"
        ok.disabled = self.current()[0] is None
        self.query_one("#reserve-count", Input).focus()

    def action_cancel(self) -> None:
        if self.running:
            self.notify("waiting for the store's answer; the form closes with it", severity="warning", timeout=3)
            return
        self.dismiss(None)

    @on(RadioSet.Changed)
    def type_changed(self) -> None:
        self.query_one("#ok", Button).label = "Reserve"
