"""What an assign or a release left unchanged, code by code, grouped by reason; can be saved."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from code_console.core.models import UpdateResult
from code_console.ui.dialogs.save import SavingDialog
from code_console.ui.outcomes import reason_text, summary, unchanged_listing, unchanged_rows
from code_console.ui.widgets.inputs import CodesArea


class OutcomeScreen(SavingDialog):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save to file", id="outcome.save"),
        Binding("escape", "close", "Close", id="outcome.close"),
    ]

    def __init__(self, action: str, campaign: str, result: UpdateResult, default_path: Path) -> None:
        super().__init__()
        self.action = action
        self.campaign = campaign
        self.result = result
        self.default_path = default_path
        self.codes_to_save = unchanged_rows(result)

    def compose(self) -> ComposeResult:
        r = self.result
        lines = [f"  {len(codes):,} {reason_text(reason, self.action)}" for reason, codes in r.unchanged.items() if codes]
        with Vertical(id="dialog", classes="dialog wide"):
            yield Static(escape(summary(self.action, r).split(" · ")[0]) + f" in {escape(self.campaign)}", classes="dialog-title")
            yield Static("left as they were:\n" + escape("\n".join(lines)), id="outcome-reasons")
            yield CodesArea(unchanged_listing(self.action, r), id="outcome-codes", read_only=True, soft_wrap=False)
            yield from self.save_row(self.default_path)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Close (esc)", id="close")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)
