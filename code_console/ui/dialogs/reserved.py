"""The codes just reserved, with their reserveId whole and copyable, and a way to save them."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from code_console.ui.dialogs.reserve import ReserveOutcome
from code_console.ui.dialogs.save import SavingDialog
from code_console.ui.widgets.inputs import CodesArea


class ReservedScreen(SavingDialog):
    """Dismisses with the path the codes were saved to, or None."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save to file", id="reserved.save"),
        Binding("c", "copy_reserve_id", "Copy reserveId", id="reserved.copy", tooltip="copy the reserveId of the codes just reserved"),
        Binding("escape", "close", "Close", id="reserved.close"),
    ]

    def __init__(self, outcome: ReserveOutcome, default_path: Path) -> None:
        super().__init__()
        self.outcome = outcome
        self.codes_to_save = list(outcome.reservation.codes)
        self.default_path = default_path

    @property
    def codes(self) -> list[str]:
        return self.outcome.reservation.codes

    def compose(self) -> ComposeResult:
        o = self.outcome
        got = len(self.codes)
        short = "" if got == o.requested else f" (asked for {o.requested:,}: the pool ran out)"
        with Vertical(id="dialog", classes="dialog wide"):
            if not got:
                yield Static(
                    f"No {o.code_type.value} codes are available in {escape(o.campaign)}: nothing was reserved.",
                    id="reserved-title",
                    classes="dialog-title",
                )
            else:
                yield Static(
                    f"Reserved {got:,} {o.code_type.value} code{'s' if got != 1 else ''} in {escape(o.campaign)}{short}",
                    id="reserved-title",
                    classes="dialog-title",
                )
                yield Static(f"reserveId [b]{escape(o.reservation.reserve_id)}[/]  [dim](c copies)[/]", id="reserved-id")
                yield CodesArea("\n".join(self.codes), id="reserved-codes", read_only=True, soft_wrap=False)
                yield from self.save_row(self.default_path)
            with Horizontal(classes="dialog-buttons"):
                if got:
                    yield Button("Save (ctrl+s)", id="save", variant="primary")
                    yield Button("Copy reserveId (c)", id="copy")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def action_copy_reserve_id(self) -> None:
        if self.codes:
            self.app.copy_to_clipboard(self.outcome.reservation.reserve_id)
            self.notify(f"copied reserveId {self.outcome.reservation.reserve_id}", timeout=4)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "copy":
            self.action_copy_reserve_id()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)
