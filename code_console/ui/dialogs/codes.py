"""Codes to assign or release: pasted in the box or read from a file, confirmed in a dialog on
top, then run from here. The form opens empty, and stays open (with what was typed) when the
confirmation is cancelled or the file or the store fails; it closes with the result."""

from __future__ import annotations

from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, TextArea

from code_console.core.models import LOCAL_OPERATOR
from code_console.ui.dialogs.base import ConsoleDialog
from code_console.ui.dialogs.confirm import ConfirmScreen
from code_console.ui.messages import CodesRead, CodesUpdated
from code_console.ui.policy import Verdict
from code_console.ui.reservations import update_codes
from code_console.ui.widgets.inputs import CodesArea, FormInput

ME = LOCAL_OPERATOR

WHAT_CHANGES = {
    "assign": "They become assigned for good: assigned codes can never be released or reserved again.",
    "release": "Those that are reserved and not assigned go back to available; others are left as they are.",
}


def split_codes(text: str) -> list[str]:
    """Pasted codes: one per line, or separated by commas or spaces."""
    return [c for c in text.replace(",", " ").split() if c]


class CodesDialog(ConsoleDialog[CodesUpdated | None]):
    BINDINGS = [
        Binding("ctrl+s", "submit", "Continue", id="codes.submit", tooltip="continue (assign, release), or save the codes shown"),
        Binding("escape", "cancel", "Cancel", id="codes.cancel"),
    ]

    def __init__(self, action: str, campaign: str) -> None:
        super().__init__()
        self.action = action
        self.campaign = campaign
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog wide"):
            yield Static(f"{self.action.capitalize()} codes in {self.campaign}", classes="dialog-title")
            yield Label("paste codes (one per line, or separated by commas or spaces)")
            yield CodesArea("", id="codes-text", soft_wrap=False, show_line_numbers=False)
            yield Label("or read them from a file (one code per line)")
            yield FormInput(id="codes-file", placeholder="path/to/codes.txt")
            yield Static("", id="codes-error", classes="form-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.action.capitalize()} (ctrl+s)", id="ok", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#codes-text", TextArea).focus()

    def action_submit(self) -> None:
        if self.running:
            return
        self.query_one("#codes-error", Static).update("")
        path = self.query_one("#codes-file", Input).value.strip()
        if path:
            self.running = True
            self.query_one("#codes-error", Static).update(f"reading {escape(path)}…")
            self.read_codes(str(Path(path).expanduser()))
            return
        codes = split_codes(self.query_one("#codes-text", TextArea).text)
        if not codes:
            self.query_one("#codes-error", Static).update("paste at least one code, or give a file")
            self.query_one("#codes-text", TextArea).focus()
            return
        self.confirm(codes)

    @work(thread=True, exclusive=True, exit_on_error=False, group="file")
    def read_codes(self, path: str) -> None:
        self.post_message(CodesRead(path, self.service.read_code_list(path)))

    def on_codes_read(self, message: CodesRead) -> None:
        self.running = False
        if not message.codes:
            self.query_one("#codes-error", Static).update(f"{escape(message.path)} holds no codes")
            self.query_one("#codes-file", Input).focus()
            return
        self.query_one("#codes-error", Static).update("")
        self.confirm(message.codes, message.path)

    def confirm(self, codes: list[str], path: str | None = None) -> None:
        source = f" from {path}" if path else ""
        sample = ", ".join(codes[:3]) + (f" and {len(codes) - 3:,} more" if len(codes) > 3 else "")
        body = f"{self.action.capitalize()} {len(codes):,} codes{source} in {self.campaign}: {sample}.\n{WHAT_CHANGES[self.action]}"
        self.app.push_screen(
            ConfirmScreen(f"{self.action.capitalize()} codes?", escape(body), self.action.capitalize(), danger=self.action == "assign"),
            lambda yes: self._confirmed(codes, yes),
        )

    def _confirmed(self, codes: list[str], confirmed: bool | None) -> None:
        if not confirmed:
            return  # the form keeps what was typed; focus returns where it was
        self.running = True
        self.query_one("#codes-error", Static).update(f"{self.action.rstrip('e')}ing {len(codes):,} codes…")
        self.run_update(codes)

    @work(thread=True, exclusive=True, exit_on_error=False, group="action")
    def run_update(self, codes: list[str]) -> None:
        result = update_codes(self.service, self.me, self.action, self.campaign, codes)
        self.post_message(CodesUpdated(self.action, self.campaign, result, codes))

    def on_codes_updated(self, message: CodesUpdated) -> None:
        self.running = False
        self.dismiss(message)

    def show_error(self, verdict: Verdict) -> None:
        self.running = False
        super().show_error(verdict)

    @on(Input.Submitted, "#codes-file")
    def file_submitted(self) -> None:
        self.action_submit()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if self.running:
            self.notify("waiting for the store's answer; the form closes with it", severity="warning", timeout=3)
            return
        self.dismiss(None)
